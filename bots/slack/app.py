"""The bolt app factory (`create_app`), the daily poster, and the two ways to serve: Socket Mode or HTTP.

One Web API client, on `slack.api_url` (Slack, GovSlack, a test's mock) with slack_sdk's rate-limit
retries, carries start-up, answers and posts alike.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.request_verification.async_request_verification import AsyncRequestVerification
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bots import wording
from bots.commands import Commands
from bots.daily_control import PostError
from bots.reader import posted
from bots.runtime import AppContext, until_stopped
from bots.scheduler.store import create_db_engine
from bots.settings import Settings
from bots.slack.listeners import register_listeners
from bots.slack.render import escape, fallback_text, quote_blocks
from bots.slack.retry import retry_handlers
from quotecore import Quote

log = logging.getLogger(__name__)

#: Errors after which posting to the channel again cannot succeed without an admin's help.
PERMANENT_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived", "account_inactive",
                              "invalid_auth", "token_revoked", "missing_scope", "restricted_action",
                              "ekm_access_denied", "not_authed"})  # fmt: skip


def web_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: configured base URL, rate-limit retries."""
    token = settings.slack.bot_token.get_secret_value() if settings.slack.bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack.api_url,
        retry_handlers=retry_handlers(),
    )


class StrictSignatureVerifier(SignatureVerifier):
    """slack_sdk's verifier, except that a timestamp that is not an integer is invalid (it raises)."""

    def is_valid(self, body: str | bytes, timestamp: str | None, signature: str | None) -> bool:
        """False for a malformed timestamp instead of ValueError, so no error handler ever runs."""
        if timestamp is None or not timestamp.strip().isascii() or not timestamp.strip().isdigit():
            return False
        return super().is_valid(body, timestamp, signature)


class RequestVerification(AsyncRequestVerification):
    """bolt's request verification with the strict verifier and one log line per rejected request."""

    def __init__(self, signing_secret: str) -> None:
        super().__init__(signing_secret)
        self._verifier = StrictSignatureVerifier(signing_secret)

    def _debug_log_error(self, signature: str, timestamp: str, body: str) -> None:
        log.warning("slack: rejected a request with an invalid signature or timestamp (401)")


def create_app(ctx: AppContext, client: AsyncWebClient | None = None) -> AsyncApp:
    """Build the bolt app with every listener and offer its daily poster; nothing connects yet.

    One workspace: the bot token authorizes everything. Distributed (OAuth): each request is
    authorized by its workspace's installation, and a daily post by its channel's workspace.
    """
    settings = ctx.settings.slack
    client = client or web_client(ctx.settings)
    secret = settings.signing_secret.get_secret_value() if settings.signing_secret else None
    oauth = None
    if settings.distributed:
        from bots.slack.install import oauth_settings  # slack_sdk's SQLAlchemy stores: only for many workspaces

        oauth = oauth_settings(settings, create_db_engine(ctx.settings.storage.url))
    app = AsyncApp(
        client=client,
        signing_secret=secret or "",
        # Socket Mode has no HTTP requests to verify; HTTP mode always verifies, before anything
        # else can run (authorization, listeners, the error handler): a request that fails is a 401.
        request_verification_enabled=False,
        before_authorize=RequestVerification(secret) if secret else None,
        process_before_response=False,
        oauth_settings=oauth,
    )
    commands = ctx.commands("slack", cooldown_seconds=settings.cooldown_seconds)
    register_listeners(app, commands, settings, ctx.daily)
    installations = oauth.installation_store if oauth else None
    # The Web API client needs no connection: the poster is offered at once.
    ctx.offer_poster("slack", SlackPoster(client, installations, commands))
    return app


async def post_quote(client: AsyncWebClient, channel_id: str, quote: Quote, heading: str) -> str:
    """Post a quote under a heading; the message ts, or PostError (permanent when hopeless)."""
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": heading[:150], "emoji": True}}]
    blocks += quote_blocks(quote)
    try:
        response = await client.chat_postMessage(
            channel=channel_id,
            text=heading_text(heading) + fallback_text([quote]),
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


def heading_text(heading: str) -> str:
    """How a daily post's fallback text starts (what `find` looks for in the channel's history)."""
    return f"{escape(wording.cut(heading, 150))}: "


class SlackPoster:
    """The daily poster (`post_quote`) and its finder: the bot's own post under a heading, in the history.

    With many workspaces a target's channel is `TEAM/CHANNEL` (`listeners.workspace_channel`): the
    post goes out with that workspace's bot token, and a workspace that uninstalled is a permanent failure.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        installations: AsyncInstallationStore | None = None,
        commands: Commands | None = None,
    ) -> None:
        self.client = client
        self.installations = installations
        self.commands = commands  # knows the script an admin chose for a channel (`/quote-script`)

    async def _client_for(self, channel: str) -> tuple[AsyncWebClient, str]:
        team, _, channel_id = channel.rpartition("/")
        if not team or self.installations is None:
            return self.client, channel_id
        bot = await self.installations.async_find_bot(enterprise_id=None, team_id=team)
        if bot is None:
            raise PostError(f"workspace {team} has not installed the app (or uninstalled it)", permanent=True)
        client = AsyncWebClient(token=bot.bot_token, base_url=self.client.base_url, retry_handlers=retry_handlers())
        return client, channel_id

    async def __call__(self, channel: str, quote: Quote, heading: str) -> str:
        """Post; see `post_quote`."""
        client, channel_id = await self._client_for(channel)
        quote = await posted(self.commands, quote, channel) if self.commands else quote
        return await post_quote(client, channel_id, quote, heading)

    async def find(self, channel: str, heading: str) -> str | None:
        """The ts of our message under `heading` among the channel's last 200 messages, or None."""
        client, channel_id = await self._client_for(channel)
        try:
            me = await client.auth_test()
            history = await client.conversations_history(channel=channel_id, limit=200)
        except SlackApiError as exc:
            raise PostError(f"cannot read {channel_id}: {exc.response.get('error')}", permanent=False) from exc
        except (OSError, TimeoutError) as exc:
            raise PostError(f"could not reach Slack: {exc}", permanent=False) from exc
        start = heading_text(heading)
        for message in history.get("messages") or []:
            ours = message.get("bot_id") == me.get("bot_id") or message.get("user") == me.get("user_id")
            if ours and str(message.get("text", "")).startswith(start):
                return str(message["ts"])
        return None


class SlackAdapter:
    """Slack as an adapter: Socket Mode or HTTP, until stopped."""

    name = "slack"

    def prepare(self, ctx: AppContext) -> None:
        """Nothing before the scheduler: the poster is offered with the app."""

    async def serve(self, ctx: AppContext, stop: asyncio.Event) -> None:
        """Run in Socket Mode or HTTP mode until `stop` is set, then close the connection or the server."""
        app = create_app(ctx)
        try:
            if ctx.settings.slack.distributed:  # no token of its own: each workspace brings one
                log.info("slack: installable by any workspace at %s", ctx.settings.slack.install_path)
            else:
                auth = await app.client.auth_test()
                log.info("slack: connected as %s to %s", auth.get("user"), auth.get("team"))
            await (_serve_socket if ctx.settings.slack.transport == "socket" else _serve_http)(app, ctx, stop)
        finally:
            ctx.set_connected("slack", False)
            ctx.withdraw_poster("slack")


async def _serve_socket(app: AsyncApp, ctx: AppContext, stop: asyncio.Event) -> None:
    settings = ctx.settings.slack
    if settings.app_token is None:
        raise RuntimeError("Socket Mode needs SLACK_APP_TOKEN (an xapp- token)")
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    app_token = settings.app_token.get_secret_value()
    web_client = AsyncWebClient(base_url=settings.api_url, retry_handlers=retry_handlers())
    # slack_sdk's connect retries every failure forever, 10 s apart, and only logs it: ask for a
    # connection URL once first, so a revoked or mistyped app token ends with one line.
    await web_client.apps_connections_open(app_token=app_token)
    handler = AsyncSocketModeHandler(app, app_token, web_client=web_client)
    try:
        connected, _ = await until_stopped(handler.connect_async(), stop)
        if connected:
            log.info("slack: Socket Mode connected")
            ctx.set_connected("slack", True)
            await stop.wait()
    finally:
        await handler.close_async()


async def _serve_http(app: AsyncApp, ctx: AppContext, stop: asyncio.Event) -> None:
    settings = ctx.settings.slack
    if settings.signing_secret is None:
        raise RuntimeError("HTTP mode needs SLACK_SIGNING_SECRET")
    if ctx.web is not None and ctx.web.shares_port(settings.port):  # one port for Slack and /healthz
        server = app.server(path=settings.path, port=settings.port)
        routes = {settings.path: server.handle_post_requests}
        if settings.distributed:
            routes |= {
                settings.install_path: server.handle_get_requests,
                settings.redirect_path: server.handle_get_requests,
            }
        for path, handler in routes.items():
            ctx.web.attach(path, handler)
        log.info("slack: HTTP mode on the web server's port, %s", settings.path)
        ctx.set_connected("slack", True)
        try:
            await stop.wait()
        finally:
            for path in routes:
                ctx.web.detach(path)
        return
    runner = web.AppRunner(app.web_app(path=settings.path), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    log.info("slack: HTTP mode on %s:%s%s", settings.host, settings.port, settings.path)
    ctx.set_connected("slack", True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
