"""Command registration only when Discord's copy differs from ours: one read per scope, then a write.

Discord limits how many commands an application may create per day, so syncing on every start
gets a crash-looping bot rate-limited; a local record of the last sync is no better, since
commands deleted or edited elsewhere (another deploy, the Developer Portal) would never come back.
With `guild_ids`, global commands left by an earlier global sync are cleared: a guild would
otherwise list each command twice.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bots.settings import Settings

log = logging.getLogger(__name__)

#: Keys whose None means "Discord's default": Discord answers with the default filled in.
_DEFAULTED = frozenset({"contexts", "integration_types"})


def same(local: Any, remote: Any) -> bool:
    """Discord has what we would send: every key we send (it adds its own, omits empty ones, quotes ints)."""
    if isinstance(local, dict):
        theirs = remote if isinstance(remote, dict) else {}
        return all(same(v, theirs.get(k)) for k, v in local.items() if not (k in _DEFAULTED and v is None))
    if isinstance(local, list):
        return len(local) == len(remote or []) and all(same(a, b) for a, b in zip(local, remote or [], strict=False))
    return local == remote or str(local) == str(remote) or (not local and not remote)


async def sync(tree: app_commands.CommandTree[Any], settings: Settings, *, force: bool = False) -> str:
    """Register the commands (guild-scoped for guild_ids, else global) where Discord's copy differs."""
    http, app_id = tree.client.http, tree.client.application_id or 0
    guild_ids = settings.discord.guild_ids
    translator = tree.translator
    ours = {
        c.name: await c.get_translated_payload(tree, translator) if translator else c.to_dict(tree)
        for c in tree.get_commands()
    }
    sent: list[str] = []
    for guild_id in guild_ids or [None]:
        theirs = await (http.get_guild_commands(app_id, guild_id) if guild_id else http.get_global_commands(app_id))
        theirs_by_name = {c["name"]: c for c in theirs}
        if force or theirs_by_name.keys() != ours.keys() or not same(ours, theirs_by_name):
            if guild_id:
                tree.copy_global_to(guild=discord.Object(guild_id))
            await tree.sync(guild=discord.Object(guild_id) if guild_id else None)
            sent.append(f"guild {guild_id}" if guild_id else "globally (may take up to an hour to appear everywhere)")
    if guild_ids and await http.get_global_commands(app_id):  # left by an earlier global sync
        await http.bulk_upsert_global_commands(app_id, [])
        sent.append("cleared the global commands (each would show twice in the guilds)")
    message = (
        f"Synced {len(ours)} commands {', '.join(sent)}." if sent else "Commands unchanged on Discord: nothing sent."
    )
    log.info(message)
    return message
