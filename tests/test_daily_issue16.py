"""Issue 16 (daily excerpt): start-up noise, independent targets, previews that only read, drivers.

Items 5–7 (concurrent schema creation, shutdown, crash recovery) run in separate OS processes:
see `tests/test_daily_processes.py`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import os
import sqlite3
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bots.check import run_check
from bots.cli import build_parser
from bots.daily_control import PostError
from bots.scheduler import DailyScheduler, Store
from quotecore.cli import run as cli_run
from quotecore.service import QuoteService
from tests.conftest import ROOT
from tests.test_daily_scheduler import RecordingPoster, daily_settings, db_url, make, shanghai, target  # noqa: F401


async def test_a_start_before_todays_time_warns_about_nothing(make: Any, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    harness = make(daily_settings(target("111", "09:00"), target("222", "18:00")), shanghai(3, 8, 30))
    with caplog.at_level(logging.INFO, logger="bots.scheduler"):
        poster = RecordingPoster()
        await harness.scheduler(poster)
    assert poster.posts == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], "nothing was missed today"


def write_settings(tmp_path: Path, cache_dir: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "quotebot.toml"
    path.write_text(
        f"""
[corpus]
seeds_dir = "{ROOT / "seeds"}"
config_dir = "{ROOT / "config"}"
cache_dir = "{cache_dir}"

[storage]
url = "{url}"

{extra}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("DISCORD_", "SLACK_", "QUOTEBOT_")):
            monkeypatch.delenv(key)


def preview(settings: Path, date: dt.date, *extra: str) -> str:
    out = io.StringIO()
    assert cli_run(build_parser(), ["--settings", str(settings), "daily", "--date", date.isoformat(), *extra], out) == 0
    return out.getvalue()


def snapshot(path: Path) -> bytes:
    """The database file itself (SQLite's -wal/-shm index files appear for any WAL reader)."""
    return path.read_bytes()


async def test_daily_preview_json_text_and_per_target_rotation_match_the_real_posts(
    tmp_path: Path, cache_dir: Path, service: QuoteService, clean_env: None
) -> None:
    db = tmp_path / "var" / "quotebot.sqlite3"
    url = f"sqlite:///{db}"
    day = dt.date(2026, 11, 24)
    targets = [target("111"), target("222")]
    for shared in (True, False):
        if db.exists():
            for path in db.parent.iterdir():
                path.unlink()
        store = Store(url)
        store.open()
        # History that makes the rotation differ from the core's stateless pick: yesterday (and,
        # per channel, channel 111's yesterday) already carried what the core would pick today.
        store.save_pick("shared", day - dt.timedelta(days=1), 0, service.daily(day).id)  # type: ignore[union-attr]
        store.save_pick("discord:111", day - dt.timedelta(days=1), 0, service.daily(day).id)  # type: ignore[union-attr]
        store.close()
        extra = (
            "[daily]\nshared_rotation = "
            + ("true" if shared else "false")
            + "\n"
            + "".join(
                f'[[daily.targets]]\nplatform = "discord"\nchannel = "{t.channel}"\ntime = "09:00"\n'
                f'timezone = "Asia/Shanghai"\n'
                for t in targets
            )
        )
        settings = write_settings(tmp_path, cache_dir, url, extra)
        before = snapshot(db)
        as_json = json.loads(preview(settings, day, "--json"))
        as_text = preview(settings, day)
        assert snapshot(db) == before, "a preview reads, never writes"

        poster = RecordingPoster()
        sched = DailyScheduler(service, daily_settings(*targets, shared_rotation=shared), Store(url))
        sched.clock = lambda: shanghai(24, 9, 1)
        sched.register_poster("discord", poster)
        await sched.start()
        await sched.shutdown()
        posted = {channel: passage_id for channel, passage_id, _ in poster.posts}
        assert set(posted) == {"111", "222"}
        assert service.daily(day).id != posted["111"]  # type: ignore[union-attr]
        if shared:
            assert as_json["result"]["id"] == posted["111"] == posted["222"]
            assert posted["111"] in as_text
        else:
            assert {t["target"]: t["result"]["id"] for t in as_json["targets"]} == {
                "discord:111": posted["111"],
                "discord:222": posted["222"],
            }
            assert f"discord:111: 今日语录 · {day}" in as_text and posted["111"] in as_text


def test_daily_preview_creates_no_database(tmp_path: Path, cache_dir: Path, clean_env: None) -> None:
    db = tmp_path / "var" / "quotebot.sqlite3"
    settings = write_settings(tmp_path, cache_dir, f"sqlite:///{db}")
    as_json = json.loads(preview(settings, dt.date(2026, 11, 24), "--json"))
    preview(settings, dt.date(2026, 11, 24))
    assert as_json["result"] and not db.parent.exists()
    db.parent.mkdir()
    sqlite3.connect(db).close()  # an empty database: no tables are created either
    preview(settings, dt.date(2026, 11, 24), "--json")
    assert sqlite3.connect(db).execute("select count(*) from sqlite_master").fetchone()[0] == 0


@pytest.mark.parametrize("url", ["postgresql://quotebot@127.0.0.1:1/quotebot", "postgresql+psycopg://q@127.0.0.1:1/q"])
def test_check_names_a_missing_postgresql_driver(
    tmp_path: Path, cache_dir: Path, clean_env: None, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as on an install without the extra
    settings = write_settings(tmp_path, cache_dir, url, '[[daily.targets]]\nplatform = "console"\nchannel = "c"\n')
    out = io.StringIO()
    assert run_check(settings, out) == 1
    problem = [line for line in out.getvalue().splitlines() if "storage.url" in line]
    assert len(problem) == 1 and 'pip install "quotebot[postgres]"' in problem[0]
    assert "check the path" not in problem[0]


def test_the_postgres_extra_is_declared_and_documented() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert any(dep.startswith("psycopg") for dep in extras["postgres"])
    assert 'pip install "quotebot[postgres]"' in (ROOT / "README.md").read_text(encoding="utf-8")


async def test_one_channels_back_off_does_not_delay_another(service: QuoteService, db_url: str) -> None:  # noqa: F811
    released = asyncio.Event()
    sleeping: list[float] = []

    async def held_sleep(seconds: float) -> None:  # a back-off that lasts until the test says so
        sleeping.append(seconds)
        await released.wait()

    class Poster:
        def __init__(self) -> None:
            self.posts: list[str] = []

        async def __call__(self, channel: str, quote: Any, heading: str) -> str:
            if channel == "111":
                raise PostError("Slack is having trouble", permanent=False)
            self.posts.append(channel)
            return "m1"

    settings = daily_settings(target("111"), target("222"))
    sched = DailyScheduler(service, settings, Store(db_url), clock=lambda: shanghai(6, 9, 0), sleep=held_sleep)
    poster = Poster()
    sched.register_poster("discord", poster)
    await asyncio.to_thread(sched.store.open)
    await sched._load_targets()
    run = asyncio.create_task(sched.tick(shanghai(6, 9, 0)))
    for _ in range(100):
        if poster.posts and sleeping:
            break
        await asyncio.sleep(0.02)
    assert sleeping, "channel 111 is backing off"
    assert poster.posts == ["222"], "channel 222 posted during 111's back-off"
    released.set()
    await run
    assert sched.store.post("discord:111", dt.date(2026, 11, 6))["status"] == "failed"  # type: ignore[index]
    await sched.shutdown()
