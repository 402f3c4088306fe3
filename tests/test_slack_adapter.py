"""The Slack adapter end to end: the real bolt AsyncApp (built by `create_app`) served over HTTP on
127.0.0.1, real signed requests, and a mock Web API + response_url server recording what Slack gets.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bots.daily_control import PostError
from bots.runtime import AppContext
from bots.settings import CorpusSettings, Settings, SlackSettings
from bots.slack import create_app, post_quote, web_client
from quotecore.service import QuoteService
from tests.fakes.daily import RecordingDaily
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
ADMIN = "U0000ADMIN"


def make_settings(mock: MockSlack, cache_dir: Path, **options: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": "xoxb-test",
        "signing_secret": SECRET,
        "api_url": mock.api_url,
        "admin_user_ids": [ADMIN],
        "cooldown_seconds": 0,
    }
    values.update(options)
    return Settings(slack=SlackSettings(**values), corpus=CorpusSettings(cache_dir=cache_dir))


@pytest_asyncio.fixture
async def mock() -> AsyncIterator[MockSlack]:
    async with MockSlack() as server:
        server.add_user(ADMIN, name="admin")
        server.add_user(USER_ID, name="alice")
        yield server


class Bot:
    """The served app plus helpers to send what Slack would send."""

    def __init__(self, mock: MockSlack, url: str) -> None:
        self.mock, self.url = mock, url

    async def command(self, name: str, text: str, user: str = USER_ID, **kwargs: Any) -> tuple[int, float, str]:
        response_url = self.mock.new_response_url()
        status, _, elapsed = await post_signed(
            self.url, slash_command_body(name, text, response_url=response_url, user_id=user, **kwargs), SECRET
        )
        return status, elapsed, response_url

    async def reply(self, name: str, text: str, user: str = USER_ID) -> Any:
        status, elapsed, url = await self.command(name, text, user)
        assert status == 200 and elapsed < 3
        return await self.mock.wait_for_response(url)

    async def click(self, blocks: list[dict[str, Any]], action_id: str, value: str | None = None) -> Any:
        url = self.mock.new_response_url()
        status, _, _ = await post_signed(
            self.url, block_actions_body(action_id, value, response_url=url, message_blocks=blocks), SECRET
        )
        assert status == 200
        return url


async def serve(mock: MockSlack, service: QuoteService, settings: Settings, daily: Any = None) -> Any:
    app = create_app(AppContext(service, settings, daily))
    return serve_bolt_app(app)


def section_texts(blocks: list[dict[str, Any]]) -> str:
    parts = []
    for block in blocks:
        if block["type"] == "section":
            parts.append(block["text"]["text"])
        elif block["type"] == "context":
            parts += [e["text"] for e in block["elements"]]
    return "\n".join(parts)


def buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    return {
        e["action_id"] + ("" if e["text"]["text"] in ("Another", "Share to channel") else ":" + e["value"]): e["value"]
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    }


async def test_signed_quote_gets_200_fast_and_the_right_quote(
    mock: MockSlack, service: QuoteService, cache_dir: Path
) -> None:
    expected = service.search("能源", limit=1).quotes[0]
    async with await serve(mock, service, make_settings(mock, cache_dir)) as url:
        reply = await Bot(mock, url).reply("/quote", "能源")
    assert reply.response_type == "in_channel"
    text = section_texts(reply.blocks)
    assert "\u200b*能源*\u200b" in text, "the matched word is bold"
    assert "Sam Altman" in text and expected.document.title in text and expected.id in text
    assert "link_names" not in reply.body
    assert any(b["type"] == "actions" for b in reply.blocks)


async def test_bad_or_stale_signatures_are_rejected_and_no_handler_runs(
    mock: MockSlack, service: QuoteService, cache_dir: Path
) -> None:
    async with await serve(mock, service, make_settings(mock, cache_dir)) as url:
        response_url = mock.new_response_url()
        body = slash_command_body("/quote", "能源", response_url=response_url)
        bad, _, _ = await post_signed(url, body, "wrong-secret")
        stale, _, _ = await post_signed(url, body, SECRET, timestamp=int(time.time()) - 600)
    assert bad == 401 and stale == 401
    assert mock.responses(response_url) == []


async def test_speaker_option_help_and_no_match(mock: MockSlack, service: QuoteService, cache_dir: Path) -> None:
    async with await serve(mock, service, make_settings(mock, cache_dir)) as url:
        bot = Bot(mock, url)
        by_name = await bot.reply("/quote", "基础设施 speaker:奥特曼")
        by_alias = await bot.reply("/quote", "计算 speaker:Lightcap")
        helped = await bot.reply("/quote", "help")
        unknown = await bot.reply("/quote", "能源 colour:red")
        nothing = await bot.reply("/quote", "天气预报")
        single = await bot.reply("/quote", "核")
        randomly = await bot.reply("/quote", "")
    assert "Sam Altman" in section_texts(by_name.blocks)
    assert "Brad Lightcap" in section_texts(by_alias.blocks)
    assert helped.response_type == "ephemeral" and "/quote" in helped.text
    assert unknown.response_type == "ephemeral" and "unknown option" in unknown.text
    assert nothing.response_type == "ephemeral" and "No quote matches" in nothing.text
    assert "*核*" in section_texts(single.blocks)
    assert randomly.blocks and "🎲" in section_texts(randomly.blocks)


async def test_another_and_context_actions(mock: MockSlack, service: QuoteService, cache_dir: Path) -> None:
    first, second = service.search("能源", limit=2).quotes
    async with await serve(mock, service, make_settings(mock, cache_dir)) as url:
        bot = Bot(mock, url)
        reply = await bot.reply("/quote", "能源")
        another_url = await bot.click(reply.blocks, "quote_another")
        replaced = await mock.wait_for_response(another_url)
        context_url = await bot.click(reply.blocks, "quote_context")
        context = await mock.wait_for_response(context_url)
    assert replaced.replace_original is True and second.id in section_texts(replaced.blocks)
    assert context.response_type == "ephemeral" and context.replace_original is False
    assert first.passage.text[:30] in section_texts(context.blocks).replace("\u200b*", "").replace("*\u200b", "")


async def test_ephemeral_by_default_offers_share(mock: MockSlack, service: QuoteService, cache_dir: Path) -> None:
    settings = make_settings(mock, cache_dir, ephemeral_by_default=True)
    async with await serve(mock, service, settings) as url:
        bot = Bot(mock, url)
        reply = await bot.reply("/quote", "能源")
        share_url = await bot.click(reply.blocks, "quote_share")
        shared = await mock.wait_for_response(share_url)
    assert reply.response_type == "ephemeral"
    assert shared.response_type == "in_channel" and "quote_share" not in json.dumps(shared.blocks)


async def test_quote_text_cannot_notify_anyone(
    mock: MockSlack, corpus_copy: tuple[Path, Path], cache_dir: Path
) -> None:
    seeds, config = corpus_copy
    (seeds / "004_hostile.txt").write_text(
        "测试访谈\n\n奥特曼:请大家注意 <!channel> 和 <@U123> 以及 <!here>,还有 a & b > c 的能源问题。\n",
        encoding="utf-8",
    )
    own = QuoteService(seeds, config, cache_dir)
    own.load()
    async with await serve(mock, own, make_settings(mock, cache_dir)) as url:
        bot = Bot(mock, url)
        reply = await bot.reply("/quote", "注意 <!everyone>")
        echoed = await bot.reply("/quote", "<!channel> 天气预报 \x00\x07")
    # What users read: fallback text, sections and context lines (button values are never rendered).
    raw = json.dumps(
        [r.text for r in (reply, echoed)] + [section_texts(r.blocks) for r in (reply, echoed)], ensure_ascii=False
    )
    assert "&lt;!channel&gt;" in raw and "&lt;@U123&gt;" in raw and "a &amp; b &gt; c" in raw
    assert "<!channel>" not in raw and "<@U123>" not in raw and "<!here>" not in raw and "<!everyone>" not in raw
    assert "\\u0000" not in raw and "link_names" not in raw


async def test_long_passages_stay_within_block_limits(
    mock: MockSlack, corpus_copy: tuple[Path, Path], cache_dir: Path
) -> None:
    seeds, config = corpus_copy
    (seeds / "003_long.txt").write_text(
        "长访谈\n\n奥特曼:" + "我们必须建设更多的算力基础设施，这件事情非常重要。" * 300 + "\n", encoding="utf-8"
    )
    own = QuoteService(seeds, config, cache_dir)
    own.load()
    long_id = own.search("算力基础设施").quotes[0].id
    async with await serve(mock, own, make_settings(mock, cache_dir)) as url:
        bot = Bot(mock, url)
        reply = await bot.reply("/quote", "算力基础设施 count:5")
        context = await mock.wait_for_response(await bot.click(reply.blocks, "quote_context", long_id))
    for blocks in (reply.blocks, context.blocks):
        assert len(blocks) <= 50
        assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert section_texts(context.blocks).split("\n")[0].endswith("…")


async def test_reload_is_admin_only_and_a_broken_corpus_keeps_the_old_one(
    mock: MockSlack, corpus_copy: tuple[Path, Path], cache_dir: Path
) -> None:
    seeds, config = corpus_copy
    own = QuoteService(seeds, config, cache_dir)
    own.load()
    before = own.search("能源").total
    (seeds / "002_broken.txt").write_bytes("奥特曼:好的。\n".encode() + b"\xff\xfe broken\n")
    async with await serve(mock, own, make_settings(mock, cache_dir)) as url:
        bot = Bot(mock, url)
        refused = await bot.reply("/quote-reload", "", user=USER_ID)
        failed = await bot.reply("/quote-reload", "", user=ADMIN)
        still = await bot.reply("/quote", "能源")
        (seeds / "002_broken.txt").write_text("新访谈\n\n奥特曼:我们会研究核聚变。\n", encoding="utf-8")
        fixed = await bot.reply("/quote-reload", "", user=ADMIN)
    assert refused.response_type == "ephemeral" and "Only quotebot admins" in refused.text
    assert "Reload failed" in failed.text and "002_broken.txt" in failed.text
    assert still.blocks and own.search("核聚变").total >= 1
    assert before == own.search("能源").total
    assert "Corpus reloaded" in fixed.text and "documents 2 → 3" in fixed.text


async def test_workspace_admins_may_reload_when_configured(
    mock: MockSlack, service: QuoteService, cache_dir: Path
) -> None:
    mock.add_user("U0000OWNER", is_owner=True)
    settings = make_settings(mock, cache_dir, workspace_admins=True, admin_user_ids=[])
    async with await serve(mock, service, settings) as url:
        bot = Bot(mock, url)
        allowed = await bot.reply("/quote-daily", "", user="U0000OWNER")
        refused = await bot.reply("/quote-daily", "", user=USER_ID)
    assert "not enabled" in allowed.text
    assert "Only quotebot admins" in refused.text
    assert mock.calls("users.info")


async def test_cooldown_applies_to_users_not_admins(mock: MockSlack, service: QuoteService, cache_dir: Path) -> None:
    settings = make_settings(mock, cache_dir, cooldown_seconds=600)
    async with await serve(mock, service, settings) as url:
        bot = Bot(mock, url)
        first = await bot.reply("/quote", "能源")
        second = await bot.reply("/quote", "能源")
        admin = [await bot.reply("/quote", "能源", user=ADMIN) for _ in range(2)]
    assert first.blocks and "try again in" in second.text and second.response_type == "ephemeral"
    assert all(a.response_type == "in_channel" for a in admin)


async def test_post_quote_retries_rate_limits_and_reports_dead_channels(
    mock: MockSlack, service: QuoteService, cache_dir: Path
) -> None:
    client = web_client(make_settings(mock, cache_dir))
    quote = service.search("能源", limit=1).quotes[0]
    mock.fail_next("chat.postMessage", 429, retry_after=0)
    ts = await post_quote(client, CHANNEL_ID, quote, "今日语录 · 2026-11-24 <!channel>")
    attempts = mock.calls("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200]
    posted = attempts[-1].params
    assert posted["channel"] == CHANNEL_ID and quote.id in json.dumps(posted["blocks"], ensure_ascii=False)
    assert "<!channel>" not in posted["text"] and ts
    mock.error_next("chat.postMessage", "channel_not_found")
    with pytest.raises(PostError) as gone:
        await post_quote(client, "C0DEADBEEF", quote, "今日语录")
    assert gone.value.permanent


async def test_daily_command_reaches_the_scheduler(mock: MockSlack, service: QuoteService, cache_dir: Path) -> None:
    daily = RecordingDaily()
    async with await serve(mock, service, make_settings(mock, cache_dir), daily=daily) as url:
        bot = Bot(mock, url)
        assert "slack" in daily.posters
        ok = await bot.reply("/quote-daily", "<#C0123ABCD|general> 09:00 Asia/Shanghai", user=ADMIN)
        bad = await bot.reply("/quote-daily", "09:00 Mars/Olympus", user=ADMIN)
        off = await bot.reply("/quote-daily", "off", user=ADMIN)
    assert daily.calls[0] == ("set", "slack", "C0123ABCD", "09:00", "Asia/Shanghai", f"slack:{ADMIN}")
    assert "Daily excerpt set" in ok.text and "Missing Access" in ok.text
    assert "not a timezone" in bad.text
    assert daily.calls[-1] == ("off", "slack", CHANNEL_ID, f"slack:{ADMIN}") and "off" in off.text


async def test_quotebot_run_serves_slack_over_http_until_stopped(
    mock: MockSlack, service: QuoteService, cache_dir: Path, tmp_path: Path
) -> None:
    import asyncio
    import socket

    from bots.app import main
    from bots.settings import DailySettings, StorageSettings

    with socket.socket() as probe:  # a free port for the HTTP listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(mock, cache_dir, host="127.0.0.1", port=port).model_copy(
        update={
            "daily": DailySettings(enabled=False),
            "storage": StorageSettings(url=f"sqlite:///{tmp_path / 'q.sqlite3'}"),
        }
    )
    stop = asyncio.Event()
    task = asyncio.create_task(main(settings, service, stop))
    await mock.wait_for_call("auth.test")
    for _ in range(50):  # the listener starts right after auth.test
        try:
            reply = await Bot(mock, f"http://127.0.0.1:{port}/slack/events").reply("/quote", "能源")
            break
        except OSError:
            await asyncio.sleep(0.1)
    stop.set()
    assert await asyncio.wait_for(task, 10) == 0
    assert reply.response_type == "in_channel" and "能源" in section_texts(reply.blocks)
