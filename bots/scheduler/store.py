"""The scheduler's durable state, through SQLAlchemy: a SQLite file by default, any URL otherwise.

Tables:
- `meta`: the schema version, so a file written by a newer quotebot is refused instead of corrupted.
- `targets`: daily targets set from chat (they win over the config file for their channel).
- `posts`: one row per (target, local date), UNIQUE: inserting it is the claim that makes a post
  happen at most once, whatever restarts, retries or second processes do. It records the outcome.
- `picks`: the rotation, one row per (scope, local date): which passage that day carries.
- `broken`: targets the bot can no longer post to, and whether an admin was told.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
#: The PostgreSQL advisory lock taken while creating the schema (any constant; "quotebot" in ASCII).
SCHEMA_LOCK_KEY = 0x71756F7465626F74

metadata = MetaData()
meta = Table("meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text, nullable=False))
targets = Table(
    "targets",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("time", String(5), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("set_by", String(128), nullable=False),
    Column("updated_at", String(32), nullable=False),
)
posts = Table(
    "posts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(96), nullable=False),
    Column("local_date", String(10), nullable=False),
    Column("status", String(16), nullable=False),  # claimed | sent | failed | unknown | unknown-told
    Column("passage_id", String(32)),
    Column("message_id", String(64)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("claimed_by", String(64), nullable=False),
    Column("claimed_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    UniqueConstraint("target", "local_date", name="one_post_per_target_and_day"),
)
picks = Table(
    "picks",
    metadata,
    Column("scope", String(96), primary_key=True),
    Column("local_date", String(10), primary_key=True),
    Column("cycle", Integer, nullable=False),
    Column("passage_id", String(32), nullable=False),
)
broken = Table(
    "broken",
    metadata,
    Column("target", String(96), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("since", String(32), nullable=False),
    Column("notified", Boolean, nullable=False),
)


class StoreError(Exception):
    """The database cannot be used; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class ChatTarget:
    """A target as stored from chat."""

    platform: str
    channel: str
    time: dt.time
    timezone: str
    enabled: bool
    set_by: str


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA busy_timeout=5000")  # a second process waits instead of failing
    cursor.close()


def create_db_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets its directory created, WAL mode and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A server that does not answer fails a connection in seconds, not after the OS's TCP timeout.
    connect_args = {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}
    return create_engine(_with_driver(url), pool_pre_ping=True, connect_args=connect_args)


def create_schema(engine: Engine, tables: MetaData, lock: int, attempts: int = 5) -> None:
    """Create the missing tables of `tables`, safe when several processes start together on an empty database.

    PostgreSQL: under a transaction-scoped advisory lock (`lock`), so one process creates and the
    others find the tables. SQLite (and any other backend): create-if-absent, and a lost race
    ("table already exists", a unique violation in the catalog) is retried, finding the tables
    made by the winner.
    """
    for attempt in range(attempts):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
                tables.create_all(conn, checkfirst=True)
            return
        except (OperationalError, ProgrammingError, IntegrityError) as exc:
            if attempt == attempts - 1:
                raise
            log.debug("schema creation raced another process (%s); checking again", exc)
            time.sleep(0.1 * (attempt + 1))


def ping(engine: Engine) -> None:
    """One round trip; raises when the database does not answer (readiness)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _with_driver(url: str) -> str:
    """`postgresql://…` means psycopg 3 (the `postgres` extra), not SQLAlchemy's default psycopg2."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def missing_driver(url: str) -> str | None:
    """The install command when `url` needs a database driver that is not installed, else None."""
    try:
        make_url(_with_driver(url)).get_dialect().import_dbapi()
    except ImportError:
        backend = make_url(url).get_backend_name()
        if backend == "postgresql":
            return 'the PostgreSQL driver is not installed: pip install "quotebot[postgres]"'
        return f"the {backend} driver ({make_url(_with_driver(url)).drivername}) is not installed"
    except Exception:
        return None
    return None


def create_readonly_engine(url: str) -> Engine | None:
    """An engine that cannot write (a preview reads, never writes); None when there is no database yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return None
        path = Path(parsed.database).expanduser()
        if not path.is_file():
            return None
        return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    return create_engine(_with_driver(url), pool_pre_ping=True, execution_options={"postgresql_readonly": True})


class Tables:
    """What every store on quotebot's database shares: a readiness ping and one short transaction."""

    engine: Engine

    def ping(self) -> None:
        """One round trip; raises when the database does not answer (readiness)."""
        ping(self.engine)

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn


class Store(Tables):
    """All reads and writes of the scheduler's state; each method is one short transaction.

    `readonly=True` (previews) never creates a file, a table or a row: a database or table that does
    not exist yet reads as empty.
    """

    def __init__(self, url: str, *, readonly: bool = False) -> None:
        self.url = url
        self.readonly = readonly
        engine = create_readonly_engine(url) if readonly else create_db_engine(url)
        self._engine = engine
        self._absent = engine is None

    @property
    def engine(self) -> Engine:
        """The engine (a read-only store without a database has none)."""
        if self._engine is None:
            raise StoreError(f"{self.url}: no database yet")
        return self._engine

    def open(self) -> None:
        """Create the schema on first start; refuse a database from a newer version.

        Read-only: only look; a database without the tables reads as empty.
        """
        if self.readonly:
            if self._engine is not None:
                self._absent = not inspect(self._engine).has_table(picks.name)
            return
        create_schema(self.engine, metadata, SCHEMA_LOCK_KEY)
        with self.engine.begin() as conn:
            row = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).first()
        if row is None:
            try:
                with self.engine.begin() as conn:
                    conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            except IntegrityError:
                log.debug("another process recorded the schema version first")
        elif int(row.value) > SCHEMA_VERSION:
            raise StoreError(
                f"{self.url}: schema version {row.value} is newer than this quotebot's ({SCHEMA_VERSION}); "
                "upgrade quotebot or point [storage] url at another database"
            )

    def close(self) -> None:
        """Release connections (tests open and close many stores)."""
        if self._engine is not None:
            self._engine.dispose()

    # ---------------------------------------------------------------- chat-set targets

    def chat_targets(self) -> list[ChatTarget]:
        """Every target set from chat, enabled or switched off."""
        if self._absent:
            return []
        with self._tx() as conn:
            rows = conn.execute(select(targets)).all()
        return [
            ChatTarget(r.platform, r.channel, dt.time.fromisoformat(r.time), r.timezone, r.enabled, r.set_by)
            for r in rows
        ]

    def save_target(self, target: ChatTarget) -> None:
        """Insert or replace the chat setting for this channel."""
        values = {
            "time": target.time.strftime("%H:%M"),
            "timezone": target.timezone,
            "enabled": target.enabled,
            "set_by": target.set_by,
            "updated_at": _now(),
        }
        key = (targets.c.platform == target.platform) & (targets.c.channel == target.channel)
        with self._tx() as conn:
            if conn.execute(targets.update().where(key).values(**values)).rowcount == 0:
                conn.execute(targets.insert().values(platform=target.platform, channel=target.channel, **values))

    # ---------------------------------------------------------------- claims

    def claim(self, target: str, local_date: dt.date, owner: str) -> bool:
        """Insert the (target, date) row; False when someone already claimed it (then never post)."""
        now = _now()
        try:
            with self._tx() as conn:
                conn.execute(
                    posts.insert().values(
                        target=target,
                        local_date=local_date.isoformat(),
                        status="claimed",
                        attempts=0,
                        claimed_by=owner,
                        claimed_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def record(self, target: str, local_date: dt.date, **values: Any) -> None:
        """Update a claim with the outcome (status, passage, message id, attempts, error)."""
        where = (posts.c.target == target) & (posts.c.local_date == local_date.isoformat())
        with self._tx() as conn:
            conn.execute(posts.update().where(where).values(updated_at=_now(), **values))

    def stale_claims(self, prefix: str, claimed_before: dt.datetime) -> list[dict[str, Any]]:
        """Claims of a platform's targets with no outcome, made before `claimed_before` (UTC)."""
        where = (
            (posts.c.status == "claimed")
            & posts.c.target.startswith(prefix)
            & (posts.c.claimed_at <= claimed_before.isoformat(timespec="seconds"))
        )
        with self._tx() as conn:
            rows = conn.execute(select(posts).where(where).order_by(posts.c.local_date)).all()
        return [dict(r._mapping) for r in rows]

    def take_over(self, claim: dict[str, Any], owner: str) -> bool:
        """Make a stale claim ours; False when another process took it over first."""
        where = (
            (posts.c.id == claim["id"])
            & (posts.c.status == "claimed")
            & (posts.c.claimed_by == claim["claimed_by"])
            & (posts.c.claimed_at == claim["claimed_at"])
        )
        now = _now()
        with self._tx() as conn:
            result = conn.execute(posts.update().where(where).values(claimed_by=owner, claimed_at=now, updated_at=now))
        return result.rowcount == 1

    def take_unknown(self, prefix: str) -> list[tuple[str, dt.date]]:
        """Posts of a platform whose fate is unknown and not yet reported; marks them reported."""
        where = (posts.c.status == "unknown") & posts.c.target.startswith(prefix)
        with self._tx() as conn:
            rows = conn.execute(select(posts.c.id, posts.c.target, posts.c.local_date).where(where)).all()
            if rows:
                conn.execute(posts.update().where(posts.c.id.in_([r.id for r in rows])).values(status="unknown-told"))
        return [(r.target, dt.date.fromisoformat(r.local_date)) for r in rows]

    def post(self, target: str, local_date: dt.date) -> dict[str, Any] | None:
        """The claim row for (target, date), if any."""
        where = (posts.c.target == target) & (posts.c.local_date == local_date.isoformat())
        with self._tx() as conn:
            row = conn.execute(select(posts).where(where)).first()
        return dict(row._mapping) if row else None

    # ---------------------------------------------------------------- rotation

    def picks(self, scope: str) -> list[tuple[dt.date, int, str]]:
        """(date, cycle, passage id) of every pick in a scope, oldest first."""
        if self._absent:
            return []
        with self._tx() as conn:
            rows = conn.execute(
                select(picks.c.local_date, picks.c.cycle, picks.c.passage_id)
                .where(picks.c.scope == scope)
                .order_by(picks.c.local_date)
            ).all()
        return [(dt.date.fromisoformat(d), c, p) for d, c, p in rows]

    def save_pick(self, scope: str, local_date: dt.date, cycle: int, passage_id: str) -> str:
        """Store a day's pick; if another process stored one first, theirs wins and is returned."""
        try:
            with self._tx() as conn:
                conn.execute(
                    picks.insert().values(
                        scope=scope, local_date=local_date.isoformat(), cycle=cycle, passage_id=passage_id
                    )
                )
            return passage_id
        except IntegrityError:
            with self._tx() as conn:
                row = conn.execute(
                    select(picks.c.passage_id).where(
                        (picks.c.scope == scope) & (picks.c.local_date == local_date.isoformat())
                    )
                ).first()
            return row.passage_id if row else passage_id

    # ---------------------------------------------------------------- broken targets

    def mark_broken(self, target: str, reason: str) -> None:
        """Remember that posting to a target failed for good; an admin is told once."""
        with self._tx() as conn:
            conn.execute(broken.delete().where(broken.c.target == target))
            conn.execute(broken.insert().values(target=target, reason=reason, since=_now(), notified=False))

    def clear_broken(self, target: str) -> None:
        """An admin set the target again: try it again."""
        with self._tx() as conn:
            conn.execute(broken.delete().where(broken.c.target == target))

    def broken_targets(self) -> dict[str, str]:
        """Target key → reason."""
        with self._tx() as conn:
            return {r.target: r.reason for r in conn.execute(select(broken)).all()}

    def take_notices(self, prefix: str) -> list[tuple[str, str]]:
        """Broken targets of a platform not yet reported; marks them reported."""
        with self._tx() as conn:
            rows = conn.execute(
                select(broken).where(broken.c.target.startswith(prefix) & (broken.c.notified.is_(False)))
            ).all()
            if rows:
                conn.execute(broken.update().where(broken.c.target.in_([r.target for r in rows])).values(notified=True))
        return [(r.target, r.reason) for r in rows]
