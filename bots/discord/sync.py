"""Command registration only when the definitions changed (see `bots.fingerprint`)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bots.fingerprint import Fingerprint, digest
from bots.settings import Settings
from quotecore import cache_dir

log = logging.getLogger(__name__)


async def sync(tree: app_commands.CommandTree[Any], settings: Settings, *, force: bool = False) -> str:
    """Register the commands (guild-scoped for guild_ids, else global) when they changed."""
    guild_ids = settings.discord.guild_ids
    payload = [command.to_dict(tree) for command in tree.get_commands()]
    current = digest({"scope": sorted(guild_ids), "commands": payload})
    name = f"discord-commands-{tree.client.application_id or 0}.json"  # per application and scope
    stored = Fingerprint(cache_dir(settings.corpus.cache_dir) / name)
    if not force and stored.matches(current):
        log.info("slash commands unchanged since the last sync: not syncing")
        return "Commands unchanged since the last sync; nothing sent (use discord-sync to force)."
    if guild_ids:
        for guild_id in guild_ids:
            tree.copy_global_to(guild=discord.Object(guild_id))
            synced = await tree.sync(guild=discord.Object(guild_id))
        where = f"guilds {', '.join(map(str, guild_ids))}"
    else:
        synced = await tree.sync()
        where = "globally (may take up to an hour to appear everywhere)"
    stored.store(current)
    message = f"Synced {len(synced)} commands {where}."
    log.info(message)
    return message
