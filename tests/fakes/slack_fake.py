"""A local stand-in for Slack, for end-to-end tests of the real slack-bolt ``AsyncApp``.

Why this exists: the Slack bot is only trustworthy if the *real* bolt pipeline (signature check,
authorization via ``auth.test``, ack semantics, ``respond()`` over ``response_url``, retries) runs in
tests. Mocking bolt's objects would skip exactly the parts that break in production, so instead this
module fakes the two things bolt talks to over HTTP:

* the Web API (``https://slack.com/api/<method>``) -> :class:`MockSlack` at ``mock.api_url``;
* the per-interaction ``response_url`` -> ``mock.new_response_url()``;
* Socket Mode: ``apps.connections.open`` (with an ``xapp-`` token) hands out a ``ws://`` URL served by
  the same mock, which says ``hello``, sends envelopes (:meth:`MockSlack.send_envelope`), records the
  client's acks (:meth:`MockSlack.wait_for_ack`) and can ask the client to reconnect
  (:meth:`MockSlack.request_disconnect`).

It also signs requests the way Slack does (:func:`sign`, :func:`post_signed`) and builds the form bodies
Slack sends for slash commands and ``block_actions`` (:func:`slash_command_body`,
:func:`block_actions_body`), and serves a bolt app on an ephemeral port (:func:`serve_bolt_app`).

Everything is aiohttp-based and runs inside the test's own event loop on ``127.0.0.1`` port 0, so
tests can run in parallel and nothing leaks between them.

Typical use::

    async with MockSlack() as mock:
        client = AsyncWebClient(token="xoxb-test", base_url=mock.api_url)
        app = AsyncApp(client=client, signing_secret=SECRET)
        ...
        async with serve_bolt_app(app) as events_url:
            url = mock.new_response_url()
            status, text, _ = await post_signed(
                events_url, slash_command_body("/quote", "hello", response_url=url), SECRET
            )
            reply = await mock.wait_for_response(url)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from tests.fakes.harness import LocalServer, serve_app

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

logger = logging.getLogger(__name__)

# Realistic-looking, obviously fake identifiers. Slack IDs are upper-case alphanumerics with a
# one-letter type prefix (T team, U user, B bot, C channel, D DM, A app, V view).
TEAM_ID = "T0000TEST"
TEAM_NAME = "Quotebot Test"
TEAM_DOMAIN = "quotebot-test"
BOT_USER_ID = "U0000BOT"
BOT_ID = "B0000BOT"
BOT_NAME = "quotebot"
APP_ID = "A0000APP"
USER_ID = "U0000USER"
USER_NAME = "alice"
CHANNEL_ID = "C0000GENERAL"
CHANNEL_NAME = "general"
#: Scopes reported in ``X-OAuth-Scopes`` by ``auth.test``; bolt copies them into ``context.authorize_result``.
BOT_SCOPES = "commands,chat:write,chat:write.public,users:read,channels:read,groups:read,im:write"

#: Slack rejects signed requests whose timestamp is further than this from "now" (replay protection).
SIGNATURE_MAX_AGE_SECONDS = 60 * 5

# Fields that slack_sdk JSON-encodes into a string when it form-encodes a call; decoded back in
# ``ApiCall.params`` so assertions do not depend on whether the SDK used JSON or form encoding.
_JSON_VALUED_FIELDS = ("blocks", "attachments", "view", "metadata", "unfurls", "user_ids")

JsonDict = dict[str, Any]
_T = TypeVar("_T")
#: A custom Web API responder: receives the recorded call, returns the JSON body (``ok`` defaults to true).
Responder = Callable[["ApiCall"], JsonDict]


# --------------------------------------------------------------------------------------------------
# Recorded traffic
# --------------------------------------------------------------------------------------------------


@dataclass
class ApiCall:
    """One request the bot made to the mock Web API, kept so tests can assert on what was sent.

    ``params`` merges query string, form fields and the JSON body (JSON wins), with JSON-valued form
    fields such as ``blocks`` decoded, because slack_sdk sends some methods as JSON
    (``chat.postMessage``) and others as query/form (``auth.test``, ``users.info``) and a test should not
    care which. The raw parts are kept in ``query``, ``form`` and ``json``.
    """

    method: str
    http_method: str
    params: JsonDict
    query: dict[str, str]
    form: dict[str, str]
    json: Any
    headers: CIMultiDict[str]
    token: str | None
    received_at: float
    status: int = 0
    response: JsonDict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the mock answered HTTP 200 with ``"ok": true`` (i.e. the SDK saw a success)."""
        return self.status == 200 and bool(self.response.get("ok"))

    def __repr__(self) -> str:
        return (
            f"ApiCall({self.method!r}, status={self.status}, ok={self.response.get('ok')}, "
            f"error={self.response.get('error')!r}, params={self.params!r})"
        )


@dataclass
class ResponseUrlPost:
    """One POST the bot made to a ``response_url`` (what ``respond()`` sends)."""

    response_id: str
    url: str
    body: JsonDict
    headers: CIMultiDict[str]
    received_at: float
    status: int = 200

    @property
    def text(self) -> str | None:
        return self.body.get("text")

    @property
    def blocks(self) -> list[JsonDict] | None:
        return self.body.get("blocks")

    @property
    def response_type(self) -> str | None:
        """``"ephemeral"`` / ``"in_channel"``; None means Slack's default, which is ephemeral."""
        return self.body.get("response_type")

    @property
    def replace_original(self) -> bool | None:
        return self.body.get("replace_original")


RESPONSE_URL = "(response_url)"  # the failure queue of every response_url


@dataclass
class _Failure:
    """A queued failure for one Web API method; ``remaining`` None means until ``clear_failures()``."""

    status: int
    body: JsonDict
    retry_after: int | None
    remaining: int | None


@dataclass
class _ResponseUrlState:
    url: str
    created_at: float
    uses: int = 0


@dataclass
class SocketConnection:
    """One Socket Mode WebSocket connection a client opened with a URL from ``apps.connections.open``."""

    connection_id: str
    app_token: str
    ws: web.WebSocketResponse | None = None
    opened_at: float | None = None
    closed_at: float | None = None

    @property
    def open(self) -> bool:
        """Connected (``hello`` sent) and not yet closed by either side."""
        return self.ws is not None and self.closed_at is None and not self.ws.closed


@dataclass
class SocketAck:
    """What the client sent back over the socket for an envelope: ``{"envelope_id": ..., "payload"?: ...}``."""

    envelope_id: str
    connection_id: str
    payload: JsonDict | None
    raw: JsonDict
    received_at: float


# --------------------------------------------------------------------------------------------------
# The mock
# --------------------------------------------------------------------------------------------------


class MockSlack(LocalServer):
    """Mock Slack Web API plus ``response_url`` endpoint, served by aiohttp on 127.0.0.1.

    Start it inside the test's event loop (``async with MockSlack() as mock`` or ``await mock.start()``
    / ``await mock.stop()``). Point slack_sdk at it with ``AsyncWebClient(base_url=mock.api_url)``;
    ``api_url`` ends with ``/`` because slack_sdk joins method names with ``urllib.parse.urljoin``.

    By default it is *lenient*: unknown channels, users and message timestamps are accepted and
    synthesised, so a test only configures what it asserts on. With ``strict=True`` it answers like
    real Slack does for unknown things (``channel_not_found``, ``user_not_found``,
    ``message_not_found``, ``invalid_trigger_id`` / ``expired_trigger_id``).

    Authentication: a request without a token gets ``not_authed``; when ``accepted_tokens`` is given,
    any other token gets ``invalid_auth`` (which makes bolt refuse to run listeners).
    """

    def __init__(
        self,
        *,
        team_id: str = TEAM_ID,
        team_name: str = TEAM_NAME,
        team_domain: str = TEAM_DOMAIN,
        bot_user_id: str = BOT_USER_ID,
        bot_id: str = BOT_ID,
        bot_name: str = BOT_NAME,
        app_id: str = APP_ID,
        users: Iterable[Mapping[str, Any]] = (),
        channels: Iterable[Mapping[str, Any]] = (),
        accepted_tokens: Iterable[str] | None = None,
        strict: bool = False,
        response_url_max_uses: int = 5,
        host: str = "127.0.0.1",
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id
        self.accepted_tokens: set[str] | None = set(accepted_tokens) if accepted_tokens is not None else None
        self.strict = strict
        self.response_url_max_uses = response_url_max_uses
        self.host = host

        self._calls: list[ApiCall] = []
        self._responses: list[ResponseUrlPost] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._responders: dict[str, Responder] = {}
        self._users: dict[str, JsonDict] = {}
        self._channels: dict[str, JsonDict] = {}
        self._messages: dict[tuple[str, str], JsonDict] = {}
        self._response_urls: dict[str, _ResponseUrlState] = {}
        self._trigger_ids: dict[str, float] = {}
        self._sockets: dict[str, SocketConnection] = {}
        self._socket_acks: list[SocketAck] = []
        self._socket_messages: list[JsonDict] = []
        self._last_ts_micros = 0
        self.response_url_failures = 0
        #: Seconds a Web API method waits before answering (e.g. ``{"chat.postMessage": 3}``).
        self.delays: dict[str, float] = {}

        self.add_user(bot_user_id, name=bot_name, is_bot=True, bot_id=bot_id)
        self.add_user(USER_ID, name=USER_NAME)
        self.add_channel(CHANNEL_ID, CHANNEL_NAME)
        for user in users:
            self.add_user(**user)
        for channel in channels:
            self.add_channel(**channel)

    # ---------------------------------------------------------------- lifecycle

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{response_id}", self._handle_response_url)
        app.router.add_get("/socket/{connection_id}", self._handle_socket)

    async def before_stop(self) -> None:
        for connection in self._sockets.values():
            if connection.open and connection.ws is not None:
                # Going away (1001), as Slack does; without it aiohttp would wait for the socket handler.
                await connection.ws.close(code=aiohttp.WSCloseCode.GOING_AWAY)

    @property
    def recent(self) -> list[Any]:
        return [*self._calls[-8:], *self._responses[-4:]]

    @property
    def api_url(self) -> str:
        """Value for ``AsyncWebClient(base_url=...)``; ends with ``/`` as slack_sdk requires."""
        return f"{self.base_url}/api/"

    # ---------------------------------------------------------------- configuration

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
        tz: str = "America/Los_Angeles",
        **extra: Any,
    ) -> JsonDict:
        """Register (or replace) a user returned by ``users.info``; returns the stored user object.

        ``is_admin``/``is_owner`` are what permission checks in the bot read, so they are explicit.
        """
        name = name or user_id.lower()
        real_name = real_name or name.title()
        user: JsonDict = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": deleted,
            "color": "9f69e7",
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": _tz_offset_seconds(tz),
            "profile": {
                "real_name": real_name,
                "display_name": name,
                "real_name_normalized": real_name,
                "display_name_normalized": name,
                "team": self.team_id,
            },
            "is_admin": is_admin or is_owner or is_primary_owner,
            "is_owner": is_owner or is_primary_owner,
            "is_primary_owner": is_primary_owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
        }
        user.update(extra)
        self._users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        is_member: bool = True,
        **extra: Any,
    ) -> JsonDict:
        """Register (or replace) a channel returned by ``conversations.info``; returns the stored object."""
        is_im = channel_id.startswith("D")
        channel: JsonDict = {
            "id": channel_id,
            "name": name,
            "is_channel": not is_im and not is_private,
            "is_group": is_private and not is_im,
            "is_im": is_im,
            "is_mpim": False,
            "is_private": is_private or is_im,
            "is_archived": False,
            "is_general": name == "general",
            "is_member": is_member,
            "created": 1_600_000_000,
            "creator": USER_ID,
            "context_team_id": self.team_id,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        channel.update(extra)
        self._channels[channel_id] = channel
        return channel

    def fail_next(self, method: str, status: int = 429, retry_after: int | None = 1, *, times: int | None = 1) -> None:
        """Make the next ``times`` calls of ``method`` fail at the HTTP level (default: rate limited).

        A 429 carries ``Retry-After: <retry_after>`` and ``{"ok": false, "error": "ratelimited"}``,
        which is what slack_sdk's ``AsyncRateLimitErrorRetryHandler`` reacts to (it sleeps
        ``Retry-After + random()`` seconds, then retries). ``times=None`` fails until ``clear_failures``.
        """
        error = "ratelimited" if status == 429 else "fatal_error" if status >= 500 else "request_failed"
        self._failures.setdefault(method, []).append(
            _Failure(status=status, body={"ok": False, "error": error}, retry_after=retry_after, remaining=times)
        )

    def error_next(self, method: str, error: str = "channel_not_found", *, times: int | None = 1, **extra: Any) -> None:
        """Make the next ``times`` calls of ``method`` return HTTP 200 ``{"ok": false, "error": error}``.

        This is how Slack reports API-level errors (slack_sdk raises ``SlackApiError``; no retry).
        ``extra`` is merged into the body (e.g. ``needed="chat:write"`` for ``missing_scope``).
        """
        self._failures.setdefault(method, []).append(
            _Failure(status=200, body={"ok": False, "error": error, **extra}, retry_after=None, remaining=times)
        )

    def fail_response_urls(self, status: int = 429, retry_after: int | None = 1, *, times: int | None = 1) -> None:
        """Make the next ``times`` POSTs to any ``response_url`` fail with ``status`` (default: rate limited).

        Slack rate-limits response_url posts like Web API calls: 429 with ``Retry-After``. Failed
        attempts are counted in ``response_url_failures`` and not recorded as responses.
        """
        self._failures.setdefault(RESPONSE_URL, []).append(
            _Failure(status=status, body={}, retry_after=retry_after, remaining=times)
        )

    def new_response_url(self) -> str:
        """A fresh, unique ``response_url`` served by this mock (usable ``response_url_max_uses`` times)."""
        response_id = uuid.uuid4().hex
        url = f"{self.base_url}/response/{response_id}"
        self._response_urls[response_id] = _ResponseUrlState(url=url, created_at=time.monotonic())
        return url

    # ---------------------------------------------------------------- inspection

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """Recorded Web API calls in arrival order, including failed attempts (see ``ApiCall.ok``)."""
        return [c for c in self._calls if method is None or c.method == method]

    def responses(self, url_or_id: str | None = None) -> list[ResponseUrlPost]:
        """Recorded ``response_url`` POSTs, optionally for one URL (or its id)."""
        if url_or_id is None:
            return list(self._responses)
        response_id = _response_id(url_or_id)
        return [r for r in self._responses if r.response_id == response_id]

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 5.0,
    ) -> ApiCall:
        """Return the first recorded call of ``method`` matching ``predicate``, waiting if needed.

        Needed because bolt answers the HTTP request as soon as a listener calls ``ack()`` and runs the
        rest of the listener in a background task, so API calls typically land *after* the 200.
        Already-recorded calls count. Raises ``AssertionError`` (listing what was seen) on timeout.
        """

        def find() -> ApiCall | None:
            for call in self._calls:
                if call.method == method and (predicate is None or predicate(call)):
                    return call
            return None

        return await self.wait_for(find, timeout, f"a {method!r} call")

    async def wait_for_response(
        self,
        url_or_id: str,
        predicate: Callable[[ResponseUrlPost], bool] | None = None,
        timeout: float = 5.0,
    ) -> ResponseUrlPost:
        """Return the first POST to this ``response_url`` matching ``predicate``, waiting if needed."""
        response_id = _response_id(url_or_id)

        def find() -> ResponseUrlPost | None:
            for post in self._responses:
                if post.response_id == response_id and (predicate is None or predicate(post)):
                    return post
            return None

        return await self.wait_for(find, timeout, f"a POST to response_url {response_id}")

    # ---------------------------------------------------------------- Socket Mode

    @property
    def sockets(self) -> list[SocketConnection]:
        """Socket Mode connections the client opened (after ``hello``), oldest first."""
        return [c for c in self._sockets.values() if c.opened_at is not None]

    def socket_acks(self) -> list[SocketAck]:
        """Every ``{"envelope_id": ...}`` the client sent back over any socket, in arrival order."""
        return list(self._socket_acks)

    async def wait_for_socket(self, number: int = 1, timeout: float = 5.0) -> SocketConnection:
        """The ``number``-th Socket Mode connection (1 = first), once it has been sent ``hello``."""

        def find() -> SocketConnection | None:
            opened = self.sockets
            return opened[number - 1] if len(opened) >= number else None

        return await self.wait_for(find, timeout, f"Socket Mode connection #{number}")

    async def wait_for_sockets_closed(self, timeout: float = 5.0) -> list[SocketConnection]:
        """Wait until every Socket Mode connection opened so far has been closed; returns them all."""

        def find() -> list[SocketConnection] | None:
            return None if any(c.closed_at is None for c in self.sockets) else self.sockets

        return await self.wait_for(find, timeout, "every Socket Mode connection to close")

    async def send_envelope(
        self,
        envelope_type: str,
        payload: JsonDict,
        *,
        accepts_response_payload: bool | None = None,
        connection: SocketConnection | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Send a Socket Mode envelope (``slash_commands``, ``interactive``, ``events_api``); returns its id.

        Goes over ``connection`` or the newest open one. ``accepts_response_payload`` defaults to what
        Slack sends: true for slash commands, false otherwise (block_actions, events).
        """
        connection = connection or self._newest_open_socket()
        if connection is None or not connection.open or connection.ws is None:
            raise AssertionError(f"no open Socket Mode connection to send on; connections: {self.sockets!r}")
        envelope_id = str(uuid.uuid4())
        envelope: JsonDict = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": (
                envelope_type == "slash_commands" if accepts_response_payload is None else accepts_response_payload
            ),
        }
        if envelope_type == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        await connection.ws.send_str(json.dumps(envelope, ensure_ascii=False))
        return envelope_id

    async def request_disconnect(
        self, reason: str = "refresh_requested", connection: SocketConnection | None = None
    ) -> None:
        """Tell the client to move to a new connection, as Slack does every few hours ("refresh_requested")."""
        connection = connection or self._newest_open_socket()
        if connection is None or connection.ws is None:
            raise AssertionError("no open Socket Mode connection to disconnect")
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-mock"}}
        await connection.ws.send_str(json.dumps(message))

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> SocketAck:
        """The client's ack for ``envelope_id``, waiting if needed (Slack wants it within 3 seconds)."""

        def find() -> SocketAck | None:
            return next((a for a in self._socket_acks if a.envelope_id == envelope_id), None)

        return await self.wait_for(find, timeout, f"an ack for envelope {envelope_id}")

    def _newest_open_socket(self) -> SocketConnection | None:
        return next((c for c in reversed(self.sockets) if c.open), None)

    # ---------------------------------------------------------------- HTTP handlers

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = await _parse_api_request(method, request)
        self._calls.append(call)
        delay = self.delays.get(method)
        if delay:  # a slow Slack: the call is recorded (and waited-for) now, answered later
            await self.notify()
            await asyncio.sleep(delay)
        status, body, headers = self._answer(call)
        call.status = status
        call.response = body
        logger.debug("MockSlack %s -> %s %s", method, status, body.get("error", "ok"))
        await self.notify()
        return web.json_response(body, status=status, headers=headers)

    def _answer(self, call: ApiCall) -> tuple[int, JsonDict, dict[str, str]]:
        failure = self._pop_failure(call.method)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return failure.status, dict(failure.body), headers
        if not call.token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if self.accepted_tokens is not None and call.token not in self.accepted_tokens:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        responder = self._responders.get(call.method) or self._builtin_responders().get(call.method)
        if responder is None:
            logger.info("MockSlack has no model for %s; answering {'ok': true}", call.method)
            return 200, {"ok": True}, {}
        body = responder(call)
        body.setdefault("ok", True)
        headers = {"X-OAuth-Scopes": BOT_SCOPES} if call.method == "auth.test" else {}
        return 200, body, headers

    def _pop_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        if failure.remaining is not None:
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.pop(0)
        return failure

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        response_id = request.match_info["response_id"]
        state = self._response_urls.get(response_id)
        if state is None:
            return web.Response(status=404, text="no_such_response_url")
        failure = self._pop_failure(RESPONSE_URL)
        if failure is not None:
            self.response_url_failures += 1
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return web.Response(status=failure.status, text="rate_limited", headers=headers)
        if state.uses >= self.response_url_max_uses:
            # Slack allows a response_url to be used 5 times within 30 minutes.
            return web.Response(status=404, text="used_url")
        try:
            body = json.loads(await request.text())
        except json.JSONDecodeError:
            return web.Response(status=400, text="invalid_payload")
        if not isinstance(body, dict):
            return web.Response(status=400, text="invalid_payload")
        if not (body.get("text") or body.get("blocks") or body.get("attachments") or body.get("delete_original")):
            return web.Response(status=400, text="no_text")
        state.uses += 1
        self._responses.append(
            ResponseUrlPost(
                response_id=response_id,
                url=state.url,
                body=body,
                headers=CIMultiDict(request.headers),
                received_at=time.monotonic(),
            )
        )
        await self.notify()
        return web.Response(status=200, text="ok")

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        connection = self._sockets.get(request.match_info["connection_id"])
        if connection is None or connection.ws is not None:
            # Slack's WebSocket URLs are single-use tickets.
            return web.Response(status=401, text="invalid_ticket")
        # autoping answers the SDK's "sdk-ping-pong:<time>" pings with pongs, as Slack does.
        ws = web.WebSocketResponse(autoping=True, timeout=2.0)
        await ws.prepare(request)
        connection.ws = ws
        connection.opened_at = time.monotonic()
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": sum(1 for c in self._sockets.values() if c.open),
                    "debug_info": {"host": "applink-mock", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        await self.notify()
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    message = json.loads(msg.data)
                except json.JSONDecodeError:
                    logger.warning("MockSlack socket %s: not JSON: %r", connection.connection_id, msg.data[:200])
                    continue
                if not isinstance(message, dict):
                    continue
                self._socket_messages.append(message)
                if "envelope_id" in message:
                    payload = message.get("payload")
                    self._socket_acks.append(
                        SocketAck(
                            envelope_id=str(message["envelope_id"]),
                            connection_id=connection.connection_id,
                            payload=payload if isinstance(payload, dict) else None,
                            raw=message,
                            received_at=time.monotonic(),
                        )
                    )
                await self.notify()
        finally:
            connection.closed_at = time.monotonic()
            await self.notify()
        return ws

    # ---------------------------------------------------------------- Web API models

    def _builtin_responders(self) -> dict[str, Responder]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "users.info": self._users_info,
            "conversations.history": self._conversations_history,
            "apps.connections.open": self._apps_connections_open,
        }

    def _apps_connections_open(self, call: ApiCall) -> JsonDict:
        # Only app-level tokens may open Socket Mode connections; Slack refuses bot and user tokens.
        if not (call.token or "").startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        connection_id = secrets.token_hex(8)
        self._sockets[connection_id] = SocketConnection(connection_id=connection_id, app_token=call.token or "")
        return {
            "url": f"ws://{self.host}:{self.port}/socket/{connection_id}?ticket={uuid.uuid4()}&app_id={self.app_id}"
        }

    def _auth_test(self, call: ApiCall) -> JsonDict:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, call: ApiCall) -> JsonDict:
        channel, error = self._resolve_channel(call.params.get("channel"))
        if error:
            return {"ok": False, "error": error}
        if not _has_content(call.params):
            return {"ok": False, "error": "no_text"}
        if not _blocks_valid(call.params.get("blocks")):
            return {"ok": False, "error": "invalid_blocks"}
        ts = self._next_ts()
        message = self._message_from(call.params, ts)
        if call.params.get("thread_ts"):
            message["thread_ts"] = call.params["thread_ts"]
        self._messages[(channel, ts)] = message
        return {"channel": channel, "ts": ts, "message": dict(message)}

    def _conversations_history(self, call: ApiCall) -> JsonDict:
        """The channel's messages, newest first (``limit``, default 100); what ``chat.postMessage`` stored."""
        channel, error = self._resolve_channel(call.params.get("channel"))
        if error:
            return {"ok": False, "error": error}
        limit = int(call.params.get("limit") or 100)
        found = sorted((m for (c, _), m in self._messages.items() if c == channel), key=lambda m: m["ts"], reverse=True)
        return {"messages": [dict(m) for m in found[:limit]], "has_more": len(found) > limit}

    def _users_info(self, call: ApiCall) -> JsonDict:
        user_id = call.params.get("user")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        user = self._users.get(user_id)
        if user is None:
            if self.strict:
                return {"ok": False, "error": "user_not_found"}
            user = self.add_user(user_id)  # lenient: an ordinary, non-admin member
        return {"user": dict(user)}

    # ---------------------------------------------------------------- model helpers

    def _resolve_channel(self, channel: Any) -> tuple[str, str | None]:
        """Map a channel argument to a channel ID the way Slack does (names, user IDs -> DMs)."""
        if not channel or not isinstance(channel, str):
            return "", "channel_not_found"
        if channel.startswith("#"):
            for known in self._channels.values():
                if known["name"] == channel[1:]:
                    return known["id"], None
            return ("", "channel_not_found") if self.strict else (channel, None)
        if channel[0] in "UW":
            # Posting to a user ID lands in the bot's DM with that user.
            return "D" + hashlib.sha1(channel.encode()).hexdigest()[:10].upper(), None
        if self.strict and channel not in self._channels and not channel.startswith("D"):
            return "", "channel_not_found"
        return channel, None

    def _message_from(self, params: Mapping[str, Any], ts: str) -> JsonDict:
        message: JsonDict = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": params.get("text") or "",
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata"):
            if params.get(key):
                message[key] = params[key]
        return message

    def _next_ts(self) -> str:
        """Slack-style ``"seconds.micros"`` timestamps, strictly increasing so they work as message IDs."""
        micros = max(int(time.time() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


# --------------------------------------------------------------------------------------------------
# Request parsing helpers
# --------------------------------------------------------------------------------------------------


async def _parse_api_request(method: str, request: web.Request) -> ApiCall:
    query = dict(request.query)
    form: dict[str, str] = {}
    json_body: Any = None
    raw = await request.read()
    if raw:
        if request.content_type == "application/json":
            try:
                json_body = json.loads(raw)
            except json.JSONDecodeError:
                logger.warning("MockSlack %s: body is not valid JSON: %r", method, raw[:200])
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            # request.read() consumed the stream; aiohttp caches it, so post() still works.
            form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}

    params: JsonDict = {**query, **form}
    for key in _JSON_VALUED_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(json.JSONDecodeError):
                params[key] = json.loads(value)
    if isinstance(json_body, dict):
        params.update(json_body)

    token: str | None = None
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        token = auth[7:].strip() or None
    token = token or params.get("token")

    return ApiCall(
        method=method,
        http_method=request.method,
        params=params,
        query=query,
        form=form,
        json=json_body,
        headers=CIMultiDict(request.headers),
        token=token,
        received_at=time.monotonic(),
    )


def _response_id(url_or_id: str) -> str:
    return url_or_id.rstrip("/").rsplit("/", 1)[-1]


def _has_content(params: Mapping[str, Any]) -> bool:
    return bool(params.get("text") or params.get("blocks") or params.get("attachments"))


def _blocks_valid(blocks: Any) -> bool:
    """Cheap version of Slack's ``invalid_blocks``: a list of objects that each have a ``type``."""
    if blocks is None or blocks == "":
        return True
    return isinstance(blocks, list) and all(isinstance(b, dict) and "type" in b for b in blocks)


def _tz_offset_seconds(tz: str) -> int:
    try:
        from zoneinfo import ZoneInfo

        offset = datetime.now(UTC).astimezone(ZoneInfo(tz)).utcoffset()
    except Exception:  # unknown zone or no tz database: Slack would still answer, so do we
        return 0
    return int(offset.total_seconds()) if offset is not None else 0


def _random_trigger_id() -> str:
    """Same shape as Slack's trigger IDs: ``<digits>.<digits>.<32 hex>``."""
    return f"{secrets.randbelow(10**13):013d}.{secrets.randbelow(10**10):010d}.{secrets.token_hex(16)}"


# --------------------------------------------------------------------------------------------------
# Test-side request signing and payload builders
# --------------------------------------------------------------------------------------------------


def sign(signing_secret: str, body: bytes | str, timestamp: int | str | None = None) -> dict[str, str]:
    """Headers Slack would attach to ``body``: ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature``.

    Slack's v0 scheme: ``"v0=" + hex(HMAC-SHA256(secret, b"v0:" + timestamp + b":" + raw_body))``.
    Pass an old ``timestamp`` (e.g. ``int(time.time()) - 600``) to test replay rejection.
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode("ascii") + b":" + body
    digest = hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def slash_command_body(command: str, text: str = "", **fields: Any) -> bytes:
    """The ``application/x-www-form-urlencoded`` body Slack POSTs for a slash command.

    Returned as bytes because the signature covers the exact bytes sent; the fields (and their
    keyword arguments) are `slash_command_payload`'s.
    """
    return urlencode(slash_command_payload(command, text, **fields)).encode("ascii")


def slash_command_payload(
    command: str,
    text: str = "",
    *,
    response_url: str,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    channel_id: str = CHANNEL_ID,
    channel_name: str = CHANNEL_NAME,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    trigger_id: str | None = None,
    api_app_id: str = APP_ID,
    token: str = "deprecated-verification-token",
    **extra: str,
) -> dict[str, str]:
    """A slash command's fields: the form body over HTTP, the envelope ``payload`` in Socket Mode."""
    return {
        "token": token,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _random_trigger_id(),
        **extra,
    }


def block_actions_payload(
    action_id: str,
    value: str | None = None,
    *,
    response_url: str,
    block_id: str | None = None,
    message_blocks: list[JsonDict] | None = None,
    message_text: str = "",
    message_ts: str | None = None,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    channel_id: str = CHANNEL_ID,
    channel_name: str = CHANNEL_NAME,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    trigger_id: str | None = None,
    api_app_id: str = APP_ID,
    bot_user_id: str = BOT_USER_ID,
    bot_id: str = BOT_ID,
    is_ephemeral: bool = False,
    token: str = "deprecated-verification-token",
) -> JsonDict:
    """The JSON object of a ``block_actions`` interaction (a button click on a bot message).

    If ``block_id``/``value`` are omitted they are taken from the button with ``action_id`` in
    ``message_blocks``, so tests can click a button in blocks the bot actually sent.
    """
    button = _find_button(message_blocks or [], action_id)
    if button is not None:
        found_block_id, element = button
        block_id = block_id or found_block_id
        if value is None:
            value = element.get("value")
        button_text = element.get("text") or {"type": "plain_text", "text": action_id}
    else:
        button_text = {"type": "plain_text", "text": action_id, "emoji": True}
    message_ts = message_ts or f"{int(time.time()) - 1}.000100"
    action: JsonDict = {
        "action_id": action_id,
        "block_id": block_id or "actions",
        "text": button_text,
        "type": "button",
        "action_ts": f"{time.time():.6f}",
    }
    if value is not None:
        action["value"] = value
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": token,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": trigger_id or _random_trigger_id(),
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "message": {
            "type": "message",
            "user": bot_user_id,
            "bot_id": bot_id,
            "app_id": api_app_id,
            "team": team_id,
            "text": message_text,
            "ts": message_ts,
            "blocks": message_blocks or [],
        },
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }


def block_actions_body(action_id: str, value: str | None = None, **kwargs: Any) -> bytes:
    """Form body ``payload=<json>`` as Slack POSTs it; kwargs as for ``block_actions_payload``."""
    payload = block_actions_payload(action_id, value, **kwargs)
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode("ascii")


def _find_button(blocks: list[JsonDict], action_id: str) -> tuple[str, JsonDict] | None:
    for block in blocks:
        elements = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str(block.get("block_id") or "actions"), element
    return None


async def post_signed(
    url: str,
    body: bytes | str,
    secret: str,
    timestamp: int | str | None = None,
    *,
    content_type: str = "application/x-www-form-urlencoded",
    extra_headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, str, float]:
    """POST ``body`` to ``url`` signed with ``secret``; returns ``(status, text, elapsed_seconds)``.

    ``elapsed_seconds`` lets tests assert bolt acknowledged within Slack's 3-second budget.
    ``extra_headers`` override the signature headers (e.g. to send a tampered signature).
    """
    raw = body.encode("utf-8") if isinstance(body, str) else body
    headers = {"Content-Type": content_type, **sign(secret, raw, timestamp), **(extra_headers or {})}
    started = time.perf_counter()
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
        session.post(url, data=raw, headers=headers) as resp,
    ):
        text = await resp.text()
        return resp.status, text, time.perf_counter() - started


# --------------------------------------------------------------------------------------------------
# Serving aiohttp / bolt apps on an ephemeral port
# --------------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serve_bolt_app(
    bolt_app: AsyncApp, path: str = "/slack/events", host: str = "127.0.0.1"
) -> AsyncIterator[str]:
    """Serve a bolt ``AsyncApp`` over real HTTP like ``app.start()`` would; yields the events URL.

    Uses bolt's own aiohttp adapter (``app.web_app(path=...)``, i.e. ``AsyncSlackAppServer``) so the
    request goes through the exact code path production uses, but on an ephemeral port in the
    current loop instead of ``web.run_app`` (which blocks and binds 0.0.0.0:3000).
    """
    async with serve_app(bolt_app.web_app(path=path), host) as (_, base):
        yield f"{base}{path}"


__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "CHANNEL_ID",
    "CHANNEL_NAME",
    "SIGNATURE_MAX_AGE_SECONDS",
    "TEAM_ID",
    "USER_ID",
    "USER_NAME",
    "ApiCall",
    "MockSlack",
    "ResponseUrlPost",
    "SocketAck",
    "SocketConnection",
    "block_actions_body",
    "block_actions_payload",
    "post_signed",
    "serve_bolt_app",
    "sign",
    "slash_command_body",
    "slash_command_payload",
]
