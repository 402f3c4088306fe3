"""The Discord client: built once from a QuoteService and the settings (`create_bot`), run by `serve`.

Resources are owned by the caller (the service, the daily scheduler); the bot only adds transport.
The client is created with `AllowedMentions.none()` and `Intents.default()`: nothing the bot
sends can ping anyone, and no privileged intent is needed.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bots.common import Cooldown
from bots.daily_control import DailyControl, PostError
from bots.discord import sync as command_sync
from bots.discord.buttons import AnotherButton, ContextButton, result_view
from bots.discord.commands_cog import QuoteCog
from bots.discord.failures import apologise
from bots.discord.render import content, quote_embed, short
from bots.discord.replies import Replies
from bots.settings import Settings
from quotecore.models import Quote
from quotecore.service import QuoteService

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://discord.com/api/v10"


class QuoteBot(commands.Bot):
    """commands.Bot for `is_owner` (teams included) and cogs; no prefix commands are registered."""

    def __init__(
        self, service: QuoteService, settings: Settings, daily: DailyControl | None = None, *, sync: bool = True
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.service = service
        self.settings = settings
        self.daily = daily
        self.replies = Replies(service)
        self.cooldown = Cooldown(settings.discord.cooldown_seconds)
        self._sync_on_start = sync
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        """Register commands and persistent buttons, sync if the definitions changed, offer the poster."""
        await self.add_cog(QuoteCog(self))
        self.add_dynamic_items(AnotherButton, ContextButton)
        if self.user is not None:  # learn the owner now, not inside an interaction's 3-second window
            try:
                await self.is_owner(self.user)
            except discord.HTTPException:
                log.warning("could not fetch the application owner yet; will retry on the first admin check")
        if self._sync_on_start:
            try:
                await command_sync.sync(self.tree, self.settings)
            except discord.HTTPException:
                log.exception("command sync failed; the commands registered before keep working")
        if self.daily is not None:
            self.daily.register_poster("discord", self.post_daily)

    async def close(self) -> None:
        """Stop offering the poster before the connection goes, then close."""
        if self.daily is not None:
            self.daily.unregister_poster("discord")
        await super().close()

    async def post_daily(self, channel_id: str, quote: Quote, heading: str) -> str:
        """The scheduler's poster for Discord channels."""
        return await post_quote(self, channel_id, quote, heading)

    async def on_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """Log with context; the user gets a short apology, never a traceback."""
        command = interaction.command.qualified_name if interaction.command else "?"
        log.error(
            "/%s failed for user %s in guild %s channel %s (options %s):\n%s",
            command,
            interaction.user.id,
            interaction.guild_id,
            interaction.channel_id,
            (interaction.data or {}).get("options"),
            "".join(traceback.format_exception(error)),
        )
        await apologise(interaction, "Sorry, something went wrong with that command.")


def create_bot(
    service: QuoteService, settings: Settings, daily: DailyControl | None = None, *, sync: bool = True
) -> QuoteBot:
    """The one factory for the Discord client (`quotebot run` and the tests both use it).

    `discord.api_base_url` points discord.py's REST routes elsewhere (a proxy such as nirn-proxy,
    or a test fake); discord.py keeps that base in a class attribute, the only knob it offers.
    """
    base = settings.discord.api_base_url.rstrip("/")
    if base != discord.http.Route.BASE and base != DEFAULT_API_BASE:
        discord.http.Route.BASE = base
    return QuoteBot(service, settings, daily, sync=sync)


async def post_quote(client: discord.Client, channel_id: str, quote: Quote, heading: str) -> str:
    """Post a quote under a heading in a channel (the daily excerpt); returns the message id.

    Rendered like a /quote answer, with a "Context" button (it works on any client built by
    `create_bot`, restarts included). Raises PostError: permanent when retrying cannot help (no
    such channel, no access, not a channel that holds messages), else transient.
    """
    if client.is_closed():
        raise PostError("the Discord connection is closed", permanent=False)
    try:
        channel = client.get_channel(int(channel_id)) or await client.fetch_channel(int(channel_id))
    except ValueError:
        raise PostError(f"{channel_id!r} is not a Discord channel id", permanent=True) from None
    except (discord.NotFound, discord.Forbidden) as exc:
        raise PostError(f"channel {channel_id} is gone or hidden from the bot: {exc.text}", permanent=True) from exc
    except discord.HTTPException as exc:
        # 400: Discord refuses the id itself; 5xx and the like may pass on a later try.
        raise PostError(f"could not look up channel {channel_id}: {exc}", permanent=exc.status == 400) from exc
    except (OSError, TimeoutError) as exc:
        raise PostError(f"could not reach Discord: {exc}", permanent=False) from exc
    if not isinstance(channel, discord.abc.Messageable):
        raise PostError(f"channel {channel_id} cannot hold messages", permanent=True)
    try:
        message = await channel.send(
            content=content(short(heading, 200)),
            embed=quote_embed(quote),
            view=result_view([quote.id], None, 1, None, ""),
            allowed_mentions=discord.AllowedMentions.none(),
        )
    except (discord.NotFound, discord.Forbidden) as exc:
        raise PostError(f"cannot post in channel {channel_id}: {exc.text}", permanent=True) from exc
    except (discord.HTTPException, OSError, TimeoutError) as exc:
        raise PostError(f"posting in channel {channel_id} failed: {exc}", permanent=False) from exc
    log.info("posted quote %s in channel %s as message %s", quote.id, channel_id, message.id)
    return str(message.id)


async def serve(
    service: QuoteService, settings: Settings, stop: asyncio.Event, daily: DailyControl | None = None
) -> None:
    """Run the bot until `stop` is set, then close the connection cleanly."""
    if settings.discord.token is None:
        raise RuntimeError("DISCORD_TOKEN is not set")
    bot = create_bot(service, settings, daily)
    async with bot:
        runner = asyncio.create_task(bot.start(settings.discord.token.get_secret_value()), name="discord")
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        await bot.close()
        if runner in done:
            runner.result()  # a login failure or a fatal gateway error: let run() report it
        else:
            await runner


async def sync_commands(service: QuoteService, settings: Settings) -> str:
    """`quotebot discord-sync`: log in over REST only, register the commands now, report."""
    if settings.discord.token is None:
        raise RuntimeError("DISCORD_TOKEN is not set")
    bot = create_bot(service, settings, sync=False)
    async with bot:
        try:
            await bot.login(settings.discord.token.get_secret_value())
            return await command_sync.sync(bot.tree, settings, force=True)
        except discord.LoginFailure:
            return "Sync failed: Discord rejected DISCORD_TOKEN (reset it in the Developer Portal → Bot)."
        except (discord.HTTPException, OSError) as exc:
            log.warning("command sync failed: %s", exc)
            return f"Sync failed: {exc}"
