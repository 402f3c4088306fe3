"""Schedules everywhere (issue 18 item 2): a target set through one process is followed by the others."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bots.scheduler import DailyScheduler, Store
from bots.settings import DailySettings
from quotecore.service import QuoteService
from tests.test_daily_scheduler import Clock, RecordingPoster, no_sleep, shanghai


async def test_a_target_set_on_one_process_is_posted_once_by_another(service: QuoteService, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    clock = Clock(shanghai(24, 8))
    settings = DailySettings(follow_seconds=3600)  # the test reads the targets itself
    first, second = RecordingPoster(), RecordingPoster()
    one = DailyScheduler(service, settings, Store(url), clock=clock, sleep=no_sleep)
    two = DailyScheduler(service, settings, Store(url), clock=clock, sleep=no_sleep)
    for sched, poster in ((one, first), (two, second)):
        sched.register_poster("slack", poster)  # type: ignore[arg-type]
        await sched.start()
    try:
        reply = await two.set_target("slack", "C0123ABCD", dt.time(9, 0), "Asia/Shanghai", by="slack:U1")
        assert "Next post: 2026-11-24 09:00" in reply
        assert await one.refresh_targets() == ["slack:C0123ABCD"]
        assert [t.key for t in one.targets()] == ["slack:C0123ABCD"]
        assert await one.refresh_targets() == []  # nothing new: nothing rescheduled
        await two.shutdown()  # the process that took the command is gone
        clock.set(shanghai(24, 9, 1))
        await one.tick()
        await one.tick()
        assert [p[0] for p in first.posts] == ["C0123ABCD"] and second.posts == []
        # Switched off through a third process: the others drop it.
        three = DailyScheduler(service, settings, Store(url), clock=clock, sleep=no_sleep)
        await three.start()
        await three.disable_target("slack", "C0123ABCD", by="slack:U1")
        await three.shutdown()
        assert await one.refresh_targets() == ["slack:C0123ABCD"] and one.targets() == []
    finally:
        await one.shutdown()
