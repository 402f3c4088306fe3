"""The daily excerpt: APScheduler cron jobs on the bots' loop, a catch-up pass, and claims.

Timing: one APScheduler 3.x cron job per target (explicit id, replace_existing, the zone's local
time, misfire grace from config, coalescing). APScheduler's in-memory store cannot know about runs
missed while the process was down, so `start()` and every poster registration also run a catch-up
pass: for each target, the most recent scheduled time is posted if it is within the grace window
and nobody claimed it, and skipped with a log line otherwise. Both paths end in `_run`, which is
driven by an injectable clock, so tests move time instead of sleeping.

No double posts: before sending, `_run` inserts the UNIQUE (target, local date) claim; a restart, a
second process or a retried job finds it and stops. Sends that fail are retried with backoff, and
the claim records the outcome. A permanent failure (channel gone, access lost) marks the target
broken; an admin hears about it on their next command (`take_notices`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import os
import socket
import zoneinfo
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import SQLAlchemyError

from bots.daily_control import Platform, Poster, PostError
from bots.runtime import until_stopped
from bots.scheduler.rotation import SHARED_SCOPE, Rotation
from bots.scheduler.store import ChatTarget, Store, missing_driver
from bots.settings import DailySettings, Settings
from quotecore import Quote, QuoteService, printable

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], Awaitable[None]]
RETRY_DELAYS = (5.0, 30.0, 120.0)
#: Back-off while the database does not answer (at start, or at post time: the first three).
DB_RETRY_DELAYS = (5.0, 15.0, 60.0, 300.0)
#: What a database in trouble raises: SQLAlchemy's errors (locked, read-only, corrupt, full, down), I/O.
DB_ERRORS = (SQLAlchemyError, OSError)
#: How long shutdown waits for a post in flight (systemd's default stop timeout is 90 s).
SHUTDOWN_GRACE = 30.0


def utc_now() -> dt.datetime:
    """The real clock (aware, UTC)."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class DailyTarget:
    """A place and a local time; `source` says whether the config file or a chat command set it."""

    platform: str
    channel: str
    time: dt.time
    timezone: str
    source: str = "config"

    @property
    def key(self) -> str:
        """The claim and job key: platform and channel (one post per channel per day)."""
        return f"{self.platform}:{self.channel}"

    def slot(self, now: dt.datetime) -> tuple[dt.datetime, dt.date]:
        """The latest scheduled instant at or before `now` (UTC) and its local date.

        A local time that does not exist on a spring-forward day resolves with the offset before
        the change (02:30 becomes 03:30); an ambiguous one on a fall-back day is its first occurrence.
        """
        zone = zoneinfo.ZoneInfo(self.timezone)
        day = now.astimezone(zone).date()
        for _ in range(3):
            scheduled = dt.datetime.combine(day, self.time, tzinfo=zone).astimezone(dt.UTC)
            if scheduled <= now:
                return scheduled, day
            day -= dt.timedelta(days=1)
        raise AssertionError("unreachable: a day ago is always in the past")

    def next_local(self, now: dt.datetime) -> dt.datetime:
        """The next post time, in the target's zone (for the admin's confirmation)."""
        zone = zoneinfo.ZoneInfo(self.timezone)
        _, day = self.slot(now)
        return dt.datetime.combine(day + dt.timedelta(days=1), self.time, tzinfo=zone)


class DailyScheduler:
    """Implements bots.daily_control.DailyControl; owned by `quotebot run`, fed posters by adapters."""

    def __init__(
        self,
        service: QuoteService,
        settings: DailySettings,
        store: Store,
        *,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        owner: str | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.store = store
        self.clock = clock or utc_now
        self.sleep = sleep or asyncio.sleep
        self.retry_delays = tuple(retry_delays)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.rotation = Rotation(store, service)
        self._posters: dict[str, Poster] = {}
        self._targets: dict[str, DailyTarget] = {}
        self._scheduler: AsyncIOScheduler | None = None
        self._skipped: set[tuple[str, dt.date]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self._opening: asyncio.Task[None] | None = None
        self._following: asyncio.Task[None] | None = None
        #: Why the database does not answer now (None when it does); told to each platform's admins once.
        self.database_problem: str | None = None
        self._told_database: set[str] = set()
        #: Told each post's outcome ("sent" or "failed"): the metrics.
        self.on_post: Callable[[str], None] | None = None

    @classmethod
    def from_settings(cls, service: QuoteService, settings: Settings, *, clock: Clock | None = None) -> DailyScheduler:
        """The scheduler for `quotebot run`: storage URL and [daily] from the settings."""
        return cls(service, settings.daily, Store(settings.storage.url), clock=clock)

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Open the database, schedule every target, catch up on posts missed while down.

        A database that does not answer (locked past the busy timeout, read-only, corrupt, full,
        a server down) does not switch the daily post off for the life of the process: the
        admins are told once, `start` is tried again with back-off (DB_RETRY_DELAYS) until it
        works, and chat keeps answering all along.
        """
        try:
            await self._open_and_schedule()
        except DB_ERRORS as exc:
            self._database_down("opening", exc)
            self._opening = asyncio.get_running_loop().create_task(self._open_later())

    async def _open_later(self) -> None:
        for attempt in itertools.count():
            if await self._wait_or_stop(DB_RETRY_DELAYS[min(attempt, len(DB_RETRY_DELAYS) - 1)]):
                return
            try:
                await self._open_and_schedule()
            except DB_ERRORS as exc:
                log.debug("daily: the database still does not answer: %s", exc)
                continue
            log.info("daily: the database answers again; the daily excerpt is running")
            self._database_back()
            return

    async def _wait_or_stop(self, seconds: float) -> bool:
        """Sleep `seconds`, or less when shutdown starts; whether it did."""
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def _database_down(self, doing: str, exc: BaseException) -> None:
        problem = printable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 160)
        if self.database_problem is None:
            log.warning(
                "daily: the database %s failed (%s); retrying with back-off, chat keeps working", doing, problem
            )
        self.database_problem = problem

    def _database_back(self) -> None:
        if self.database_problem is not None:
            self.database_problem = None
            self._told_database.clear()

    async def _open_and_schedule(self) -> None:
        await asyncio.to_thread(self.store.open)
        await self._load_targets()
        self._scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self._scheduler.start()
        for target in self._targets.values():
            self._schedule(target)
        log.info("daily: %d target(s) scheduled", len(self._targets))
        if self._following is None:
            self._following = asyncio.get_running_loop().create_task(self._follow_targets())
        await self.tick()

    async def shutdown(self, grace: float = SHUTDOWN_GRACE) -> None:
        """Stop the jobs; wait (at most `grace` seconds) for a post in flight so its claim records the outcome.

        No new retry starts once stopping. A post still running after `grace` is cancelled: its claim
        keeps no outcome and the next start reconciles it (`reconcile`).
        """
        self._stop.set()
        for task in (self._opening, self._following):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)  # cancels the jobs' own tasks, not the posts (below)
            self._scheduler = None
        if self._tasks:
            log.info("daily: waiting for %d post(s) in flight", len(self._tasks))
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                log.warning("daily: a post still in flight after %.0f s was cancelled", grace)
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.to_thread(self.store.close)

    def _track(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run as a task of our own, which shutdown waits for (APScheduler cancels its job tasks)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _follow_targets(self) -> None:
        """Read the chat-set targets again every `follow_seconds`: another process may have changed them."""
        while not await self._wait_or_stop(self.settings.follow_seconds):
            try:
                await self.refresh_targets()
            except DB_ERRORS as exc:
                self._database_down("reading the targets", exc)

    async def refresh_targets(self) -> list[str]:
        """Schedule what changed in the database since the last read; the keys added, changed or removed.

        A target learnt this way is scheduled from its next time on, as the process that took the
        command promised ("Next post: …"); the claim keeps it to one post per day whoever posts.
        """
        before = self._targets
        await self._load_targets()
        changed = sorted(k for k in before.keys() | self._targets.keys() if before.get(k) != self._targets.get(k))
        for key in changed:
            target = self._targets.get(key)
            if target is not None:
                self._schedule(target)
            elif self._scheduler is not None and self._scheduler.get_job(f"daily:{key}"):
                self._scheduler.remove_job(f"daily:{key}")
        if changed:
            log.info("daily: targets changed elsewhere: %s", ", ".join(changed))
        return changed

    async def _load_targets(self) -> None:
        targets = {
            t.key: t for t in (DailyTarget(c.platform, c.channel, c.time, c.timezone) for c in self.settings.targets)
        }
        for chat in await asyncio.to_thread(self.store.chat_targets):
            target = DailyTarget(chat.platform, chat.channel, chat.time, chat.timezone, source="chat")
            if chat.enabled:
                targets[target.key] = target  # chat wins over the file for this channel
            else:
                targets.pop(target.key, None)
        self._targets = targets if self.settings.enabled else {}

    def _schedule(self, target: DailyTarget) -> None:
        if self._scheduler is None:
            return
        self._scheduler.add_job(
            self._job,
            CronTrigger(hour=target.time.hour, minute=target.time.minute, timezone=zoneinfo.ZoneInfo(target.timezone)),
            id=f"daily:{target.key}",
            args=[target.key],
            replace_existing=True,
            misfire_grace_time=self.settings.misfire_grace_seconds,
            coalesce=True,
            max_instances=1,
        )

    async def _job(self, key: str) -> None:
        target = self._targets.get(key)
        if target is not None and not self._stop.is_set():
            # Shielded: stopping the scheduler cancels this job, never the post it started.
            await asyncio.shield(self._track(self._run(target, self.clock())))

    def targets(self) -> list[DailyTarget]:
        """The effective targets: the file's, overridden by chat settings."""
        return sorted(self._targets.values(), key=lambda t: t.key)

    # ---------------------------------------------------------------- posting

    async def tick(self, now: dt.datetime | None = None, platform: str | None = None) -> None:
        """Post whatever is due at `now` (the catch-up pass; tests call it with a moved clock)."""
        now = now or self.clock()
        for name in sorted(self._posters):
            if platform is None or name == platform:
                await self.reconcile(name)
        due = [t for t in self.targets() if platform is None or t.platform == platform]
        # Targets are independent: one channel's retries and back-offs never delay another's post.
        results = await asyncio.gather(*(self._run(target, now) for target in due), return_exceptions=True)
        for target, result in zip(due, results, strict=True):
            if isinstance(result, Exception):
                log.error("daily: %s failed: %s", target.key, result, exc_info=result)

    def _scope(self, target: DailyTarget | None) -> str:
        if target is None or self.settings.shared_rotation:
            return SHARED_SCOPE
        return target.key

    def heading(self, date: dt.date) -> str:
        """The line above the quote: 今日语录 · 2026-11-24."""
        return f"{self.settings.heading} · {date.isoformat()}"

    async def _run(self, target: DailyTarget, now: dt.datetime) -> None:
        # One run at a time per target in this process (a job and a catch-up pass meet here); other
        # targets are not held up, and other processes meet the claim.
        async with self._locks.setdefault(target.key, asyncio.Lock()):
            for delay in (*DB_RETRY_DELAYS[:3], None):
                try:
                    await self._run_locked(target, now)
                except DB_ERRORS as exc:  # locked, read-only, full: the day is retried, not lost
                    self._database_down(f"post for {target.key}", exc)
                    if delay is None or await self._wait_or_stop(delay):
                        log.error("daily: %s: not posted, the database did not answer: %s", target.key, exc)
                        return
                    continue
                self._database_back()
                return

    async def _run_locked(self, target: DailyTarget, now: dt.datetime) -> None:
        poster = self._posters.get(target.platform)
        if poster is None:
            return  # the adapter is not connected (yet); its registration triggers a catch-up
        owns = getattr(poster, "owns", None)
        if owns is not None and not await owns(target.channel):
            return  # another process holds this channel (the Discord shard of its server) and posts there
        broken = await asyncio.to_thread(self.store.broken_targets)
        if target.key in broken:
            return
        scheduled, local_date = target.slot(now)
        late = (now - scheduled).total_seconds()
        existing = await asyncio.to_thread(self.store.post, target.key, local_date)
        if existing is not None:
            return
        if late > self.settings.misfire_grace_seconds:
            if local_date == now.astimezone(zoneinfo.ZoneInfo(target.timezone)).date():
                self._skip(target, local_date, late)  # today's post was missed: say so
            else:  # yesterday's slot, while today's time has not come yet: nothing to report
                log.debug("daily: %s: %s is past; next post at %s", target.key, local_date, target.next_local(now))
            return
        passage_id = await asyncio.to_thread(self.rotation.pick, self._scope(target), local_date, commit=True)
        quote = self.service.quote_for(passage_id) if passage_id else None
        if quote is None:
            log.warning("daily: no eligible quote in the corpus; nothing posted to %s for %s", target.key, local_date)
            return
        if not await asyncio.to_thread(self.store.claim, target.key, local_date, self.owner):
            log.info("daily: %s for %s already claimed elsewhere", target.key, local_date)
            return
        await self._send(target, local_date, quote, poster)

    async def reconcile(self, platform: str) -> None:
        """Claims without an outcome older than the lease: a process stopped between claim and send.

        Where the poster can read the channel's history (`find`), the day is posted again only if
        the bot's message is not there (and recorded as sent if it is); otherwise the day is
        recorded as unknown and the admins are told. Never silently lost, never posted twice.
        """
        poster = self._posters.get(platform)
        if poster is None:
            return
        before = utc_now() - dt.timedelta(seconds=self.settings.claim_lease_seconds)
        for claim in await asyncio.to_thread(self.store.stale_claims, f"{platform}:", before):
            key, local_date = claim["target"], dt.date.fromisoformat(claim["local_date"])
            async with self._locks.setdefault(key, asyncio.Lock()):
                if not await asyncio.to_thread(self.store.take_over, claim, self.owner):
                    continue  # another process is reconciling it
                await self._recover(platform, key, local_date, poster)

    async def _recover(self, platform: str, key: str, local_date: dt.date, poster: Poster) -> None:
        channel = key.split(":", 1)[1]
        heading = self.heading(local_date)
        target = self._targets.get(key) or DailyTarget(platform, channel, dt.time(0, 0), "UTC")
        find = getattr(poster, "find", None)
        if find is None:
            found: str | None = None
            reason = "this platform's history is not read"
        else:
            try:
                found, reason = await find(channel, heading), ""
            except PostError as exc:
                find, found, reason = None, None, str(exc)
        if find is None:
            log.warning("daily: %s for %s: the process stopped mid-post; unknown whether it went out (%s)",
                        key, local_date, reason)  # fmt: skip
            await asyncio.to_thread(
                self.store.record, key, local_date, status="unknown", error=f"stopped mid-post; {reason}"
            )
            return
        if found is not None:
            log.info("daily: %s for %s was posted before the process stopped (%s)", key, local_date, found)
            await asyncio.to_thread(self.store.record, key, local_date, status="sent", message_id=found, error=None)
            return
        passage_id = await asyncio.to_thread(self.rotation.pick, self._scope(target), local_date, commit=True)
        quote = self.service.quote_for(passage_id) if passage_id else None
        if quote is None:
            await asyncio.to_thread(self.store.record, key, local_date, status="failed", error="no eligible quote")
            return
        log.warning("daily: %s for %s: the process stopped before sending; posting it now", key, local_date)
        await self._send(target, local_date, quote, poster)

    def _skip(self, target: DailyTarget, local_date: dt.date, late: float) -> None:
        """A post missed by more than the grace period is skipped, and said once."""
        if (target.key, local_date) not in self._skipped:
            self._skipped.add((target.key, local_date))
            grace = self.settings.misfire_grace_seconds
            log.warning("daily: skipping %s for %s: missed by %d min (grace %d min)", target.key, local_date,
                        late // 60, grace // 60)  # fmt: skip

    async def _send(self, target: DailyTarget, local_date: dt.date, quote: Quote, poster: Poster) -> None:
        """Post with retries (transient errors only), then record the outcome on the claim."""
        heading = self.heading(local_date)
        attempts, message_id, error = 0, None, ""
        for delay in (*self.retry_delays, None):
            attempts += 1
            message_id, error, retry = await self._attempt(target, quote, heading, poster, attempts)
            if message_id is not None or not retry or self._stop.is_set():
                break
            if delay is not None:
                await until_stopped(self.sleep(delay), self._stop)  # a back-off ends at shutdown
        sent = message_id is not None
        outcome = {"message_id": message_id, "error": None} if sent else {"error": error}
        await asyncio.to_thread(
            self.store.record,
            target.key,
            local_date,
            status="sent" if sent else "failed",
            passage_id=quote.id,
            attempts=attempts,
            **outcome,
        )
        if self.on_post is not None:
            self.on_post("sent" if sent else "failed")
        if sent:
            log.info("daily: posted %s to %s for %s", quote.id, target.key, local_date)

    async def _attempt(
        self, target: DailyTarget, quote: Quote, heading: str, poster: Poster, attempt: int
    ) -> tuple[str | None, str, bool]:
        """One try: (message id, error, whether to retry); a permanent failure marks the target broken."""
        try:
            return await poster(target.channel, quote, heading), "", False
        except PostError as exc:
            if exc.permanent:
                log.error("daily: %s is broken, not retrying: %s", target.key, exc)
                await asyncio.to_thread(self.store.mark_broken, target.key, str(exc))
                return None, str(exc), False
            log.warning("daily: post to %s failed (attempt %d): %s", target.key, attempt, exc)
            return None, str(exc), True
        except Exception as exc:  # an adapter bug must not kill the scheduler
            log.exception("daily: poster for %s crashed", target.key)
            return None, repr(exc), False

    def preview(self, date: dt.date, target: DailyTarget | None = None) -> tuple[Quote, str] | None:
        """The quote and heading that `date`'s post carries (what `quotebot daily --date` shows).

        Reads only (give it a `Store(url, readonly=True)`, opened). Exact for a day already picked and
        for the next day to be posted; further ahead it assumes the days in between are posted as planned.
        """
        passage_id = self.rotation.pick(self._scope(target), date, commit=False)
        quote = self.service.quote_for(passage_id) if passage_id else None
        return (quote, self.heading(date)) if quote else None

    def preview_targets(self) -> list[DailyTarget | None]:
        """Whose previews differ: one for a shared rotation, else each effective target (read only)."""
        if self.settings.shared_rotation:
            return [None]
        configured = (DailyTarget(t.platform, t.channel, t.time, t.timezone) for t in self.settings.targets)
        targets = {t.key: t for t in configured}
        for chat in self.store.chat_targets():
            if chat.enabled:
                targets[f"{chat.platform}:{chat.channel}"] = DailyTarget(
                    chat.platform, chat.channel, chat.time, chat.timezone, source="chat"
                )
            else:
                targets.pop(f"{chat.platform}:{chat.channel}", None)
        return [targets[k] for k in sorted(targets)] or [None]

    # ---------------------------------------------------------------- DailyControl

    def register_poster(self, platform: Platform, poster: Poster) -> None:
        """An adapter is connected: post its targets through `poster`, and catch up now."""
        self._posters[platform] = poster
        if self._scheduler is not None:
            self._track(self.tick(platform=platform))

    def unregister_poster(self, platform: Platform) -> None:
        """The adapter is going away: its targets wait for it."""
        self._posters.pop(platform, None)

    async def set_target(self, platform: Platform, channel: str, time: dt.time, timezone: str, *, by: str) -> str:
        """Store the chat setting (it wins over the file), reschedule, and say when the next post is."""
        chat = ChatTarget(platform, channel, time, timezone, True, by)
        await asyncio.to_thread(self.store.save_target, chat)
        target = DailyTarget(platform, channel, time, timezone, source="chat")
        await asyncio.to_thread(self.store.clear_broken, target.key)
        self._targets[target.key] = target
        self._schedule(target)
        upcoming = target.next_local(self.clock())
        return (
            f"Daily excerpt for channel {channel}: every day at {time:%H:%M} {timezone}. "
            f"Next post: {upcoming:%Y-%m-%d %H:%M}."
        )

    async def disable_target(self, platform: Platform, channel: str, *, by: str) -> str:
        """Switch this channel's daily post off (also one that came from the config file)."""
        key = f"{platform}:{channel}"
        current = self._targets.pop(key, None)
        time = current.time if current else dt.time(9, 0)
        zone = current.timezone if current else "UTC"
        await asyncio.to_thread(self.store.save_target, ChatTarget(platform, channel, time, zone, False, by))
        if self._scheduler is not None and self._scheduler.get_job(f"daily:{key}"):
            self._scheduler.remove_job(f"daily:{key}")
        if current is None:
            return f"There was no daily excerpt for channel {channel}; it stays off."
        return f"Daily excerpt for channel {channel} is off."

    def take_notices(self, platform: Platform) -> list[str]:
        """Broken targets, posts of unknown fate and a database that does not answer, each reported once."""
        told: list[str] = []
        if self.database_problem is not None:
            if platform not in self._told_database:
                self._told_database.add(platform)
                told.append(
                    f"The daily excerpt is paused: its database does not answer ({self.database_problem}). "
                    "It retries by itself and resumes when the database does; `quotebot check` says why."
                )
            return told
        try:
            return told + self._stored_notices(platform)
        except DB_ERRORS as exc:
            self._database_down("reading notices", exc)
            return told

    def _stored_notices(self, platform: Platform) -> list[str]:
        return [
            f"The daily excerpt for {key.split(':', 1)[1]} stopped: {reason}. "
            "Give the bot access again, then set it with /quote-daily."
            for key, reason in self.store.take_notices(f"{platform}:")
        ] + [
            f"The daily excerpt for {key.split(':', 1)[1]} on {day.isoformat()} may not have gone out: "
            "the bot stopped while posting it and cannot read the channel to check. Look, and post it "
            "by hand if it is missing."
            for key, day in self.store.take_unknown(f"{platform}:")
        ]


def check_database(settings: Settings) -> str | None:
    """None when the database opens with a schema this version understands, else the fix."""
    store: Store | None = None
    driver = missing_driver(settings.storage.url)
    if driver is not None:
        return f"storage.url {settings.storage.url}: {driver}"
    try:
        store = Store(settings.storage.url)
        store.open()
    except Exception as exc:  # any driver or filesystem error: report it as one line
        message = str(exc).splitlines()[0]
        return f"storage.url {settings.storage.url}: {message} (check the path/URL and its permissions)"
    finally:
        if store is not None:
            store.close()
    return None
