"""The daily excerpt across OS processes (issue 16 items 5–7), on SQLite and on a real PostgreSQL.

PostgreSQL comes from Debian's server package, run by `tests/fakes/postgres.py` in a temporary
directory on a free 127.0.0.1 port (as `nobody` when the tests run as root); where it cannot be had,
the PostgreSQL cases are skipped with the reason.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.scheduler import DailyScheduler, Store
from bots.settings import DailySettings, Settings, SlackSettings, Target
from bots.slack import SlackPoster, web_client
from quotecore.service import QuoteService
from tests.conftest import ROOT
from tests.fakes.postgres import PostgresServer
from tests.fakes.slack_fake import CHANNEL_ID, MockSlack

_names = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / f'db{next(_names)}' / 'quotebot.sqlite3'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        yield server.create_database(f"quotebot_{os.getpid()}_{next(_names)}")


def spawn(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A separate Python process running `code` in the repository (argv[1:] = args)."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )


OPEN_TOGETHER = """
    import os, sys, time
    from pathlib import Path
    from bots.scheduler import Store
    barrier, urls = Path(sys.argv[1]), sys.argv[2:]
    for trial, url in enumerate(urls):
        store = Store(url)
        (barrier / f"ready-{trial}-{os.getpid()}").touch()
        while not (barrier / f"go-{trial}").exists():  # every process opens at the same instant
            time.sleep(0.001)
        store.open()
        store.close()
        print("opened", trial, flush=True)
"""


def test_processes_starting_together_on_an_empty_database_all_open_it(database_url: str, tmp_path: Path) -> None:
    urls = [database_url] + [_fresh(database_url, trial) for trial in (1, 2)]
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    children = [spawn(OPEN_TOGETHER, str(barrier), *urls) for _ in range(4)]
    try:
        for trial in range(len(urls)):
            deadline = time.monotonic() + 60
            while len(list(barrier.glob(f"ready-{trial}-*"))) < len(children):
                if time.monotonic() > deadline or any(c.poll() is not None for c in children):
                    break
                time.sleep(0.005)
            (barrier / f"go-{trial}").touch()
        outputs = [c.communicate(timeout=60)[0] for c in children]
    finally:
        for child in children:
            child.kill() if child.poll() is None else None
    assert [c.returncode for c in children] == [0] * len(children), outputs
    assert all(out.count("opened") == len(urls) for out in outputs), outputs


def _fresh(url: str, trial: int) -> str:
    """Another empty database beside `url` (a new SQLite file, or a new PostgreSQL database)."""
    if url.startswith("sqlite"):
        return url.replace("quotebot.sqlite3", f"trial{trial}.sqlite3")
    import psycopg

    base, name = url.rsplit("/", 1)
    host = base.split("@", 1)[1]
    host_name, port = host.split(":")
    with psycopg.connect(f"host={host_name} port={port} user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}_t{trial}"')  # type: ignore[arg-type]
    return f"{base}/{name}_t{trial}"


def clean_env() -> dict[str, str]:
    """The environment without bot settings (a developer's tokens must not turn on another adapter)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "QUOTEBOT_"))}


def spawn_clean(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean_env(),
    )


#: `quotebot run` (bots.app.main, its signal handling and shutdown order) with Slack in HTTP mode
#: against the test's mock. The scheduler believes it is 09:00:30 UTC on 2026-11-24 and its cron job
#: fires two seconds after it is scheduled; the catch-up pass is off, so the job posts.
RUN_BOT = """
    import asyncio, datetime as dt, json, sys
    from apscheduler.triggers.date import DateTrigger
    import bots.scheduler.scheduler as scheduler
    from bots.app import main
    from bots.settings import CorpusSettings, DailySettings, Settings, SlackSettings, StorageSettings, Target

    cfg = json.loads(sys.argv[1])
    now = dt.datetime(2026, 11, 24, 9, 0, 30, tzinfo=dt.UTC)
    scheduler.utc_now = lambda: now
    scheduler.CronTrigger = lambda **kw: DateTrigger(run_date=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2))

    async def no_catch_up(self, *args, **kwargs):
        return None

    scheduler.DailyScheduler.tick = no_catch_up
    settings = Settings(
        slack=SlackSettings(bot_token="xoxb-test", signing_secret="s", api_url=cfg["api_url"], mode="http",
                            host="127.0.0.1", port=0),
        corpus=CorpusSettings(cache_dir=cfg["cache_dir"]),
        daily=DailySettings(targets=[Target(platform="slack", channel=cfg["channel"], time=dt.time(9, 0),
                                            timezone="UTC")]),
        storage=StorageSettings(url=cfg["url"]),
    )
    status = asyncio.run(main(settings, console=False))
    print("exit", status, flush=True)
    sys.exit(status)
"""


async def test_sigterm_while_a_post_is_in_flight_waits_for_it(database_url: str, cache_dir: Path) -> None:
    async with MockSlack() as slack:
        slack.delays["chat.postMessage"] = 3.0
        cfg = {"api_url": slack.api_url, "cache_dir": str(cache_dir), "channel": CHANNEL_ID, "url": database_url}
        child = spawn_clean(RUN_BOT, json.dumps(cfg))
        try:
            await slack.wait_for_call("chat.postMessage", timeout=90)
            child.send_signal(signal.SIGTERM)  # while Slack has not answered yet
            output, _ = await asyncio.to_thread(child.communicate, timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
        calls = slack.calls("chat.postMessage")
    assert child.returncode == 0, output
    assert len(calls) == 1 and calls[0].ok
    store = Store(database_url)
    try:
        post = store.post(f"slack:{CHANNEL_ID}", dt.date(2026, 11, 24))
    finally:
        store.close()
    assert post is not None and post["status"] == "sent", (post, output)
    assert post["message_id"] == calls[0].response["ts"]


#: A process that claims the day's Slack post and dies (SIGKILL) before sending it or right after
#: Slack accepted it, before the outcome is recorded.
CRASH = """
    import asyncio, datetime as dt, json, os, signal, sys
    from pathlib import Path
    from bots.scheduler import DailyScheduler, Store
    from bots.settings import DailySettings, Settings, SlackSettings, Target
    from bots.slack import SlackPoster, web_client
    from quotecore.service import QuoteService

    cfg = json.loads(sys.argv[1])
    service = QuoteService(Path("seeds"), Path("config"), Path(cfg["cache_dir"]))
    service.load()
    target = Target(platform="slack", channel=cfg["channel"], time=dt.time(9, 0), timezone="UTC")
    daily = DailySettings(targets=[target])
    real = SlackPoster(web_client(Settings(slack=SlackSettings(bot_token="xoxb-test", api_url=cfg["api_url"]))))

    async def dying_poster(channel, quote, heading):
        if cfg["when"] == "after_send":
            await real(channel, quote, heading)
        os.kill(os.getpid(), signal.SIGKILL)

    async def run():
        clock = lambda: dt.datetime(2026, 11, 24, 9, 0, 30, tzinfo=dt.UTC)
        sched = DailyScheduler(service, daily, Store(cfg["url"]), clock=clock)
        sched.register_poster("slack", dying_poster)
        await sched.start()

    asyncio.run(run())
"""


@pytest.mark.parametrize(
    ("backend", "when"),
    [("sqlite", "before_send"), ("sqlite", "after_send"), ("sqlite", "no_history"), ("postgresql", "after_send")],
)
async def test_a_crash_between_claim_and_outcome_is_reconciled_at_start(
    backend: str, when: str, tmp_path: Path, cache_dir: Path, service: QuoteService, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'quotebot.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"quotebot_crash_{os.getpid()}_{next(_names)}")
    key, day = f"slack:{CHANNEL_ID}", dt.date(2026, 11, 24)
    async with MockSlack() as slack:
        cfg = {
            "api_url": slack.api_url,
            "cache_dir": str(cache_dir),
            "channel": CHANNEL_ID,
            "url": url,
            "when": "before_send" if when == "no_history" else when,
        }
        child = spawn_clean(CRASH, json.dumps(cfg))
        output, _ = await asyncio.to_thread(child.communicate, timeout=90)
        assert child.returncode == -signal.SIGKILL, output
        store = Store(url)
        claim = store.post(key, day)
        assert claim is not None and claim["status"] == "claimed", "the crash left a claim without outcome"
        sent_before = [c for c in slack.calls("chat.postMessage") if c.ok]

        if when == "no_history":
            slack.error_next("conversations.history", "missing_scope", times=None)
        settings = Settings(slack=SlackSettings(bot_token="xoxb-test", api_url=slack.api_url))
        daily = DailySettings(
            targets=[Target(platform="slack", channel=CHANNEL_ID, time=dt.time(9, 0), timezone="UTC")],
            claim_lease_seconds=0,
        )
        sched = DailyScheduler(
            service, daily, Store(url), clock=lambda: dt.datetime(2026, 11, 24, 9, 40, tzinfo=dt.UTC)
        )
        sched.register_poster("slack", SlackPoster(web_client(settings)))
        await sched.start()
        notices = sched.take_notices("slack")
        await sched.shutdown()
        sent = [c for c in slack.calls("chat.postMessage") if c.ok]
        outcome = store.post(key, day)
        store.close()
    assert outcome is not None
    if when == "before_send":
        assert sent_before == [] and len(sent) == 1, "posted again: the message was not in the channel"
        assert outcome["status"] == "sent" and outcome["message_id"] == sent[0].response["ts"]
    elif when == "after_send":
        assert len(sent_before) == 1 and len(sent) == 1, "not posted twice: the message was found"
        assert outcome["status"] == "sent" and outcome["message_id"] == sent[0].response["ts"]
    else:
        assert sent == [] and outcome["status"] in ("unknown", "unknown-told")
        assert len(notices) == 1 and "2026-11-24" in notices[0] and "may not have gone out" in notices[0]
