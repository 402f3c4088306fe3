"""Who may run admin commands: checked at run time, on every call.

`default_permissions` on a command is only a hint that server admins can override, so the real
gate is here: the bot's owner (or team admins/developers), plus user ids and role ids from config.
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bots.settings import DiscordSettings

log = logging.getLogger(__name__)


async def is_admin(bot: commands.Bot, user: discord.User | discord.Member, settings: DiscordSettings) -> bool:
    """True for the owner, configured admin users, and members holding a configured admin role."""
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
