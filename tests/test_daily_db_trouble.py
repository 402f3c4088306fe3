"""Database trouble never switches the daily post off silently (issue 17, item 9).

A database that does not answer at start (corrupt, locked, unreachable) is retried with back-off
and the admins are told once; a lock at post time is retried, so the day is not lost; when the
database answers again, the scheduler runs as if nothing happened.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bots.scheduler import DailyScheduler, Store
from bots.scheduler import scheduler as scheduler_module
from bots.settings import DailySettings, Target
from quotecore.models import Quote
from quotecore.service import QuoteService

NOW = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai


class Poster:
    def __init__(self) -> None:
        self.posts: list[tuple[str, str]] = []

    async def __call__(self, channel: str, quote: Quote, heading: str) -> str:
        self.posts.append((channel, quote.id))
        return f"m{len(self.posts)}"


def settings() -> DailySettings:
    target = Target(platform="discord", channel="111", time=dt.time(9, 0), timezone="Asia/Shanghai")
    return DailySettings(targets=[target])


async def _until(condition: object, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_database_that_fails_at_start_is_retried_and_the_admins_told_once(
    service: QuoteService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduler_module, "DB_RETRY_DELAYS", (0.05, 0.05))
    path = tmp_path / "quotebot.sqlite3"
    path.write_bytes(b"this is not a database, it is a damaged file" * 100)
    scheduler = DailyScheduler(service, settings(), Store(f"sqlite:///{path}"), clock=lambda: NOW)
    poster = Poster()
    scheduler.register_poster("discord", poster)
    await scheduler.start()  # no exception: chat keeps running, the daily post waits for the database
    try:
        assert scheduler.database_problem is not None
        told = scheduler.take_notices("discord")
        assert len(told) == 1 and "paused" in told[0] and "database" in told[0]
        assert scheduler.take_notices("discord") == []  # once
        await asyncio.sleep(0.2)
        assert poster.posts == []
        path.unlink()  # the admin repairs it (here: a fresh file)
        await _until(lambda: scheduler.database_problem is None and poster.posts)
        assert poster.posts == [("111", poster.posts[0][1])]
    finally:
        await scheduler.shutdown()


async def test_a_lock_at_post_time_is_retried_and_the_day_posted(
    service: QuoteService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduler_module, "DB_RETRY_DELAYS", (0.05, 0.05, 0.05, 0.05))
    store = Store(f"sqlite:///{tmp_path / 'quotebot.sqlite3'}")
    real_claim = store.claim
    locked = [2]

    def claim(*args: object, **kwargs: object) -> bool:
        if locked[0]:
            locked[0] -= 1
            raise OperationalError("INSERT INTO claims", {}, Exception("database is locked"))
        return real_claim(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "claim", claim)
    scheduler = DailyScheduler(service, settings(), store, clock=lambda: NOW)
    poster = Poster()
    scheduler.register_poster("discord", poster)
    await scheduler.start()
    try:
        await _until(lambda: poster.posts)
        assert locked == [0] and len(poster.posts) == 1
        assert scheduler.database_problem is None  # it answered again: nothing left to tell
    finally:
        await scheduler.shutdown()
