"""The slash commands: typed options in, `bots.commands` decides, `QuoteBot.send` answers."""

from __future__ import annotations

from typing import Any, Protocol

import discord
from discord import app_commands
from discord.ext import commands

from bots.commands import Caller, Commands, QuoteRequest, Reply, daily_options, timezone_choices
from bots.wording import COMMANDS, command_words

SCRIPT_CHOICES = ("auto", "simplified", "traditional", "hk")


class Host(Protocol):
    """What the commands need of the client (`QuoteBot`, which imports this module: no import back)."""

    quotes: Commands

    def caller(self, interaction: discord.Interaction[Any]) -> Caller:
        """Who typed, with the admin check."""

    async def send(
        self, interaction: discord.Interaction[Any], reply: Reply, *, edit: bool = False, private: bool = False
    ) -> None:
        """Answer the interaction."""


class CommandWords(app_commands.Translator):
    """Command names and descriptions in the reader's language (zh-CN, zh-TW), from `wording`."""

    async def translate(
        self, string: app_commands.locale_str, locale: discord.Locale, context: app_commands.TranslationContextTypes
    ) -> str | None:
        """Discord asks once per string and language when the commands are synced."""
        return command_words(string.message, locale.value)


class QuoteCog(commands.Cog):
    """Everything a user types; each handler only gathers options and hands over."""

    def __init__(self, bot: Host) -> None:
        self.bot = bot

    @app_commands.command(name="quote", description=COMMANDS["quote"].description)
    # Installable by a user too: /quote then works in any server, DM or group DM, the bot need not be there.
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.describe(**COMMANDS["quote"].options)
    async def quote(
        self,
        interaction: discord.Interaction[Any],
        query: str | None = None,
        speaker: str | None = None,
        count: app_commands.Range[int, 1, 5] = 1,
    ) -> None:
        """/quote [query] [speaker] [count]."""
        request = QuoteRequest(query or "", speaker, count)
        await self.bot.send(interaction, await self.bot.quotes.quote(self.bot.caller(interaction), request))

    @quote.autocomplete("speaker")
    async def _speakers(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        speakers = self.bot.quotes.speaker_choices(current)
        return [app_commands.Choice(name=s.display[:100], value=s.id) for s in speakers]

    @app_commands.command(name="quote-reload", description=COMMANDS["quote-reload"].description)
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.allowed_installs(guilds=True, users=False)
    @app_commands.guild_only()
    async def quote_reload(self, interaction: discord.Interaction[Any]) -> None:
        """Defer at once (a reload takes seconds), then report what changed or why the old corpus stays."""
        caller = self.bot.caller(interaction)
        if await caller.is_admin():
            await interaction.response.defer(ephemeral=True, thinking=True)
        await self.bot.send(interaction, await self.bot.quotes.reload(caller))

    @app_commands.command(name="quote-script", description=COMMANDS["quote-script"].description)
    @app_commands.describe(**COMMANDS["quote-script"].options)
    @app_commands.choices(script=[app_commands.Choice(name=w, value=w) for w in SCRIPT_CHOICES])
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.allowed_installs(guilds=True, users=False)
    @app_commands.guild_only()
    async def quote_script(self, interaction: discord.Interaction[Any], script: app_commands.Choice[str]) -> None:
        """Every quote in this channel in one script, or each reader's own again (auto)."""
        caller, here = self.bot.caller(interaction), str(interaction.channel_id)
        await self.bot.send(interaction, await self.bot.quotes.set_script(caller, script.value, here))

    @app_commands.command(name="quote-daily", description=COMMANDS["quote-daily"].description)
    @app_commands.describe(**COMMANDS["quote-daily"].options)
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.allowed_installs(guilds=True, users=False)
    @app_commands.guild_only()
    async def quote_daily(
        self,
        interaction: discord.Interaction[Any],
        time: str,
        timezone: str = "UTC",
        channel: discord.TextChannel | None = None,
    ) -> None:
        """Set or stop a channel's daily post; stored by the scheduler, wins over the config file."""
        request = daily_options(time, timezone, str(channel.id) if channel else None)
        here = str(interaction.channel_id)
        reply = await self.bot.quotes.set_daily(self.bot.caller(interaction), request, here, lambda typed: typed)
        await self.bot.send(interaction, reply)

    @quote_daily.autocomplete("timezone")
    async def _zones(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in timezone_choices(current)]
