"""The one way a failed command or click is answered: a short private apology, never a traceback.

Callers log the failure with its context first (command or button, user, guild, channel, options);
this only tells the user, whether or not the interaction was already answered or deferred.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

log = logging.getLogger(__name__)


async def apologise(interaction: discord.Interaction[Any], sorry: str) -> None:
    """Send `sorry` (plus "it has been logged") privately; a failure to send is only logged."""
    message = f"{sorry} It has been logged; please try again."
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
        else:
            await interaction.response.send_message(
                message, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
    except discord.HTTPException:
        log.warning("could not tell user %s about the failure", interaction.user.id)
