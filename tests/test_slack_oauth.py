"""Many workspaces: installed through bolt's OAuth flow against the mock Slack, each with its own token.

The real bolt app serves `/slack/install`, the OAuth redirect and the events on one HTTP listener;
the mock answers `oauth.v2.access` with a token per workspace (`xoxb-<TEAM>`), so every call
the bot makes shows which workspace's token it used.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from bots.daily_control import PostError
from bots.runtime import AppContext
from bots.settings import CorpusSettings, Settings, SlackSettings, StorageSettings, WebSettings
from bots.slack import create_app
from bots.slack.app import SlackAdapter
from bots.web import WebServer
from quotecore import QuoteService
from tests.fakes.daily import RecordingDaily
from tests.fakes.slack_fake import (
    APP_ID,
    CHANNEL_ID,
    MockSlack,
    post_signed,
    serve_bolt_app,
    slash_command_body,
)

SECRET = "oauth-test-signing-secret"
ONE, TWO = "T0000ONE", "T0000TWO"
ADA, BEA, OPERATOR = "U0000ADA", "U0000BEA", "U0000OPS"  # Ada owns workspace one, Bea workspace two


@pytest_asyncio.fixture
async def mock() -> AsyncIterator[MockSlack]:
    async with MockSlack() as server:
        server.add_user(ADA, name="ada", is_owner=True, locale="zh-TW")
        server.add_user(BEA, name="bea", is_owner=True, locale="zh-CN")
        yield server


def distributed(mock: MockSlack, tmp_path: Path, cache_dir: Path) -> Settings:
    slack = SlackSettings(
        client_id="1111.2222",
        client_secret="oauth-client-secret",
        signing_secret=SECRET,
        api_url=mock.api_url,
        cooldown_seconds=0,
        admin_user_ids=[OPERATOR],
    )
    storage = StorageSettings(url=f"sqlite:///{tmp_path / 'quotebot.sqlite3'}")
    return Settings(slack=slack, corpus=CorpusSettings(cache_dir=cache_dir), storage=storage)


async def install(base: str, team: str) -> str:
    """What a workspace admin's browser does: open the install page, follow Slack back with a code."""
    async with aiohttp.ClientSession() as browser:
        async with browser.get(f"{base}/slack/install") as page:
            assert page.status == 200
            state = re.search(r"state=([\w-]+)", await page.text())
            cookie = page.headers["Set-Cookie"].split(";", 1)[0]
        assert state is not None, "the install page links to Slack with a state"
        query = {"code": f"code-{team}", "state": state.group(1)}
        async with browser.get(f"{base}/slack/oauth_redirect", params=query, headers={"Cookie": cookie}) as done:
            return f"{done.status} {await done.text()}"


async def command(mock: MockSlack, url: str, name: str, text: str, *, user: str, team: str) -> str:
    """A signed slash command from `user` in `team`; the text of the reply it gets."""
    response_url = mock.new_response_url()
    body = slash_command_body(name, text, response_url=response_url, user_id=user, team_id=team)
    status, _, _ = await post_signed(url, body, SECRET)
    assert status == 200
    reply = await mock.wait_for_response(response_url)
    return json.dumps(reply.body, ensure_ascii=False)


def tokens_used(mock: MockSlack, method: str) -> set[str | None]:
    return {call.token for call in mock.calls(method)}


async def test_two_workspaces_install_and_each_is_answered_and_governed_on_its_own(
    mock: MockSlack, service: QuoteService, tmp_path: Path, cache_dir: Path
) -> None:
    daily = RecordingDaily()
    settings = distributed(mock, tmp_path, cache_dir)
    app = create_app(AppContext(service, settings, daily))
    async with serve_bolt_app(app) as url:
        base = url.removesuffix("/slack/events")
        for team in (ONE, TWO):
            assert (await install(base, team)).startswith("200")
        assert [c.params.get("code") for c in mock.calls("oauth.v2.access")] == [f"code-{ONE}", f"code-{TWO}"]

        taipei = await command(mock, url, "/quote", "计算资源", user=ADA, team=ONE)
        shanghai = await command(mock, url, "/quote", "计算资源", user=BEA, team=TWO)
        assert "計算資源" in taipei and "计算资源" in shanghai, "each reader in their own script"
        assert tokens_used(mock, "users.info") == {f"xoxb-{ONE}", f"xoxb-{TWO}"}, "each workspace's own token"

        set_reply = await command(mock, url, "/quote-daily", "09:00 UTC", user=BEA, team=TWO)
        assert f"Daily excerpt set for <#{CHANNEL_ID}>" in set_reply, "the channel as Slack shows it, not the key"
        # Ada administers workspace one only: naming workspace two's channel changes nothing there.
        await command(mock, url, "/quote-daily", f"off <#{CHANNEL_ID}|general>", user=ADA, team=ONE)
        assert [(t.platform, t.channel) for t in daily.targets()] == [("slack", f"{TWO}/{CHANNEL_ID}")]
        refused = await command(mock, url, "/quote-reload", "", user=ADA, team=ONE)
        assert "只有 quotebot 管理員可以重新載入語料" in refused, "an owner cannot reload every workspace's corpus"
        assert "Corpus reloaded" in await command(mock, url, "/quote-reload", "", user=OPERATOR, team=ONE)

        poster = daily.posters["slack"]
        quote = service.random()
        assert quote is not None
        await poster(f"{ONE}/{CHANNEL_ID}", quote, "今日语录")
        assert mock.calls("chat.postMessage")[-1].token == f"xoxb-{ONE}"

        event = {"type": "app_uninstalled", "event_ts": "1.0"}
        uninstall = {"token": "x", "team_id": TWO, "api_app_id": APP_ID, "type": "event_callback", "event": event}
        body = json.dumps(uninstall).encode()
        status, _, _ = await post_signed(url, body, SECRET, extra_headers={"Content-Type": "application/json"})
        assert status == 200
        for _ in range(100):  # the event is acked first and handled after
            if not daily.targets():
                break
            await asyncio.sleep(0.05)
        assert daily.targets() == [], "workspace two's daily target is gone"
        with pytest.raises(PostError) as gone:
            await poster(f"{TWO}/{CHANNEL_ID}", quote, "今日语录")
        assert gone.value.permanent

    with sqlite3.connect(tmp_path / "quotebot.sqlite3") as db:
        teams = {row[0] for row in db.execute("SELECT team_id FROM slack_bots")}
        installs = {row[0] for row in db.execute("SELECT team_id FROM slack_installations")}
    assert teams == {ONE} and installs == {ONE}, "the uninstalled workspace's rows are deleted"


async def test_the_install_pages_share_the_health_servers_port(
    mock: MockSlack, tmp_path: Path, cache_dir: Path
) -> None:
    """With /healthz on Slack's port, the install page and its redirect are served there too."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_settings = distributed(mock, tmp_path, cache_dir)
    settings = base_settings.model_copy(
        update={
            "slack": base_settings.slack.model_copy(update={"port": port}),
            "web": WebSettings(enabled=True, host="127.0.0.1", port=port),
        }
    )
    ctx = AppContext(QuoteService(Path("seeds"), Path("config"), cache_dir), settings)
    web = WebServer(ctx)
    ctx.web = web
    await web.start()
    stop = asyncio.Event()
    serving = asyncio.create_task(SlackAdapter().serve(ctx, stop))
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            if ctx.connected.get("slack"):
                break
            await asyncio.sleep(0.05)
        assert (await install(base, ONE)).startswith("200")
        async with aiohttp.ClientSession() as browser, browser.get(f"{base}/healthz") as alive:
            assert alive.status == 200
    finally:
        stop.set()
        await serving
        await web.stop()
