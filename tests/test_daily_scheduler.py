"""The daily excerpt scheduler with an injected clock: posts, claims, rotation, outages, DST.

Time never passes for real: each test moves a clock and calls `tick` (the catch-up pass that
APScheduler's jobs also end in) or `start` (which catches up on what was missed while down).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bots.daily_control import PostError
from bots.scheduler import DailyScheduler, Store, check_database
from bots.settings import DailySettings, Settings, StorageSettings, Target
from quotecore.models import Quote
from quotecore.service import QuoteService

UTC = dt.UTC


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, value: dt.datetime) -> None:
        self.now = value


class RecordingPoster:
    """Stands in for an adapter's post_quote: what was posted where (adapters have their own tests)."""

    def __init__(self, fail: list[PostError] | None = None) -> None:
        self.posts: list[tuple[str, str, str]] = []
        self.fail = list(fail or [])

    async def __call__(self, channel: str, quote: Quote, heading: str) -> str:
        if self.fail:
            raise self.fail.pop(0)
        self.posts.append((channel, quote.id, heading))
        return f"m{len(self.posts)}"


async def no_sleep(seconds: float) -> None:
    return None


def daily_settings(*targets: Target, **options: Any) -> DailySettings:
    return DailySettings(targets=list(targets), **options)


def target(channel: str = "111", time: str = "09:00", zone: str = "Asia/Shanghai", platform: str = "discord") -> Target:
    return Target(platform=platform, channel=channel, time=dt.time.fromisoformat(time), timezone=zone)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'var' / 'quotebot.sqlite3'}"


class Harness:
    """Builds schedulers over one database, as separate processes would."""

    def __init__(self, service: QuoteService, url: str, settings: DailySettings, clock: Clock) -> None:
        self.service, self.url, self.settings, self.clock = service, url, settings, clock
        self.open: list[DailyScheduler] = []

    async def scheduler(self, poster: RecordingPoster, platform: str = "discord") -> DailyScheduler:
        sched = DailyScheduler(self.service, self.settings, Store(self.url), clock=self.clock, sleep=no_sleep)
        sched.register_poster(platform, poster)  # type: ignore[arg-type]
        await sched.start()
        self.open.append(sched)
        return sched

    async def stop(self, sched: DailyScheduler) -> None:
        self.open.remove(sched)
        await sched.shutdown()


@pytest_asyncio.fixture
async def make(service: QuoteService, db_url: str) -> AsyncIterator[Any]:
    harnesses: list[Harness] = []

    def factory(settings: DailySettings, start: dt.datetime) -> Harness:
        harness = Harness(service, db_url, settings, Clock(start))
        harnesses.append(harness)
        return harness

    yield factory
    for harness in harnesses:
        for sched in list(harness.open):
            await harness.stop(sched)


def shanghai(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    """A Shanghai wall-clock time in 2026, as the UTC instant the scheduler sees."""
    zone = dt.timezone(dt.timedelta(hours=8))
    return dt.datetime(2026, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


async def run_ticks(sched: DailyScheduler, clock: Clock, start: dt.datetime, end: dt.datetime, step_min: int) -> None:
    now = start
    while now <= end:
        clock.set(now)
        await sched.tick(now)
        now += dt.timedelta(minutes=step_min)


async def test_exactly_one_post_per_target_per_day(make: Any) -> None:
    harness = make(daily_settings(target("111"), target("C0123ABCD", "18:30", "Europe/Paris", "slack")), shanghai(1, 0))
    discord_poster, slack_poster = RecordingPoster(), RecordingPoster()
    sched = await harness.scheduler(discord_poster)
    sched.register_poster("slack", slack_poster)
    await run_ticks(sched, harness.clock, shanghai(1, 0), shanghai(4, 0), 20)
    assert [p[2] for p in discord_poster.posts] == [f"今日语录 · 2026-11-0{d}" for d in (1, 2, 3)]
    # Paris is 7 hours behind: its 18:30 on Oct 31 is inside the window, Nov 3 is not yet.
    assert [p[2] for p in slack_poster.posts] == [f"今日语录 · {d}" for d in ("2026-10-31", "2026-11-01", "2026-11-02")]
    # Shared rotation: both channels carry the same quote on the same date.
    by_date = {p[2]: p[1] for p in discord_poster.posts}
    assert all(by_date[h] == i for _, i, h in slack_poster.posts if h in by_date)
    assert len({p[1] for p in discord_poster.posts}) == 3


async def test_no_repeat_across_a_full_rotation(make: Any, service: QuoteService) -> None:
    eligible = list(service.snapshot.eligible)
    harness = make(daily_settings(target("111")), shanghai(1, 8))
    poster = RecordingPoster()
    sched = await harness.scheduler(poster)
    day = shanghai(1, 9, 5)
    for _ in range(len(eligible) + 3):
        harness.clock.set(day)
        await sched.tick(day)
        day += dt.timedelta(days=1)
    ids = [p[1] for p in poster.posts]
    assert len(ids) == len(eligible) + 3
    first_cycle = ids[: len(eligible)]
    assert sorted(first_cycle) == sorted(eligible), "every eligible quote once before any repeats"
    assert ids[len(eligible)] != ids[len(eligible) - 1], "no repeat across the cycle boundary"
    for passage_id in ids:
        quote = service.quote_for(passage_id)
        assert quote is not None and quote.passage.kind in ("answer", "reported") and quote.speaker is not None


async def test_restart_a_minute_after_posting_does_not_post_again(make: Any) -> None:
    harness = make(daily_settings(target("111")), shanghai(2, 9, 0))
    first = RecordingPoster()
    sched = await harness.scheduler(first)
    assert len(first.posts) == 1
    await harness.stop(sched)
    harness.clock.set(shanghai(2, 9, 1))
    second = RecordingPoster()
    await harness.scheduler(second)
    assert second.posts == []


async def test_outage_of_30_minutes_posts_once_and_5_hours_skips(make: Any, caplog: pytest.LogCaptureFixture) -> None:
    harness = make(daily_settings(target("111")), shanghai(3, 9, 30))
    poster = RecordingPoster()
    sched = await harness.scheduler(poster)  # came back 30 minutes after post time
    await run_ticks(sched, harness.clock, shanghai(3, 9, 30), shanghai(3, 23, 0), 30)
    assert len(poster.posts) == 1
    await harness.stop(sched)

    harness.clock.set(shanghai(4, 14, 0))  # down from before 09:00 until 14:00
    late = RecordingPoster()
    with caplog.at_level(logging.WARNING, logger="bots.scheduler.scheduler"):
        sched = await harness.scheduler(late)
        await sched.tick(shanghai(4, 15, 0))
    assert late.posts == []
    skipped = [r.getMessage() for r in caplog.records if "skipping" in r.getMessage()]
    assert len(skipped) == 1 and "2026-11-04" in skipped[0]
    await run_ticks(sched, harness.clock, shanghai(5, 8, 0), shanghai(5, 10, 0), 15)
    assert len(late.posts) == 1, "the next day posts as usual"


async def test_two_schedulers_on_one_database_post_once(make: Any) -> None:
    harness = make(daily_settings(target("111")), shanghai(5, 8, 0))
    a, b = RecordingPoster(), RecordingPoster()
    first = await harness.scheduler(a)
    second = await harness.scheduler(b)
    moment = shanghai(5, 9, 0)
    harness.clock.set(moment)
    import asyncio

    await asyncio.gather(first.tick(moment), second.tick(moment))
    await asyncio.gather(first.tick(moment), second.tick(moment))
    assert len(a.posts) + len(b.posts) == 1


async def test_daylight_saving_days_post_once_at_local_time(make: Any) -> None:
    zone = "America/New_York"
    harness = make(daily_settings(target("111", "02:30", zone)), dt.datetime(2026, 3, 6, 12, tzinfo=UTC))
    poster = RecordingPoster()
    sched = await harness.scheduler(poster)
    await run_ticks(
        sched, harness.clock, dt.datetime(2026, 3, 6, 12, tzinfo=UTC), dt.datetime(2026, 3, 10, 12, tzinfo=UTC), 15
    )
    assert [p[2][-10:] for p in poster.posts] == ["2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10"]
    poster.posts.clear()
    await run_ticks(
        sched, harness.clock, dt.datetime(2026, 10, 30, 12, tzinfo=UTC), dt.datetime(2026, 11, 3, 12, tzinfo=UTC), 15
    )
    assert [p[2][-10:] for p in poster.posts] == ["2026-10-31", "2026-11-01", "2026-11-02", "2026-11-03"]


async def test_a_channel_the_bot_lost_is_marked_broken_and_an_admin_told_once(make: Any) -> None:
    harness = make(daily_settings(target("111")), shanghai(6, 8, 0))
    poster = RecordingPoster(fail=[PostError("Missing Access", permanent=True)])
    sched = await harness.scheduler(poster)
    await run_ticks(sched, harness.clock, shanghai(6, 8, 0), shanghai(7, 10, 0), 30)
    assert poster.posts == [], "no retries and no posts to a broken target"
    notices = sched.take_notices("discord")
    assert len(notices) == 1 and "Missing Access" in notices[0] and "111" in notices[0]
    assert sched.take_notices("discord") == []
    reply = await sched.set_target("discord", "111", dt.time(11, 0), "Asia/Shanghai", by="admin")
    assert "every day at 11:00 Asia/Shanghai" in reply
    await run_ticks(sched, harness.clock, shanghai(8, 10, 0), shanghai(8, 12, 0), 30)
    assert len(poster.posts) == 1, "setting it again retries the target"


async def test_a_failed_send_is_retried_and_the_claim_records_the_outcome(make: Any, db_url: str) -> None:
    harness = make(daily_settings(target("111")), shanghai(9, 9, 0))
    poster = RecordingPoster(fail=[PostError("502 Bad Gateway", permanent=False)])
    await harness.scheduler(poster)
    assert len(poster.posts) == 1
    row = Store(db_url).post("discord:111", dt.date(2026, 11, 9))
    assert row is not None and row["status"] == "sent" and row["attempts"] == 2 and row["message_id"] == "m1"


async def test_chat_settings_win_over_the_file_and_survive_a_restart(make: Any) -> None:
    harness = make(daily_settings(target("111", "09:00")), shanghai(10, 8, 0))
    poster = RecordingPoster()
    sched = await harness.scheduler(poster)
    await sched.set_target("discord", "111", dt.time(12, 0), "Asia/Shanghai", by="admin")
    await sched.set_target("discord", "222", dt.time(9, 0), "Asia/Shanghai", by="admin")
    await sched.disable_target("discord", "222", by="admin")
    await harness.stop(sched)
    harness.clock.set(shanghai(10, 8, 0))
    sched = await harness.scheduler(poster)
    await run_ticks(sched, harness.clock, shanghai(10, 8, 0), shanghai(10, 11, 45), 15)
    assert poster.posts == [], "09:00 from the file no longer applies to channel 111"
    await run_ticks(sched, harness.clock, shanghai(10, 12, 0), shanghai(10, 13, 0), 15)
    assert [p[0] for p in poster.posts] == ["111"]


async def test_preview_is_what_gets_posted(make: Any, service: QuoteService) -> None:
    harness = make(daily_settings(target("111")), shanghai(11, 8, 0))
    poster = RecordingPoster()
    sched = await harness.scheduler(poster)
    preview = sched.preview(dt.date(2026, 11, 11))
    assert preview is not None
    fresh = service.daily(dt.date(2026, 11, 11))
    assert fresh is not None and preview[0].id == fresh.id, "a fresh database agrees with `quotebot daily`"
    await sched.tick(shanghai(11, 9, 0))
    assert poster.posts == [("111", preview[0].id, "今日语录 · 2026-11-11")]
    assert preview[1] == "今日语录 · 2026-11-11"
    nxt = sched.preview(dt.date(2026, 11, 12))
    await sched.tick(shanghai(12, 9, 0))
    assert nxt is not None and poster.posts[-1][1] == nxt[0].id


async def test_quotes_added_by_a_reload_join_the_rotation(
    corpus_copy: tuple[Path, Path], cache_dir: Path, db_url: str
) -> None:
    seeds, config = corpus_copy
    own = QuoteService(seeds, config, cache_dir)
    own.load()
    before = set(own.snapshot.eligible)
    clock = Clock(shanghai(1, 8, 0))
    sched = DailyScheduler(own, daily_settings(target("111")), Store(db_url), clock=clock, sleep=no_sleep)
    poster = RecordingPoster()
    sched.register_poster("discord", poster)
    await sched.start()
    try:
        day = shanghai(1, 9, 0)
        for _ in range(3):
            await sched.tick(day)
            day += dt.timedelta(days=1)
        (seeds / "005_new.txt").write_text(
            "新访谈\n\n奥特曼:我们会继续研究核聚变和太空能源,这是人类未来最重要的事情之一。\n", encoding="utf-8"
        )
        own.reload()
        added = set(own.snapshot.eligible) - before
        assert len(added) == 1
        for _ in range(len(before) + 1 - 3):
            await sched.tick(day)
            day += dt.timedelta(days=1)
    finally:
        await sched.shutdown()
    ids = [p[1] for p in poster.posts]
    assert len(ids) == len(before) + 1 and set(ids) == before | added, "one full cycle, the new quote in it"


async def test_an_empty_corpus_posts_nothing(
    tmp_path: Path, cache_dir: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    seeds = tmp_path / "empty-seeds"
    seeds.mkdir()
    (seeds / "000.txt").write_text("只有标题\n\n这是一段文章叙述,没有任何人说话。\n", encoding="utf-8")
    own = QuoteService(seeds, Path(__file__).resolve().parent.parent / "config", cache_dir)
    own.load()
    assert not own.snapshot.eligible
    sched = DailyScheduler(
        own, daily_settings(target("111")), Store(db_url), clock=Clock(shanghai(1, 9, 0)), sleep=no_sleep
    )
    poster = RecordingPoster()
    sched.register_poster("discord", poster)
    with caplog.at_level(logging.WARNING, logger="bots.scheduler.scheduler"):
        await sched.start()
    await sched.shutdown()
    assert poster.posts == []
    assert any("no eligible quote" in r.getMessage() for r in caplog.records)


async def test_jobs_are_cron_jobs_with_grace_and_coalescing(make: Any) -> None:
    harness = make(daily_settings(target("111"), misfire_grace_seconds=1800), shanghai(1, 8, 0))
    sched = await harness.scheduler(RecordingPoster())
    job = sched._scheduler.get_job("daily:discord:111")
    assert job is not None and job.coalesce and job.misfire_grace_time == 1800
    assert str(job.trigger.timezone) == "Asia/Shanghai" and "hour='9'" in str(job.trigger)


def test_database_check_and_schema_version(db_url: str, tmp_path: Path) -> None:
    settings = Settings(storage=StorageSettings(url=db_url))
    assert check_database(settings) is None
    store = Store(db_url)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    store.close()
    problem = check_database(settings)
    assert problem is not None and "newer" in problem
    (tmp_path / "file").write_text("x")
    blocked = check_database(Settings(storage=StorageSettings(url=f"sqlite:///{tmp_path / 'file' / 'db.sqlite3'}")))
    assert blocked is not None and "storage.url" in blocked
