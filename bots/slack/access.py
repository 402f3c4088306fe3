"""Who may run admin commands: configured user ids, and optionally workspace admins and owners."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.settings import SlackSettings

log = logging.getLogger(__name__)


async def is_admin(client: AsyncWebClient, user_id: str, settings: SlackSettings) -> bool:
    """True for admin_user_ids; with workspace_admins, also for admins/owners per users.info."""
    if user_id in settings.admin_user_ids:
        return True
    if not settings.workspace_admins:
        return False
    try:
        info = await client.users_info(user=user_id)
    except SlackApiError as exc:
        log.warning("users.info failed for %s (%s): not treating them as an admin", user_id, exc.response.get("error"))
        return False
    user = info.get("user") or {}
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
