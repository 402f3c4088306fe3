"""`quotebot run` as a whole: the scheduler wired into every adapter, start-up order, clean shutdown.

The scheduler here runs on the real clock (run() builds it from the settings), so each daily test
puts its target a minute in the past: the catch-up pass at start (or when an adapter connects) posts
it at once, which is exactly what a bot restarted just after post time does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import os
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bots.app import main
from bots.scheduler import DailyTarget, Store
from bots.settings import (
    CorpusSettings,
    DailySettings,
    DiscordSettings,
    Settings,
    SlackSettings,
    StorageSettings,
    Target,
)
from quotecore.service import QuoteService
from tests.fakes.discord_fake import FakeDiscord
from tests.fakes.slack_fake import CHANNEL_ID, MockSlack

ROOT = Path(__file__).resolve().parent.parent


def a_minute_ago() -> dt.time:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    return dt.time(now.hour, now.minute)


def settings_for(tmp_path: Path, cache_dir: Path, targets: list[Target] | None = None, **sections: object) -> Settings:
    values: dict[str, object] = {
        "corpus": CorpusSettings(seeds_dir=ROOT / "seeds", config_dir=ROOT / "config", cache_dir=cache_dir),
        "storage": StorageSettings(url=f"sqlite:///{tmp_path / 'quotebot.sqlite3'}"),
        "daily": DailySettings(targets=targets or []),
    }
    values.update(sections)
    return Settings(**values)  # type: ignore[arg-type]


async def console(settings: Settings, service: QuoteService, script: str) -> tuple[int, str]:
    out = io.StringIO()
    status = await main(settings, service, stdin=io.StringIO(script), out=out)
    return status, out.getvalue()


def claim(settings: Settings, target: Target) -> dict[str, object] | None:
    """The stored outcome of today's post for `target` (what a restart would find)."""
    key = DailyTarget(target.platform, target.channel, target.time, target.timezone)
    _, local_date = key.slot(dt.datetime.now(dt.UTC))
    store = Store(settings.storage.url)
    store.open()
    try:
        return store.post(key.key, local_date)
    finally:
        store.close()


async def eventually(predicate: Callable[[], object], what: str) -> None:
    for _ in range(300):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_a_due_daily_excerpt_prints_before_the_first_command_and_only_once(
    tmp_path: Path, cache_dir: Path, service: QuoteService
) -> None:
    target = Target(platform="console", channel="console", time=a_minute_ago(), timezone="UTC")
    settings = settings_for(tmp_path, cache_dir, [target])
    status, text = await console(settings, service, "/quote 能源\n")
    assert status == 0, text
    lines = text.splitlines()
    assert lines[0].startswith("No chat token set")
    heading = next(i for i, line in enumerate(lines) if line.startswith("今日语录 · "))
    answer = next(i for i, line in enumerate(lines) if "【能源】" in line)
    assert heading < answer and lines[-1] == "Bye."
    row = claim(settings, target)
    assert row is not None and row["status"] == "sent", "the scheduler recorded the post before run() returned"
    status, again = await console(settings, service, "/quote 能源\n")
    assert status == 0 and "今日语录" not in again, "a restart finds the claim and does not post again"


async def test_quote_daily_from_the_console_is_stored(tmp_path: Path, cache_dir: Path, service: QuoteService) -> None:
    settings = settings_for(tmp_path, cache_dir)
    script = "/quote-daily #general 09:00 UTC\n/quote-daily 9h UTC\n/quote-daily 21:30 Asia/Shanghai\n"
    status, text = await console(settings, service, script)
    assert status == 0
    assert "is not a channel here" in text and "not a time of day" in text
    assert "every day at 21:30 Asia/Shanghai" in text
    status, text = await console(settings, service, "/quote-daily off\n")
    assert "Daily excerpt for channel console is off." in text, "the setting outlived the restart"


async def test_daily_disabled_or_a_broken_database_leave_the_chat_working(
    tmp_path: Path, cache_dir: Path, service: QuoteService, caplog: pytest.LogCaptureFixture
) -> None:
    off = settings_for(tmp_path, cache_dir, daily=DailySettings(enabled=False))
    status, text = await console(off, service, "/quote-daily 09:00 UTC\n/quote 能源\n")
    assert status == 0 and "daily excerpt is not enabled" in text and "【能源】" in text
    (tmp_path / "blocker").write_text("a file where a directory should be")
    broken = settings_for(
        tmp_path, cache_dir, storage=StorageSettings(url=f"sqlite:///{tmp_path / 'blocker' / 'q.sqlite3'}")
    )
    with caplog.at_level(logging.ERROR, logger="bots.app"):
        status, text = await console(broken, service, "/quote-daily 09:00 UTC\n/quote 能源\n")
    assert status == 0 and "daily excerpt is not enabled" in text and "【能源】" in text
    assert any("daily excerpt disabled" in r.getMessage() for r in caplog.records)


async def test_an_adapter_that_cannot_connect_ends_run_with_one_line(
    tmp_path: Path, cache_dir: Path, service: QuoteService, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = settings_for(
        tmp_path,
        cache_dir,
        discord=DiscordSettings(token="a.b.c", api_base_url=f"http://127.0.0.1:{port}/api/v10"),
    )
    with caplog.at_level(logging.ERROR, logger="bots.app"):
        status = await asyncio.wait_for(main(settings, service), 30)
    assert status == 1
    [record] = [r for r in caplog.records if r.name == "bots.app"]
    assert record.getMessage().startswith("discord stopped: ") and record.exc_info is None


async def test_run_gives_the_scheduler_to_discord_and_slack(
    tmp_path: Path, cache_dir: Path, service: QuoteService
) -> None:
    with socket.socket() as probe:  # a free port for Slack's HTTP listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with FakeDiscord(token="t") as fake, MockSlack() as slack:
        when = a_minute_ago()
        targets = [
            Target(platform="discord", channel=str(fake.channel.id), time=when, timezone="UTC"),
            Target(platform="slack", channel=CHANNEL_ID, time=when, timezone="UTC"),
        ]
        settings = settings_for(
            tmp_path,
            cache_dir,
            targets,
            discord=DiscordSettings(token="t", api_base_url=fake.api_base_url),
            slack=SlackSettings(
                bot_token="xoxb-test", signing_secret="s", api_url=slack.api_url, host="127.0.0.1", port=port
            ),
        )
        stop = asyncio.Event()
        with fake.patched():
            task = asyncio.create_task(main(settings, service, stop))
            await eventually(lambda: fake.channel_messages(), "the daily post on Discord")
            await eventually(lambda: [c for c in slack.calls("chat.postMessage") if c.ok], "the daily post on Slack")
            stop.set()
            status = await asyncio.wait_for(task, 20)
        discord_posts = fake.channel_messages()
        slack_posts = [c for c in slack.calls("chat.postMessage") if c.ok]
    assert status == 0
    assert len(discord_posts) == 1 and discord_posts[0]["content"].startswith("今日语录 · ")
    assert len(slack_posts) == 1 and slack_posts[0].params["channel"] == CHANNEL_ID
    assert all((row := claim(settings, t)) is not None and row["status"] == "sent" for t in targets)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_quotebot_run_cleanly(sig: signal.Signals, tmp_path: Path, cache_dir: Path) -> None:
    """As systemd stops it (SIGTERM) or a user presses Ctrl-C (SIGINT): the chat says goodbye, exit 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "QUOTEBOT_"))}
    env.update(QUOTEBOT_CORPUS_CACHE_DIR=str(cache_dir), QUOTEBOT_STORAGE_URL=f"sqlite:///{tmp_path / 'q.sqlite3'}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bots.cli", "run"],
        stdin=subprocess.PIPE,  # kept open: only the signal can end this chat
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("/quote 能源\n")
        proc.stdin.flush()
        seen = ""
        while "【能源】" not in seen:
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            assert ready, f"no answer from quotebot run: {seen!r}"
            line = proc.stdout.readline()
            assert line, f"quotebot run ended early: {seen!r}"
            seen += line
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert out.rstrip().endswith("Bye.") and "Traceback" not in err


async def test_no_console_makes_a_missing_token_an_error(
    tmp_path: Path, cache_dir: Path, service: QuoteService
) -> None:
    """As the systemd unit runs it: nobody types into a service's stdin, so no token is a failure."""
    out = io.StringIO()
    status = await main(settings_for(tmp_path, cache_dir), service, out=out, console=False)
    assert status == 1 and "no chat token set: set DISCORD_TOKEN" in out.getvalue()
