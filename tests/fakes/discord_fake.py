"""An in-process fake of Discord (gateway + REST) for end-to-end tests of real discord.py clients.

Why this exists: the bot's Discord adapter is only trustworthy if it is exercised by the *real*
``discord.py`` library, because most integration bugs live in payload shapes (what the library
sends, what it expects back). Mocking discord.py objects hides exactly those bugs. Instead, this
module runs a small aiohttp server on 127.0.0.1 that speaks enough of Discord's v10 gateway and
REST API for a ``discord.Client``/``commands.Bot`` to log in, receive interactions and answer them,
while recording every request so tests can assert on what Discord would have received.

The payload shapes were derived from the installed discord.py 2.7.1 source (``http.py``,
``gateway.py``, ``state.py``, ``interactions.py``, ``webhook/async_.py``); the comments call out
the places where discord.py is strict (exact ``Content-Type``, a ``Via`` header on 429s, required
keys such as ``attachment_size_limit`` in interactions). Like Discord, the fake refuses (400, code
50035) message bodies past the documented limits (content, embeds, custom_id, choices; see
``limit_problems``) and malformed command definitions, so a bot cannot pass its tests with a reply
the real API would reject.

Typical use::

    async with FakeDiscord() as fake:
        bot = commands.Bot(command_prefix="!", intents=discord.Intents.default())
        ...
        async with fake.run_client(bot):
            sent = await fake.send_slash_command("ping")
            callback = await fake.wait_for_interaction_response(sent)
            assert callback.body["data"]["content"] == "pong"

Only unsharded (or single-shard) clients are supported: there is one gateway session at a time.
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
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, TypeVar

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

from tests.fakes.harness import LocalServer

log = logging.getLogger(__name__)

T = TypeVar("T")

DISCORD_EPOCH_MS: Final = 1_420_070_400_000
API_VERSION: Final = 10
#: Discord's real default; discord.py sends its first heartbeat right after HELLO anyway.
DEFAULT_HEARTBEAT_INTERVAL_MS: Final = 41_250
#: discord.py reads this key unconditionally from every interaction payload.
ATTACHMENT_SIZE_LIMIT: Final = 10 * 1024 * 1024

# --- Gateway opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes) -------------
OP_DISPATCH: Final = 0
OP_HEARTBEAT: Final = 1
OP_IDENTIFY: Final = 2
OP_PRESENCE_UPDATE: Final = 3
OP_VOICE_STATE_UPDATE: Final = 4
OP_RESUME: Final = 6
OP_RECONNECT: Final = 7
OP_REQUEST_GUILD_MEMBERS: Final = 8
OP_INVALID_SESSION: Final = 9
OP_HELLO: Final = 10
OP_HEARTBEAT_ACK: Final = 11

# --- Gateway intents used to decide what Discord would send ------------------------------------------
INTENT_GUILD_MEMBERS: Final = 1 << 1
INTENT_GUILD_MESSAGES: Final = 1 << 9
INTENT_DIRECT_MESSAGES: Final = 1 << 12
INTENT_MESSAGE_CONTENT: Final = 1 << 15

# --- Interaction and callback types ---------------------------------------------------------------------
INTERACTION_PING: Final = 1
INTERACTION_APPLICATION_COMMAND: Final = 2
INTERACTION_COMPONENT: Final = 3
INTERACTION_AUTOCOMPLETE: Final = 4
INTERACTION_MODAL_SUBMIT: Final = 5

CALLBACK_PONG: Final = 1
CALLBACK_CHANNEL_MESSAGE: Final = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE: Final = 5
CALLBACK_DEFERRED_UPDATE_MESSAGE: Final = 6
CALLBACK_UPDATE_MESSAGE: Final = 7
CALLBACK_AUTOCOMPLETE_RESULT: Final = 8
CALLBACK_MODAL: Final = 9

#: Which callback types Discord accepts for each interaction type.
_ALLOWED_CALLBACKS: Final[dict[int, frozenset[int]]] = {
    INTERACTION_PING: frozenset({CALLBACK_PONG}),
    INTERACTION_APPLICATION_COMMAND: frozenset({4, 5, 9}),
    INTERACTION_COMPONENT: frozenset({4, 5, 6, 7, 9}),
    INTERACTION_AUTOCOMPLETE: frozenset({8}),
    INTERACTION_MODAL_SUBMIT: frozenset({4, 5, 6, 7}),
}

# --- Message flags --------------------------------------------------------------------------------------
FLAG_SUPPRESS_EMBEDS: Final = 1 << 2
FLAG_EPHEMERAL: Final = 1 << 6
FLAG_LOADING: Final = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS: Final = 1 << 12
FLAG_COMPONENTS_V2: Final = 1 << 15
#: Flags a bot may set itself when sending; everything else is Discord-controlled.
_SETTABLE_FLAGS: Final = FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2

# --- Message types --------------------------------------------------------------------------------------
MESSAGE_DEFAULT: Final = 0
MESSAGE_REPLY: Final = 19
MESSAGE_CHAT_INPUT_COMMAND: Final = 20
MESSAGE_CONTEXT_MENU_COMMAND: Final = 23

# --- Permissions ----------------------------------------------------------------------------------------
PERM_ADMINISTRATOR: Final = 1 << 3
ALL_PERMISSIONS: Final = discord.Permissions.all().value
#: What @everyone gets in a freshly created guild (roughly), so that ordinary users can use commands.
DEFAULT_EVERYONE_PERMISSIONS: Final = (
    (1 << 0)  # create instant invite
    | (1 << 6)  # add reactions
    | (1 << 10)  # view channel
    | (1 << 11)  # send messages
    | (1 << 14)  # embed links
    | (1 << 15)  # attach files
    | (1 << 16)  # read message history
    | (1 << 18)  # use external emojis
    | (1 << 20)  # connect
    | (1 << 21)  # speak
    | (1 << 26)  # change nickname
    | (1 << 31)  # use application commands
    | (1 << 38)  # send messages in threads
)
#: The bot's managed role: the usual invite permissions of a chat bot.
DEFAULT_BOT_PERMISSIONS: Final = DEFAULT_EVERYONE_PERMISSIONS | (1 << 13) | (1 << 35)  # manage msgs, threads

# --- Channel types --------------------------------------------------------------------------------------
CHANNEL_GUILD_TEXT: Final = 0
CHANNEL_DM: Final = 1

_API_PATH = re.compile(r"^/api/v(?P<version>\d+)(?P<path>/.*)$")
_USER_MENTION = re.compile(r"<@!?(\d+)>")


# ======================================================================================================
# Ids and small helpers
# ======================================================================================================


class SnowflakeFactory:
    """Generates time-based, strictly increasing snowflakes like Discord's.

    Real snowflakes matter because discord.py derives ``created_at`` (and interaction expiry) from
    them, so random integers would make interactions look fifteen years old.
    """

    def __init__(self, worker_id: int = 1) -> None:
        self._worker_id = worker_id & 0x1F
        self._last_ms = 0
        self._increment = 0

    def next(self) -> int:
        """Return a new snowflake, unique within this factory."""
        now_ms = int(time.time() * 1000)
        if now_ms <= self._last_ms:
            now_ms = self._last_ms
            self._increment += 1
            if self._increment >= 4096:
                now_ms += 1
                self._increment = 0
        else:
            self._increment = 0
        self._last_ms = now_ms
        return ((now_ms - DISCORD_EPOCH_MS) << 22) | (self._worker_id << 17) | self._increment


_default_snowflakes = SnowflakeFactory(worker_id=7)


def new_snowflake() -> int:
    """Return a fresh snowflake; used as the default id of the ``Fake*`` model objects."""
    return _default_snowflakes.next()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _snowflake_iso(snowflake: int) -> str:
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def _truthy_query(value: str | None) -> bool:
    return value is not None and value.lower() in {"1", "true", "yes"}


# ======================================================================================================
# Model objects the test configures
# ======================================================================================================


@dataclass
class FakeUser:
    """A Discord user (human or bot) the fake knows about."""

    username: str = "tester"
    id: int = field(default_factory=new_snowflake)
    global_name: str | None = None
    bot: bool = False

    def to_payload(self) -> dict[str, Any]:
        """Render the user object as Discord sends it (pomelo usernames: discriminator "0")."""
        payload: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "avatar_decoration_data": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "primary_guild": None,
            "collectibles": None,
        }
        if self.bot:
            payload["bot"] = True
        return payload


@dataclass
class FakeRole:
    """A guild role; ``permissions`` is the raw permission bit set."""

    name: str
    id: int = field(default_factory=new_snowflake)
    permissions: int = 0
    position: int = 1
    managed: bool = False
    bot_id: int | None = None

    def to_payload(self) -> dict[str, Any]:
        """Render the role object as in GUILD_CREATE."""
        payload: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }
        if self.bot_id is not None:
            payload["tags"] = {"bot_id": str(self.bot_id)}
        return payload


@dataclass
class FakeChannel:
    """A guild channel; type 0 is a text channel."""

    name: str = "general"
    id: int = field(default_factory=new_snowflake)
    type: int = CHANNEL_GUILD_TEXT
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False

    def to_payload(self, guild_id: int | None = None) -> dict[str, Any]:
        """Render the channel object; ``guild_id`` is omitted inside GUILD_CREATE as Discord does."""
        payload: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "parent_id": str(self.parent_id) if self.parent_id is not None else None,
            "topic": self.topic,
            "nsfw": self.nsfw,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "permission_overwrites": [],
            "flags": 0,
        }
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
        return payload


@dataclass
class FakeMember:
    """A user's membership of a guild (role ids, nickname)."""

    user: FakeUser
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=_now_iso)

    def to_payload(
        self, *, with_user: bool = True, roles: Sequence[int] | None = None, permissions: int | None = None
    ) -> dict[str, Any]:
        """Render the guild member object; interactions add the resolved ``permissions`` string."""
        payload: dict[str, Any] = {
            "roles": [str(r) for r in (self.roles if roles is None else roles)],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "premium_since": None,
            "joined_at": self.joined_at,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
            "unusual_dm_activity_until": None,
        }
        if with_user:
            payload["user"] = self.user.to_payload()
        if permissions is not None:
            payload["permissions"] = str(permissions)
        return payload


@dataclass
class FakeGuild:
    """A guild the fake announces via GUILD_CREATE after IDENTIFY.

    ``roles`` should not contain @everyone: it is synthesised from ``everyone_permissions`` with the
    guild's id, as on Discord.
    """

    name: str = "Fake Guild"
    id: int = field(default_factory=new_snowflake)
    channels: list[FakeChannel] = field(default_factory=lambda: [FakeChannel("general")])
    roles: list[FakeRole] = field(default_factory=list)
    members: list[FakeMember] = field(default_factory=list)
    owner_id: int | None = None
    everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS
    locale: str = "en-US"

    @property
    def everyone_role(self) -> FakeRole:
        """The implicit @everyone role (its id equals the guild id)."""
        return FakeRole("@everyone", id=self.id, permissions=self.everyone_permissions, position=0)

    def all_roles(self) -> list[FakeRole]:
        """@everyone followed by the configured roles."""
        return [self.everyone_role, *self.roles]

    def get_channel(self, channel_id: int) -> FakeChannel | None:
        """Find a channel by id."""
        return next((c for c in self.channels if c.id == channel_id), None)

    def get_member(self, user_id: int) -> FakeMember | None:
        """Find a member by user id."""
        return next((m for m in self.members if m.user.id == user_id), None)

    def text_channels(self) -> list[FakeChannel]:
        """Channels of type GUILD_TEXT."""
        return [c for c in self.channels if c.type == CHANNEL_GUILD_TEXT]

    def permissions_for_roles(self, role_ids: Iterable[int]) -> int:
        """Guild-level permissions of a member holding ``role_ids`` (no channel overwrites)."""
        wanted = set(role_ids)
        value = self.everyone_permissions
        for role in self.roles:
            if role.id in wanted:
                value |= role.permissions
        return ALL_PERMISSIONS if value & PERM_ADMINISTRATOR else value


# ======================================================================================================
# Records the test inspects
# ======================================================================================================


@dataclass
class RecordedFile:
    """A file part of a multipart request (``files[n]``)."""

    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """One REST request the client made, with the fake's answer.

    ``path`` is relative to the API root (``/channels/1/messages``, no ``/api/v10``). ``body`` is the
    decoded JSON body, or the decoded ``payload_json`` part of a multipart body.
    """

    index: int
    method: str
    path: str
    query: dict[str, str]
    body: Any
    files: list[RecordedFile]
    headers: dict[str, str]
    api_version: int
    status: int = 0
    response: Any = None
    failure_injected: bool = False
    unhandled: bool = False

    @property
    def data(self) -> dict[str, Any]:
        """``body["data"]`` for interaction callbacks (empty dict if absent)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("data"), dict):
            return self.body["data"]
        return {}

    def __str__(self) -> str:
        return f"#{self.index} {self.method} {self.path} -> {self.status}"


@dataclass(frozen=True)
class SentInteraction:
    """An INTERACTION_CREATE the fake dispatched; use it to find the bot's response.

    ``request_index`` is ``len(fake.requests)`` at dispatch time, so waits only consider requests
    made after the interaction was sent.
    """

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    request_index: int


@dataclass
class _InteractionRecord:
    """Server-side state of one interaction (what has been acknowledged, which message is original)."""

    sent: SentInteraction
    channel_id: int | None
    guild_id: int | None
    user: FakeUser
    component_message_id: int | None = None
    response_type: int | None = None
    original_message_id: int | None = None
    loading: bool = False
    autocomplete_choices: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = None


@dataclass
class _Failure:
    method: str
    path: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    remaining: int


@dataclass(eq=False)  # identity semantics: kept in a set
class _GatewayConnection:
    ws: web.WebSocketResponse
    query: dict[str, str]
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class _GatewaySession:
    id: str
    intents: int
    connection: _GatewayConnection | None
    sequence: int = 0
    replay: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))


class _ApiError(Exception):
    """Raised by route handlers to answer with a Discord-style JSON error."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class _Auto:
    """Sentinel type: "work it out from what the bot registered"."""

    def __repr__(self) -> str:
        return "AUTO"


AUTO: Final = _Auto()


# ======================================================================================================
# Pointing discord.py at the fake
# ======================================================================================================


class DiscordPatch:
    """Points discord.py's REST base and default gateway at another server, and restores them.

    discord.py builds every REST URL as ``Route.BASE + path`` (at ``Route`` construction), including
    webhook and interaction-callback routes, so one class attribute covers all of REST. An unsharded
    client never asks ``GET /gateway``: it connects to ``DiscordWebSocket.DEFAULT_GATEWAY`` (a
    ``yarl.URL``), then to READY's ``resume_gateway_url`` on resume. Usable as a sync or async
    context manager; nesting restores in LIFO order.
    """

    def __init__(self, api_base_url: str, gateway_url: str) -> None:
        self.api_base_url = api_base_url.rstrip("/")
        self.gateway_url = yarl.URL(gateway_url)
        self._saved: list[tuple[str, yarl.URL]] = []

    def __enter__(self) -> DiscordPatch:
        self._saved.append((discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY))
        discord.http.Route.BASE = self.api_base_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self.gateway_url
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        base, gateway = self._saved.pop()
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


# ======================================================================================================
# The fake
# ======================================================================================================


class FakeDiscord(LocalServer):
    """A fake Discord gateway + REST API on 127.0.0.1 for driving a real discord.py client.

    Start it with ``async with FakeDiscord(...) as fake`` (or ``await fake.start()`` /
    ``await fake.close()``) inside the test's event loop; it listens on a random free port.
    """

    def __init__(
        self,
        guilds: Sequence[FakeGuild] | None = None,
        *,
        bot_user: FakeUser | None = None,
        default_user: FakeUser | None = None,
        token: str | None = None,
        application_flags: int = 0,
        heartbeat_interval_ms: int = DEFAULT_HEARTBEAT_INTERVAL_MS,
        echo_bot_messages: bool = True,
        host: str = "127.0.0.1",
    ) -> None:
        """Configure the fake; nothing listens until :meth:`start`.

        Args:
            guilds: Guilds announced after IDENTIFY. Default: one guild with a #general channel and
                ``default_user`` as a member.
            bot_user: The bot's own user; its id doubles as the application id, as for modern bots.
            default_user: The human who triggers interactions when a helper gets no ``user``.
            token: If set, REST ``Authorization: Bot <token>`` and IDENTIFY tokens must match (else 401 /
                close code 4004). If ``None``, any token is accepted.
            application_flags: ``application.flags`` in READY / application info.
            heartbeat_interval_ms: Interval announced in HELLO.
            echo_bot_messages: Dispatch MESSAGE_CREATE/UPDATE/DELETE for messages the bot creates, as
                Discord does when the GUILD_MESSAGES / DIRECT_MESSAGES intent is enabled.
            host: Interface to bind; keep the default loopback.
        """
        self.bot_user = bot_user or FakeUser("quotebot", bot=True)
        self.application_id = self.bot_user.id
        self.application_flags = application_flags
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.echo_bot_messages = echo_bot_messages
        self.host = host
        if guilds is None:
            user = default_user or FakeUser("tester")
            guilds = [FakeGuild(members=[FakeMember(user)])]
            default_user = user
        self.guilds: list[FakeGuild] = list(guilds)
        if default_user is None:
            humans = [m.user for g in self.guilds for m in g.members if not m.user.bot]
            default_user = humans[0] if humans else FakeUser("tester")
        self.default_user = default_user
        self._bot_roles: dict[int, FakeRole] = {
            g.id: FakeRole(
                self.bot_user.username,
                permissions=DEFAULT_BOT_PERMISSIONS,
                managed=True,
                bot_id=self.bot_user.id,
            )
            for g in self.guilds
        }

        self._snowflakes = SnowflakeFactory(worker_id=3)
        #: Every REST request, in arrival order of completion.
        self.requests: list[RecordedRequest] = []
        #: Messages by id, as Discord would return them (ephemeral ones included, with flag 64).
        self.messages: dict[int, dict[str, Any]] = {}
        #: Every gateway payload the client sent (heartbeats, IDENTIFY, RESUME, presence...).
        self.gateway_received: list[dict[str, Any]] = []
        #: Every DISPATCH frame the fake sent.
        self.gateway_sent: list[dict[str, Any]] = []
        self.identify_count = 0
        self.resume_count = 0

        self._interactions: dict[int, _InteractionRecord] = {}
        self._interactions_by_token: dict[str, _InteractionRecord] = {}
        self._commands: dict[int | None, list[dict[str, Any]]] = {}
        self._failures: list[_Failure] = []
        self._known_users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user}
        self._known_users[self.default_user.id] = self.default_user
        for g in self.guilds:
            for m in g.members:
                self._known_users[m.user.id] = m.user
        self._session: _GatewaySession | None = None
        self._connections: set[_GatewayConnection] = set()
        self._identified = asyncio.Event()
        self._routes = self._build_routes()

    # ------------------------------------------------------------------ lifecycle and addresses

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)

    async def before_stop(self) -> None:
        """Close gateway sockets (code 1001). Close clients before this."""
        for conn in list(self._connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001, message=b"fake discord shutting down")

    @property
    def recent(self) -> list[Any]:
        return [str(r) for r in self.requests[-8:]]

    @property
    def api_base_url(self) -> str:
        """What ``discord.http.Route.BASE`` must be: ``http://127.0.0.1:PORT/api/v10`` (no slash)."""
        return f"{self.base_url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """``ws://127.0.0.1:PORT/``, for ``DiscordWebSocket.DEFAULT_GATEWAY`` and resume."""
        return f"ws://{self.host}:{self.port}/"

    def patched(self, rest: bool = True) -> DiscordPatch:
        """Context manager (sync or async) pointing discord.py at this fake, restoring afterwards.

        `rest=False` patches only the gateway: for a client that is given the REST base itself.
        """
        return DiscordPatch(self.api_base_url if rest else discord.http.Route.BASE, self.gateway_url)

    # ------------------------------------------------------------------ convenience accessors

    @property
    def guild(self) -> FakeGuild:
        """The first configured guild."""
        return self.guilds[0]

    @property
    def channel(self) -> FakeChannel:
        """The first text channel of the first guild."""
        return self.guild.text_channels()[0]

    @property
    def unhandled_requests(self) -> list[RecordedRequest]:
        """Requests to routes the fake does not implement (answered 404); should stay empty."""
        return [r for r in self.requests if r.unhandled]

    def requests_matching(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Requests whose method equals ``method`` and whose path fully matches regex ``path``."""
        return [r for r in self.requests if _request_matches(r, method, path)]

    def interaction_responses(self, interaction: SentInteraction | int) -> list[RecordedRequest]:
        """Callback requests (``POST /interactions/{id}/{token}/callback``) for one interaction."""
        iid = interaction.id if isinstance(interaction, SentInteraction) else int(interaction)
        prefix = f"/interactions/{iid}/"
        return [r for r in self.requests if r.method == "POST" and r.path.startswith(prefix)]

    def followups(self, interaction: SentInteraction) -> list[RecordedRequest]:
        """Follow-up sends (``POST /webhooks/{app}/{token}``) for one interaction."""
        path = f"/webhooks/{self.application_id}/{interaction.token}"
        return [r for r in self.requests if r.method == "POST" and r.path == path]

    def original_message(self, interaction: SentInteraction) -> dict[str, Any] | None:
        """The message currently standing as the interaction's original response, if any."""
        record = self._interactions.get(interaction.id)
        if record is None or record.original_message_id is None:
            return None
        return self.messages.get(record.original_message_id)

    def autocomplete_choices(self, interaction: SentInteraction) -> list[dict[str, Any]] | None:
        """Choices the bot answered an autocomplete interaction with, if it answered."""
        record = self._interactions.get(interaction.id)
        return record.autocomplete_choices if record else None

    def channel_messages(self, channel_id: int | None = None, *, include_ephemeral: bool = False) -> list[dict]:
        """Stored messages of a channel (default: :attr:`channel`), oldest first."""
        cid = str(channel_id if channel_id is not None else self.channel.id)
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == cid and (include_ephemeral or not m["flags"] & FLAG_EPHEMERAL)
        ]

    def registered_commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Application commands as stored by the last sync (global if ``guild_id`` is None)."""
        return copy.deepcopy(self._commands.get(guild_id, []))

    # ------------------------------------------------------------------ failure injection

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        *,
        times: int = 1,
        retry_after: float = 0.05,
        is_global: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Make the next ``times`` requests matching ``method`` and regex ``path`` fail with ``status``.

        ``path`` must fully match the API-relative path, e.g. ``r"/channels/\\d+/messages"`` or
        ``r"/interactions/.*/callback"``; ``method`` may be ``"*"``. A 429 gets the body and headers
        discord.py needs to sleep ``retry_after`` and retry (JSON ``retry_after`` plus a ``Via``
        header; without ``Via`` discord.py treats the 429 as a Cloudflare ban and raises). Note
        that discord.py retries 500/502/504 after sleeping 1 s, 3 s, 5 s... so keep ``times`` small.
        """
        extra: dict[str, str] = dict(headers or {})
        if body is None:
            body = _default_error_body(status, retry_after=retry_after, is_global=is_global)
        if status == 429:
            extra.setdefault("Retry-After", str(max(1, int(retry_after + 0.999))))
            extra.setdefault("X-RateLimit-Limit", "5")
            extra.setdefault("X-RateLimit-Remaining", "0")
            extra.setdefault("X-RateLimit-Reset-After", f"{retry_after:.3f}")
            extra.setdefault("X-RateLimit-Reset", f"{time.time() + retry_after:.3f}")
            extra.setdefault("X-RateLimit-Scope", "global" if is_global else "user")
            if is_global:
                extra.setdefault("X-RateLimit-Global", "true")
        self._failures.append(_Failure(method.upper(), re.compile(path), status, body, extra, remaining=max(1, times)))

    # ------------------------------------------------------------------ waiting

    async def wait_for_request(
        self,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        start: int = 0,
        timeout: float = 5.0,
    ) -> RecordedRequest:
        """Return the first recorded request at index >= ``start`` matching all given filters.

        Already-recorded requests count, so there is no race between triggering and waiting.
        """

        def find() -> RecordedRequest | None:
            for request in self.requests[start:]:
                if _request_matches(request, method, path) and (predicate is None or predicate(request)):
                    return request
            return None

        return await self.wait_for(find, timeout, f"request method={method} path={path}")

    async def wait_for_interaction_response(
        self, interaction: SentInteraction, *, timeout: float = 5.0
    ) -> RecordedRequest:
        """Wait for the bot's first callback to ``interaction`` and return it."""
        prefix = f"/interactions/{interaction.id}/"
        return await self.wait_for_request(
            lambda r: r.method == "POST" and r.path.startswith(prefix),
            start=interaction.request_index,
            timeout=timeout,
        )

    async def wait_for_followup(
        self, interaction: SentInteraction, *, nth: int = 0, timeout: float = 5.0
    ) -> RecordedRequest:
        """Wait for the ``nth`` (0-based) follow-up send of ``interaction``."""
        path = f"/webhooks/{self.application_id}/{interaction.token}"

        def find() -> RecordedRequest | None:
            found = [r for r in self.requests[interaction.request_index :] if r.method == "POST" and r.path == path]
            return found[nth] if len(found) > nth else None

        return await self.wait_for(find, timeout, f"follow-up #{nth} of interaction {interaction.id}")

    async def wait_until_identified(self, timeout: float = 5.0) -> None:
        """Wait until a client has IDENTIFYed (or RESUMEd) and READY/GUILD_CREATE were sent.

        This says nothing about the client having processed them; with discord.py also await
        ``client.wait_until_ready()`` (or use :meth:`run_client`, which does both).
        """
        try:
            await asyncio.wait_for(self._identified.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no client identified within {timeout}s") from None

    # ------------------------------------------------------------------ running a discord.py client

    @contextlib.asynccontextmanager
    async def run_client(
        self,
        client: discord.Client,
        *,
        token: str | None = None,
        timeout: float = 5.0,
        guild_ready_timeout: float | None = 0.05,
        patch_rest: bool = True,
    ) -> AsyncIterator[discord.Client]:
        """Patch discord.py, start ``client`` against the fake, yield once it is ready, then close it.

        ``guild_ready_timeout`` overrides the client's own (default 2 s): discord.py fires
        ``on_ready`` only after no GUILD_CREATE has arrived for that long, which would make every
        test wait two seconds. Pass ``None`` to keep the client's setting.
        """
        with self.patched(rest=patch_rest):
            if guild_ready_timeout is not None:
                # Private attribute, but the only knob: Client(guild_ready_timeout=...) sets the same one.
                client._connection.guild_ready_timeout = guild_ready_timeout
            async with client:  # runs the async setup so wait_until_ready() is usable before login
                runner = asyncio.create_task(client.start(token or self.token or "fake-token"))
                ready = asyncio.create_task(client.wait_until_ready())
                done, _ = await asyncio.wait({runner, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if ready not in done:
                    ready.cancel()
                    await client.close()
                    with contextlib.suppress(asyncio.CancelledError):
                        await ready
                    if runner.done():
                        runner.result()  # re-raise the client's startup error
                    runner.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await runner
                    raise TimeoutError(f"discord client not ready within {timeout}s")
                try:
                    yield client
                finally:
                    await client.close()
                    try:
                        await asyncio.wait_for(runner, timeout)
                    except Exception:
                        log.exception("discord client task ended with an error")

    # ------------------------------------------------------------------ gateway: dispatch helpers

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send a DISPATCH (op 0) event to the connected client; returns its sequence number."""
        session = self._session
        if session is None or session.connection is None or session.connection.ws.closed:
            raise RuntimeError(f"cannot dispatch {event}: no client is connected and identified")
        connection = session.connection
        async with connection.send_lock:
            session.sequence += 1
            frame = {"op": OP_DISPATCH, "t": event, "s": session.sequence, "d": data}
            session.replay.append(frame)
            self.gateway_sent.append(frame)
            await connection.ws.send_str(json.dumps(frame))
        log.debug("dispatched %s (seq %d)", event, frame["s"])
        return int(frame["s"])

    async def _dispatch_if_connected(self, event: str, data: dict[str, Any]) -> None:
        """Best-effort dispatch for side-effect events (message echoes) while a client may be closing."""
        session = self._session
        if session is None or session.connection is None or session.connection.ws.closed:
            return
        try:
            await self.dispatch(event, data)
        except (ConnectionError, RuntimeError) as exc:
            log.debug("dropped %s: %s", event, exc)

    async def send_slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        user: FakeUser | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        member_roles: Sequence[int] | None = None,
        permissions: int | None = None,
        app_permissions: int = DEFAULT_BOT_PERMISSIONS,
        locale: str = "en-US",
        dm: bool = False,
        resolved: Mapping[str, Any] | None = None,
        command_guild_id: int | _Auto | None = AUTO,
    ) -> SentInteraction:
        """Dispatch an APPLICATION_COMMAND (type 2) interaction for a slash command.

        ``name`` may contain spaces for subcommands (``"quote search"``) and subcommand groups.
        ``options`` maps option names to values; option types come from the synced command schema if
        the bot synced it to the fake, else from the Python type (str 3, int 4, bool 5, float 10,
        FakeUser/FakeMember 6, FakeChannel 7, FakeRole 8; the latter fill ``data.resolved``). A
        sequence of raw option dicts is passed through untouched. ``command_guild_id`` sets
        ``data.guild_id`` (present on Discord for guild-scoped commands); by default it is derived
        from where the command was registered.
        """
        return await self._command_interaction(
            INTERACTION_APPLICATION_COMMAND,
            name,
            options,
            focused=None,
            user=user,
            guild_id=guild_id,
            channel_id=channel_id,
            member_roles=member_roles,
            permissions=permissions,
            app_permissions=app_permissions,
            locale=locale,
            dm=dm,
            resolved=resolved,
            command_guild_id=command_guild_id,
        )

    async def send_autocomplete(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        focused: str,
        *,
        user: FakeUser | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        member_roles: Sequence[int] | None = None,
        permissions: int | None = None,
        app_permissions: int = DEFAULT_BOT_PERMISSIONS,
        locale: str = "en-US",
        dm: bool = False,
        command_guild_id: int | _Auto | None = AUTO,
    ) -> SentInteraction:
        """Dispatch an APPLICATION_COMMAND_AUTOCOMPLETE (type 4) interaction.

        ``focused`` names the option being typed; it gets ``"focused": true``. On Discord the focused
        value is whatever the user typed so far (a string, even for numeric options), so pass one.
        Read the answer with :meth:`autocomplete_choices` after :meth:`wait_for_interaction_response`.
        """
        return await self._command_interaction(
            INTERACTION_AUTOCOMPLETE,
            name,
            options,
            focused=focused,
            user=user,
            guild_id=guild_id,
            channel_id=channel_id,
            member_roles=member_roles,
            permissions=permissions,
            app_permissions=app_permissions,
            locale=locale,
            dm=dm,
            resolved=None,
            command_guild_id=command_guild_id,
        )

    async def click_button(
        self,
        message: dict[str, Any] | int,
        custom_id: str,
        *,
        user: FakeUser | None = None,
        member_roles: Sequence[int] | None = None,
        permissions: int | None = None,
        app_permissions: int = DEFAULT_BOT_PERMISSIONS,
        locale: str = "en-US",
        as_shown: dict[str, Any] | None = None,
    ) -> SentInteraction:
        """Dispatch a MESSAGE_COMPONENT (type 3) click on the button ``custom_id`` of a stored message.

        The payload carries the stored message (with its components) as ``message``, which is what
        discord.py uses to route the click to a persistent view. Raises ``LookupError`` if the
        message has no such component, since that is almost always a test bug. ``as_shown`` is an
        older copy of the message: a user whose client still shows buttons an edit has removed
        (a double click) clicks on that copy.
        """
        return await self._component_interaction(
            message, custom_id, None, user, member_roles, permissions, app_permissions, locale, as_shown
        )

    # ------------------------------------------------------------------ gateway: connection control

    # ------------------------------------------------------------------ gateway: server side

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        # No permessage-deflate and no zlib-stream: discord.py asks for ?compress=zlib-stream but
        # decompresses only BINARY frames, so plain TEXT frames are accepted as-is.
        ws = web.WebSocketResponse(compress=False, max_msg_size=0, autoping=True)
        await ws.prepare(request)
        conn = _GatewayConnection(ws=ws, query=dict(request.query))
        self._connections.add(conn)
        log.debug("gateway connection opened with query %s", conn.query)
        try:
            hello = {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fake-discord-gateway"]}
            async with conn.send_lock:
                await ws.send_str(json.dumps({"op": OP_HELLO, "d": hello, "s": None, "t": None}))
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    await self._on_gateway_message(conn, msg.data)
                elif msg.type is aiohttp.WSMsgType.BINARY:
                    log.warning("ignoring binary gateway frame (%d bytes)", len(msg.data))
                elif msg.type is aiohttp.WSMsgType.ERROR:
                    log.debug("gateway connection error: %s", ws.exception())
                    break
        finally:
            self._connections.discard(conn)
            session = self._session
            if session is not None and session.connection is conn:
                session.connection = None
                self._identified.clear()
            log.debug("gateway connection closed (code %s)", ws.close_code)
        return ws

    async def _on_gateway_message(self, conn: _GatewayConnection, text: str) -> None:
        try:
            payload = json.loads(text)
        except json.JSONDecodeError:
            log.warning("client sent invalid JSON on the gateway; closing with 4002")
            await conn.ws.close(code=4002, message=b"Error while decoding payload.")
            return
        self.gateway_received.append(payload)
        op = payload.get("op")
        data = payload.get("d")
        if op == OP_HEARTBEAT:
            async with conn.send_lock:
                await conn.ws.send_str(json.dumps({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None}))
        elif op == OP_IDENTIFY:
            await self._identify(conn, data or {})
        elif op in (OP_PRESENCE_UPDATE, OP_VOICE_STATE_UPDATE):
            log.debug("recorded gateway op %s", op)
        else:
            log.warning("unexpected gateway op %r from client", op)
        await self.notify()

    async def _identify(self, conn: _GatewayConnection, data: Mapping[str, Any]) -> None:
        if self.token is not None and data.get("token") != self.token:
            log.info("IDENTIFY with a wrong token; closing with 4004")
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        if self._session is not None and self._session.connection not in (None, conn):
            old = self._session.connection
            with contextlib.suppress(Exception):
                await old.ws.close(code=4005, message=b"Already authenticated.")  # type: ignore[union-attr]
        session = _GatewaySession(id=uuid.uuid4().hex, intents=int(data.get("intents") or 0), connection=conn)
        self._session = session
        self.identify_count += 1
        await self.dispatch("READY", self._ready_payload(session))
        for guild in self.guilds:
            await self.dispatch("GUILD_CREATE", self._guild_create_payload(guild, session.intents))
        self._identified.set()

    def _ready_payload(self, session: _GatewaySession) -> dict[str, Any]:
        user = self.bot_user.to_payload()
        user.update(verified=True, mfa_enabled=False, email=None, locale="en-US")
        return {
            "v": API_VERSION,
            "user": user,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self.guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "user_settings": {},
            "auth": {},
            "_trace": ["fake-discord-gateway"],
        }

    def _bot_member(self, guild: FakeGuild) -> FakeMember:
        return FakeMember(self.bot_user, roles=[self._bot_roles[guild.id].id])

    def _guild_create_payload(self, guild: FakeGuild, intents: int) -> dict[str, Any]:
        # Without the privileged GUILD_MEMBERS intent Discord only sends the bot's own member.
        members = [self._bot_member(guild)]
        if intents & INTENT_GUILD_MEMBERS:
            members += guild.members
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id or (guild.members[0].user.id if guild.members else self.bot_user.id)),
            "unavailable": False,
            "large": False,
            "member_count": len(guild.members) + 1,
            "joined_at": _snowflake_iso(guild.id),
            "roles": [r.to_payload() for r in [*guild.all_roles(), self._bot_roles[guild.id]]],
            "channels": [c.to_payload() for c in guild.channels],
            "members": [m.to_payload() for m in members],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "emojis": [],
            "stickers": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "features": [],
            "preferred_locale": guild.locale,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "nsfw": False,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "system_channel_id": str(guild.text_channels()[0].id) if guild.text_channels() else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "application_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "incidents_data": None,
            "version": int(time.time() * 1000),
        }

    # ------------------------------------------------------------------ interaction building

    async def _command_interaction(
        self,
        itype: int,
        name: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        *,
        focused: str | None,
        user: FakeUser | None,
        guild_id: int | None,
        channel_id: int | None,
        member_roles: Sequence[int] | None,
        permissions: int | None,
        app_permissions: int,
        locale: str,
        dm: bool,
        resolved: Mapping[str, Any] | None,
        command_guild_id: int | _Auto | None,
    ) -> SentInteraction:
        parts = name.split()
        if not 1 <= len(parts) <= 3:
            raise ValueError(f"bad command name {name!r}")
        guild = None if dm else self._guild_for(guild_id, channel_id)
        data: dict[str, Any] = {"id": "0", "name": parts[0], "type": 1}
        schema = self._fill_command_identity(
            data, parts[0], 1, guild.id if guild else None, channel_id, command_guild_id
        )
        schema_options = _schema_options(schema, parts[1:])
        all_resolved: dict[str, dict[str, Any]] = {}
        if options is None:
            leaf: list[dict[str, Any]] = []
        elif isinstance(options, Mapping):
            leaf = []
            for key, value in options.items():
                option, extra = self._build_option(key, value, schema_options, guild, key == focused)
                leaf.append(option)
                for kind, entries in extra.items():
                    all_resolved.setdefault(kind, {}).update(entries)
        else:
            leaf = [dict(o) for o in options]
        if focused is not None and not any(o.get("focused") for o in leaf):
            raise ValueError(f"focused option {focused!r} is not among the options")
        # Wrap in subcommand (type 1) / subcommand group (type 2) options as Discord does.
        nested: list[dict[str, Any]] = leaf
        for depth, part in enumerate(reversed(parts[1:])):
            option_type = 1 if depth == 0 else 2
            nested = [{"name": part, "type": option_type, "options": nested}]
        if nested:
            data["options"] = nested
        if resolved:
            for kind, entries in resolved.items():
                all_resolved.setdefault(kind, {}).update(entries)
        if all_resolved:
            data["resolved"] = all_resolved
        return await self._send_interaction(
            itype,
            data,
            user=user,
            guild_id=guild.id if guild else None,
            channel_id=channel_id,
            member_roles=member_roles,
            permissions=permissions,
            app_permissions=app_permissions,
            locale=locale,
            dm=dm,
        )

    def _fill_command_identity(
        self,
        data: dict[str, Any],
        name: str,
        command_type: int,
        guild_id: int | None,
        channel_id: int | None,
        command_guild_id: int | _Auto | None,
    ) -> dict[str, Any] | None:
        """Set ``data.id`` / ``data.guild_id`` from the registered command; return its schema."""
        if guild_id is None and channel_id is not None:
            found = self._find_channel(channel_id)
            guild_id = found[1].id if found and found[1] else None
        schema: dict[str, Any] | None = None
        scope: int | None = None
        if isinstance(command_guild_id, _Auto):
            for candidate in ([guild_id] if guild_id else []) + [None]:
                schema = _find_command(self._commands.get(candidate, []), name, command_type)
                if schema is not None:
                    scope = candidate
                    break
        else:
            scope = command_guild_id
            schema = _find_command(self._commands.get(scope, []), name, command_type)
        if schema is not None:
            data["id"] = schema["id"]
        else:
            # Unsynced command: a stable made-up id (discord.py routes by name, not id).
            digest = hashlib.sha256(f"{scope}:{command_type}:{name}".encode()).digest()
            data["id"] = str(int.from_bytes(digest[:7], "big"))
        if scope is not None:
            data["guild_id"] = str(scope)
        return schema

    def _build_option(
        self,
        name: str,
        value: Any,
        schema_options: list[dict[str, Any]] | None,
        guild: FakeGuild | None,
        focused: bool,
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        schema = next((o for o in schema_options or [] if o.get("name") == name), None)
        assert schema is not None, f"option {name!r} is not in the synced command"
        option_type = int(schema["type"])
        resolved: dict[str, dict[str, Any]] = {}
        raw: Any
        if isinstance(value, FakeUser | FakeMember | FakeChannel | FakeRole):
            resolved = self._resolve_objects([value], guild)
            raw = str(value.user.id if isinstance(value, FakeMember) else value.id)
        elif focused:
            # Autocomplete: Discord sends the partial input as typed, a string for every type.
            raw = str(value)
        elif option_type == 4:
            raw = int(value)
        elif option_type == 5:
            raw = bool(value)
        elif option_type == 10:
            raw = float(value)
        elif option_type in (3, 6, 7, 8, 9, 11):
            raw = str(value)
        else:
            raw = value
        option: dict[str, Any] = {"name": name, "type": option_type, "value": raw}
        if focused:
            option["focused"] = True
        return option, resolved

    def _resolve_objects(self, objects: Iterable[Any], guild: FakeGuild | None) -> dict[str, dict[str, Any]]:
        """Build ``data.resolved`` entries for users/members/channels/roles used as option values."""
        resolved: dict[str, dict[str, Any]] = {}
        for obj in objects:
            if isinstance(obj, FakeMember | FakeUser):
                member = obj if isinstance(obj, FakeMember) else (guild.get_member(obj.id) if guild else None)
                user = obj.user if isinstance(obj, FakeMember) else obj
                resolved.setdefault("users", {})[str(user.id)] = user.to_payload()
                if guild is not None:
                    member = member or FakeMember(user)
                    perms = guild.permissions_for_roles(member.roles)
                    resolved.setdefault("members", {})[str(user.id)] = member.to_payload(
                        with_user=False, permissions=perms
                    )
            elif isinstance(obj, FakeChannel):
                payload = obj.to_payload(guild.id if guild else None)
                payload["permissions"] = str(ALL_PERMISSIONS)
                resolved.setdefault("channels", {})[str(obj.id)] = payload
            elif isinstance(obj, FakeRole):
                resolved.setdefault("roles", {})[str(obj.id)] = obj.to_payload()
        return resolved

    async def _component_interaction(
        self,
        message: dict[str, Any] | int,
        custom_id: str,
        values: list[str] | None,
        user: FakeUser | None,
        member_roles: Sequence[int] | None,
        permissions: int | None,
        app_permissions: int,
        locale: str,
        as_shown: dict[str, Any] | None = None,
    ) -> SentInteraction:
        stored = as_shown or self._lookup_message(message)
        found = self._find_channel(int(stored["channel_id"]))
        component = _find_component(stored.get("components") or [], custom_id)
        if component is None:
            raise LookupError(f"message {stored['id']} has no component with custom_id {custom_id!r}")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": int(component["type"])}
        if "id" in component:
            data["id"] = component["id"]
        if values is not None:
            data["values"] = values
        elif component["type"] != 2:
            data["values"] = []
        return await self._send_interaction(
            INTERACTION_COMPONENT,
            data,
            user=user,
            guild_id=None,
            channel_id=int(stored["channel_id"]),
            member_roles=member_roles,
            permissions=permissions,
            app_permissions=app_permissions,
            locale=locale,
            dm=found is not None and found[1] is None,
            message=stored,
        )

    async def _send_interaction(
        self,
        itype: int,
        data: dict[str, Any],
        *,
        user: FakeUser | None,
        guild_id: int | None,
        channel_id: int | None,
        member_roles: Sequence[int] | None,
        permissions: int | None,
        app_permissions: int,
        locale: str,
        dm: bool,
        message: dict[str, Any] | None = None,
    ) -> SentInteraction:
        """Build a complete INTERACTION_CREATE payload, remember it, and dispatch it."""
        user = user or self.default_user
        self._known_users[user.id] = user
        interaction_id = self._snowflakes.next()
        token = "fake-interaction-" + secrets.token_urlsafe(24)
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "app_permissions": str(app_permissions),
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        guild: FakeGuild | None = None
        if dm:
            raise NotImplementedError("direct-message interactions are not faked")
        else:
            guild = self._guild_for(guild_id, channel_id)
            channel = guild.get_channel(channel_id) if channel_id is not None else guild.text_channels()[0]
            if channel is None:
                raise LookupError(f"channel {channel_id} is not in guild {guild.id}")
            member = guild.get_member(user.id) or FakeMember(user)
            roles = list(member_roles) if member_roles is not None else member.roles
            perms = permissions if permissions is not None else guild.permissions_for_roles(roles)
            if guild.owner_id == user.id:
                perms = ALL_PERMISSIONS
            channel_payload = channel.to_payload(guild.id)
            channel_payload["permissions"] = str(perms)
            resolved_channel_id = channel.id
            payload["guild_id"] = str(guild.id)
            payload["guild"] = {"id": str(guild.id), "locale": guild.locale, "features": []}
            payload["guild_locale"] = guild.locale
            payload["member"] = member.to_payload(roles=roles, permissions=perms)
            payload["context"] = 0  # GUILD
            payload["authorizing_integration_owners"] = {"0": str(guild.id)}
        payload["channel"] = channel_payload
        payload["channel_id"] = str(resolved_channel_id)
        if message is not None:
            payload["message"] = copy.deepcopy(message)

        sent = SentInteraction(
            id=interaction_id, token=token, type=itype, payload=payload, request_index=len(self.requests)
        )
        record = _InteractionRecord(
            sent=sent,
            channel_id=resolved_channel_id,
            guild_id=guild.id if guild else None,
            user=user,
            component_message_id=int(message["id"]) if message is not None else None,
        )
        self._interactions[interaction_id] = record
        self._interactions_by_token[token] = record
        await self.dispatch("INTERACTION_CREATE", payload)
        return sent

    # ------------------------------------------------------------------ lookups

    def _find_guild(self, guild_id: int) -> FakeGuild | None:
        return next((g for g in self.guilds if g.id == guild_id), None)

    def _guild_for(self, guild_id: int | None, channel_id: int | None) -> FakeGuild:
        if guild_id is not None:
            guild = self._find_guild(guild_id)
            if guild is None:
                raise LookupError(f"unknown guild {guild_id}")
            return guild
        if channel_id is not None:
            found = self._find_channel(channel_id)
            if found is None or found[1] is None:
                raise LookupError(f"channel {channel_id} is not a guild channel of the fake")
            return found[1]
        return self.guild

    def _find_channel(self, channel_id: int) -> tuple[dict[str, Any], FakeGuild | None] | None:
        """Return (channel payload incl. guild_id, guild) for guild or DM channels."""
        for guild in self.guilds:
            channel = guild.get_channel(channel_id)
            if channel is not None:
                return channel.to_payload(guild.id), guild
        return None

    def _lookup_message(self, message: dict[str, Any] | int | None) -> dict[str, Any]:
        if message is None:
            raise LookupError("no message given")
        mid = int(message["id"]) if isinstance(message, dict) else int(message)
        stored = self.messages.get(mid)
        if stored is None:
            raise LookupError(f"unknown message {mid}")
        return stored

    # ------------------------------------------------------------------ HTTP: plumbing

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._gateway(request)
        match = _API_PATH.match(request.path)
        if match is None:
            return web.Response(status=404, text="not a Discord API path")
        body, files = await _read_body(request)
        record = RecordedRequest(
            index=-1,
            method=request.method,
            path=match.group("path"),
            query=dict(request.query),
            body=body,
            files=files,
            headers=dict(request.headers),
            api_version=int(match.group("version")),
        )
        extra_headers: dict[str, str] = {}
        failure = self._take_failure(record)
        if failure is not None:
            status, payload = failure.status, copy.deepcopy(failure.body)
            extra_headers = dict(failure.headers)
            record.failure_injected = True
        else:
            status, payload = await self._route(record)
        record.status, record.response = status, payload
        record.index = len(self.requests)
        self.requests.append(record)
        log.debug("REST %s", record)
        await self.notify()
        return self._respond(record, status, payload, extra_headers)

    async def _route(self, record: RecordedRequest) -> tuple[int, Any]:
        for method, pattern, handler, needs_auth in self._routes:
            if method != record.method:
                continue
            match = pattern.fullmatch(record.path)
            if match is None:
                continue
            try:
                if needs_auth:
                    self._check_auth(record)
                return await handler(record, match.groupdict())
            except _ApiError as exc:
                return exc.status, {"message": exc.message, "code": exc.code}
        record.unhandled = True
        log.warning("fake Discord has no route for %s %s (answered 404)", record.method, record.path)
        return 404, {"message": "404: Not Found", "code": 0}

    def _check_auth(self, record: RecordedRequest) -> None:
        auth = record.headers.get("Authorization", "")
        if not auth.startswith("Bot ") or (self.token is not None and auth != f"Bot {self.token}"):
            raise _ApiError(401, 0, "401: Unauthorized")

    def _take_failure(self, record: RecordedRequest) -> _Failure | None:
        for failure in self._failures:
            if failure.method in ("*", record.method) and failure.path.fullmatch(record.path):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _respond(
        self, record: RecordedRequest, status: int, payload: Any, extra_headers: Mapping[str, str]
    ) -> web.Response:
        bucket = hashlib.sha1(f"{record.method} {_route_template(record.path)}".encode()).hexdigest()[:16]
        headers = {
            # discord.py refuses to treat a 429 as a rate limit unless "Via" is present (else it
            # assumes a Cloudflare ban), so every response carries it like Discord's do.
            "Via": "1.1 google",
            "X-RateLimit-Bucket": bucket,
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
        }
        headers.update(extra_headers)
        if payload is None:
            return web.Response(status=204 if status < 300 else status, headers=headers)
        # Exactly "application/json": discord.py compares the header verbatim, so the
        # "; charset=utf-8" that web.json_response adds would make it see a plain string.
        headers["Content-Type"] = "application/json"
        return web.Response(status=status, body=json.dumps(payload).encode(), headers=headers)

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Any], bool]]:
        snowflake = r"\d+"
        token = r"[^/]+"
        app = rf"/applications/(?P<app>{snowflake})"
        webhook = rf"/webhooks/(?P<app>{snowflake})/(?P<token>{token})"
        channel = rf"/channels/(?P<channel>{snowflake})"
        table: list[tuple[str, str, Callable[..., Any], bool]] = [
            ("GET", r"/users/@me", self._get_me, True),
            ("GET", r"/oauth2/applications/@me", self._get_application, True),
            ("GET", r"/applications/@me", self._get_application, True),
            ("PUT", rf"{app}/commands", self._bulk_commands, True),
            ("PUT", rf"{app}/guilds/(?P<guild>{snowflake})/commands", self._bulk_commands, True),
            ("POST", rf"/interactions/(?P<interaction>{snowflake})/(?P<token>{token})/callback", self._callback, False),
            ("POST", webhook, self._followup, False),
            ("GET", channel, self._get_channel, True),
            ("POST", rf"{channel}/messages", self._create_message, True),
        ]
        return [(m, re.compile(p), h, a) for m, p, h, a in table]

    # ------------------------------------------------------------------ HTTP: identity routes

    async def _get_me(self, record: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        user = self.bot_user.to_payload()
        user.update(verified=True, mfa_enabled=False, email=None, locale="en-US")
        return 200, user

    async def _get_application(self, record: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        owner = self.default_user.to_payload()
        return 200, {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "icon": None,
            "description": "fake application",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": self.application_flags,
            "owner": owner,
            "team": None,
            "bot": self.bot_user.to_payload(),
            "redirect_uris": [],
            "interactions_endpoint_url": None,  # non-null makes discord.py warn: no gateway interactions
            "approximate_guild_count": len(self.guilds),
            "integration_types_config": {"0": {}},
        }

    # ------------------------------------------------------------------ HTTP: application commands

    def _command_scope(self, m: dict[str, str]) -> int | None:
        if int(m["app"]) != self.application_id:
            raise _ApiError(403, 50001, "Missing Access")
        return int(m["guild"]) if m.get("guild") else None

    def _materialise_command(
        self, payload: Mapping[str, Any], guild_id: int | None, existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        if not isinstance(payload, Mapping) or not payload.get("name"):
            raise _ApiError(400, 50035, "Invalid Form Body")
        _check_command(payload)
        command = copy.deepcopy(dict(payload))
        command_type = int(command.get("type") or 1)
        command["type"] = command_type
        command["id"] = existing["id"] if existing else str(self._snowflakes.next())
        command["application_id"] = str(self.application_id)
        command["version"] = str(self._snowflakes.next())
        command.setdefault("description", "")
        command.setdefault("default_member_permissions", None)
        command.setdefault("nsfw", False)
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    async def _bulk_commands(self, record: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        scope = self._command_scope(m)
        if not isinstance(record.body, list):
            raise _ApiError(400, 50035, "Invalid Form Body")
        previous = self._commands.get(scope, [])
        stored = [
            self._materialise_command(
                item, scope, _find_command(previous, str(item.get("name")), int(item.get("type") or 1))
            )
            for item in record.body
        ]
        self._commands[scope] = stored
        log.info("stored %d %s commands", len(stored), f"guild {scope}" if scope else "global")
        return 200, copy.deepcopy(stored)

    # ------------------------------------------------------------------ HTTP: interactions

    def _record_for_token(self, m: dict[str, str]) -> _InteractionRecord:
        record = self._interactions_by_token.get(m["token"])
        if record is None or int(m["app"]) != self.application_id or record.response_type is None:
            # Follow-up tokens only become valid once the interaction has been acknowledged.
            raise _ApiError(404, 10015, "Unknown Webhook")
        return record

    async def _callback(self, request: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        record = self._interactions.get(int(m["interaction"]))
        if record is None or record.sent.token != m["token"]:
            raise _ApiError(404, 10062, "Unknown interaction")
        if record.response_type is not None:
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = request.body if isinstance(request.body, dict) else {}
        callback_type = int(body.get("type") or 0)
        if callback_type not in _ALLOWED_CALLBACKS.get(record.sent.type, frozenset()):
            raise _ApiError(400, 50035, f"Invalid Form Body (callback type {callback_type})")
        data = body.get("data") or {}
        _check_limits(data)
        record.response_type = callback_type
        interaction_info: dict[str, Any] = {"id": str(record.sent.id), "type": record.sent.type}
        resource: dict[str, Any] = {"type": callback_type}

        if callback_type == CALLBACK_CHANNEL_MESSAGE:
            message = await self._create_interaction_message(record, data, request.files)
            record.original_message_id = int(message["id"])
            resource["message"] = copy.deepcopy(message)
        elif callback_type == CALLBACK_DEFERRED_CHANNEL_MESSAGE:
            # Discord creates a "thinking" message right away; the first follow-up (or an edit of
            # @original) fills it in, keeping the defer's ephemerality.
            loading = {"flags": FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)}
            message = await self._create_interaction_message(record, loading, [])
            record.original_message_id = int(message["id"])
            record.loading = True
        elif callback_type in (CALLBACK_DEFERRED_UPDATE_MESSAGE, CALLBACK_UPDATE_MESSAGE):
            if record.component_message_id is None:
                raise _ApiError(400, 50035, "Invalid Form Body (no message to update)")
            record.original_message_id = record.component_message_id
            if callback_type == CALLBACK_UPDATE_MESSAGE:
                message = self.messages.get(record.component_message_id)
                if message is None:
                    raise _ApiError(404, 10008, "Unknown Message")
                await self._apply_edit(message, data, request.files)
                resource["message"] = copy.deepcopy(message)
        elif callback_type == CALLBACK_AUTOCOMPLETE_RESULT:
            record.autocomplete_choices = list(data.get("choices") or [])
        elif callback_type == CALLBACK_MODAL:
            record.modal = copy.deepcopy(data)

        if record.original_message_id is not None:
            original = self.messages.get(record.original_message_id, {})
            interaction_info["response_message_id"] = str(record.original_message_id)
            interaction_info["response_message_loading"] = record.loading
            interaction_info["response_message_ephemeral"] = bool(original.get("flags", 0) & FLAG_EPHEMERAL)
        if not _truthy_query(request.query.get("with_response")):
            return 204, None
        return 200, {"interaction": interaction_info, "resource": resource}

    async def _create_interaction_message(
        self, record: _InteractionRecord, data: Mapping[str, Any], files: list[RecordedFile]
    ) -> dict[str, Any]:
        sent = record.sent
        command_data = sent.payload.get("data") or {}
        if sent.type == INTERACTION_APPLICATION_COMMAND:
            message_type = (
                MESSAGE_CHAT_INPUT_COMMAND if command_data.get("type", 1) == 1 else MESSAGE_CONTEXT_MENU_COMMAND
            )
        else:
            message_type = MESSAGE_DEFAULT
        metadata: dict[str, Any] = {
            "id": str(sent.id),
            "type": sent.type,
            "user": record.user.to_payload(),
            "authorizing_integration_owners": sent.payload.get("authorizing_integration_owners", {}),
        }
        if sent.type == INTERACTION_APPLICATION_COMMAND:
            metadata["name"] = command_data.get("name")
        if record.component_message_id is not None:
            metadata["interacted_message_id"] = str(record.component_message_id)
        if record.original_message_id is not None:
            metadata["original_response_message_id"] = str(record.original_message_id)
        message = self._build_message(
            channel_id=int(sent.payload["channel_id"]),
            payload=data,
            files=files,
            author=self.bot_user.to_payload(),
            message_type=message_type,
            base_flags=int(data.get("flags") or 0) & (_SETTABLE_FLAGS | FLAG_LOADING),
        )
        message["webhook_id"] = str(self.application_id)
        message["application_id"] = str(self.application_id)
        message["interaction_metadata"] = metadata
        self.messages[int(message["id"])] = message
        await self._echo("MESSAGE_CREATE", message)
        return message

    async def _followup(self, request: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        record = self._record_for_token(m)
        data = request.body if isinstance(request.body, dict) else {}
        _check_limits(data)
        if record.loading and record.original_message_id is not None:
            message = self.messages[record.original_message_id]
            await self._fill_loading(record, message, data, request.files)
        else:
            message = await self._create_interaction_message(record, data, request.files)
            if record.original_message_id is None:
                record.original_message_id = int(message["id"])
        if not _truthy_query(request.query.get("wait")):
            return 204, None
        return 200, copy.deepcopy(message)

    async def _fill_loading(
        self,
        record: _InteractionRecord,
        message: dict[str, Any],
        data: Mapping[str, Any],
        files: list[RecordedFile],
    ) -> None:
        keep = message["flags"] & FLAG_EPHEMERAL
        await self._apply_edit(message, data, files, mark_edited=False, echo=False)
        message["flags"] = (message["flags"] & ~(FLAG_LOADING | FLAG_EPHEMERAL)) | keep
        record.loading = False
        await self._echo("MESSAGE_UPDATE", message)

    # ------------------------------------------------------------------ HTTP: channels and messages

    def _channel_or_404(self, m: dict[str, str]) -> tuple[dict[str, Any], FakeGuild | None]:
        found = self._find_channel(int(m["channel"]))
        if found is None:
            raise _ApiError(404, 10003, "Unknown Channel")
        return found

    async def _get_channel(self, request: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        return 200, copy.deepcopy(self._channel_or_404(m)[0])

    async def _create_message(self, request: RecordedRequest, m: dict[str, str]) -> tuple[int, Any]:
        self._channel_or_404(m)
        data = request.body if isinstance(request.body, dict) else {}
        _check_limits(data)
        if not (data.get("content") or data.get("embeds") or data.get("components") or request.files):
            raise _ApiError(400, 50006, "Cannot send an empty message")
        reference = data.get("message_reference")
        message = self._build_message(
            channel_id=int(m["channel"]),
            payload=data,
            files=request.files,
            author=self.bot_user.to_payload(),
            message_type=MESSAGE_REPLY if reference else MESSAGE_DEFAULT,
            base_flags=int(data.get("flags") or 0) & _SETTABLE_FLAGS,
        )
        if reference:
            message["message_reference"] = {"type": 0, "channel_id": m["channel"], **reference}
            referenced = self.messages.get(int(reference.get("message_id") or 0))
            message["referenced_message"] = copy.deepcopy(referenced)
        if data.get("nonce") is not None:
            message["nonce"] = data["nonce"]
        self.messages[int(message["id"])] = message
        await self._echo("MESSAGE_CREATE", message)
        return 200, copy.deepcopy(message)

    # ------------------------------------------------------------------ HTTP: guilds

    # ------------------------------------------------------------------ messages: storage

    def _build_message(
        self,
        *,
        channel_id: int,
        payload: Mapping[str, Any],
        files: list[RecordedFile],
        author: dict[str, Any],
        message_type: int = MESSAGE_DEFAULT,
        base_flags: int = 0,
    ) -> dict[str, Any]:
        return {
            "id": str(self._snowflakes.next()),
            "type": message_type,
            "channel_id": str(channel_id),
            "author": author,
            "content": payload.get("content") or "",
            "embeds": [_normalise_embed(e) for e in payload.get("embeds") or []],
            "components": _normalise_components(payload.get("components") or []),
            "attachments": self._attachments(payload, files, []),
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": bool(payload.get("tts", False)),
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "flags": base_flags,
        }

    def _attachments(
        self, payload: Mapping[str, Any], files: list[RecordedFile], existing: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Combine kept attachments (by id in ``payload.attachments``) with newly uploaded files."""
        declared = payload.get("attachments")
        if declared is None:
            kept = list(existing)
        else:
            kept_ids = {str(a.get("id")) for a in declared}
            kept = [a for a in existing if a["id"] in kept_ids]
        for upload in files:
            attachment_id = str(self._snowflakes.next())
            filename = upload.filename or "file"
            kept.append(
                {
                    "id": attachment_id,
                    "filename": filename,
                    "size": len(upload.data),
                    "url": f"https://cdn.discordapp.com/attachments/fake/{attachment_id}/{filename}",
                    "proxy_url": f"https://media.discordapp.net/attachments/fake/{attachment_id}/{filename}",
                    "content_type": upload.content_type,
                }
            )
        return kept

    async def _apply_edit(
        self,
        message: dict[str, Any],
        data: Mapping[str, Any],
        files: list[RecordedFile],
        *,
        mark_edited: bool = True,
        echo: bool = True,
    ) -> None:
        """Apply a PATCH-style edit: only keys present in ``data`` change (None clears)."""
        if "content" in data:
            message["content"] = data["content"] or ""
        if "embeds" in data:
            message["embeds"] = [_normalise_embed(e) for e in data["embeds"] or []]
        if "components" in data:
            message["components"] = _normalise_components(data["components"] or [])
        if "flags" in data and data["flags"] is not None:
            changeable = FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2
            message["flags"] = (message["flags"] & ~changeable) | (int(data["flags"]) & changeable)
        if "attachments" in data or files:
            message["attachments"] = self._attachments(data, files, message["attachments"])
        if mark_edited:
            message["edited_timestamp"] = _now_iso()
        if echo:
            await self._echo("MESSAGE_UPDATE", message)

    async def _echo(self, event: str, message: dict[str, Any], *, ephemeral: bool | None = None) -> None:
        """Mirror a message change on the gateway when Discord would (intents, not ephemeral)."""
        session = self._session
        if not self.echo_bot_messages or session is None:
            return
        if ephemeral is None:
            ephemeral = bool(message.get("flags", 0) & FLAG_EPHEMERAL)
        if ephemeral:
            return
        found = self._find_channel(int(message["channel_id"]))
        guild = found[1] if found else None
        needed = INTENT_DIRECT_MESSAGES if guild is None else INTENT_GUILD_MESSAGES
        if not session.intents & needed:
            return
        payload = copy.deepcopy(message)
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            if event == "MESSAGE_CREATE":
                payload["member"] = self._bot_member(guild).to_payload(with_user=False)
        await self._dispatch_if_connected(event, payload)


# ======================================================================================================
# Module helpers
# ======================================================================================================


def _request_matches(request: RecordedRequest, method: str | None, path: str | None) -> bool:
    if method is not None and request.method != method.upper():
        return False
    return path is None or re.fullmatch(path, request.path) is not None


def _route_template(path: str) -> str:
    """Collapse ids and tokens so rate-limit bucket hashes are per route, not per resource."""
    return re.sub(r"/(\d{5,}|fake-interaction-[^/]+)", "/{id}", path)


def _default_error_body(status: int, *, retry_after: float, is_global: bool) -> dict[str, Any]:
    if status == 429:
        return {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
    known = {
        400: (50035, "Invalid Form Body"),
        401: (0, "401: Unauthorized"),
        403: (50013, "Missing Permissions"),
        404: (10008, "Unknown Message"),
    }
    code, message = known.get(status, (0, f"{status}: Server Error"))
    return {"message": message, "code": code}


async def _read_body(request: web.Request) -> tuple[Any, list[RecordedFile]]:
    """Decode a JSON body, or a multipart body's ``payload_json`` plus its file parts."""
    files: list[RecordedFile] = []
    if not request.can_read_body:
        return None, files
    if request.content_type.startswith("multipart/"):
        body: Any = None
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, aiohttp.BodyPartReader):
                log.warning("ignoring nested multipart part")
                continue
            if part.name == "payload_json":
                body = json.loads(await part.text())
            else:
                files.append(
                    RecordedFile(
                        field_name=part.name or "",
                        filename=part.filename,
                        content_type=part.headers.get(aiohttp.hdrs.CONTENT_TYPE),
                        data=bytes(await part.read()),
                    )
                )
        return body, files
    raw = await request.read()
    if not raw:
        return None, files
    try:
        return json.loads(raw), files
    except json.JSONDecodeError:
        return raw.decode("utf-8", errors="replace"), files


def _find_command(commands: Sequence[dict[str, Any]], name: str, command_type: int) -> dict[str, Any] | None:
    return next((c for c in commands if c.get("name") == name and int(c.get("type") or 1) == command_type), None)


def _schema_options(schema: Mapping[str, Any] | None, path: Sequence[str]) -> list[dict[str, Any]] | None:
    """Walk subcommand groups/subcommands of a registered command to its leaf options."""
    if schema is None:
        return None
    options: list[dict[str, Any]] = list(schema.get("options") or [])
    for part in path:
        sub = next((o for o in options if o.get("name") == part and o.get("type") in (1, 2)), None)
        if sub is None:
            return None
        options = list(sub.get("options") or [])
    return options


def _walk_components(components: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for component in components:
        yield component
        yield from _walk_components(component.get("components") or [])
        for key in ("component", "accessory"):
            if isinstance(component.get(key), Mapping):
                yield from _walk_components([component[key]])


def _find_component(components: Iterable[Mapping[str, Any]], custom_id: str) -> Mapping[str, Any] | None:
    return next((c for c in _walk_components(components) if c.get("custom_id") == custom_id), None)


def _normalise_components(components: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Copy components and number them like Discord does (sequential ``id`` where missing)."""
    result = copy.deepcopy([dict(c) for c in components])
    used = {c["id"] for c in _walk_components(result) if isinstance(c.get("id"), int)}
    counter = 1
    for component in _walk_components(result):
        if "id" not in component:
            while counter in used:
                counter += 1
            component["id"] = counter  # type: ignore[index]
            used.add(counter)
    return result


def _normalise_embed(embed: Mapping[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(dict(embed))
    result.setdefault("type", "rich")
    return result


# ======================================================================================================
# Discord's documented limits: the real API answers 400 (50035 Invalid Form Body) past any of them
# ======================================================================================================

LIMIT_CONTENT: Final = 2000
LIMIT_EMBEDS: Final = 10
LIMIT_EMBED_TITLE: Final = 256
LIMIT_EMBED_DESCRIPTION: Final = 4096
LIMIT_EMBED_FIELDS: Final = 25
LIMIT_FIELD_NAME: Final = 256
LIMIT_FIELD_VALUE: Final = 1024
LIMIT_FOOTER: Final = 2048
LIMIT_AUTHOR: Final = 256
LIMIT_EMBEDS_TOTAL: Final = 6000
LIMIT_CUSTOM_ID: Final = 100
LIMIT_BUTTON_LABEL: Final = 80
LIMIT_ACTION_ROWS: Final = 5
LIMIT_ROW_COMPONENTS: Final = 5
LIMIT_CHOICES: Final = 25
LIMIT_CHOICE_NAME: Final = 100
LIMIT_COMMAND_DESCRIPTION: Final = 100


def _length(text: Any) -> int:
    """Discord counts characters as UTF-16 code units (it validates in JavaScript-like strings)."""
    return len(str(text).encode("utf-16-le")) // 2 if text is not None else 0


def limit_problems(data: Mapping[str, Any]) -> list[str]:
    """What in a message body (create, edit, callback data, followup) Discord would reject."""
    problems: list[str] = []
    if _length(data.get("content")) > LIMIT_CONTENT:
        problems.append(f"content: {_length(data.get('content'))} > {LIMIT_CONTENT}")
    embeds = data.get("embeds") or []
    if len(embeds) > LIMIT_EMBEDS:
        problems.append(f"embeds: {len(embeds)} > {LIMIT_EMBEDS}")
    total = 0
    for number, embed in enumerate(embeds):
        sizes = {
            "title": (_length(embed.get("title")), LIMIT_EMBED_TITLE),
            "description": (_length(embed.get("description")), LIMIT_EMBED_DESCRIPTION),
            "footer.text": (_length((embed.get("footer") or {}).get("text")), LIMIT_FOOTER),
            "author.name": (_length((embed.get("author") or {}).get("name")), LIMIT_AUTHOR),
        }
        fields = embed.get("fields") or []
        if len(fields) > LIMIT_EMBED_FIELDS:
            problems.append(f"embeds.{number}.fields: {len(fields)} > {LIMIT_EMBED_FIELDS}")
        for i, item in enumerate(fields):
            sizes[f"fields.{i}.name"] = (_length(item.get("name")), LIMIT_FIELD_NAME)
            sizes[f"fields.{i}.value"] = (_length(item.get("value")), LIMIT_FIELD_VALUE)
            if not str(item.get("name") or "").strip() or not str(item.get("value") or "").strip():
                problems.append(f"embeds.{number}.fields.{i}: name and value must not be empty")
        for key, (size, limit) in sizes.items():
            total += size
            if size > limit:
                problems.append(f"embeds.{number}.{key}: {size} > {limit}")
    if total > LIMIT_EMBEDS_TOTAL:
        problems.append(f"embeds: {total} characters in all > {LIMIT_EMBEDS_TOTAL}")
    rows = data.get("components") or []
    if len(rows) > LIMIT_ACTION_ROWS:
        problems.append(f"components: {len(rows)} rows > {LIMIT_ACTION_ROWS}")
    for row in rows:
        if len(row.get("components") or []) > LIMIT_ROW_COMPONENTS:
            problems.append(f"components: a row holds more than {LIMIT_ROW_COMPONENTS}")
    for component in _walk_components(rows):
        if _length(component.get("custom_id")) > LIMIT_CUSTOM_ID:
            problems.append(f"custom_id {component.get('custom_id')!r}: > {LIMIT_CUSTOM_ID}")
        if _length(component.get("label")) > LIMIT_BUTTON_LABEL:
            problems.append(f"label {component.get('label')!r}: > {LIMIT_BUTTON_LABEL}")
    choices = data.get("choices")
    if choices is not None:
        if len(choices) > LIMIT_CHOICES:
            problems.append(f"choices: {len(choices)} > {LIMIT_CHOICES}")
        for choice in choices:
            if not 1 <= _length(choice.get("name")) <= LIMIT_CHOICE_NAME:
                problems.append(f"choice name {choice.get('name')!r}: must be 1-{LIMIT_CHOICE_NAME}")
    return problems


def _check_limits(data: Any) -> None:
    """Raise the API's 400 for a body past Discord's limits (what the real API would refuse)."""
    if isinstance(data, Mapping):
        problems = limit_problems(data)
        if problems:
            log.warning("fake Discord refused a body past Discord's limits: %s", "; ".join(problems))
            raise _ApiError(400, 50035, "Invalid Form Body (" + "; ".join(problems) + ")")


def _check_command(payload: Mapping[str, Any]) -> None:
    """Command definitions: chat-input names are 1-32 lower-case characters, descriptions 1-100."""
    name = str(payload.get("name") or "")
    if int(payload.get("type") or 1) == 1:
        if not re.fullmatch(r"[-_\w]{1,32}", name) or name != name.lower():
            raise _ApiError(400, 50035, f"Invalid Form Body (command name {name!r})")
        if not 1 <= _length(payload.get("description")) <= LIMIT_COMMAND_DESCRIPTION:
            raise _ApiError(400, 50035, f"Invalid Form Body (description of {name!r})")
    for option in payload.get("options") or []:
        if not 1 <= _length(option.get("description")) <= LIMIT_COMMAND_DESCRIPTION:
            raise _ApiError(400, 50035, f"Invalid Form Body (description of option {option.get('name')!r})")
