"""Installing the Slack app in many workspaces: bolt's OAuth flow, its stores on quotebot's database.

slack_sdk's SQLAlchemy stores keep installations (each workspace's bot token) and OAuth states in
the same database as the daily excerpt (`storage.url`: SQLite or PostgreSQL), through quotebot's
own engine (WAL and a busy timeout on SQLite, the installed PostgreSQL driver). Those stores are
synchronous; bolt's async app wants async ones, so each call runs in a worker thread and the
event loop never waits on the database.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.engine import Engine

from bots.settings import SlackSettings

log = logging.getLogger(__name__)

#: How long an "Add to Slack" link stays valid.
STATE_SECONDS = 600


class ThreadedInstallationStore(AsyncInstallationStore):
    """slack_sdk's SQLAlchemy installation store for bolt's async app: each call in a worker thread."""

    def __init__(self, store: SQLAlchemyInstallationStore) -> None:
        self.store = store

    @property
    def logger(self) -> logging.Logger:
        """The store's own logger (bolt logs through it)."""
        return self.store.logger

    async def async_save(self, installation: Installation) -> None:
        """A workspace installed (or reinstalled) the app."""
        await asyncio.to_thread(self.store.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        """The bot's token alone (bolt calls this on token rotation)."""
        await asyncio.to_thread(self.store.save_bot, bot)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        """The bot of a workspace: what authorizes each request and each daily post."""
        return await asyncio.to_thread(
            self.store.find_bot,
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The latest installation of a workspace (or one user's)."""
        return await asyncio.to_thread(
            self.store.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """A revoked bot token."""
        await asyncio.to_thread(self.store.delete_bot, enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """A revoked user token, or the whole installation."""
        await asyncio.to_thread(
            self.store.delete_installation, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """The workspace uninstalled the app: its bots and installations go."""
        await asyncio.to_thread(self.store.delete_all, enterprise_id=enterprise_id, team_id=team_id)


class ThreadedStateStore(AsyncOAuthStateStore):
    """slack_sdk's SQLAlchemy OAuth state store (one row per "Add to Slack" link) in a worker thread."""

    def __init__(self, store: SQLAlchemyOAuthStateStore) -> None:
        self.store = store

    @property
    def logger(self) -> logging.Logger:
        """The store's own logger."""
        return self.store.logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """A new state for an install link."""
        return await asyncio.to_thread(self.store.issue, *args, **kwargs)

    async def async_consume(self, state: str) -> bool:
        """True once for a state this store issued and that has not expired."""
        return await asyncio.to_thread(self.store.consume, state)


def installation_store(settings: SlackSettings, engine: Engine) -> ThreadedInstallationStore:
    """The workspaces' installations in quotebot's database (tables created when missing)."""
    store = SQLAlchemyInstallationStore(client_id=settings.client_id or "", engine=engine, logger=log)
    store.create_tables()
    return ThreadedInstallationStore(store)


def oauth_settings(settings: SlackSettings, engine: Engine) -> AsyncOAuthSettings:
    """Bolt's OAuth flow: install and redirect paths, scopes, stores; the bot token only (no user scopes)."""
    states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine, logger=log)
    states.create_tables()
    return AsyncOAuthSettings(
        client_id=settings.client_id,
        client_secret=settings.client_secret.get_secret_value() if settings.client_secret else None,
        scopes=settings.scopes,
        redirect_uri=settings.redirect_uri,
        install_path=settings.install_path,
        redirect_uri_path=settings.redirect_path,
        installation_store=installation_store(settings, engine),
        installation_store_bot_only=True,
        state_store=ThreadedStateStore(states),
    )
