"""Command registration only when the definitions changed, and what the invite URL asks for.

Discord limits how many commands an application may create per day, so syncing on every start
is a way to get rate-limited on a crash loop. A fingerprint of the command payloads (per
application and scope) is stored in the cache directory; a start whose fingerprint matches skips
the sync. `quotebot discord-sync` forces it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from bots.settings import Settings
from quotecore import cache_dir

log = logging.getLogger(__name__)

#: What the bot does in a channel, and nothing more: see it, post (also in threads), with embeds.
#: Interaction replies and their edits need no permission at all; the daily post needs these.
PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, send_messages_in_threads=True, embed_links=True
)
SCOPES = ("bot", "applications.commands")


def _fingerprint_file(settings: Settings, application_id: int) -> Path:
    return cache_dir(settings.corpus.cache_dir) / f"discord-commands-{application_id}.json"


def fingerprint(tree: app_commands.CommandTree[Any], guild_ids: list[int]) -> str:
    """A hash of exactly what a sync would send, and where to."""
    payload = [command.to_dict(tree) for command in tree.get_commands()]
    blob = json.dumps({"scope": sorted(guild_ids), "commands": payload}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _stored(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


async def sync(tree: app_commands.CommandTree[Any], settings: Settings, *, force: bool = False) -> str:
    """Register the commands (guild-scoped for guild_ids, else global) when they changed."""
    client = tree.client
    application_id = client.application_id or 0
    guild_ids = settings.discord.guild_ids
    current = fingerprint(tree, guild_ids)
    path = _fingerprint_file(settings, application_id)
    if not force and _stored(path) == current:
        log.info("slash commands unchanged since the last sync: not syncing")
        return "Commands unchanged since the last sync; nothing sent (use discord-sync to force)."
    if guild_ids:
        for guild_id in guild_ids:
            guild = discord.Object(guild_id)
            tree.copy_global_to(guild=guild)
            synced = await tree.sync(guild=guild)
        where = f"guilds {', '.join(map(str, guild_ids))}"
    else:
        synced = await tree.sync()
        where = "globally (may take up to an hour to appear everywhere)"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(current, encoding="utf-8")
    except OSError:
        log.warning("could not store the command fingerprint in %s: the next start will sync again", path)
    message = f"Synced {len(synced)} commands {where}."
    log.info(message)
    return message
