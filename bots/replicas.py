"""Reload everywhere: each process follows the corpus generation recorded in the database.

A reload on any process rebuilds its own snapshot, then bumps the generation (with the content
fingerprint it loaded). Every other process notices, at once on PostgreSQL (LISTEN/NOTIFY) or at
its next poll (`poll_seconds`, also the fallback when the notification connection is down), and
reloads from its own disk copy. Each records what it serves in `replicas`, so the admin who asked
hears how many processes serve the new generation and which failed (those keep serving the old
corpus, as a failed reload always did). A process that starts later loads what is on its disk and
joins the current generation.

The database being down never stops chat: the loop logs once, keeps serving, and catches up on
the generation when the database answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bots.commands import Cooldown
from bots.generation import CHANNEL, GenerationStore, Replica, Spread, fingerprint
from bots.settings import ReplicaSettings
from quotecore import CorpusError, QuoteService, ReloadReport, printable

log = logging.getLogger(__name__)

#: What a database in trouble raises: SQLAlchemy's errors and I/O.
DB_ERRORS = (SQLAlchemyError, OSError)
#: How often cooldown rows older than this are deleted (cooldowns are at most an hour).
COOLDOWN_SWEEP_SECONDS = 3600.0


def default_name() -> str:
    """host:pid, unique among processes on one database."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


@dataclass
class ReplicaSync:
    """One process's side of the shared generation; owned by `quotebot run`, started after the corpus loads."""

    service: QuoteService
    store: GenerationStore
    settings: ReplicaSettings
    #: What the command layers computed from the corpus: cleared after every reload.
    memo: dict[str, list[str]] = field(default_factory=dict)
    #: Called with ("ok" or "failed", "follow") after each reload that followed another process (metrics).
    on_reload: Callable[[str, str], None] | None = None
    name: str = ""
    generation: int = 0
    #: The newest generation tried here (a failed one is not retried at every poll: the next bump is).
    attempted: int = 0
    content: str = ""
    problem: str | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _joined: bool = False
    _local: dict[float, Cooldown] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.name = self.name or self.settings.name or default_name()

    @property
    def alive_within(self) -> float:
        """A heartbeat older than three beats is a process that is gone."""
        return 3 * self.settings.heartbeat_seconds + 1

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Join the current generation (the corpus is loaded already), then follow it in the background."""
        self.content = await asyncio.to_thread(fingerprint, self.service)
        try:
            await self._join()
        except DB_ERRORS as exc:
            self._down("joining", exc)
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._follow(), name="replicas:follow"))
        if self.store.postgres:
            self._tasks.append(loop.create_task(self._listen(), name="replicas:listen"))

    async def _join(self) -> None:
        await asyncio.to_thread(self.store.open)
        current = await asyncio.to_thread(self.store.first, self.content, self.name)
        if current.fingerprint != self.content:
            log.warning(
                "replicas: generation %d was recorded with other content (%s) than this process loaded (%s): "
                "its corpus files differ from the process that reloaded last",
                current.number,
                current.fingerprint,
                self.content,
            )
        self.generation = current.number
        await self._report(self.generation)
        self._joined = True
        self._up()
        log.info("replicas: %s serves generation %d", self.name, self.generation)

    async def stop(self) -> None:
        """Stop following and leave the table (a clean stop is not a failure)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(*DB_ERRORS):
            if self._joined:
                await asyncio.to_thread(self.store.leave, self.name)
        await asyncio.to_thread(self.store.close)

    def _down(self, doing: str, exc: BaseException) -> None:
        problem = printable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 160)
        if self.problem is None:
            log.warning("replicas: the database did not answer while %s (%s); chat keeps working", doing, problem)
        self.problem = problem

    def _up(self) -> None:
        if self.problem is not None:
            log.info("replicas: the database answers again")
        self.problem = None

    # ---------------------------------------------------------------- following

    async def _follow(self) -> None:
        beat_due = time.monotonic() + self.settings.heartbeat_seconds
        sweep_due = time.monotonic() + COOLDOWN_SWEEP_SECONDS
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_seconds)
            self._wake.clear()
            try:
                if not self._joined:
                    await self._join()
                await self.catch_up()
                if time.monotonic() >= beat_due:
                    beat_due = time.monotonic() + self.settings.heartbeat_seconds
                    if not await asyncio.to_thread(self.store.heartbeat, self.name):
                        await self._report(max(self.generation, self.attempted))
                if time.monotonic() >= sweep_due:  # cooldowns long over: keep the table small
                    sweep_due = time.monotonic() + COOLDOWN_SWEEP_SECONDS
                    await asyncio.to_thread(self.store.forget_cooldowns, COOLDOWN_SWEEP_SECONDS)
                self._up()
            except DB_ERRORS as exc:
                self._down("following the generation", exc)

    async def catch_up(self) -> bool:
        """Reload when the database records a newer generation; whether it did (the poll and NOTIFY end here)."""
        current = await asyncio.to_thread(self.store.current)
        if current is None or current.number <= max(self.generation, self.attempted):
            return False
        async with self._lock:
            if current.number <= max(self.generation, self.attempted):  # our own reload got there first
                return False
            self.attempted = current.number
            started = time.perf_counter()
            try:
                await asyncio.to_thread(self.service.reload)
            except Exception as exc:
                reason = printable(str(exc) if isinstance(exc, CorpusError) else repr(exc), 300)
                log.warning("replicas: generation %d did not load here, keeping %d: %s", current.number,
                            self.generation, reason)  # fmt: skip
                await self._report(current.number, reason)
                self._reloaded("failed", "follow")
                return False
            self.memo.clear()
            self.content = await asyncio.to_thread(fingerprint, self.service)
            self.generation = current.number
            await self._report(self.generation)
        log.info("replicas: now serving generation %d (reloaded in %.2f s, set by %s)", current.number,
                 time.perf_counter() - started, current.set_by)  # fmt: skip
        self._reloaded("ok", "follow")
        return True

    async def _listen(self) -> None:
        """PostgreSQL: LISTEN, and wake the follower on each NOTIFY; reconnect with back-off."""
        import psycopg

        conninfo = make_url(self.store.url).set(drivername="postgresql").render_as_string(hide_password=False)
        delay = 1.0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    delay = 1.0
                    self._wake.set()  # a bump while we were not listening
                    async for _ in conn.notifies():
                        self._wake.set()
            except (psycopg.Error, OSError) as exc:
                log.debug("replicas: LISTEN connection lost (%s); the poll carries on", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def take_turn(self, key: str, seconds: float) -> float:
        """A cooldown shared by every process (0: go ahead); this process's own while the database is down."""
        try:
            wait = await asyncio.to_thread(self.store.take_turn, key, seconds)
        except DB_ERRORS as exc:
            self._down("checking a cooldown", exc)
            return self._local.setdefault(seconds, Cooldown(seconds)).retry_after(key)
        self._up()
        return wait

    async def _report(self, attempted: int, error: str | None = None) -> None:
        """Record what this process serves now, the newest generation it tried, and why that failed."""
        await asyncio.to_thread(self.store.report, self.name, self.generation, self.content, attempted, error)

    def _reloaded(self, outcome: str, origin: str) -> None:
        if self.on_reload is not None:
            self.on_reload(outcome, origin)

    # ---------------------------------------------------------------- reloading everywhere

    async def reload(self) -> tuple[ReloadReport, Spread]:
        """Reload here (CorpusError propagates: nothing is bumped), bump, and wait for the others' answers."""
        async with self._lock:
            report = await asyncio.to_thread(self.service.reload)
            self.memo.clear()
            self.content = await asyncio.to_thread(fingerprint, self.service)
            try:
                self.generation = await asyncio.to_thread(self.store.bump, self.content, self.name)
                await self._report(self.generation)
            except DB_ERRORS as exc:
                self._down("recording the reload", exc)
                return report, Spread(self.generation, (self.name,), problem=self.problem)
        return report, await self.spread(self.generation)

    async def spread(self, generation: int) -> Spread:
        """Wait (at most `report_wait_seconds`) until every live process served or failed `generation`."""
        deadline = time.monotonic() + self.settings.report_wait_seconds
        while True:
            try:
                replicas = await asyncio.to_thread(self.store.replicas, self.alive_within)
            except DB_ERRORS as exc:
                self._down("reading the replicas", exc)
                return Spread(generation, (self.name,), problem=self.problem)
            spread = summarize(generation, self.content, replicas)
            if not spread.waiting or time.monotonic() >= deadline:
                return spread
            await asyncio.sleep(0.2)


def summarize(generation: int, content: str, replicas: list[Replica]) -> Spread:
    """Sort the live processes into serving, failed and not answered yet."""
    serving = tuple(r.name for r in replicas if r.generation >= generation)
    failed = tuple((r.name, r.error or "unknown error") for r in replicas if r.failed(generation))
    waiting = tuple(r.name for r in replicas if r.generation < generation and not r.failed(generation))
    differing = tuple(r.name for r in replicas if r.generation == generation and r.fingerprint != content)
    return Spread(generation, serving, failed, waiting, differing)
