"""Issue 16 (Slack): unverified requests, rate-limited replies, button state, escaped context.

Each test goes through the real bolt app served over HTTP and the mock Slack of `tests/fakes/slack_fake.py`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bots import wording
from bots.commands import PageState
from bots.runtime import AppContext
from bots.settings import CorpusSettings, Settings, SlackSettings
from bots.slack import create_app, post_quote, web_client
from bots.slack.render import VALUE_LIMIT, state_from_value, state_value
from quotecore.service import QuoteService
from tests.fakes.slack_fake import (
    CHANNEL_ID,
    USER_ID,
    MockSlack,
    block_actions_body,
    post_signed,
    serve_bolt_app,
    slash_command_body,
)

SECRET = "slack-test-signing-secret"


def make_settings(mock: MockSlack, cache_dir: Path, **options: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": "xoxb-test",
        "signing_secret": SECRET,
        "api_url": mock.api_url,
        "cooldown_seconds": 0,
    }
    values.update(options)
    return Settings(slack=SlackSettings(**values), corpus=CorpusSettings(cache_dir=cache_dir))


@pytest_asyncio.fixture
async def mock() -> AsyncIterator[MockSlack]:
    async with MockSlack() as server:
        server.add_user(USER_ID, name="alice")
        yield server


def serve(service: QuoteService, settings: Settings) -> Any:
    return serve_bolt_app(create_app(AppContext(service, settings, None)))


@pytest.mark.parametrize("timestamp", ["abc", "1.5", "", " "])
async def test_malformed_timestamp_with_a_bad_signature_is_a_quiet_401(
    mock: MockSlack, service: QuoteService, cache_dir: Path, caplog: pytest.LogCaptureFixture, timestamp: str
) -> None:
    caplog.set_level(logging.DEBUG)
    async with serve(service, make_settings(mock, cache_dir)) as url:
        response_url = mock.new_response_url()
        body = slash_command_body("/quote", "能源", response_url=response_url)
        headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64}
        status, _, _ = await post_signed(url, body, SECRET, extra_headers=headers)
    assert status == 401
    assert mock.responses() == [] and mock.calls() == [], "an unverified request caused an outbound call"
    ours = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(ours) == 1 and ours[0].exc_info is None and "401" in ours[0].getMessage()


async def command(mock: MockSlack, url: str, name: str, text: str) -> Any:
    response_url = mock.new_response_url()
    status, _, _ = await post_signed(url, slash_command_body(name, text, response_url=response_url), SECRET)
    assert status == 200
    return await mock.wait_for_response(response_url)


async def click(
    mock: MockSlack, url: str, blocks: list[dict[str, Any]], action_id: str, value: str | None = None
) -> Any:
    response_url = mock.new_response_url()
    body = block_actions_body(action_id, value, response_url=response_url, message_blocks=blocks)
    status, _, _ = await post_signed(url, body, SECRET)
    assert status == 200
    return await mock.wait_for_response(response_url)


@pytest.mark.parametrize(
    "query", ["\x01" * 480 + " 计算资源", '"' * 1500 + " 能源", "\\" * 1999, "能源" * 1500, "\u202e" * 900 + "能源"]
)
def test_button_state_is_valid_json_within_the_limit_by_construction(query: str) -> None:
    value = state_value(PageState(query, "altman", 3, 6), ephemeral=True)
    assert len(value) <= VALUE_LIMIT
    decoded = state_from_value(value)
    assert decoded is not None and json.loads(value)["q"] == decoded[0].query
    state, ephemeral = decoded
    assert ephemeral and (state.speaker_id, state.count, state.offset) == ("altman", 3, 6)
    assert wording.one_line(query).startswith(state.query)


async def test_another_after_a_query_full_of_control_characters(
    mock: MockSlack, service: QuoteService, cache_dir: Path
) -> None:
    async with serve(service, make_settings(mock, cache_dir)) as url:
        first = await command(mock, url, "/quote", "\x01" * 480 + " 计算资源")
        following = await click(mock, url, first.blocks, "quote_another")
    assert "went wrong" not in json.dumps(following.body, ensure_ascii=False)
    assert following.replace_original is True or wording.NO_MORE in (following.text or "")


@pytest.mark.parametrize("value", ['{"q":"能源","s":nu', "not json", "[1, 2]", '{"q": 5}', '{"q":"x","n":"many"}', ""])
async def test_a_bad_button_value_gets_a_friendly_private_reply(
    mock: MockSlack, service: QuoteService, cache_dir: Path, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    async with serve(service, make_settings(mock, cache_dir)) as url:
        another = await click(mock, url, [], "quote_another", value)
        share = await click(mock, url, [], "quote_share", value)
    for reply in (another, share):
        assert reply.response_type == "ephemeral" and reply.replace_original is False
        assert wording.BAD_BUTTON in (reply.text or "")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


ENTITIES = re.compile(r"&(?!amp;|lt;|gt;)")


def unescape(text: str) -> str:
    text = text.replace("\u200b*", "").replace("*\u200b", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def test_context_of_a_long_passage_full_of_escapes_is_cut_before_escaping(
    mock: MockSlack, corpus_copy: tuple[Path, Path], cache_dir: Path
) -> None:
    seeds, config = corpus_copy
    sentence = "A&B<C>D E" * 30 + "核聚变。"
    (seeds / "004_escapes.txt").write_text(f"转义测试\n\n奥特曼:{sentence * 20}\n", encoding="utf-8")
    own = QuoteService(seeds, config, cache_dir)
    own.load()
    async with serve(own, make_settings(mock, cache_dir)) as url:
        first = await command(mock, url, "/quote", "核聚变")
        elements = [e for b in first.blocks if b["type"] == "actions" for e in b["elements"]]
        context_button = next(e for e in elements if e["action_id"] == "quote_context")
        shown = await click(mock, url, first.blocks, "quote_context", context_button["value"])
    passage = own.show(context_button["value"]).passage.text  # type: ignore[union-attr]
    assert "A&B" in passage
    texts = [b["text"]["text"] for b in shown.blocks if b["type"] == "section"] + [shown.text]
    for text in texts:
        assert not ENTITIES.search(text), "an escape was cut"
        plain = unescape(text).removesuffix("…")
        assert plain and passage.startswith(plain.split(" — ")[0])
    section = unescape(texts[0])
    assert len(texts[0]) <= 3000 and section.endswith("…")
    assert section.removesuffix("…")[-1] == "。", "cut at a sentence end of the plain text, never after an escape"


async def test_a_rate_limited_reply_is_retried_after_retry_after(
    mock: MockSlack, service: QuoteService, cache_dir: Path
) -> None:
    mock.fail_response_urls(429, retry_after=1, times=1)
    async with serve(service, make_settings(mock, cache_dir)) as url:
        reply = await command(mock, url, "/quote", "能源")
    assert mock.response_url_failures == 1 and reply.blocks


@pytest.mark.parametrize("retry_after", [0, 3600])
async def test_a_reply_that_stays_rate_limited_is_logged(
    mock: MockSlack, service: QuoteService, cache_dir: Path, caplog: pytest.LogCaptureFixture, retry_after: int
) -> None:
    mock.fail_response_urls(429, retry_after=retry_after, times=None)
    async with serve(service, make_settings(mock, cache_dir)) as url:
        response_url = mock.new_response_url()
        status, _, _ = await post_signed(url, slash_command_body("/quote", "能源", response_url=response_url), SECRET)
        assert status == 200
        for _ in range(200):  # the listener runs after the ack: wait for its last word
            if any("response_url failed" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.05)
    # Retry-After 0: the first try and two retries; an hour: not waited for.
    assert mock.response_url_failures == (3 if retry_after == 0 else 1)
    assert mock.responses(response_url) == []
    failed = [r for r in caplog.records if "response_url failed" in r.getMessage()]
    assert len(failed) == 1 and "429" in failed[0].getMessage()


async def test_the_daily_post_retries_a_rate_limit(mock: MockSlack, service: QuoteService, cache_dir: Path) -> None:
    mock.fail_next("chat.postMessage", 429, retry_after=0, times=2)
    client = web_client(make_settings(mock, cache_dir))
    quote = service.daily(dt.date(2026, 11, 24))
    assert quote is not None
    ts = await post_quote(client, CHANNEL_ID, quote, "今日语录")
    assert ts and len(mock.calls("chat.postMessage")) == 3
