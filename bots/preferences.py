"""Admins' choice of script for a channel: every quote shown there in simplified or traditional characters.

By default each reader gets their own script (`bots.reader`: Discord's and Slack's locale). A
channel of a Hong Kong community may want Hong Kong forms for everyone, whatever their client says;
an admin sets that with `/quote-script`. The choice lives in quotebot's database (`storage.url`,
table `reader_scripts`), so it outlives a restart and every process sharing the database follows
it, reading the table again after `REFRESH_SECONDS`. A database that does not answer leaves the
choices in memory (logged once): the replies never wait on it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable

from sqlalchemy import Column, MetaData, String, Table, delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from quotecore import SCRIPTS, Script

log = logging.getLogger(__name__)

#: How stale another process's choice may be here.
REFRESH_SECONDS = 30.0

metadata = MetaData()
reader_scripts = Table(
    "reader_scripts",
    metadata,
    Column("scope", String(160), primary_key=True),  # platform:channel (Slack many-workspace: slack:TEAM/CHANNEL)
    Column("script", String(16), nullable=False),
    Column("set_by", String(96), nullable=False),
    Column("set_at", String(32), nullable=False),
)


class ScriptChoices:
    """The channels' scripts: a cache in front of the `reader_scripts` table (None engine: memory only)."""

    def __init__(self, engine: Engine | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self._clock = clock
        self._choices: dict[str, Script] = {}
        self._read_at = float("-inf")
        self._warned = False

    def _read(self) -> None:
        if self.engine is None:
            return
        try:
            metadata.create_all(self.engine)
            with self.engine.connect() as conn:
                rows = conn.execute(select(reader_scripts.c.scope, reader_scripts.c.script)).all()
        except SQLAlchemyError as exc:
            self._trouble(exc)
            return
        self._choices = {scope: script for scope, script in rows if script in SCRIPTS}  # type: ignore[misc]

    def _trouble(self, exc: Exception) -> None:
        if not self._warned:
            log.warning("channel scripts: the database does not answer (%s); keeping them in memory", exc)
            self._warned = True

    async def get(self, scope: str) -> Script | None:
        """The script an admin chose for `scope`, or None: each reader's own."""
        if self._clock() - self._read_at > REFRESH_SECONDS:
            self._read_at = self._clock()
            await asyncio.to_thread(self._read)
        return self._choices.get(scope)

    async def set(self, scope: str, script: Script | None, by: str) -> None:
        """Choose (None: back to each reader's own) for every process on this database."""
        if script is None:
            self._choices.pop(scope, None)
        else:
            self._choices[scope] = script
        await asyncio.to_thread(self._write, scope, script, by)

    def _write(self, scope: str, script: Script | None, by: str) -> None:
        if self.engine is None:
            return
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        try:
            metadata.create_all(self.engine)
            with self.engine.begin() as conn:
                conn.execute(delete(reader_scripts).where(reader_scripts.c.scope == scope))
                if script is not None:
                    conn.execute(insert(reader_scripts).values(scope=scope, script=script, set_by=by, set_at=now))
        except SQLAlchemyError as exc:
            self._trouble(exc)
