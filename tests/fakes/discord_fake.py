"""An in-process fake of Discord (gateway + REST) for end-to-end tests of real discord.py clients.

Most integration bugs live in payload shapes (what the library sends, what it expects back), which
mocks of discord.py objects hide. This aiohttp server on 127.0.0.1 speaks enough of Discord's v10
gateway and REST API for a `discord.Client` to log in, receive interactions and answer them, and
records every request. The shapes follow discord.py 2.7's `http.py`, `gateway.py`, `state.py` and
`webhook/async_.py`; comments mark where discord.py is strict (an exact `Content-Type`, a `Via`
header on 429s, `attachment_size_limit` in interactions). Like Discord it refuses (400, code 50035)
bodies past the documented limits (`limit_problems`) and malformed command definitions, so a bot
cannot pass its tests with a reply the real API would reject. One gateway session per shard: an
event goes to the shard that holds its guild ((guild id >> 22) % shard count), as Discord routes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

from tests.fakes.harness import LocalServer, first_match, utf16_len

log = logging.getLogger(__name__)

DISCORD_EPOCH_MS: Final = 1_420_070_400_000
API_VERSION: Final = 10
ATTACHMENT_SIZE_LIMIT: Final = 10 * 1024 * 1024  # discord.py reads it from every interaction
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_HELLO, OP_HEARTBEAT_ACK = 0, 1, 2, 10, 11
INTENT_GUILD_MEMBERS, INTENT_GUILD_MESSAGES = 1 << 1, 1 << 9
INTERACTION_APPLICATION_COMMAND, INTERACTION_COMPONENT, INTERACTION_AUTOCOMPLETE = 2, 3, 4
CALLBACK_CHANNEL_MESSAGE, CALLBACK_DEFERRED_CHANNEL_MESSAGE = 4, 5
CALLBACK_DEFERRED_UPDATE_MESSAGE, CALLBACK_UPDATE_MESSAGE, CALLBACK_AUTOCOMPLETE_RESULT = 6, 7, 8
#: Which callback types Discord accepts for each interaction type (9, a modal, is not faked).
_ALLOWED_CALLBACKS: Final = {2: {4, 5}, 3: {4, 5, 6, 7}, 4: {8}}
FLAG_SUPPRESS_EMBEDS, FLAG_EPHEMERAL, FLAG_LOADING = 1 << 2, 1 << 6, 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS, FLAG_COMPONENTS_V2 = 1 << 12, 1 << 15
#: Flags a bot may set itself when sending; everything else is Discord's.
_SETTABLE_FLAGS: Final = FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2
MESSAGE_DEFAULT, MESSAGE_CHAT_INPUT_COMMAND = 0, 20
ALL_PERMISSIONS: Final = discord.Permissions.all().value
#: Roughly what @everyone gets in a new guild, so that ordinary users can use commands.
DEFAULT_EVERYONE_PERMISSIONS: Final = discord.Permissions(
    create_instant_invite=True, add_reactions=True, view_channel=True, send_messages=True, embed_links=True,
    attach_files=True, read_message_history=True, use_external_emojis=True, connect=True, speak=True,
    change_nickname=True, use_application_commands=True, send_messages_in_threads=True,
).value  # fmt: skip
#: The bot's managed role: the usual invite permissions of a chat bot.
DEFAULT_BOT_PERMISSIONS: Final = (
    DEFAULT_EVERYONE_PERMISSIONS | discord.Permissions(manage_messages=True, manage_threads=True).value
)
CHANNEL_GUILD_TEXT: Final = 0

# Discord's documented limits: the real API answers 400 (50035 Invalid Form Body) past any of them.
LIMIT_CONTENT, LIMIT_EMBEDS, LIMIT_EMBEDS_TOTAL, LIMIT_EMBED_FIELDS = 2000, 10, 6000, 25
#: Per-embed text limits, by path in the embed.
LIMIT_EMBED_TEXT: Final = {
    ("title",): 256, ("description",): 4096, ("footer", "text"): 2048, ("author", "name"): 256,
}  # fmt: skip
LIMIT_FIELD_NAME, LIMIT_FIELD_VALUE, LIMIT_URL = 256, 1024, 2048
LIMIT_CUSTOM_ID, LIMIT_BUTTON_LABEL, LIMIT_ACTION_ROWS, LIMIT_ROW_COMPONENTS = 100, 80, 5, 5
LIMIT_CHOICES, LIMIT_CHOICE_NAME, LIMIT_COMMAND_DESCRIPTION = 25, 100, 100

_API_PATH = re.compile(r"^/api/v(?P<version>\d+)(?P<path>/.*)$")
_ID_IN_PATH = re.compile(r"/(\d{5,}|fake-interaction-[^/]+)")


def _absent(*keys: str, value: Any = None) -> dict[str, Any]:
    """Payload keys the fake has nothing to say about, all with one value (None, 0, [] …)."""
    return {key: copy.copy(value) for key in keys}


class SnowflakeFactory:
    """Time-based, strictly increasing snowflakes: discord.py derives `created_at` and interaction
    expiry from them, so random integers would make interactions look years old."""

    def __init__(self, worker_id: int = 1) -> None:
        self._worker_id, self._last_ms, self._increment = worker_id & 0x1F, 0, 0

    def next(self) -> int:
        """A new snowflake, unique within this factory."""
        now_ms = max(int(time.time() * 1000), self._last_ms)
        self._increment = self._increment + 1 if now_ms == self._last_ms else 0
        self._last_ms = now_ms
        return ((now_ms - DISCORD_EPOCH_MS) << 22) | (self._worker_id << 17) | (self._increment & 0xFFF)


new_snowflake = SnowflakeFactory(worker_id=7).next


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


# ---------------------------------------------------------------- what the test configures


@dataclass
class FakeUser:
    """A Discord user (human or bot)."""

    username: str = "tester"
    id: int = field(default_factory=new_snowflake)
    global_name: str | None = None
    bot: bool = False
    #: The client's language, sent as each interaction's `locale`.
    locale: str = "en-US"

    def to_payload(self) -> dict[str, Any]:
        """The user object as Discord sends it (pomelo usernames: discriminator "0")."""
        payload = {"id": str(self.id), "username": self.username, "discriminator": "0", "global_name": self.global_name}
        payload |= _absent(
            "avatar", "avatar_decoration_data", "banner", "accent_color", "primary_guild", "collectibles"
        )
        return payload | {"public_flags": 0, "flags": 0} | ({"bot": True} if self.bot else {})


@dataclass
class FakeRole:
    """A guild role; `permissions` is the raw permission bit set."""

    name: str
    id: int = field(default_factory=new_snowflake)
    permissions: int = 0
    position: int = 1
    managed: bool = False
    bot_id: int | None = None

    def to_payload(self) -> dict[str, Any]:
        """The role object as in GUILD_CREATE."""
        payload: dict[str, Any] = {"id": str(self.id), "name": self.name, "permissions": str(self.permissions)}
        payload |= {"position": self.position, "managed": self.managed, "color": 0, "hoist": False, "flags": 0}
        payload |= {"colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None}}
        payload |= _absent("icon", "unicode_emoji") | {"mentionable": False}
        return payload | ({"tags": {"bot_id": str(self.bot_id)}} if self.bot_id is not None else {})


@dataclass
class FakeChannel:
    """A guild text channel."""

    name: str = "general"
    id: int = field(default_factory=new_snowflake)
    type: int = CHANNEL_GUILD_TEXT
    position: int = 0

    def to_payload(self, guild_id: int | None = None) -> dict[str, Any]:
        """The channel object; `guild_id` is left out inside GUILD_CREATE, as Discord does."""
        payload = {"id": str(self.id), "type": self.type, "name": self.name, "position": self.position}
        payload |= _absent("parent_id", "topic", "last_message_id") | {"nsfw": False, "flags": 0}
        payload |= {"rate_limit_per_user": 0, "permission_overwrites": []}
        return payload | ({"guild_id": str(guild_id)} if guild_id is not None else {})


@dataclass
class FakeMember:
    """A user's membership of a guild."""

    user: FakeUser
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=_now_iso)

    def to_payload(
        self, *, with_user: bool = True, roles: Sequence[int] | None = None, permissions: int | None = None
    ) -> dict[str, Any]:
        """The guild member object; interactions add the resolved `permissions` string."""
        payload = {"roles": [str(r) for r in (self.roles if roles is None else roles)], "nick": self.nick}
        payload |= _absent("avatar", "banner", "premium_since", "communication_disabled_until")
        payload |= {"joined_at": self.joined_at, "deaf": False, "mute": False, "pending": False, "flags": 0}
        payload |= {"unusual_dm_activity_until": None} | ({"user": self.user.to_payload()} if with_user else {})
        return payload | ({"permissions": str(permissions)} if permissions is not None else {})


@dataclass
class FakeGuild:
    """A guild announced by GUILD_CREATE; @everyone is made from `everyone_permissions` (id = guild id)."""

    name: str = "Fake Guild"
    id: int = field(default_factory=new_snowflake)
    channels: list[FakeChannel] = field(default_factory=lambda: [FakeChannel("general")])
    roles: list[FakeRole] = field(default_factory=list)
    members: list[FakeMember] = field(default_factory=list)
    owner_id: int | None = None
    everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS
    locale: str = "en-US"

    def get_channel(self, channel_id: int) -> FakeChannel | None:
        """A channel by id."""
        return next((c for c in self.channels if c.id == channel_id), None)

    def get_member(self, user_id: int) -> FakeMember | None:
        """A member by user id."""
        return next((m for m in self.members if m.user.id == user_id), None)

    def text_channels(self) -> list[FakeChannel]:
        """Channels of type GUILD_TEXT."""
        return [c for c in self.channels if c.type == CHANNEL_GUILD_TEXT]

    def permissions_for_roles(self, role_ids: Iterable[int]) -> int:
        """Guild-level permissions of a member holding `role_ids` (no channel overwrites)."""
        value = self.everyone_permissions
        for role in (r for r in self.roles if r.id in set(role_ids)):
            value |= role.permissions
        return ALL_PERMISSIONS if value & discord.Permissions(administrator=True).value else value


# ---------------------------------------------------------------- what the test inspects


@dataclass
class RecordedRequest:
    """One REST request (`path` relative to the API root, `body` decoded JSON) and the fake's answer."""

    index: int
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    status: int = 0
    response: Any = None
    unhandled: bool = False

    @property
    def data(self) -> dict[str, Any]:
        """`body["data"]` of an interaction callback (empty if absent)."""
        data = self.body.get("data") if isinstance(self.body, dict) else None
        return data if isinstance(data, dict) else {}

    def __str__(self) -> str:
        return f"#{self.index} {self.method} {self.path} -> {self.status}"


@dataclass(frozen=True)
class SentInteraction:
    """An INTERACTION_CREATE the fake dispatched; `request_index` is where waits for its answer start."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    request_index: int


@dataclass
class _Interaction:
    """Server-side state of one interaction: what was acknowledged, which message is the original."""

    sent: SentInteraction
    user: FakeUser
    component_message_id: int | None = None
    response_type: int | None = None
    original_message_id: int | None = None
    loading: bool = False
    autocomplete_choices: list[dict[str, Any]] | None = None


@dataclass
class _Failure:
    method: str
    path: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    remaining: int


@dataclass
class _Session:
    id: str
    intents: int
    ws: web.WebSocketResponse | None
    sequence: int = 0
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class _ApiError(Exception):
    """Raised by route handlers to answer with a Discord-style JSON error."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class DiscordPatch:
    """Points discord.py's REST base and default gateway at the fake, and restores them (LIFO).

    Every REST URL is `Route.BASE + path` (webhooks and callbacks too); an unsharded client never
    asks `GET /gateway` but connects to `DiscordWebSocket.DEFAULT_GATEWAY`.
    """

    def __init__(self, api_base_url: str, gateway_url: str) -> None:
        self.api_base_url, self.gateway_url = api_base_url.rstrip("/"), yarl.URL(gateway_url)
        self._saved: list[tuple[str, yarl.URL]] = []

    def __enter__(self) -> DiscordPatch:
        self._saved.append((discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY))
        discord.http.Route.BASE = self.api_base_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self.gateway_url
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved.pop()


# ---------------------------------------------------------------- the fake


class FakeDiscord(LocalServer):
    """A fake Discord gateway + REST API on 127.0.0.1 for a real discord.py client.

    `guilds` default to one guild with #general and `default_user` (who clicks and types when a
    helper gets no `user`); the bot user's id is the application id. With `token` set, REST and
    IDENTIFY must carry it (else 401 / close code 4004).
    """

    def __init__(
        self,
        guilds: Sequence[FakeGuild] | None = None,
        *,
        bot_user: FakeUser | None = None,
        default_user: FakeUser | None = None,
        token: str | None = None,
    ) -> None:
        self.bot_user = bot_user or FakeUser("quotebot", bot=True)
        self.application_id = self.bot_user.id
        self.token = token
        if guilds is None:
            default_user = default_user or FakeUser("tester")
            guilds = [FakeGuild(members=[FakeMember(default_user)])]
        self.guilds = list(guilds)
        humans = [m.user for g in self.guilds for m in g.members if not m.user.bot]
        self.default_user = default_user or (humans[0] if humans else FakeUser("tester"))
        self._bot_roles = {
            g.id: FakeRole(
                self.bot_user.username, permissions=DEFAULT_BOT_PERMISSIONS, managed=True, bot_id=self.bot_user.id
            )
            for g in self.guilds
        }
        self._snowflakes = SnowflakeFactory(worker_id=3)
        #: Every REST request, in order of completion.
        self.requests: list[RecordedRequest] = []
        #: Messages by id, as Discord would return them (ephemeral ones included, with flag 64).
        self.messages: dict[int, dict[str, Any]] = {}
        self._interactions: dict[int, _Interaction] = {}
        self._commands: dict[int | None, list[dict[str, Any]]] = {}
        self._failures: list[_Failure] = []
        self._sessions: dict[int, _Session] = {}  # by shard id (0 unsharded)
        self.shard_count = 1  # as the last IDENTIFY said
        self._sockets: set[web.WebSocketResponse] = set()
        self._identified = asyncio.Event()
        self._routes = self._route_table()

    def routes(self, app: web.Application) -> None:
        """One handler: the gateway (a WebSocket upgrade) or REST under /api/vN."""
        app.router.add_route("*", "/{tail:.*}", self._handle)

    async def before_stop(self) -> None:
        """Close gateway sockets (code 1001); close clients before this."""
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"fake discord shutting down")

    @property
    def recent(self) -> list[Any]:
        """The last requests, for a timed-out wait's message."""
        return [str(r) for r in self.requests[-8:]]

    @property
    def api_base_url(self) -> str:
        """What `Route.BASE` must be: `http://127.0.0.1:PORT/api/v10`."""
        return f"{self.base_url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """`ws://127.0.0.1:PORT/`, for `DEFAULT_GATEWAY` and resume."""
        return f"ws://{self.host}:{self.port}/"

    def patched(self, rest: bool = True) -> DiscordPatch:
        """Point discord.py at this fake; `rest=False`: only the gateway (the client has its own REST base)."""
        return DiscordPatch(self.api_base_url if rest else discord.http.Route.BASE, self.gateway_url)

    # ------------------------------------------------------------ accessors

    @property
    def guild(self) -> FakeGuild:
        """The first guild."""
        return self.guilds[0]

    @property
    def channel(self) -> FakeChannel:
        """The first text channel of the first guild."""
        return self.guild.text_channels()[0]

    @property
    def unhandled_requests(self) -> list[RecordedRequest]:
        """Requests to routes the fake does not implement (answered 404): should stay empty."""
        return [r for r in self.requests if r.unhandled]

    def requests_matching(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Requests with this method whose path fully matches the regex `path`."""
        return [r for r in self.requests if _matches(r, method, path)]

    def interaction_responses(self, interaction: SentInteraction) -> list[RecordedRequest]:
        """Callbacks (`POST /interactions/{id}/{token}/callback`) to one interaction."""
        return self.requests_matching("POST", rf"/interactions/{interaction.id}/.*")

    def followups(self, interaction: SentInteraction) -> list[RecordedRequest]:
        """Follow-up sends (`POST /webhooks/{app}/{token}`) of one interaction."""
        return [r for r in self.requests if r.method == "POST" and r.path == self._webhook(interaction)]

    def original_message(self, interaction: SentInteraction) -> dict[str, Any] | None:
        """The message standing as the interaction's original response, if any."""
        record = self._interactions.get(interaction.id)
        return self.messages.get(record.original_message_id or 0) if record else None

    def autocomplete_choices(self, interaction: SentInteraction) -> list[dict[str, Any]] | None:
        """The choices an autocomplete interaction was answered with."""
        record = self._interactions.get(interaction.id)
        return record.autocomplete_choices if record else None

    def channel_messages(self, channel_id: int | None = None, *, include_ephemeral: bool = False) -> list[dict]:
        """Stored messages of a channel (default: `channel`), oldest first."""
        cid = str(channel_id or self.channel.id)
        ephemeral = 0 if include_ephemeral else FLAG_EPHEMERAL
        return [m for m in self.messages.values() if m["channel_id"] == cid and not m["flags"] & ephemeral]

    def registered_commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Application commands as stored by the last sync (global if `guild_id` is None)."""
        return copy.deepcopy(self._commands.get(guild_id, []))

    def change_commands(self, guild_id: int | None, change: Callable[[list[dict[str, Any]]], None]) -> None:
        """Edit the stored commands of a scope in place, as another deploy or the Developer Portal would."""
        change(self._commands.setdefault(guild_id, []))

    def fail_next(self, method: str, path: str, status: int, *, times: int = 1, retry_after: float = 0.05) -> None:
        """The next `times` requests matching `method` (or "*") and the regex `path` fail with `status`.

        A 429 carries what discord.py needs to sleep `retry_after` and retry (JSON `retry_after`,
        rate-limit headers, and `Via`, without which it takes a 429 for a Cloudflare ban). discord.py
        retries 500/502/504 after sleeping 1 s, 3 s, … so keep `times` small for those.
        """
        headers: dict[str, str] = {}
        if status == 429:
            body: dict[str, Any] = {
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": False,
            }
            headers = {"Retry-After": str(max(1, int(retry_after + 0.999))), "X-RateLimit-Remaining": "0",
                       "X-RateLimit-Reset-After": f"{retry_after:.3f}", "X-RateLimit-Scope": "user"}  # fmt: skip
        else:
            known = {
                400: (50035, "Invalid Form Body"),
                403: (50013, "Missing Permissions"),
                404: (10008, "Unknown Message"),
            }
            code, message = known.get(status, (0, f"{status}: Server Error"))
            body = {"message": message, "code": code}
        self._failures.append(_Failure(method.upper(), re.compile(path), status, body, headers, max(1, times)))

    # ------------------------------------------------------------ waiting

    async def wait_for_interaction_response(
        self, interaction: SentInteraction, *, timeout: float = 5.0
    ) -> RecordedRequest:
        """The bot's first callback to `interaction`."""
        prefix = f"/interactions/{interaction.id}/"

        def find() -> RecordedRequest | None:
            return first_match(r for r in self.requests[interaction.request_index :] if r.path.startswith(prefix))

        return await self.wait_for(find, timeout, f"the answer to interaction {interaction.id}")

    async def wait_for_followup(
        self, interaction: SentInteraction, *, nth: int = 0, timeout: float = 5.0
    ) -> RecordedRequest:
        """The `nth` (0-based) follow-up of `interaction`."""

        def find() -> RecordedRequest | None:
            found = self.followups(interaction)
            return found[nth] if len(found) > nth else None

        return await self.wait_for(find, timeout, f"follow-up #{nth} of interaction {interaction.id}")

    async def wait_until_identified(self, timeout: float = 5.0) -> None:
        """Until a client has IDENTIFYed and READY/GUILD_CREATE went out (not that it processed them)."""
        try:
            await asyncio.wait_for(self._identified.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no client identified within {timeout}s") from None

    @contextlib.asynccontextmanager
    async def run_client(
        self, client: discord.Client, *, timeout: float = 5.0, patch_rest: bool = True
    ) -> AsyncIterator[discord.Client]:
        """Start `client` against the fake, yield once it is ready, then close it.

        The client's `guild_ready_timeout` is cut to 0.05 s: discord.py fires `on_ready` only after
        no GUILD_CREATE came for that long, which would make every test wait two seconds.
        """
        with self.patched(rest=patch_rest):
            client._connection.guild_ready_timeout = 0.05  # private, but what Client(guild_ready_timeout=) sets
            async with client:  # runs the async setup so wait_until_ready() works before login
                runner = asyncio.create_task(client.start(self.token or "fake-token"))
                ready = asyncio.create_task(client.wait_until_ready())
                done, _ = await asyncio.wait({runner, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if ready not in done:
                    ready.cancel()
                    await client.close()
                    if runner.done():
                        runner.result()  # re-raise the client's start-up error
                    runner.cancel()
                    raise TimeoutError(f"discord client not ready within {timeout}s")
                try:
                    yield client
                finally:
                    await client.close()
                    try:
                        await asyncio.wait_for(runner, timeout)
                    except Exception:
                        log.exception("discord client task ended with an error")

    # ------------------------------------------------------------ driving the client

    def _session_for(self, guild_id: int | None) -> _Session | None:
        """The session of the shard that holds `guild_id` (Discord's rule: (id >> 22) % count); any without a guild."""
        if guild_id is None:
            return next(iter(self._sessions.values()), None)
        return self._sessions.get((guild_id >> 22) % self.shard_count)

    @property
    def shards(self) -> list[int]:
        """The shard ids connected and identified."""
        return sorted(i for i, s in self._sessions.items() if s.ws is not None)

    async def dispatch(self, event: str, data: dict[str, Any], session: _Session | None = None) -> int:
        """Send a DISPATCH (op 0) event to the client (the shard holding `data`'s guild); its sequence number."""
        session = session or self._session_for(int(data["guild_id"]) if "guild_id" in data else None)
        if session is None or session.ws is None or session.ws.closed:
            raise RuntimeError(f"cannot dispatch {event}: no client is connected and identified")
        async with session.send_lock:
            session.sequence += 1
            await session.ws.send_str(json.dumps({"op": OP_DISPATCH, "t": event, "s": session.sequence, "d": data}))
            return session.sequence

    async def send_slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: FakeUser | None = None,
        member_roles: Sequence[int] | None = None,
        focused: str | None = None,
        guild: FakeGuild | None = None,
    ) -> SentInteraction:
        """An APPLICATION_COMMAND interaction in the first channel of `guild` (default: the first guild).

        Option types come from the command the bot synced; a `FakeChannel` value is sent by id and
        described in `data.resolved`. `focused` (see `send_autocomplete`)
        marks the option being typed.
        """
        guild = guild or self.guild
        scope, schema = next(
            ((s, c) for s in (guild.id, None) for c in self._commands.get(s, []) if c["name"] == name), (None, None)
        )
        if schema is None:  # unsynced: a stable made-up id (discord.py routes by name, not id)
            command_id = str(int.from_bytes(hashlib.sha256(name.encode()).digest()[:7], "big"))
        data: dict[str, Any] = {"id": schema["id"] if schema else command_id, "name": name, "type": 1}
        data |= {"guild_id": str(scope)} if scope is not None else {}
        leaf, resolved = [], {}
        for key, value in (options or {}).items():
            option_type = next((int(o["type"]) for o in (schema or {}).get("options", []) if o["name"] == key), None)
            assert option_type is not None, f"option {key!r} is not in the synced command"
            if isinstance(value, FakeChannel):  # a channel option: its id, and the channel in data.resolved
                channel = value.to_payload(guild.id) | {"permissions": str(ALL_PERMISSIONS)}
                resolved.setdefault("channels", {})[str(value.id)] = channel
                value = str(value.id)
            elif key == focused:  # autocomplete: the partial input as typed, a string for every type
                value = str(value)
            else:
                value = {4: int, 5: bool, 10: float}.get(option_type, str)(value)
            leaf.append(
                {"name": key, "type": option_type, "value": value} | ({"focused": True} if key == focused else {})
            )
        if focused is not None and not any(o.get("focused") for o in leaf):
            raise ValueError(f"focused option {focused!r} is not among the options")
        data |= ({"options": leaf} if leaf else {}) | ({"resolved": resolved} if resolved else {})
        kind = INTERACTION_AUTOCOMPLETE if focused is not None else INTERACTION_APPLICATION_COMMAND
        return await self._send_interaction(kind, data, user, member_roles, guild.channels[0].id)

    async def send_autocomplete(
        self, name: str, options: Mapping[str, Any], focused: str, *, user: FakeUser | None = None
    ) -> SentInteraction:
        """An AUTOCOMPLETE interaction while `focused` is typed; read the answer with `autocomplete_choices`."""
        return await self.send_slash_command(name, options, user=user, focused=focused)

    async def click_button(
        self,
        message: dict[str, Any] | int,
        custom_id: str,
        *,
        user: FakeUser | None = None,
        as_shown: dict[str, Any] | None = None,
    ) -> SentInteraction:
        """A MESSAGE_COMPONENT click on button `custom_id` of a stored message (LookupError: none).

        The payload carries the message with its components, which is how discord.py routes the
        click to a persistent view. `as_shown` is an older copy of the message: a user whose client
        still shows buttons an edit removed (a double click) clicks on that copy.
        """
        mid = int(message["id"]) if isinstance(message, dict) else message
        stored = as_shown or self.messages[mid]
        component = first_match(c for c in _walk(stored.get("components") or []) if c.get("custom_id") == custom_id)
        if component is None:
            raise LookupError(f"message {stored['id']} has no component with custom_id {custom_id!r}")
        data = {"custom_id": custom_id, "component_type": int(component["type"]), "id": component["id"]}
        return await self._send_interaction(INTERACTION_COMPONENT, data, user, None, int(stored["channel_id"]), stored)

    async def _send_interaction(
        self,
        kind: int,
        data: dict[str, Any],
        user: FakeUser | None,
        member_roles: Sequence[int] | None,
        channel_id: int,
        message: dict[str, Any] | None = None,
    ) -> SentInteraction:
        """Build a complete guild INTERACTION_CREATE, remember it, and dispatch it."""
        user = user or self.default_user
        guild = next(g for g in self.guilds if g.get_channel(channel_id))
        channel = guild.get_channel(channel_id)
        assert channel is not None
        member = guild.get_member(user.id) or FakeMember(user)
        roles = list(member_roles) if member_roles is not None else member.roles
        perms = ALL_PERMISSIONS if guild.owner_id == user.id else guild.permissions_for_roles(roles)
        interaction_id, token = self._snowflakes.next(), "fake-interaction-" + secrets.token_urlsafe(24)
        payload: dict[str, Any] = {
            "id": str(interaction_id), "application_id": str(self.application_id), "type": kind, "data": data,
            "token": token, "version": 1, "locale": user.locale, "app_permissions": str(DEFAULT_BOT_PERMISSIONS),
            "entitlements": [], "attachment_size_limit": ATTACHMENT_SIZE_LIMIT, "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": guild.locale, "features": []}, "guild_locale": guild.locale,
            "member": member.to_payload(roles=roles, permissions=perms), "context": 0,
            "authorizing_integration_owners": {"0": str(guild.id)},
            "channel": channel.to_payload(guild.id) | {"permissions": str(perms)}, "channel_id": str(channel.id),
        }  # fmt: skip
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        sent = SentInteraction(interaction_id, token, kind, payload, len(self.requests))
        self._interactions[interaction_id] = _Interaction(sent, user, int(message["id"]) if message else None)
        await self.dispatch("INTERACTION_CREATE", payload)
        return sent

    # ------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        # discord.py asks for ?compress=zlib-stream but inflates only BINARY frames: TEXT is fine.
        ws = web.WebSocketResponse(compress=False, max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await ws.send_str(json.dumps({"op": OP_HELLO, "d": {"heartbeat_interval": 41_250}, "s": None, "t": None}))
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    await self._on_gateway_message(ws, json.loads(msg.data))
        finally:
            self._sockets.discard(ws)
            for shard in [i for i, session in self._sessions.items() if session.ws is ws]:
                del self._sessions[shard]
            if not self._sessions:
                self._identified.clear()
        return ws

    async def _on_gateway_message(self, ws: web.WebSocketResponse, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d") or {}
        if op == OP_HEARTBEAT:
            await ws.send_str(json.dumps({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None}))
        elif op == OP_IDENTIFY and self.token is not None and data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
        elif op == OP_IDENTIFY:
            shard, self.shard_count = data.get("shard") or (0, 1)
            session = self._sessions[shard] = _Session(uuid.uuid4().hex, int(data.get("intents") or 0), ws)
            guilds = [g for g in self.guilds if (g.id >> 22) % self.shard_count == shard]
            await self.dispatch("READY", self._ready_payload(session.id, guilds, [shard, self.shard_count]), session)
            for guild in guilds:
                await self.dispatch("GUILD_CREATE", self._guild_payload(guild, session.intents), session)
            self._identified.set()
        await self.notify()

    def _me(self) -> dict[str, Any]:
        return self.bot_user.to_payload() | {"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"}

    def _ready_payload(self, session_id: str, guilds: list[FakeGuild], shard: list[int]) -> dict[str, Any]:
        return {
            "v": API_VERSION, "user": self._me(), "session_id": session_id, "session_type": "normal",
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds], "shard": shard,
            "resume_gateway_url": self.gateway_url, "application": {"id": str(self.application_id), "flags": 0},
            "geo_ordered_rtc_regions": ["fake"], "user_settings": {}, "auth": {},
        } | _absent("private_channels", "relationships", "presences", "guild_join_requests", value=[])  # fmt: skip

    def _bot_member(self, guild: FakeGuild) -> FakeMember:
        return FakeMember(self.bot_user, roles=[self._bot_roles[guild.id].id])

    def _guild_payload(self, guild: FakeGuild, intents: int) -> dict[str, Any]:
        # Without the privileged GUILD_MEMBERS intent Discord sends only the bot's own member.
        members = [self._bot_member(guild), *(guild.members if intents & INTENT_GUILD_MEMBERS else [])]
        everyone = FakeRole("@everyone", id=guild.id, permissions=guild.everyone_permissions, position=0)
        owner = guild.owner_id or (guild.members[0].user.id if guild.members else self.bot_user.id)
        texts = guild.text_channels()
        return {
            "id": str(guild.id), "name": guild.name, "owner_id": str(owner), "unavailable": False, "large": False,
            "member_count": len(guild.members) + 1, "preferred_locale": guild.locale, "max_members": 500000,
            "joined_at": datetime.fromtimestamp(((guild.id >> 22) + DISCORD_EPOCH_MS) / 1000, UTC).isoformat(),
            "roles": [r.to_payload() for r in [everyone, *guild.roles, self._bot_roles[guild.id]]],
            "channels": [c.to_payload() for c in guild.channels], "members": [m.to_payload() for m in members],
            "system_channel_id": str(texts[0].id) if texts else None, "afk_timeout": 300, "nsfw": False,
            "premium_progress_bar_enabled": False, "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50, "version": int(time.time() * 1000),
        } | _absent(
            "icon", "splash", "discovery_splash", "banner", "description", "rules_channel_id", "application_id",
            "public_updates_channel_id", "safety_alerts_channel_id", "afk_channel_id", "vanity_url_code",
            "incidents_data",
        ) | _absent(
            "verification_level", "default_message_notifications", "explicit_content_filter", "mfa_level",
            "nsfw_level", "premium_tier", "premium_subscription_count", "system_channel_flags", value=0,
        ) | _absent(
            "threads", "presences", "voice_states", "emojis", "stickers", "stage_instances",
            "guild_scheduled_events", "soundboard_sounds", "features", value=[],
        )  # fmt: skip

    async def _echo(self, event: str, message: dict[str, Any]) -> None:
        """Mirror a bot's non-ephemeral message on the gateway, as Discord does with GUILD_MESSAGES."""
        guild = next(g for g in self.guilds if g.get_channel(int(message["channel_id"])))
        session = self._session_for(guild.id)
        if message["flags"] & FLAG_EPHEMERAL or session is None or not session.intents & INTENT_GUILD_MESSAGES:
            return
        payload = copy.deepcopy(message) | {"guild_id": str(guild.id)}
        if event == "MESSAGE_CREATE":
            payload["member"] = self._bot_member(guild).to_payload(with_user=False)
        with contextlib.suppress(ConnectionError, RuntimeError):  # the client may be closing
            await self.dispatch(event, payload)

    # ------------------------------------------------------------ REST plumbing

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._gateway(request)
        match = _API_PATH.match(request.path)
        if match is None:
            return web.Response(status=404, text="not a Discord API path")
        raw = await request.read()
        body = json.loads(raw) if raw else None
        record = RecordedRequest(-1, request.method, match["path"], dict(request.query), body, dict(request.headers))
        failure = first_match(
            f for f in self._failures if f.method in ("*", record.method) and f.path.fullmatch(record.path)
        )
        headers: dict[str, str] = {}
        if failure is not None:
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.remove(failure)
            status, payload, headers = failure.status, copy.deepcopy(failure.body), failure.headers
        else:
            status, payload = await self._route(record)
        record.status, record.response, record.index = status, payload, len(self.requests)
        self.requests.append(record)
        await self.notify()
        route = _ID_IN_PATH.sub("/{id}", record.path)  # rate-limit buckets are per route, not per resource
        bucket = hashlib.sha1(f"{record.method} {route}".encode())
        headers = {  # discord.py takes a 429 without "Via" for a Cloudflare ban: Discord's answers carry it
            "Via": "1.1 google", "X-RateLimit-Bucket": bucket.hexdigest()[:16], "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49", "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
        } | headers  # fmt: skip
        if payload is None:
            return web.Response(status=204 if status < 300 else status, headers=headers)
        # Exactly "application/json": discord.py compares it verbatim (no "; charset=utf-8").
        return web.Response(
            status=status, body=json.dumps(payload).encode(), headers=headers | {"Content-Type": "application/json"}
        )

    async def _route(self, record: RecordedRequest) -> tuple[int, Any]:
        for method, pattern, handler, needs_auth in self._routes:
            match = pattern.fullmatch(record.path) if method == record.method else None
            if match is None:
                continue
            try:
                auth = record.headers.get("Authorization", "")
                if needs_auth and (not auth.startswith("Bot ") or self.token not in (None, auth[4:])):
                    raise _ApiError(401, 0, "401: Unauthorized")
                return await handler(record, match.groupdict())
            except _ApiError as exc:
                return exc.status, {"message": exc.message, "code": exc.code}
        record.unhandled = True
        log.warning("fake Discord has no route for %s %s (answered 404)", record.method, record.path)
        return 404, {"message": "404: Not Found", "code": 0}

    def _route_table(self) -> list[tuple[str, re.Pattern[str], Callable[..., Any], bool]]:
        """(method, path, handler, needs the bot token): the routes the bot uses, and nothing else."""
        app, channel = r"/applications/(?P<app>\d+)", r"/channels/(?P<channel>\d+)"
        table = [
            ("GET", r"/users/@me", self._get_me, True),
            ("GET", r"/gateway/bot", self._gateway_bot, True),
            ("GET", r"/(?:oauth2/)?applications/@me", self._get_application, True),
            ("GET", rf"{app}(?:/guilds/(?P<guild>\d+))?/commands", self._get_commands, True),
            ("PUT", rf"{app}(?:/guilds/(?P<guild>\d+))?/commands", self._bulk_commands, True),
            ("POST", r"/interactions/(?P<interaction>\d+)/(?P<token>[^/]+)/callback", self._callback, False),
            ("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", self._followup, False),
            ("GET", channel, self._get_channel, True),
            ("POST", rf"{channel}/messages", self._create_message, True),
        ]
        return [(m, re.compile(p), h, a) for m, p, h, a in table]

    # ------------------------------------------------------------ REST routes

    async def _get_me(self, record: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        return 200, self._me()

    async def _gateway_bot(self, record: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        """Where an AutoShardedClient connects, and how many shards Discord recommends (one, here)."""
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return 200, {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}

    async def _get_application(self, record: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        return 200, {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "description": "fake application",
            "summary": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": self.default_user.to_payload(),
            "bot": self.bot_user.to_payload(),
            "redirect_uris": [],
            "approximate_guild_count": len(self.guilds),
            "integration_types_config": {"0": {}},
        } | _absent("icon", "type", "team", "interactions_endpoint_url")  # a non-null endpoint makes discord.py warn

    def _command_scope(self, m: dict[str, str]) -> int | None:
        if int(m["app"]) != self.application_id:
            raise _ApiError(403, 50001, "Missing Access")
        return int(m["guild"]) if m.get("guild") else None

    async def _get_commands(self, record: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        return 200, self.registered_commands(self._command_scope(m))

    async def _bulk_commands(self, record: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        scope = self._command_scope(m)
        if not isinstance(record.body, list):
            raise _ApiError(400, 50035, "Invalid Form Body")
        previous = {c["name"]: c for c in self._commands.get(scope, [])}
        stored = []
        for item in record.body:
            _check_command(item)
            command = copy.deepcopy(item) | {
                "type": int(item.get("type") or 1),
                "application_id": str(self.application_id),
            }
            command["id"] = previous[item["name"]]["id"] if item["name"] in previous else str(self._snowflakes.next())
            command |= {"version": str(self._snowflakes.next())} | ({"guild_id": str(scope)} if scope else {})
            stored.append({"description": "", "default_member_permissions": None, "nsfw": False} | command)
        self._commands[scope] = stored
        return 200, copy.deepcopy(stored)

    async def _callback(self, request: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        record = self._interactions.get(int(m["interaction"]))
        if record is None or record.sent.token != m["token"]:
            raise _ApiError(404, 10062, "Unknown interaction")
        if record.response_type is not None:
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = request.body if isinstance(request.body, dict) else {}
        kind = int(body.get("type") or 0)
        if kind not in _ALLOWED_CALLBACKS.get(record.sent.type, set()):
            raise _ApiError(400, 50035, f"Invalid Form Body (callback type {kind})")
        data = body.get("data") or {}
        _check_limits(data)
        record.response_type = kind
        resource: dict[str, Any] = {"type": kind}
        if kind == CALLBACK_CHANNEL_MESSAGE:
            resource["message"] = copy.deepcopy(await self._interaction_message(record, data))
        elif kind == CALLBACK_DEFERRED_CHANNEL_MESSAGE:
            # A "thinking" message right away; the first follow-up fills it in, as ephemeral as the defer.
            await self._interaction_message(
                record, {"flags": FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)}
            )
            record.loading = True
        elif kind in (CALLBACK_DEFERRED_UPDATE_MESSAGE, CALLBACK_UPDATE_MESSAGE):
            record.original_message_id = record.component_message_id
            if kind == CALLBACK_UPDATE_MESSAGE:
                message = self.messages[record.original_message_id or 0]
                await self._edit(message, data)
                resource["message"] = copy.deepcopy(message)
        else:
            record.autocomplete_choices = list(data.get("choices") or [])
        if request.query.get("with_response", "").lower() not in ("1", "true", "yes"):
            return 204, None
        info: dict[str, Any] = {"id": str(record.sent.id), "type": record.sent.type}
        if record.original_message_id is not None:
            original = self.messages[record.original_message_id]
            info |= {"response_message_id": str(original["id"]), "response_message_loading": record.loading}
            info["response_message_ephemeral"] = bool(original["flags"] & FLAG_EPHEMERAL)
        return 200, {"interaction": info, "resource": resource}

    async def _interaction_message(self, record: _Interaction, data: Mapping[str, Any]) -> dict[str, Any]:
        """A message an interaction's answer creates (the original response or a follow-up)."""
        sent = record.sent
        metadata: dict[str, Any] = {"id": str(sent.id), "type": sent.type, "user": record.user.to_payload()}
        metadata["authorizing_integration_owners"] = sent.payload["authorizing_integration_owners"]
        if sent.type == INTERACTION_APPLICATION_COMMAND:
            metadata["name"] = sent.payload["data"]["name"]
        if record.component_message_id is not None:
            metadata["interacted_message_id"] = str(record.component_message_id)
        if record.original_message_id is not None:
            metadata["original_response_message_id"] = str(record.original_message_id)
        command = sent.type == INTERACTION_APPLICATION_COMMAND
        message = self._new_message(int(sent.payload["channel_id"]), data, MESSAGE_CHAT_INPUT_COMMAND if command else 0)
        message["flags"] = int(data.get("flags") or 0) & (_SETTABLE_FLAGS | FLAG_LOADING)
        message |= {"webhook_id": str(self.application_id), "application_id": str(self.application_id)}
        message["interaction_metadata"] = metadata
        if record.original_message_id is None:
            record.original_message_id = int(message["id"])
        await self._echo("MESSAGE_CREATE", message)
        return message

    async def _followup(self, request: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        record = next((r for r in self._interactions.values() if r.sent.token == m["token"]), None)
        if record is None or int(m["app"]) != self.application_id or record.response_type is None:
            raise _ApiError(404, 10015, "Unknown Webhook")  # a token is valid once the interaction is acknowledged
        data = request.body if isinstance(request.body, dict) else {}
        _check_limits(data)
        if record.loading and record.original_message_id is not None:
            message = self.messages[record.original_message_id]
            keep = message["flags"] & FLAG_EPHEMERAL
            await self._edit(message, data, echo=False, mark_edited=False)
            message["flags"] = (message["flags"] & ~(FLAG_LOADING | FLAG_EPHEMERAL)) | keep
            record.loading = False
            await self._echo("MESSAGE_UPDATE", message)
        else:
            message = await self._interaction_message(record, data)
        return (
            (200, copy.deepcopy(message))
            if request.query.get("wait", "").lower() in ("1", "true", "yes")
            else (204, None)
        )

    def _channel_or_404(self, m: dict[str, str]) -> dict[str, Any]:
        guild = next((g for g in self.guilds if g.get_channel(int(m["channel"]))), None)
        if guild is None:
            raise _ApiError(404, 10003, "Unknown Channel")
        return guild.get_channel(int(m["channel"])).to_payload(guild.id)  # type: ignore[union-attr]

    async def _get_channel(self, request: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        return 200, self._channel_or_404(m)

    async def _create_message(self, request: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        self._channel_or_404(m)
        data = request.body if isinstance(request.body, dict) else {}
        _check_limits(data)
        if not (data.get("content") or data.get("embeds") or data.get("components")):
            raise _ApiError(400, 50006, "Cannot send an empty message")
        message = self._new_message(int(m["channel"]), data, MESSAGE_DEFAULT)
        message["flags"] = int(data.get("flags") or 0) & _SETTABLE_FLAGS
        await self._echo("MESSAGE_CREATE", message)
        return 200, copy.deepcopy(message)

    # ------------------------------------------------------------ messages

    def _new_message(self, channel_id: int, payload: Mapping[str, Any], message_type: int) -> dict[str, Any]:
        """A message by the bot, stored."""
        message = {
            "id": str(self._snowflakes.next()), "type": message_type, "channel_id": str(channel_id),
            "author": self.bot_user.to_payload(), "content": payload.get("content") or "",
            "embeds": [{"type": "rich"} | e for e in copy.deepcopy(payload.get("embeds") or [])],
            "components": _numbered(payload.get("components") or []), "tts": bool(payload.get("tts", False)),
            "timestamp": _now_iso(), "edited_timestamp": None, "flags": 0, "mention_everyone": False,
            "pinned": False,
        } | _absent("attachments", "mentions", "mention_roles", value=[])  # fmt: skip
        self.messages[int(message["id"])] = message
        return message

    async def _edit(
        self, message: dict[str, Any], data: Mapping[str, Any], *, echo: bool = True, mark_edited: bool = True
    ) -> None:
        """A PATCH-style edit: only the keys present change (None clears)."""
        if "content" in data:
            message["content"] = data["content"] or ""
        if "embeds" in data:
            message["embeds"] = [{"type": "rich"} | e for e in copy.deepcopy(data["embeds"] or [])]
        if "components" in data:
            message["components"] = _numbered(data["components"] or [])
        if data.get("flags") is not None:
            changeable = FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2
            message["flags"] = (message["flags"] & ~changeable) | (int(data["flags"]) & changeable)
        if mark_edited:
            message["edited_timestamp"] = _now_iso()
        if echo:
            await self._echo("MESSAGE_UPDATE", message)

    def _webhook(self, interaction: SentInteraction) -> str:
        return f"/webhooks/{self.application_id}/{interaction.token}"


def _matches(request: RecordedRequest, method: str | None, path: str | None) -> bool:
    return (method is None or request.method == method.upper()) and (
        path is None or bool(re.fullmatch(path, request.path))
    )


def _walk(components: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Every component, rows and their children included."""
    for component in components:
        yield component
        yield from _walk(component.get("components") or [])


def _numbered(components: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A copy of the components, numbered like Discord does (a sequential `id` where missing)."""
    result = copy.deepcopy([dict(c) for c in components])
    used = {c["id"] for c in _walk(result) if isinstance(c.get("id"), int)}
    free = (n for n in range(1, 10_000) if n not in used)
    for component in _walk(result):
        component.setdefault("id", next(free))  # type: ignore[attr-defined]
    return result


def limit_problems(data: Mapping[str, Any]) -> list[str]:
    """What in a message body (create, edit, callback data, follow-up) Discord would reject."""
    problems: list[str] = []

    def check(what: str, size: int, limit: int) -> int:
        if size > limit:
            problems.append(f"{what}: {size} > {limit}")
        return size

    check("content", utf16_len(data.get("content")), LIMIT_CONTENT)
    embeds = data.get("embeds") or []
    check("embeds", len(embeds), LIMIT_EMBEDS)
    total = 0
    for number, embed in enumerate(embeds):
        for path, limit in LIMIT_EMBED_TEXT.items():
            text = embed.get(path[0]) if len(path) == 1 else (embed.get(path[0]) or {}).get(path[1])
            total += check(f"embeds.{number}.{'.'.join(path)}", utf16_len(text), limit)
        check(f"embeds.{number}.url", utf16_len(embed.get("url")), LIMIT_URL)
        fields = embed.get("fields") or []
        check(f"embeds.{number}.fields", len(fields), LIMIT_EMBED_FIELDS)
        for i, item in enumerate(fields):
            total += check(f"embeds.{number}.fields.{i}.name", utf16_len(item.get("name")), LIMIT_FIELD_NAME)
            total += check(f"embeds.{number}.fields.{i}.value", utf16_len(item.get("value")), LIMIT_FIELD_VALUE)
            if not str(item.get("name") or "").strip() or not str(item.get("value") or "").strip():
                problems.append(f"embeds.{number}.fields.{i}: name and value must not be empty")
    check("embeds (characters in all)", total, LIMIT_EMBEDS_TOTAL)
    rows = data.get("components") or []
    check("components (rows)", len(rows), LIMIT_ACTION_ROWS)
    for row in rows:
        check("components (in a row)", len(row.get("components") or []), LIMIT_ROW_COMPONENTS)
    for component in _walk(rows):
        check(f"custom_id {component.get('custom_id')!r}", utf16_len(component.get("custom_id")), LIMIT_CUSTOM_ID)
        check(f"label {component.get('label')!r}", utf16_len(component.get("label")), LIMIT_BUTTON_LABEL)
    choices = data.get("choices")
    check("choices", len(choices or []), LIMIT_CHOICES)
    for choice in choices or []:
        if not 1 <= utf16_len(choice.get("name")) <= LIMIT_CHOICE_NAME:
            problems.append(f"choice name {choice.get('name')!r}: must be 1-{LIMIT_CHOICE_NAME}")
    return problems


def _check_limits(data: Any) -> None:
    """The API's 400 for a body past Discord's limits."""
    if problems := limit_problems(data) if isinstance(data, Mapping) else []:
        log.warning("fake Discord refused a body past Discord's limits: %s", "; ".join(problems))
        raise _ApiError(400, 50035, "Invalid Form Body (" + "; ".join(problems) + ")")


def _check_command(payload: Any) -> None:
    """Command definitions: chat-input names are 1-32 lower-case characters, descriptions 1-100."""
    if not isinstance(payload, Mapping) or not payload.get("name"):
        raise _ApiError(400, 50035, "Invalid Form Body")
    name = str(payload["name"])
    if int(payload.get("type") or 1) == 1:
        if not re.fullmatch(r"[-_\w]{1,32}", name) or name != name.lower():
            raise _ApiError(400, 50035, f"Invalid Form Body (command name {name!r})")
        if not 1 <= utf16_len(payload.get("description")) <= LIMIT_COMMAND_DESCRIPTION:
            raise _ApiError(400, 50035, f"Invalid Form Body (description of {name!r})")
    for option in payload.get("options") or []:
        if not 1 <= utf16_len(option.get("description")) <= LIMIT_COMMAND_DESCRIPTION:
            raise _ApiError(400, 50035, f"Invalid Form Body (description of option {option.get('name')!r})")
