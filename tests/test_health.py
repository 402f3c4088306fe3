"""Health, readiness, metrics and JSON log lines (issue 18 items 4 and 5), in one process."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator
from types import SimpleNamespace

import aiohttp
import pytest
from sqlalchemy.exc import OperationalError

from bots import logs
from bots.commands import Caller, QuoteRequest
from bots.runtime import AppContext
from bots.settings import DailySettings, Settings, SlackSettings, WebSettings
from bots.web import WebServer
from quotecore.service import QuoteService


def user(key: str) -> Caller:
    async def no() -> bool:
        return False

    return Caller(key, no)


class Database:
    """A stand-in for the replica sync's store: answers, or not."""

    def __init__(self) -> None:
        self.down = False

    def ping(self) -> None:
        if self.down:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))


@pytest.fixture
async def served(service: QuoteService) -> AsyncIterator[tuple[AppContext, str, Database]]:
    settings = Settings(
        web=WebSettings(enabled=True, host="127.0.0.1", port=0),
        daily=DailySettings(enabled=False),
        slack=SlackSettings(bot_token="xoxb-test", signing_secret="secret", port=3999),
    )
    ctx = AppContext(service, settings)
    ctx.metrics.watch(lambda: 7, lambda: len(service.snapshot.passages))
    database = Database()
    ctx.replicas = SimpleNamespace(store=database, take_turn=None)  # type: ignore[assignment]
    web = WebServer(ctx)
    await web.start()
    try:
        yield ctx, f"http://127.0.0.1:{web.port}", database
    finally:
        await web.stop()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_ready_only_when_every_part_is(served: tuple[AppContext, str, Database]) -> None:
    ctx, base, database = served
    assert await get(base + "/healthz") == (200, "ok\n")
    status, body = await get(base + "/readyz")
    assert status == 503 and "slack: not connected" in body and "database" not in body
    ctx.set_connected("slack", True)
    assert await get(base + "/readyz") == (200, "ready\n")
    database.down = True
    status, body = await get(base + "/readyz")
    assert status == 503 and "database: " in body and "connection refused" in body
    assert "slack" not in body and "corpus" not in body
    database.down = False
    assert (await get(base + "/readyz"))[0] == 200


async def test_metrics_count_queries_by_surface_and_outcome(served: tuple[AppContext, str, Database]) -> None:
    ctx, base, _ = served
    commands = ctx.commands("slack")
    await commands.quote(user("U1"), QuoteRequest("能源"))
    await commands.quote(user("U1"), QuoteRequest("zzzqqq"))
    ctx.set_connected("slack", True)
    status, body = await get(base + "/metrics")
    assert status == 200
    lines = set(body.splitlines())
    assert 'quotebot_queries_total{outcome="answered",surface="slack"} 1.0' in lines
    assert 'quotebot_queries_total{outcome="no_match",surface="slack"} 1.0' in lines
    assert 'quotebot_query_seconds_count{surface="slack"} 2.0' in lines
    assert "quotebot_corpus_generation 7.0" in lines
    assert f"quotebot_corpus_passages {float(len(ctx.service.snapshot.passages))}" in lines
    assert 'quotebot_platform_connected{platform="slack"} 1.0' in lines


async def test_json_lines_carry_the_request(service: QuoteService) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    logs.events.addHandler(handler)
    level = logs.events.level
    logs.events.setLevel(logging.INFO)
    try:
        ctx = AppContext(service, Settings(daily=DailySettings(enabled=False)))
        await ctx.commands("discord").quote(user("U1"), QuoteRequest("能源"))
        await ctx.commands("discord").quote(user("U2"), QuoteRequest("能源"))
    finally:
        logs.events.removeHandler(handler)
        logs.events.setLevel(level)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["event"] == "query" and first["surface"] == "discord" and first["outcome"] == "answered"
    assert first["latency_ms"] >= 0 and first["level"] == "info"
    assert len(first["request_id"]) == 12 and first["request_id"] != second["request_id"]


async def test_not_ready_while_the_corpus_loads(tmp_path, cache_dir) -> None:
    fresh = QuoteService(tmp_path / "seeds", None, cache_dir)  # never loaded here
    ctx = AppContext(fresh, Settings(web=WebSettings(enabled=True, host="127.0.0.1", port=0)))
    web = WebServer(ctx)
    await web.start()
    try:
        base = f"http://127.0.0.1:{web.port}"
        assert await get(base + "/healthz") == (200, "ok\n")
        status, body = await get(base + "/readyz")
        assert status == 503 and "corpus: not loaded yet" in body
        assert "quotebot_corpus_passages" in (await get(base + "/metrics"))[1]
    finally:
        await web.stop()


def test_the_json_setting_turns_every_handler_into_json_lines() -> None:
    root = logging.getLogger()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    saved_handlers, saved_level = list(root.handlers), logs.events.level
    root.handlers = [handler]
    try:
        logs.configure("text")
        logging.getLogger("bots.somewhere").warning("plain %s", "text")
        logs.configure("json")
        logging.getLogger("bots.somewhere").warning("now %s", "json")
        logs.query_event("slack", "quote", "answered", 0.0123)
    finally:
        root.handlers = saved_handlers
        logs.events.setLevel(saved_level)
    plain, warning, event = out.getvalue().splitlines()
    assert plain == "plain text"
    assert json.loads(warning)["message"] == "now json" and json.loads(warning)["level"] == "warning"
    assert json.loads(event)["latency_ms"] == 12.3 and json.loads(event)["outcome"] == "answered"
