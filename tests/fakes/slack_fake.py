"""A local stand-in for Slack, for end-to-end tests of the real slack-bolt `AsyncApp`.

The Slack bot is only trustworthy if the real bolt pipeline (signature check, authorization through
`auth.test`, ack semantics, `respond()` over `response_url`, retries) runs in the tests, so this
fakes what bolt talks to, on 127.0.0.1 inside the test's event loop:

* the Web API (`https://slack.com/api/<method>`): `MockSlack` at `mock.api_url`;
* each interaction's `response_url`: `mock.new_response_url()`;
* Socket Mode: `apps.connections.open` (with an `xapp-` token) hands out a `ws://` URL of the same
  mock, which says `hello`, sends envelopes (`send_envelope`), records acks (`wait_for_ack`) and can
  ask the client to reconnect (`request_disconnect`).

Like Slack it refuses messages past the Block Kit limits (`block_problems`: `invalid_blocks`), and
it signs requests (`sign`, `post_signed`) and builds the bodies Slack sends for slash commands and
`block_actions` (`slash_command_body`, `block_actions_body`).
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
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from tests.fakes.harness import LocalServer, first_match, serve_app, utf16_len

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)

# Slack ids: upper-case alphanumerics with a one-letter type prefix (T team, U user, B bot, C channel, A app).
TEAM_ID, TEAM_NAME, TEAM_DOMAIN = "T0000TEST", "Quotebot Test", "quotebot-test"
BOT_USER_ID, BOT_ID, BOT_NAME, APP_ID = "U0000BOT", "B0000BOT", "quotebot", "A0000APP"
USER_ID, USER_NAME, CHANNEL_ID, CHANNEL_NAME = "U0000USER", "alice", "C0000GENERAL", "general"
#: What `auth.test` reports in `X-OAuth-Scopes`; bolt copies it into `context.authorize_result`.
BOT_SCOPES = "commands,chat:write,chat:write.public,users:read,channels:read,groups:read,im:write"
#: A response_url may be used 5 times (within 30 minutes).
RESPONSE_URL_USES = 5

# Block Kit limits (https://api.slack.com/reference/block-kit): Slack answers invalid_blocks past them.
LIMIT_BLOCKS, LIMIT_ACTION_ELEMENTS, LIMIT_CONTEXT_ELEMENTS = 50, 25, 10
#: Text limits by block type, then by element type (a button's label, its value and action_id).
LIMIT_BLOCK_TEXT = {"section": 3000, "header": 150, "context": 2000}
LIMIT_BUTTON = {"text": 75, "value": 2000, "action_id": 255}

JsonDict = dict[str, Any]


@dataclass
class ApiCall:
    """One Web API call: `params` merges the query and the JSON body (slack_sdk uses either)."""

    method: str
    params: JsonDict
    token: str | None
    status: int = 0
    response: JsonDict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """HTTP 200 with `"ok": true`: what the SDK takes for success."""
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass
class ResponseUrlPost:
    """One POST to a `response_url` (what `respond()` sends)."""

    response_id: str
    body: JsonDict

    def __getattr__(self, name: str) -> Any:
        """`text`, `blocks`, `response_type` (None: Slack's default, ephemeral), `replace_original`."""
        if name in ("text", "blocks", "response_type", "replace_original"):
            return self.body.get(name)
        raise AttributeError(name)


@dataclass
class SocketConnection:
    """One Socket Mode WebSocket, opened with a URL from `apps.connections.open` (a single-use ticket)."""

    connection_id: str
    ws: web.WebSocketResponse | None = None
    opened_at: float | None = None
    closed_at: float | None = None

    @property
    def open(self) -> bool:
        """Connected (`hello` sent) and not closed by either side."""
        return self.ws is not None and self.closed_at is None and not self.ws.closed


@dataclass
class SocketAck:
    """What the client sent back for an envelope: `{"envelope_id": …, "payload"?: …}`."""

    envelope_id: str
    connection_id: str
    payload: JsonDict | None


RESPONSE_URL = "(response_url)"  # the failure queue shared by every response_url


class MockSlack(LocalServer):
    """Mock Web API, `response_url` endpoint and Socket Mode server.

    Lenient: unknown users are made up as ordinary members. A request without a token gets
    `not_authed`. `api_url` ends with `/` because slack_sdk joins method names with `urljoin`.
    """

    def __init__(self) -> None:
        self._calls: list[ApiCall] = []
        self._responses: list[ResponseUrlPost] = []
        self._failures: dict[str, list[tuple[int, JsonDict, dict[str, str], int | None]]] = {}
        self._users: dict[str, JsonDict] = {}
        self._response_urls: dict[str, int] = {}  # id → uses
        self._sockets: dict[str, SocketConnection] = {}
        self._socket_acks: list[SocketAck] = []
        self._last_ts_micros = 0
        self._history: dict[str, list[JsonDict]] = {}  # channel → messages posted, oldest first
        self.response_url_failures = 0
        #: Seconds a Web API method waits before answering (e.g. `{"chat.postMessage": 3}`).
        self.delays: dict[str, float] = {}
        self._methods: dict[str, Callable[[ApiCall], JsonDict]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "conversations.history": self._conversations_history,
            "users.info": self._users_info,
            "apps.connections.open": self._apps_connections_open,
            "oauth.v2.access": self._oauth_v2_access,
        }
        self.add_user(BOT_USER_ID, name=BOT_NAME, is_bot=True, bot_id=BOT_ID)
        self.add_user(USER_ID, name=USER_NAME)

    def routes(self, app: web.Application) -> None:
        """The Web API, response URLs, Socket Mode."""
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{response_id}", self._handle_response_url)
        app.router.add_get("/socket/{connection_id}", self._handle_socket)

    async def before_stop(self) -> None:
        """Close open sockets (going away, as Slack does), else aiohttp waits for their handlers."""
        for connection in self._sockets.values():
            if connection.open and connection.ws is not None:
                await connection.ws.close(code=aiohttp.WSCloseCode.GOING_AWAY)

    @property
    def recent(self) -> list[Any]:
        """The last calls and responses, for a timed-out wait's message."""
        return [*self._calls[-8:], *self._responses[-4:]]

    @property
    def api_url(self) -> str:
        """For `AsyncWebClient(base_url=…)`."""
        return f"{self.base_url}/api/"

    def add_user(self, user_id: str, *, name: str | None = None, is_owner: bool = False, **extra: Any) -> JsonDict:
        """Register (or replace) a user of `users.info`; `is_admin`/`is_owner` are what admin checks read."""
        name = name or user_id.lower()
        profile = {"real_name": name.title(), "display_name": name, "team": TEAM_ID}
        user = {"id": user_id, "team_id": TEAM_ID, "name": name, "deleted": False, "real_name": name.title()}
        user |= {"tz": "UTC", "tz_label": "UTC", "tz_offset": 0, "profile": profile, "updated": int(time.time())}
        user |= {"is_admin": is_owner, "is_owner": is_owner, "is_primary_owner": False, "is_bot": False}
        user |= {"is_restricted": False, "is_ultra_restricted": False, "is_app_user": False} | extra
        self._users[user_id] = user
        return user

    def fail_next(self, method: str, status: int = 429, retry_after: int = 1, *, times: int | None = 1) -> None:
        """The next `times` calls of `method` fail at the HTTP level (default: rate limited, with
        `Retry-After`, which slack_sdk's retry handler sleeps before trying again)."""
        error = "ratelimited" if status == 429 else "fatal_error" if status >= 500 else "request_failed"
        headers = {"Retry-After": str(retry_after)} if status == 429 else {}
        self._failures.setdefault(method, []).append((status, {"ok": False, "error": error}, headers, times))

    def error_next(self, method: str, error: str = "channel_not_found", *, times: int | None = 1) -> None:
        """The next `times` calls of `method` (None: every one) answer 200 `{"ok": false, "error": error}`."""
        self._failures.setdefault(method, []).append((200, {"ok": False, "error": error}, {}, times))

    def fail_response_urls(self, status: int = 429, retry_after: int | None = 1, *, times: int | None = 1) -> None:
        """The next `times` POSTs to any `response_url` (None: every one) fail with `status`.

        Slack rate-limits response_url posts like Web API calls: 429 with `Retry-After`. Failed
        attempts are counted in `response_url_failures` and not recorded as responses.
        """
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self._failures.setdefault(RESPONSE_URL, []).append((status, {}, headers, times))

    def _pop_failure(self, key: str) -> tuple[int, JsonDict, dict[str, str]] | None:
        queue = self._failures.get(key)
        if not queue:
            return None
        status, body, headers, times = queue[0]
        if times is not None:
            queue.pop(0)
            if times > 1:
                queue.insert(0, (status, body, headers, times - 1))
        return status, body, headers

    def new_response_url(self) -> str:
        """A fresh `response_url` served by this mock."""
        response_id = uuid.uuid4().hex
        self._response_urls[response_id] = 0
        return f"{self.base_url}/response/{response_id}"

    # ------------------------------------------------------------ inspecting and waiting

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """Web API calls in arrival order, failed attempts included (see `ApiCall.ok`)."""
        return [c for c in self._calls if method is None or c.method == method]

    def responses(self, url_or_id: str | None = None) -> list[ResponseUrlPost]:
        """POSTs to one `response_url` (or its id), or to any when none is named."""
        if url_or_id is None:
            return list(self._responses)
        response_id = url_or_id.rstrip("/").rsplit("/", 1)[-1]
        return [r for r in self._responses if r.response_id == response_id]

    async def wait_for_call(self, method: str, timeout: float = 5.0) -> ApiCall:
        """The first call of `method` (bolt acks first and calls the API after: calls come late)."""
        return await self.wait_for(lambda: first_match(self.calls(method)), timeout, f"a {method!r} call")

    async def wait_for_response(
        self, url_or_id: str, predicate: Callable[[ResponseUrlPost], bool] | None = None, timeout: float = 5.0
    ) -> ResponseUrlPost:
        """The first POST to this `response_url` matching `predicate`."""

        def find() -> ResponseUrlPost | None:
            return first_match(p for p in self.responses(url_or_id) if predicate is None or predicate(p))

        return await self.wait_for(find, timeout, f"a POST to response_url {url_or_id}")

    @property
    def sockets(self) -> list[SocketConnection]:
        """Socket Mode connections the client opened (after `hello`), oldest first."""
        return [c for c in self._sockets.values() if c.opened_at is not None]

    def socket_acks(self) -> list[SocketAck]:
        """Every ack the client sent back over any socket, in arrival order."""
        return list(self._socket_acks)

    async def wait_for_socket(self, number: int = 1, timeout: float = 5.0) -> SocketConnection:
        """The `number`-th Socket Mode connection (1 = first), once it was sent `hello`."""

        def find() -> SocketConnection | None:
            return self.sockets[number - 1] if len(self.sockets) >= number else None

        return await self.wait_for(find, timeout, f"Socket Mode connection #{number}")

    async def wait_for_sockets_closed(self, timeout: float = 5.0) -> list[SocketConnection]:
        """Until every connection opened so far is closed; them all."""

        def find() -> list[SocketConnection] | None:
            return None if any(c.closed_at is None for c in self.sockets) else self.sockets

        return await self.wait_for(find, timeout, "every Socket Mode connection to close")

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> SocketAck:
        """The client's ack for `envelope_id` (Slack wants it within 3 seconds)."""
        acks = self._socket_acks
        return await self.wait_for(
            lambda: first_match(a for a in acks if a.envelope_id == envelope_id),
            timeout,
            f"an ack for envelope {envelope_id}",
        )

    async def send_envelope(self, envelope_type: str, payload: JsonDict) -> str:
        """A Socket Mode envelope (`slash_commands`, `interactive`) on the newest open socket; its id.

        `accepts_response_payload` is what Slack sends: true for slash commands only.
        """
        connection = self._newest_open_socket()
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "type": envelope_type, "payload": payload}
        envelope["accepts_response_payload"] = envelope_type == "slash_commands"
        await connection.ws.send_str(json.dumps(envelope, ensure_ascii=False))  # type: ignore[union-attr]
        return envelope_id

    async def request_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to move to a new connection, as Slack does every few hours."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-mock"}}
        await self._newest_open_socket().ws.send_str(json.dumps(message))  # type: ignore[union-attr]

    def _newest_open_socket(self) -> SocketConnection:
        connection = first_match(c for c in reversed(self.sockets) if c.open)
        if connection is None:
            raise AssertionError(f"no open Socket Mode connection; connections: {self.sockets!r}")
        return connection

    # ------------------------------------------------------------ HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        params: JsonDict = dict(request.query)
        if request.can_read_body:  # slack_sdk sends a JSON body (chat.postMessage) or only a query (users.info)
            params |= await request.json() if request.content_type == "application/json" else dict(await request.post())
        auth = request.headers.get("Authorization", "")
        token = (auth[7:].strip() if auth.lower().startswith("bearer ") else "") or params.get("token")
        call = ApiCall(request.match_info["method"], params, token)
        self._calls.append(call)
        if delay := self.delays.get(call.method):  # a slow Slack: the call is recorded now, answered later
            await self.notify()
            await asyncio.sleep(delay)
        headers: dict[str, str] = {}
        failure = self._pop_failure(call.method)
        if failure is not None:
            status, body, headers = failure
        elif not call.token and call.method != "oauth.v2.access":  # that one authenticates the app (Basic)
            status, body = 200, {"ok": False, "error": "not_authed"}
        else:
            status, body = 200, {"ok": True} | self._methods.get(call.method, lambda _: {})(call)
            headers = {"X-OAuth-Scopes": BOT_SCOPES} if call.method == "auth.test" else {}
        call.status, call.response = status, body
        await self.notify()
        return web.json_response(body, status=status, headers=headers)

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        response_id = request.match_info["response_id"]
        if response_id not in self._response_urls:
            return web.Response(status=404, text="no_such_response_url")
        if failure := self._pop_failure(RESPONSE_URL):
            self.response_url_failures += 1
            return web.Response(status=failure[0], text="rate_limited", headers=failure[2])
        if self._response_urls[response_id] >= RESPONSE_URL_USES:
            return web.Response(status=404, text="used_url")
        try:
            body = json.loads(await request.text())
        except json.JSONDecodeError:
            return web.Response(status=400, text="invalid_payload")
        if not isinstance(body, dict):
            return web.Response(status=400, text="invalid_payload")
        if not (body.get("text") or body.get("blocks") or body.get("delete_original")):
            return web.Response(status=400, text="no_text")
        if problems := block_problems(body.get("blocks")):
            log.warning("MockSlack refused blocks past Slack's limits: %s", "; ".join(problems))
            return web.Response(status=400, text="invalid_blocks")
        self._response_urls[response_id] += 1
        self._responses.append(ResponseUrlPost(response_id, body))
        await self.notify()
        return web.Response(status=200, text="ok")

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        connection = self._sockets.get(request.match_info["connection_id"])
        if connection is None or connection.ws is not None:  # Slack's socket URLs are single-use tickets
            return web.Response(status=401, text="invalid_ticket")
        ws = web.WebSocketResponse(autoping=True, timeout=2.0)  # autoping answers the SDK's pings, as Slack does
        await ws.prepare(request)
        connection.ws, connection.opened_at = ws, time.monotonic()
        hello = {"type": "hello", "num_connections": sum(c.open for c in self._sockets.values())}
        hello |= {"debug_info": {"host": "applink-mock"}, "connection_info": {"app_id": APP_ID}}
        await ws.send_str(json.dumps(hello))
        await self.notify()
        try:
            async for msg in ws:
                message = json.loads(msg.data) if msg.type == aiohttp.WSMsgType.TEXT else None
                if isinstance(message, dict) and "envelope_id" in message:
                    payload = message.get("payload")
                    ack = SocketAck(str(message["envelope_id"]), connection.connection_id, payload or None)
                    self._socket_acks.append(ack)
                    await self.notify()
        finally:
            connection.closed_at = time.monotonic()
            await self.notify()
        return ws

    # ------------------------------------------------------------ Web API methods

    def _apps_connections_open(self, call: ApiCall) -> JsonDict:
        if not (call.token or "").startswith("xapp-"):  # only app-level tokens open Socket Mode connections
            return {"ok": False, "error": "not_allowed_token_type"}
        connection_id = secrets.token_hex(8)
        self._sockets[connection_id] = SocketConnection(connection_id)
        return {"url": f"ws://{self.host}:{self.port}/socket/{connection_id}?ticket={uuid.uuid4()}&app_id={APP_ID}"}

    def _auth_test(self, call: ApiCall) -> JsonDict:
        team = team_of(call.token)
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/", "team": TEAM_NAME, "user": BOT_NAME, "team_id": team,
            "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False,
        }  # fmt: skip

    def _oauth_v2_access(self, call: ApiCall) -> JsonDict:
        """An install: the code `code-<TEAM>` buys that workspace's bot token `xoxb-<TEAM>`."""
        team = str(call.params.get("code", "")).removeprefix("code-")
        if not team.startswith("T"):
            return {"ok": False, "error": "invalid_code"}
        bot = {"access_token": f"xoxb-{team}", "token_type": "bot", "scope": BOT_SCOPES, "bot_user_id": BOT_USER_ID}
        return bot | {"app_id": APP_ID, "team": {"id": team, "name": team}, "enterprise": None,
                      "authed_user": {"id": USER_ID}, "is_enterprise_install": False}  # fmt: skip

    def _chat_post_message(self, call: ApiCall) -> JsonDict:
        channel, params = call.params.get("channel"), call.params
        if not channel or not isinstance(channel, str):
            return {"ok": False, "error": "channel_not_found"}
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return {"ok": False, "error": "no_text"}
        if problems := block_problems(params.get("blocks")):
            log.warning("MockSlack refused blocks past Slack's limits: %s", "; ".join(problems))
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        micros = self._last_ts_micros = max(int(time.time() * 1_000_000), self._last_ts_micros + 1)
        ts = f"{micros // 1_000_000}.{micros % 1_000_000:06d}"  # strictly increasing: a message id
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID, "team": TEAM_ID}
        message |= {"text": params.get("text") or "", "ts": ts}
        self._history.setdefault(channel, []).append(
            message | ({"blocks": params["blocks"]} if params.get("blocks") else {})
        )
        return {
            "channel": channel,
            "ts": ts,
            "message": message | ({"blocks": params["blocks"]} if params.get("blocks") else {}),
        }

    def _conversations_history(self, call: ApiCall) -> JsonDict:
        """The channel's messages, newest first (`limit`, default 100): what `chat.postMessage` stored."""
        channel = call.params.get("channel")
        if not channel or not isinstance(channel, str):
            return {"ok": False, "error": "channel_not_found"}
        limit = int(call.params.get("limit") or 100)
        found = list(reversed(self._history.get(channel, [])))
        return {"messages": [dict(m) for m in found[:limit]], "has_more": len(found) > limit}

    def _users_info(self, call: ApiCall) -> JsonDict:
        user_id = call.params.get("user")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        return {"user": dict(self._users.get(user_id) or self.add_user(user_id))}


def block_problems(blocks: Any) -> list[str]:
    """What in a message's blocks Slack would refuse (`invalid_blocks`): shape, counts, text lengths."""
    if blocks is None or blocks == "":
        return []
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and "type" in b for b in blocks):
        return ["blocks must be a list of objects with a type"]
    problems = [f"{len(blocks)} blocks > {LIMIT_BLOCKS}"] if len(blocks) > LIMIT_BLOCKS else []

    def check(what: str, text: Any, limit: int) -> None:
        if utf16_len(text) > limit:
            problems.append(f"{what}: {utf16_len(text)} > {limit}")

    for number, block in enumerate(blocks):
        kind, elements = block["type"], block.get("elements") or []
        if kind in ("section", "header"):
            check(f"{number}.{kind}.text", (block.get("text") or {}).get("text"), LIMIT_BLOCK_TEXT[kind])
        for i, field_ in enumerate(block.get("fields") or []):
            check(f"{number}.fields.{i}", field_.get("text"), 2000)
        if kind == "context" and len(elements) > LIMIT_CONTEXT_ELEMENTS:
            problems.append(f"{number}.context: {len(elements)} elements > {LIMIT_CONTEXT_ELEMENTS}")
        if kind == "actions" and len(elements) > LIMIT_ACTION_ELEMENTS:
            problems.append(f"{number}.actions: {len(elements)} elements > {LIMIT_ACTION_ELEMENTS}")
        for i, element in enumerate(elements):
            if kind == "context":
                check(f"{number}.context.{i}", element.get("text"), LIMIT_BLOCK_TEXT["context"])
            elif element.get("type") == "button":
                for key, limit in LIMIT_BUTTON.items():
                    value = element.get(key)
                    check(f"{number}.button.{key}", value.get("text") if isinstance(value, dict) else value, limit)
    return problems


# ---------------------------------------------------------------- what Slack sends to the bot


def sign(signing_secret: str, body: bytes, timestamp: int | str | None = None) -> dict[str, str]:
    """The headers Slack signs `body` with (v0: HMAC-SHA256 of `v0:{timestamp}:{body}`); an old
    `timestamp` (10 minutes back) tests replay rejection."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(signing_secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


async def post_signed(
    url: str,
    body: bytes,
    secret: str,
    timestamp: int | str | None = None,
    *,
    extra_headers: dict[str, str] | None = None,
) -> tuple[int, str, float]:
    """POST a form body signed with `secret`: (status, text, seconds taken: bolt must ack within 3).

    `extra_headers` override the signature headers (a malformed timestamp, a tampered signature).
    """
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(secret, body, timestamp)}
    headers |= extra_headers or {}
    started = time.perf_counter()
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
        session.post(url, data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.text(), time.perf_counter() - started


def _trigger_id() -> str:
    """Shaped like Slack's: `<digits>.<digits>.<32 hex>`."""
    return f"{secrets.randbelow(10**13):013d}.{secrets.randbelow(10**10):010d}.{secrets.token_hex(16)}"


def team_of(token: str | None) -> str:
    """The workspace a bot token belongs to: `xoxb-<TEAM>` from an OAuth install, else the one test team."""
    rest = (token or "").removeprefix("xoxb-")
    return rest if rest.startswith("T") and rest.isalnum() else TEAM_ID


def slash_command_payload(
    command: str, text: str = "", *, response_url: str, user_id: str = USER_ID, team_id: str = TEAM_ID
) -> dict[str, str]:
    """A slash command's fields: the form body over HTTP, the envelope `payload` in Socket Mode."""
    return {
        "token": "deprecated-verification-token", "team_id": team_id, "team_domain": TEAM_DOMAIN,
        "channel_id": CHANNEL_ID, "channel_name": CHANNEL_NAME, "user_id": user_id, "user_name": USER_NAME,
        "command": command, "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": _trigger_id(),
    }  # fmt: skip


def slash_command_body(command: str, text: str = "", **fields: Any) -> bytes:
    """The form body Slack POSTs for a slash command (bytes: the signature covers exactly them)."""
    return urlencode(slash_command_payload(command, text, **fields)).encode("ascii")


def block_actions_payload(
    action_id: str, value: str | None = None, *, response_url: str, message_blocks: Iterable[JsonDict] = ()
) -> JsonDict:
    """A `block_actions` interaction: a click on the button `action_id` of blocks the bot sent
    (its block id, label and, unless given, value are read from them)."""
    blocks = list(message_blocks)
    found = first_match(
        (str(b.get("block_id") or "actions"), e)
        for b in blocks
        for e in b.get("elements") or []
        if e.get("action_id") == action_id
    )
    block_id, element = found or ("actions", {})
    value = element.get("value") if value is None else value
    action = {"action_id": action_id, "block_id": block_id, "type": "button", "action_ts": f"{time.time():.6f}"}
    action |= {"text": element.get("text") or {"type": "plain_text", "text": action_id}}
    ts = f"{int(time.time()) - 1}.000100"
    message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID, "team": TEAM_ID}
    return {
        "type": "block_actions", "api_app_id": APP_ID, "token": "deprecated-verification-token",
        "user": {"id": USER_ID, "username": USER_NAME, "name": USER_NAME, "team_id": TEAM_ID},
        "container": {"type": "message", "message_ts": ts, "channel_id": CHANNEL_ID, "is_ephemeral": False},
        "trigger_id": _trigger_id(), "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN}, "enterprise": None,
        "is_enterprise_install": False, "channel": {"id": CHANNEL_ID, "name": CHANNEL_NAME},
        "message": message | {"text": "", "ts": ts, "blocks": blocks}, "state": {"values": {}},
        "response_url": response_url, "actions": [action | ({"value": value} if value is not None else {})],
    }  # fmt: skip


def block_actions_body(action_id: str, value: str | None = None, **kwargs: Any) -> bytes:
    """The form body `payload=<json>` Slack POSTs for a click."""
    payload = block_actions_payload(action_id, value, **kwargs)
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode("ascii")


@contextlib.asynccontextmanager
async def serve_bolt_app(bolt_app: AsyncApp, path: str = "/slack/events") -> AsyncIterator[str]:
    """Serve a bolt app through bolt's own aiohttp adapter (the production path) on a free port; the events URL."""
    async with serve_app(bolt_app.web_app(path=path)) as (_, base):
        yield f"{base}{path}"
