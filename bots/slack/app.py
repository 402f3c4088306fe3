"""The bolt app factory and its two ways to run: Socket Mode or HTTP.

`create_app` is the one factory (`quotebot run` and the tests both use it). Its Web API client
points at `slack.api_url` (Slack, GovSlack, or a test's mock) and retries rate-limited calls with
slack_sdk's own handler, so start-up, answers and posts all go through the same configured client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from functools import partial
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bots.daily_control import DailyControl, PostError
from bots.settings import Settings
from bots.slack.blocks import fallback_text, quote_blocks, short
from bots.slack.listeners import register_listeners
from quotecore.models import Quote
from quotecore.service import QuoteService

log = logging.getLogger(__name__)

#: Errors after which posting to the channel again cannot succeed without an admin's help.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "account_inactive",
        "invalid_auth",
        "token_revoked",
        "missing_scope",
        "restricted_action",
        "ekm_access_denied",
        "not_authed",
    }
)


def web_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: configured base URL, rate-limit retries."""
    token = settings.slack.bot_token.get_secret_value() if settings.slack.bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )


def create_app(
    service: QuoteService, settings: Settings, client: AsyncWebClient | None = None, daily: DailyControl | None = None
) -> AsyncApp:
    """Build the bolt app with every listener; nothing connects until it is served."""
    client = client or web_client(settings)
    secret = settings.slack.signing_secret.get_secret_value() if settings.slack.signing_secret else None
    app = AsyncApp(
        client=client,
        signing_secret=secret or "",
        # Socket Mode has no HTTP requests to verify; HTTP mode always verifies.
        request_verification_enabled=bool(secret),
        process_before_response=False,
    )
    register_listeners(app, service, settings.slack, daily)
    if daily is not None:
        daily.register_poster("slack", partial(post_quote, client))
    return app


async def post_quote(client: AsyncWebClient, channel_id: str, quote: Quote, heading: str) -> str:
    """Post a quote under a heading; the message ts, or PostError (permanent when hopeless)."""
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": heading[:150], "emoji": True}}]
    blocks += quote_blocks(quote)
    try:
        response = await client.chat_postMessage(
            channel=channel_id,
            text=f"{short(heading, 150)}: {fallback_text([quote])}",
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        raise PostError(
            f"chat.postMessage to {channel_id} failed: {error}", permanent=error in PERMANENT_ERRORS
        ) from exc
    except (OSError, TimeoutError) as exc:
        raise PostError(f"could not reach Slack: {exc}", permanent=False) from exc
    return str(response["ts"])


def mode(settings: Settings) -> str:
    """Socket Mode or HTTP, from the config and the tokens present."""
    chosen = settings.slack.mode
    if chosen == "auto":
        return "socket" if settings.slack.app_token else "http"
    return chosen


async def serve(
    service: QuoteService, settings: Settings, stop: asyncio.Event, daily: DailyControl | None = None
) -> None:
    """Run in Socket Mode or HTTP mode until `stop` is set, then close the connection or the server."""
    app = create_app(service, settings, daily=daily)
    try:
        auth = await app.client.auth_test()
        log.info("slack: connected as %s to %s", auth.get("user"), auth.get("team"))
        if mode(settings) == "socket":
            if settings.slack.app_token is None:
                raise RuntimeError("Socket Mode needs SLACK_APP_TOKEN (an xapp- token)")
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            app_token = settings.slack.app_token.get_secret_value()
            web_client = AsyncWebClient(base_url=settings.slack.api_url)
            # slack_sdk's connect retries every failure forever, 10 s apart, and only logs it: ask for
            # a connection URL once first, so a revoked or mistyped app token ends with one line.
            await web_client.apps_connections_open(app_token=app_token)
            handler = AsyncSocketModeHandler(app, app_token, web_client=web_client)
            try:
                await _until_stopped(handler.connect_async(), stop)
                if not stop.is_set():
                    log.info("slack: Socket Mode connected")
                    await stop.wait()
            finally:
                await handler.close_async()
        else:
            if settings.slack.signing_secret is None:
                raise RuntimeError("HTTP mode needs SLACK_SIGNING_SECRET")
            runner = web.AppRunner(app.web_app(path=settings.slack.path), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, settings.slack.host, settings.slack.port)
            await site.start()
            log.info("slack: HTTP mode on %s:%s%s", settings.slack.host, settings.slack.port, settings.slack.path)
            try:
                await stop.wait()
            finally:
                await runner.cleanup()
    finally:
        if daily is not None:
            daily.unregister_poster("slack")


async def _until_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
    """Await `work` unless `stop` is set first (then cancel it): a stop never waits on a reconnect."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if not task.cancelled():
        task.result()
