"""The Discord client: built from the AppContext (`create_bot`), served by `DiscordAdapter`.

Transport only: slash commands and buttons hand their options to `bots.commands`, and the reply is
rendered by `render.py` and sent here. The client is created with `AllowedMentions.none()` and
`Intents.default()`: nothing the bot sends can ping anyone, and no privileged intent is needed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from bots import wording
from bots.commands import Caller, PageState, Reply, Results
from bots.daily_control import PostError
from bots.discord.buttons import AnotherButton, ContextButton, result_view
from bots.discord.cog import CommandWords, QuoteCog
from bots.discord.render import bolded_words, content, query_from_message, quote_embed, render, short
from bots.discord.sync import sync as sync_tree
from bots.failures import failure
from bots.reader import posted, shown
from bots.runtime import AppContext, until_stopped
from bots.settings import DiscordSettings
from quotecore import Quote

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()


def _rebase(route: Route, base: str) -> Route:
    """Point a route built on discord.py's class-wide base at this client's base instead."""
    if base != Route.BASE and route.url.startswith(Route.BASE):
        route.url = base + route.url[len(Route.BASE) :]
    return route


class _ScopedHTTP(HTTPClient):
    """REST calls of one client go to its own `api_base` (a proxy, a fake); others are untouched."""

    api_base: str = Route.BASE

    async def request(self, route: Route, **kwargs: Any) -> Any:
        """discord.py's request, on this client's base URL."""
        return await super().request(_rebase(route, self.api_base), **kwargs)


class _ScopedWebhooks(AsyncWebhookAdapter):
    """Interaction callbacks and followups (discord.py sends them through webhooks) on the same base."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    async def request(self, route: Route, *args: Any, **kwargs: Any) -> Any:
        """discord.py's webhook request, on this client's base URL."""
        return await super().request(_rebase(route, self.base), *args, **kwargs)


async def is_admin(bot: commands.Bot, user: discord.User | discord.Member, settings: DiscordSettings) -> bool:
    """The owner (or team admins), configured users and role holders (`default_permissions` is a hint)."""
    if user.id in settings.admin_user_ids:
        return True
    roles = getattr(user, "roles", ())
    if any(role.id in settings.admin_role_ids for role in roles):
        return True
    try:
        return await bot.is_owner(user)
    except discord.HTTPException:
        log.warning("could not fetch the application owner; treating %s as not an admin", user.id)
        return False


class QuoteBot(commands.AutoShardedBot):
    """A sharded commands.Bot (`is_owner` with teams, the cog); no prefix commands are registered.

    `discord.shard_count` and `shard_ids` split a large bot's shards over processes; unset, one
    process runs as many shards as Discord recommends (one, for a bot in fewer than 2,500 servers).
    """

    def __init__(self, ctx: AppContext, *, sync: bool = True) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=discord.Intents.default(),
            allowed_mentions=NONE,
            shard_count=ctx.settings.discord.shard_count,
            shard_ids=ctx.settings.discord.shard_ids,
        )
        # discord.py keeps the REST base in a class attribute (Route.BASE); this client's HTTP object
        # gets its own instead, so another client in the process (or a test) is never redirected.
        self.api_base = ctx.settings.discord.api_base_url.rstrip("/")
        self.http.__class__ = _ScopedHTTP
        self.http.api_base = self.api_base  # type: ignore[attr-defined]
        self.ctx = ctx
        settings = ctx.settings.discord
        self.quotes = ctx.commands(
            "discord", cooldown_seconds=settings.cooldown_seconds, max_results=settings.max_results
        )
        self._sync_on_start = sync
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        """Register commands and buttons, sync if the definitions changed, offer the daily poster."""
        async_context.set(_ScopedWebhooks(self.api_base))  # inherited by every task this client starts
        await self.tree.set_translator(CommandWords())
        await self.add_cog(QuoteCog(self))
        self.add_dynamic_items(AnotherButton, ContextButton)
        if self.user is not None:  # learn the owner now, not inside an interaction's 3-second window
            try:
                await self.is_owner(self.user)
            except discord.HTTPException:
                log.warning("could not fetch the application owner yet; will retry on the first admin check")
        if self._sync_on_start:
            try:
                await sync_tree(self.tree, self.ctx.settings)
            except discord.HTTPException:
                log.exception("command sync failed; the commands registered before keep working")
        self.ctx.offer_poster("discord", ShardPoster(self))

    async def on_ready(self) -> None:
        """The gateway session is up: /readyz and the connection gauge say so."""
        self.ctx.set_connected("discord", True)

    async def on_resumed(self) -> None:
        """The gateway session came back."""
        self.ctx.set_connected("discord", True)

    async def on_disconnect(self) -> None:
        """The gateway connection dropped (discord.py reconnects by itself)."""
        self.ctx.set_connected("discord", False)

    async def close(self) -> None:
        """Stop offering the poster before the connection goes, then close."""
        self.ctx.set_connected("discord", False)
        self.ctx.withdraw_poster("discord")
        await super().close()

    async def holds(self, channel_id: str) -> bool:
        """Whether this process runs the shard of the channel's server (always, when it runs them all)."""
        if self.shard_ids is None or self.shard_count is None:
            return True
        try:
            channel = self.get_channel(int(channel_id)) or await self.fetch_channel(int(channel_id))
        except (ValueError, discord.HTTPException):
            return self.shard_ids[0] == 0  # unreadable: one process (shard 0's) tries, and reports why
        guild = getattr(channel, "guild", None)
        return (guild.id >> 22) % self.shard_count in self.shard_ids if guild else 0 in self.shard_ids

    def caller(self, interaction: discord.Interaction[Any]) -> Caller:
        """Who clicked or typed: their id, the run-time admin check; replies from here on in their language."""
        wording.reading(str(interaction.locale))
        return Caller(str(interaction.user.id), lambda: is_admin(self, interaction.user, self.ctx.settings.discord))

    async def send(
        self, interaction: discord.Interaction[Any], reply: Reply, *, edit: bool = False, private: bool = False
    ) -> None:
        """Answer, or edit the message ("Another"); `private` hides even results; notices follow privately."""
        message = render(await shown(self.quotes, reply, str(interaction.locale), str(interaction.channel_id)))
        private = private or message.private
        if edit and not private:
            await interaction.response.edit_message(**message.fields, allowed_mentions=NONE)
        elif interaction.response.is_done():
            await interaction.followup.send(**message.fields, ephemeral=private, allowed_mentions=NONE)
        else:
            await interaction.response.send_message(**message.fields, ephemeral=private, allowed_mentions=NONE)
        if isinstance(reply, Results) and reply.notices:  # the answer may be public: notices go privately
            text = "\n".join(map(wording.notice_line, reply.notices))
            await interaction.followup.send(content(text), ephemeral=True, allowed_mentions=NONE)

    async def another(
        self, interaction: discord.Interaction[Any], offset: int, count: int, speaker: str | None, query: str | None
    ) -> None:
        """The Another button: the asker's next page in place, anyone else's privately (`Commands.another`)."""
        try:
            query = query if query is not None else query_from_message(interaction.message)
            state = PageState(query, speaker, count, offset) if query is not None else None
            metadata = interaction.message.interaction_metadata if interaction.message else None
            asker = str(metadata.user.id) if metadata else None
            reply, in_place = await self.quotes.another(self.caller(interaction), state, asker)
            await self.send(interaction, reply, edit=in_place, private=not in_place)
        except Exception as exc:
            await self.failed(interaction, "Another button", exc)

    async def context(self, interaction: discord.Interaction[Any], passage_id: str) -> None:
        """The Context button: the whole passage, to whoever asked, with the words the message bolded."""
        try:
            wording.reading(str(interaction.locale))
            await self.send(interaction, self.quotes.context(passage_id, bolded_words(interaction.message)))
        except Exception as exc:
            await self.failed(interaction, "Context button", exc)

    async def on_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """A slash command raised: logged with its context, a short apology for the user."""
        command = interaction.command.qualified_name if interaction.command else "?"
        await self.failed(interaction, f"/{command}", error)

    async def failed(self, interaction: discord.Interaction[Any], what: str, error: BaseException) -> None:
        """Log a failure with its context (guild, channel, options); tell the user privately."""
        data = interaction.data or {}
        options = data.get("options") or data.get("custom_id")
        where = {"guild": interaction.guild_id, "channel": interaction.channel_id, "options": options}
        notice = failure("discord", what, error, user=interaction.user.id, **where)
        try:
            await self.send(interaction, notice)
        except discord.HTTPException:
            log.warning("could not tell user %s about the failure", interaction.user.id)


class ShardPoster:
    """The scheduler's poster for Discord channels, posting only where this process holds the shard."""

    def __init__(self, bot: QuoteBot) -> None:
        self.bot = bot

    async def __call__(self, channel_id: str, quote: Quote, heading: str) -> str:
        """Post through this client (in the script an admin chose for the channel); see `post_quote`."""
        return await post_quote(self.bot, channel_id, await posted(self.bot.quotes, quote, channel_id), heading)

    async def owns(self, channel_id: str) -> bool:
        """The scheduler asks before claiming a day: the process holding the channel's shard posts."""
        return await self.bot.holds(channel_id)


def create_bot(ctx: AppContext, *, sync: bool = True) -> QuoteBot:
    """The one factory for the Discord client (`quotebot run` and the tests both use it)."""
    return QuoteBot(ctx, sync=sync)


async def post_quote(client: discord.Client, channel_id: str, quote: Quote, heading: str) -> str:
    """Post a quote under a heading (the daily excerpt); the message id, or PostError (permanent when hopeless)."""
    if client.is_closed():
        raise PostError("the Discord connection is closed", permanent=False)
    try:
        channel = client.get_channel(int(channel_id)) or await client.fetch_channel(int(channel_id))
    except ValueError:
        raise PostError(f"{channel_id!r} is not a Discord channel id", permanent=True) from None
    except (discord.NotFound, discord.Forbidden) as exc:
        raise PostError(f"channel {channel_id} is gone or hidden from the bot: {exc.text}", permanent=True) from exc
    except discord.HTTPException as exc:  # 400: Discord refuses the id itself; 5xx may pass later
        raise PostError(f"could not look up channel {channel_id}: {exc}", permanent=exc.status == 400) from exc
    except (OSError, TimeoutError) as exc:
        raise PostError(f"could not reach Discord: {exc}", permanent=False) from exc
    if not isinstance(channel, discord.abc.Messageable):
        raise PostError(f"channel {channel_id} cannot hold messages", permanent=True)
    try:
        message = await channel.send(
            content=short(heading, 200),
            embed=quote_embed(quote),
            view=result_view([quote.id], None),
            allowed_mentions=NONE,
        )
    except (discord.NotFound, discord.Forbidden) as exc:
        raise PostError(f"cannot post in channel {channel_id}: {exc.text}", permanent=True) from exc
    except (discord.HTTPException, OSError, TimeoutError) as exc:
        raise PostError(f"posting in channel {channel_id} failed: {exc}", permanent=False) from exc
    log.info("posted quote %s in channel %s as message %s", quote.id, channel_id, message.id)
    return str(message.id)


class DiscordAdapter:
    """Discord as an adapter: log in, serve until stopped, close the connection cleanly."""

    name = "discord"

    def prepare(self, ctx: AppContext) -> None:
        """Nothing before the scheduler: the poster is offered once logged in (setup_hook)."""

    async def serve(self, ctx: AppContext, stop: asyncio.Event) -> None:
        """Run the bot until `stop` is set; a login failure or fatal gateway error propagates."""
        token = ctx.settings.discord.token
        if token is None:
            raise RuntimeError("DISCORD_TOKEN is not set")
        async with create_bot(ctx) as bot:
            await until_stopped(bot.start(token.get_secret_value()), stop)


async def sync_commands(ctx: AppContext) -> str:
    """`quotebot discord-sync`: log in over REST only, register the commands now, report."""
    token = ctx.settings.discord.token
    if token is None:
        raise RuntimeError("DISCORD_TOKEN is not set")
    async with create_bot(ctx, sync=False) as bot:
        try:
            await bot.login(token.get_secret_value())
            return await sync_tree(bot.tree, ctx.settings, force=True)
        except discord.LoginFailure:
            return "Sync failed: Discord rejected DISCORD_TOKEN (reset it in the Developer Portal → Bot)."
        except (discord.HTTPException, OSError) as exc:
            log.warning("command sync failed: %s", exc)
            return f"Sync failed: {exc}"
