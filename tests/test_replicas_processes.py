"""Three `quotebot run` processes on one real PostgreSQL (issue 18, "Done when").

Two Slack HTTP replicas (the Slack listener on the same port as /healthz, /readyz and /metrics) and
one console process, each with its own copy of the corpus, against a PostgreSQL started by the
test (tests/fakes/postgres.py) and one mock Slack Web API in the test's loop. In one run:

- signed slash commands spread round-robin over the Slack replicas are all answered;
- a reload on replica 1 is served by all three within 5 s (the admin's reply says so, and each
  process answers from the new document);
- a daily target set through replica 2 is posted exactly once although replica 2 was killed;
- after the kill, every request sent to the surviving replica is answered;
- /readyz turns 503 while the database is down and 200 once it is back.

It takes about a minute (the daily post waits for the next whole minute); skipped where no
PostgreSQL server can be had.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import os
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio

from tests.conftest import CONFIG, ROOT, SEEDS
from tests.fakes.postgres import PostgresServer, free_port
from tests.fakes.slack_fake import CHANNEL_ID, USER_ID, MockSlack, post_signed, slash_command_body

SECRET = "replica-signing-secret"
ADMIN = "U0000ADMIN"
NEW_DOCUMENT = "火星档案\n\n奥特曼：我们会在火星上建一个数据中心，它的名字叫星河一号。\n"
_users = itertools.count(1)


@pytest_asyncio.fixture
async def mock() -> AsyncIterator[MockSlack]:
    async with MockSlack() as server:
        server.add_user(ADMIN, name="admin")
        server.add_user(USER_ID, name="alice")
        yield server


class Replica:
    """One `quotebot run` process: its corpus copy, its ports, its log."""

    def __init__(self, name: str, root: Path, env: dict[str, str], *, console: bool = False) -> None:
        self.name, self.console = name, console
        self.seeds = root / name / "seeds"
        shutil.copytree(SEEDS, self.seeds)
        self.port = free_port()
        self.log = root / f"{name}.log"
        self.env = env | {
            "QUOTEBOT_CORPUS_SEEDS_DIR": str(self.seeds),
            "QUOTEBOT_REPLICAS_NAME": name,
            "QUOTEBOT_WEB_ENABLED": "true",
            "QUOTEBOT_WEB_HOST": "127.0.0.1",
            "QUOTEBOT_WEB_PORT": str(self.port),
        }
        if not console:
            self.env |= {"SLACK_PORT": str(self.port), "SLACK_HOST": "127.0.0.1"}
        else:
            self.env = {k: v for k, v in self.env.items() if not k.startswith("SLACK_")}
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def start(self) -> None:
        argv = [sys.executable, "-m", "bots.cli", "-v", "run"] + ([] if self.console else ["--no-console"])
        self.proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=ROOT,
            env=self.env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE if self.console else self.log.open("w"),
            stderr=self.log.open("a") if self.console else asyncio.subprocess.STDOUT,
        )

    async def status(self, path: str) -> tuple[int, str]:
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
                session.get(f"http://127.0.0.1:{self.port}{path}") as response,
            ):
                return response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return 0, repr(exc)

    async def say(self, line: str, expect: str, timeout: float = 30) -> str:
        """Console only: type a line, read until `expect` is printed."""
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((line + "\n").encode())
        await self.proc.stdin.drain()
        seen = ""
        async with asyncio.timeout(timeout):
            while expect not in seen:
                chunk = await self.proc.stdout.read(4096)
                assert chunk, f"{self.name} ended: {seen!r}\n{self.log.read_text()}"
                seen += chunk.decode(errors="replace")
        return seen

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def until(check: Callable[[], Any], timeout: float, what: str, logs: list[Replica]) -> Any:
    """Poll `check` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {r.name}\n{r.log.read_text()[-3000:]}" for r in logs if r.log.exists())
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tails}")
        await asyncio.sleep(0.25)


async def command(mock: MockSlack, replica: Replica, name: str, text: str, user: str) -> Any:
    """A signed slash command to one replica; its reply (through the response_url)."""
    response_url = mock.new_response_url()
    body = slash_command_body(name, text, response_url=response_url, user_id=user)
    status, _, elapsed = await post_signed(replica.events_url, body, SECRET)
    assert status == 200 and elapsed < 3, (replica.name, status, elapsed)
    return await mock.wait_for_response(response_url, timeout=15)


def reply_text(reply: Any) -> str:
    texts = [reply.text or ""]
    for block in reply.blocks or []:
        texts.append(str((block.get("text") or {}).get("text", "")))
        texts += [str(e.get("text", "")) for e in block.get("elements") or [] if isinstance(e, dict)]
    return "\n".join(texts)


def next_minute(margin: float = 25) -> dt.datetime:
    """The first whole UTC minute at least `margin` seconds away."""
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=margin)
    return soon.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)


async def test_three_processes_share_reloads_schedules_and_health(
    postgres: PostgresServer, mock: MockSlack, tmp_path: Path, cache_dir: Path
) -> None:
    url = postgres.create_database(f"replicas_{os.getpid()}")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "QUOTEBOT_"))}
    base |= {
        "QUOTEBOT_STORAGE_URL": url,
        "QUOTEBOT_CORPUS_CACHE_DIR": str(cache_dir),
        "QUOTEBOT_CORPUS_CONFIG_DIR": str(CONFIG),
        "QUOTEBOT_REPLICAS_POLL_SECONDS": "1",
        "QUOTEBOT_REPLICAS_HEARTBEAT_SECONDS": "1",
        "QUOTEBOT_DAILY_FOLLOW_SECONDS": "1",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": mock.api_url,
        "SLACK_ADMIN_USER_IDS": f'["{ADMIN}"]',
        "SLACK_MODE": "http",
    }
    r1, r2 = Replica("r1", tmp_path, base), Replica("r2", tmp_path, base)
    r3 = Replica("r3", tmp_path, base, console=True)
    replicas = [r1, r2, r3]
    try:
        await asyncio.gather(*(r.start() for r in replicas))
        for replica in replicas:
            await until(lambda r=replica: _ready(r), 180, f"{replica.name} ready", replicas)

        # Round-robin: every signed request is answered, whichever replica gets it.
        for replica in [r1, r2] * 3:
            reply = await command(mock, replica, "/quote", "能源", f"U{next(_users):04d}RR")
            assert "能源" in reply_text(reply), (replica.name, reply.body)

        # A target set through replica 2, for the next whole minute.
        at = next_minute()
        reply = await command(mock, r2, "/quote-daily", f"{at:%H:%M} UTC", ADMIN)
        assert "Daily excerpt for channel" in reply_text(reply), reply.body

        # A reload on replica 1 reaches all three within 5 s, each from its own copy.
        for replica in replicas:
            (replica.seeds / "009_mars.txt").write_text(NEW_DOCUMENT, encoding="utf-8")
        # (the report waits at most report_wait_seconds, 5 s, for the others: "3 of 3" means within it)
        reply = await command(mock, r1, "/quote-reload", "", ADMIN)
        assert "Generation 2 is served by 3 of 3 processes." in reply_text(reply), reply_text(reply)
        found = await command(mock, r2, "/quote", "火星 数据中心", f"U{next(_users):04d}NEW")
        assert "名字叫" in reply_text(found)
        assert "名字叫" in await r3.say("/quote 火星 数据中心", "名字叫")
        assert "quotebot_corpus_generation 2.0" in (await r1.status("/metrics"))[1]

        # Replica 2 dies; the surviving one answers everything it is sent.
        assert r2.proc is not None
        r2.proc.kill()
        await r2.proc.wait()
        for _ in range(4):
            reply = await command(mock, r1, "/quote", "能源", f"U{next(_users):04d}KL")
            assert "能源" in reply_text(reply)

        # The target set through the dead replica is posted once, by another.
        def posts() -> list[Any]:
            return [c for c in mock.calls("chat.postMessage") if c.ok and c.params.get("channel") == CHANNEL_ID]

        wait = (at - dt.datetime.now(dt.UTC)).total_seconds() + 30
        await until(posts, wait, "the daily post", replicas)
        await asyncio.sleep(3)
        assert len(posts()) == 1

        # Readiness follows the database.
        await asyncio.to_thread(postgres.pause)
        status = await until(lambda: _not_ready(r1), 30, "r1 not ready without its database", replicas)
        assert "database: " in status
        await asyncio.to_thread(postgres.resume)
        await until(lambda: _ready(r1), 30, "r1 ready again", replicas)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(postgres.resume)
        await asyncio.gather(*(r.stop() for r in replicas), return_exceptions=True)


async def _ready(replica: Replica) -> bool:
    status, _ = await replica.status("/readyz")
    return status == 200


async def _not_ready(replica: Replica) -> str | None:
    status, body = await replica.status("/readyz")
    return body if status == 503 else None
