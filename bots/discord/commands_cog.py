"""The slash commands: /quote for everyone, /quote-reload and /quote-daily for admins."""

from __future__ import annotations

import logging
import time as _time
import zoneinfo
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bots.common import cooldown_message, reload_corpus
from bots.daily_control import DailyInputError, check_timezone, parse_time
from bots.discord.access import is_admin
from bots.discord.render import content
from quotecore.text import search_form

if TYPE_CHECKING:
    from bots.discord.bot import QuoteBot

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
_ZONES = sorted(zoneinfo.available_timezones())
_COMMON_ZONES = [
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "America/New_York",
    "America/Los_Angeles",
]


class QuoteCog(commands.Cog):
    """Everything a user types; each handler only parses, checks and hands over to Replies."""

    def __init__(self, bot: QuoteBot) -> None:
        self.bot = bot

    async def _admin_notices(self, interaction: discord.Interaction[Any]) -> str:
        """Problems the daily scheduler wants an admin to hear about, once."""
        daily = self.bot.daily
        if daily is None or not await is_admin(self.bot, interaction.user, self.bot.settings.discord):
            return ""
        notices = daily.take_notices("discord")
        return "".join(f"\n⚠️ {n}" for n in notices)

    @app_commands.command(name="quote", description="Find the quote that best matches your words (empty: a random one)")
    @app_commands.describe(
        query="Words to look for: Chinese (simplified or traditional) or English names, e.g. 计算资源, Sora",
        speaker="Only quotes by this person",
        count="How many quotes (1-5)",
    )
    async def quote(
        self,
        interaction: discord.Interaction[Any],
        query: str | None = None,
        speaker: str | None = None,
        count: app_commands.Range[int, 1, 5] = 1,
    ) -> None:
        """/quote [query] [speaker] [count]."""
        settings = self.bot.settings.discord
        wait = self.bot.cooldown.retry_after(str(interaction.user.id))
        if wait and not await is_admin(self.bot, interaction.user, settings):
            await interaction.response.send_message(cooldown_message(wait), ephemeral=True, allowed_mentions=NONE)
            return
        await self.bot.replies.quote(interaction, query, speaker, min(count, settings.max_results))
        notices = await self._admin_notices(interaction)
        if notices:  # the answer may be public: an admin's notices go in a separate, private message
            await interaction.followup.send(content(notices.strip()), ephemeral=True, allowed_mentions=NONE)

    @quote.autocomplete("speaker")
    async def _speakers(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        wanted = search_form(current).replace(" ", "")
        choices = []
        for speaker in self.bot.service.speakers():
            names = [speaker.id, speaker.name, speaker.name_en or "", *speaker.aliases]
            if not wanted or any(wanted in search_form(n).replace(" ", "") for n in names):
                choices.append(app_commands.Choice(name=speaker.display[:100], value=speaker.id))
        return choices[:25]

    @app_commands.command(name="quote-reload", description="Admins: reload the corpus from disk")
    @app_commands.default_permissions(manage_guild=True)
    async def quote_reload(self, interaction: discord.Interaction[Any]) -> None:
        """Defer at once, rebuild off the loop, report what changed (or why the old corpus stays)."""
        if not await is_admin(self.bot, interaction.user, self.bot.settings.discord):
            await interaction.response.send_message(
                "Only quotebot admins can reload the corpus.", ephemeral=True, allowed_mentions=NONE
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        started = _time.perf_counter()
        outcome = await reload_corpus(self.bot.service)
        log.info(
            "reload by %s (%s): %s in %.2f s",
            interaction.user,
            interaction.user.id,
            "ok" if outcome.ok else "failed",
            _time.perf_counter() - started,
        )
        notices = await self._admin_notices(interaction)
        await interaction.followup.send(content(outcome.message + notices), ephemeral=True, allowed_mentions=NONE)

    @app_commands.command(
        name="quote-daily", description="Admins: post a daily excerpt in a channel (time: off to stop)"
    )
    @app_commands.describe(
        time="Local time HH:MM, e.g. 09:00, or off",
        timezone="IANA timezone, e.g. Asia/Shanghai",
        channel="The channel (default: this one)",
    )
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def quote_daily(
        self,
        interaction: discord.Interaction[Any],
        time: str,
        timezone: str = "UTC",
        channel: discord.TextChannel | None = None,
    ) -> None:
        """Set or stop this channel's daily post; stored by the scheduler, wins over the config file."""
        if not await is_admin(self.bot, interaction.user, self.bot.settings.discord):
            await interaction.response.send_message(
                "Only quotebot admins can change the daily excerpt.", ephemeral=True, allowed_mentions=NONE
            )
            return
        daily = self.bot.daily
        if daily is None:
            await interaction.response.send_message(
                "The daily excerpt is not enabled on this bot ([daily] enabled = true in the config).",
                ephemeral=True,
                allowed_mentions=NONE,
            )
            return
        target = channel.id if channel else interaction.channel_id
        who = f"discord:{interaction.user.id}"
        try:
            if time.strip().lower() == "off":
                reply = await daily.disable_target("discord", str(target), by=who)
            else:
                reply = await daily.set_target(
                    "discord", str(target), parse_time(time), check_timezone(timezone.strip()), by=who
                )
        except DailyInputError as exc:
            reply = str(exc)
        notices = await self._admin_notices(interaction)
        await interaction.response.send_message(content(reply + notices), ephemeral=True, allowed_mentions=NONE)

    @quote_daily.autocomplete("timezone")
    async def _zones(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        if not current:
            names = _COMMON_ZONES
        else:
            lowered = current.lower()
            names = [z for z in _ZONES if lowered in z.lower()]
        return [app_commands.Choice(name=z, value=z) for z in names[:25]]


async def setup(bot: QuoteBot) -> None:
    """Extension entry point (the bot adds the cog directly; this keeps `load_extension` working)."""
    await bot.add_cog(QuoteCog(bot))
