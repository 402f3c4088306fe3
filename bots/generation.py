"""What several processes on one database agree on: the corpus generation, who serves which, cooldowns.

Tables (next to the scheduler's, in the same database):
- `corpus_generation`: one row. A reload on any process bumps `generation` and records the content
  fingerprint it loaded; every process follows the number, so "reload" means the same everywhere.
- `replicas`: one row per running process: the generation it serves, the last one it tried (a failed
  reload leaves `attempted` ahead of `generation`, with the reason), and a heartbeat. The admin's
  reload report is read from here.
- `cooldowns`: per-user "not before" instants, so a user's requests spread over processes still
  wait their turn.

On PostgreSQL a bump also sends NOTIFY on `CHANNEL`, so followers wake at once instead of at their
next poll. Heartbeats and cooldown instants are wall-clock seconds of the writing process: hosts
are assumed NTP-synchronised (a second of skew shifts a cooldown by a second, nothing worse).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import Column, Connection, Float, Integer, MetaData, String, Table, Text, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from bots.scheduler.store import Tables, create_db_engine, create_schema
from quotecore import QuoteService

log = logging.getLogger(__name__)

#: The NOTIFY channel a bump is announced on (PostgreSQL).
CHANNEL = "quotebot_generation"
#: The advisory lock held while creating these tables ("qbreplic" in ASCII).
SCHEMA_LOCK_KEY = 0x71627265706C6963

metadata = MetaData()
generation_table = Table(
    "corpus_generation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("set_by", String(128), nullable=False),
    Column("set_at", Float, nullable=False),
)
replicas_table = Table(
    "replicas",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("attempted", Integer, nullable=False),
    Column("error", Text),
    Column("started_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
)
cooldowns_table = Table(
    "cooldowns",
    metadata,
    Column("key", String(160), primary_key=True),
    Column("last_at", Float, nullable=False),
)


def fingerprint(service: QuoteService) -> str:
    """A digest of what the loaded corpus serves (every passage id and text), to compare processes' disks."""
    return service.snapshot.digest()[:16]


@dataclass(frozen=True, slots=True)
class Generation:
    """The generation every process should serve, and the content it was recorded with."""

    number: int
    fingerprint: str
    set_by: str


@dataclass(frozen=True, slots=True)
class Replica:
    """One process as the table records it."""

    name: str
    generation: int
    fingerprint: str
    attempted: int
    error: str | None
    heartbeat_at: float

    def failed(self, generation: int) -> bool:
        """It tried `generation` (or later) and still serves an older one."""
        return self.attempted >= generation > self.generation


class GenerationStore(Tables):
    """Every read and write of the three tables; each method is one short transaction (call them in a thread)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        self.postgres = make_url(url).get_backend_name() == "postgresql"

    def open(self) -> None:
        """Create the tables if missing; several processes starting together on an empty database are fine."""
        create_schema(self.engine, metadata, SCHEMA_LOCK_KEY)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    # ---------------------------------------------------------------- the generation

    def current(self) -> Generation | None:
        """The recorded generation; None before any process recorded one."""
        with self._tx() as conn:
            row = conn.execute(select(generation_table).where(generation_table.c.id == 1)).first()
        return Generation(row.generation, row.fingerprint, row.set_by) if row else None

    def bump(self, content: str, by: str) -> int:
        """Record a new generation (one more than the last) with its fingerprint; announce it; its number."""
        values = {"fingerprint": content, "set_by": by[:128], "set_at": time.time()}
        for _ in range(3):
            with self._tx() as conn:
                row = conn.execute(
                    generation_table.update()
                    .where(generation_table.c.id == 1)
                    .values(generation=generation_table.c.generation + 1, **values)
                    .returning(generation_table.c.generation)
                ).first()
                if row is not None:
                    self._announce(conn, int(row.generation))
                    return int(row.generation)
            try:
                with self._tx() as conn:
                    conn.execute(generation_table.insert().values(id=1, generation=1, **values))
                    self._announce(conn, 1)
                    return 1
            except IntegrityError:
                continue  # another process inserted the first row: bump that one
        raise RuntimeError("could not record a corpus generation")

    def _announce(self, conn: Connection, number: int) -> None:
        if self.postgres:  # delivered at commit, to every listener
            conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": str(number)})

    def first(self, content: str, by: str) -> Generation:
        """The current generation, recording generation 1 with `content` when there is none yet."""
        found = self.current()
        if found is not None:
            return found
        self.bump(content, by)
        found = self.current()
        assert found is not None
        return found

    # ---------------------------------------------------------------- replicas

    def report(self, name: str, generation: int, content: str, attempted: int, error: str | None) -> None:
        """What this process serves now (and the last generation it tried); also a heartbeat."""
        now = time.time()
        values = {"generation": generation, "fingerprint": content, "attempted": attempted, "error": error}
        with self._tx() as conn:
            updated = conn.execute(
                replicas_table.update().where(replicas_table.c.name == name).values(heartbeat_at=now, **values)
            )
            if updated.rowcount == 0:
                conn.execute(replicas_table.insert().values(name=name, started_at=now, heartbeat_at=now, **values))

    def heartbeat(self, name: str) -> bool:
        """Still alive; False when the row is gone (then `report` again)."""
        with self._tx() as conn:
            result = conn.execute(
                replicas_table.update().where(replicas_table.c.name == name).values(heartbeat_at=time.time())
            )
        return result.rowcount == 1

    def leave(self, name: str) -> None:
        """A process stopping cleanly: it no longer counts."""
        with self._tx() as conn:
            conn.execute(replicas_table.delete().where(replicas_table.c.name == name))

    def replicas(self, alive_within: float) -> list[Replica]:
        """The processes whose heartbeat is at most `alive_within` seconds old, by name."""
        since = time.time() - alive_within
        with self._tx() as conn:
            rows = conn.execute(
                select(replicas_table).where(replicas_table.c.heartbeat_at >= since).order_by(replicas_table.c.name)
            ).all()
        return [Replica(r.name, r.generation, r.fingerprint, r.attempted, r.error, r.heartbeat_at) for r in rows]

    # ---------------------------------------------------------------- cooldowns

    def take_turn(self, key: str, seconds: float) -> float:
        """0 when `key` may go now (and the use is recorded), else seconds left; atomic across processes."""
        now = time.time()
        with self._tx() as conn:
            updated = conn.execute(
                cooldowns_table.update()
                .where((cooldowns_table.c.key == key) & (cooldowns_table.c.last_at <= now - seconds))
                .values(last_at=now)
            )
            if updated.rowcount == 1:
                return 0.0
            row = conn.execute(select(cooldowns_table.c.last_at).where(cooldowns_table.c.key == key)).first()
        if row is not None:
            return max(seconds - (now - row.last_at), 0.001)
        try:
            with self._tx() as conn:
                conn.execute(cooldowns_table.insert().values(key=key, last_at=now))
        except IntegrityError:  # the same user on another process, at the same instant
            return seconds
        return 0.0

    def forget_cooldowns(self, older_than: float) -> int:
        """Drop rows whose cooldown is long over (the table stays the size of the active users)."""
        with self._tx() as conn:
            result = conn.execute(cooldowns_table.delete().where(cooldowns_table.c.last_at < time.time() - older_than))
        return int(result.rowcount or 0)


@dataclass(frozen=True, slots=True)
class Spread:
    """Who serves `generation` after a reload: the admin's report."""

    generation: int
    serving: tuple[str, ...]
    failed: tuple[tuple[str, str], ...] = ()
    waiting: tuple[str, ...] = ()
    #: Processes serving the generation with other content than this one (their disk copy differs).
    differing: tuple[str, ...] = ()
    #: Set when the database did not answer: the reload was local only.
    problem: str | None = None

    @property
    def total(self) -> int:
        """Every live process the report counted."""
        return len(self.serving) + len(self.failed) + len(self.waiting)
