"""Bot configuration: config/quotebot.toml, overridden by environment variables, validated by pydantic.

One section class per environment prefix (DISCORD_*, SLACK_*, QUOTEBOT_*): the file gives the
defaults a team shares, the environment gives secrets and per-host overrides. A validation error
names the key (`discord.cooldown_seconds`) and what is wrong, before anything connects.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import tomllib
import zoneinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from quotecore import MAX_CORPUS_BYTES, MAX_FILE_BYTES, config_dir, printable

DEFAULT_FILE = "quotebot.toml"


class SettingsError(Exception):
    """Config that cannot be used; `problems` is one line per key, each saying what to fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class _Section(BaseSettings):
    """A config section: values from the TOML table, overridden by its environment variables."""

    model_config = SettingsConfigDict(extra="forbid", env_nested_delimiter="__", validate_default=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file (init kwargs carry the file's values).
        return (env_settings, init_settings)


class CorpusSettings(_Section):
    """Where the corpus and the core's config files are (defaults: ./seeds, ./config, or bundled)."""

    model_config = SettingsConfigDict(env_prefix="QUOTEBOT_CORPUS_")

    seeds_dir: Path | None = None
    config_dir: Path | None = None
    cache_dir: Path | None = None
    #: Size limits for corpus files (a larger file is reported like any broken file).
    max_file_mb: float = Field(default=MAX_FILE_BYTES / 2**20, gt=0)
    max_corpus_mb: float = Field(default=MAX_CORPUS_BYTES / 2**20, gt=0)


class DiscordSettings(_Section):
    """DISCORD_TOKEN and friends; the adapter starts only when a token is set."""

    model_config = SettingsConfigDict(env_prefix="DISCORD_")

    token: SecretStr | None = None
    application_id: int | None = None
    #: Discord's API by default; a REST proxy (nirn-proxy) or the tests' fake set another.
    api_base_url: str = "https://discord.com/api/v10"
    #: Guilds whose commands are synced instantly (guild-scoped) while testing; empty = global.
    guild_ids: list[int] = []
    admin_user_ids: list[int] = []
    admin_role_ids: list[int] = []
    cooldown_seconds: float = Field(default=5.0, ge=0, le=3600)
    max_results: int = Field(default=5, ge=1, le=5)
    #: Sharding: the total number of shards (None: as many as Discord recommends), and the ones this
    #: process runs (None: all of them). Split `shard_ids` over processes for a large bot.
    shard_count: int | None = Field(default=None, ge=1, le=16384)
    shard_ids: list[int] | None = None

    @model_validator(mode="after")
    def _shards(self) -> DiscordSettings:
        if self.shard_ids is None:
            return self
        if self.shard_count is None:
            raise ValueError("shard_ids needs shard_count → set discord.shard_count to the total number of shards")
        outside = sorted({i for i in self.shard_ids if not 0 <= i < self.shard_count})
        if outside or not self.shard_ids:
            raise ValueError(
                f"shard_ids {outside or '[]'} outside 0…{self.shard_count - 1} → list this process's shards, "
                f"each from 0 to shard_count - 1"
            )
        return self

    @property
    def token_application_id(self) -> int | None:
        """The application (bot user) id a bot token starts with, in base64; None if it does not decode."""
        first = self.token.get_secret_value().split(".", 1)[0] if self.token else ""
        try:
            decoded = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return int(decoded) if decoded.isdigit() else None


class SlackSettings(_Section):
    """SLACK_BOT_TOKEN plus SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode); or OAuth for many."""

    model_config = SettingsConfigDict(env_prefix="SLACK_")

    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    #: auto: Socket Mode when an app token is set, else HTTP when a signing secret is set.
    mode: Literal["auto", "socket", "http"] = "auto"
    #: Slack's Web API by default (GovSlack and the tests use another). Must end with '/'.
    api_url: str = "https://slack.com/api/"
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=0, le=65535)
    path: str = "/slack/events"
    admin_user_ids: list[str] = []
    #: Also treat workspace admins and owners (users.info) as quotebot admins.
    workspace_admins: bool = False
    #: Answer /quote only to the caller (with a "Share to channel" button) instead of the channel.
    ephemeral_by_default: bool = False
    cooldown_seconds: float = Field(default=5.0, ge=0, le=3600)
    #: Distribution to many workspaces (OAuth): SLACK_CLIENT_ID and SLACK_CLIENT_SECRET from the app's
    #: Basic Information page. Set both and each workspace installs the bot at `install_path`.
    client_id: str | None = None
    client_secret: SecretStr | None = None
    #: The public URL Slack sends installers back to (`…/slack/oauth_redirect`), as in the app's OAuth page.
    redirect_uri: str | None = None
    install_path: str = "/slack/install"
    redirect_path: str = "/slack/oauth_redirect"
    scopes: list[str] = ["commands", "chat:write", "chat:write.public", "users:read", "channels:history",
                         "groups:history"]  # fmt: skip

    @property
    def distributed(self) -> bool:
        """Installed by many workspaces through OAuth (each with its own token), not one SLACK_BOT_TOKEN."""
        return bool(self.client_id and self.client_secret and self.client_secret.get_secret_value())

    @property
    def transport(self) -> Literal["socket", "http"]:
        """`mode`, or with "auto": Socket Mode when an app token is set, except when distributed (OAuth is HTTP)."""
        if self.mode == "auto":
            return "socket" if self.app_token and not self.distributed else "http"
        return self.mode

    @field_validator("api_url")
    @classmethod
    def _slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"


class Target(BaseModel):
    """A place the daily excerpt goes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    platform: Literal["discord", "slack", "console"]
    channel: str = Field(min_length=1)
    time: dt.time = dt.time(9, 0)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r} (for example Asia/Shanghai, Europe/Paris)") from None
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str, info: Any) -> str:
        platform = info.data.get("platform")
        if platform == "discord" and not value.isdigit():
            raise ValueError(f"a Discord channel id is a number (right-click the channel → Copy ID), got {value!r}")
        team, _, channel = value.rpartition("/")  # TEAM/CHANNEL: a workspace of a distributed app
        if platform == "slack" and not (
            channel[:1] in "CGD" and channel[1:].isalnum() and value.isupper() and (not team or team[:1] in "TE")
        ):
            raise ValueError(
                f"a Slack channel id looks like C0123ABCD (channel details → bottom), or T0123/C0123ABCD for one "
                f"workspace of a distributed app; got {value!r}"
            )
        return value


class DailySettings(_Section):
    """The daily excerpt: where, when, and how late a missed post may still go out."""

    model_config = SettingsConfigDict(env_prefix="QUOTEBOT_DAILY_")

    enabled: bool = True
    targets: list[Target] = []
    misfire_grace_seconds: int = Field(default=3600, ge=1, le=86400)
    #: A claim this old without an outcome belongs to a process that stopped mid-post: reconciled.
    claim_lease_seconds: int = Field(default=900, ge=0, le=86400)
    #: One rotation for every channel (a quote is posted once everywhere before any repeats),
    #: or one per channel.
    shared_rotation: bool = True
    heading: str = "今日语录"
    #: How often the chat-set targets are read again, so a target set through any process is
    #: scheduled by every process (and posted even if the one that took the command has stopped).
    follow_seconds: float = Field(default=15.0, ge=0.5, le=3600)


class StorageSettings(_Section):
    """The database for state that outlives a restart: SQLite by default, any SQLAlchemy URL."""

    model_config = SettingsConfigDict(env_prefix="QUOTEBOT_STORAGE_")

    url: str = "sqlite:///var/quotebot.sqlite3"


class ReplicaSettings(_Section):
    """Several processes on one database: the corpus generation they follow, and how often they look.

    `sync` auto is on when `storage.url` is not SQLite: a server database is what several processes
    share. Turn it on for several processes on one SQLite file, off for one process on PostgreSQL.
    """

    model_config = SettingsConfigDict(env_prefix="QUOTEBOT_REPLICAS_")

    sync: Literal["auto", "on", "off"] = "auto"
    #: How this process is named in the admin's reload report and in the replicas table; default host:pid.
    name: str = Field(default="", max_length=64)
    #: How often the generation is read (PostgreSQL is also woken at once by LISTEN/NOTIFY).
    poll_seconds: float = Field(default=2.0, gt=0, le=300)
    #: How often a process says it is alive; three missed beats and the reload report stops waiting for it.
    heartbeat_seconds: float = Field(default=5.0, gt=0, le=300)
    #: How long `/quote-reload` waits for the other processes before it answers the admin.
    report_wait_seconds: float = Field(default=5.0, ge=0, le=60)
    #: Cooldowns shared by every process through the database (off: each process counts its own).
    shared_cooldowns: bool = True


class WebSettings(_Section):
    """The health and metrics endpoint (/healthz, /readyz, /metrics): off until enabled."""

    model_config = SettingsConfigDict(env_prefix="QUOTEBOT_WEB_")

    enabled: bool = False
    host: str = "0.0.0.0"
    #: The Slack HTTP listener shares this server when `slack.port` is the same number.
    port: int = Field(default=8080, ge=0, le=65535)


class LogSettings(_Section):
    """How log lines look: plain text for a terminal, JSON lines for a log collector."""

    model_config = SettingsConfigDict(env_prefix="QUOTEBOT_LOG_")

    format: Literal["text", "json"] = "text"


class Settings(BaseModel):
    """The whole configuration, one attribute per section."""

    model_config = ConfigDict(frozen=True)

    # Factories, not instances: a section reads the environment when Settings is built, never at import.
    corpus: CorpusSettings = Field(default_factory=CorpusSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    daily: DailySettings = Field(default_factory=DailySettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    replicas: ReplicaSettings = Field(default_factory=ReplicaSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    source: Path | None = None

    @property
    def discord_enabled(self) -> bool:
        """A non-empty DISCORD_TOKEN turns the Discord adapter on."""
        return self.discord.token is not None and bool(self.discord.token.get_secret_value())

    @property
    def slack_enabled(self) -> bool:
        """A non-empty SLACK_BOT_TOKEN (one workspace) or an OAuth client (many) turns the Slack adapter on."""
        token = self.slack.bot_token is not None and bool(self.slack.bot_token.get_secret_value())
        return token or self.slack.distributed

    @property
    def replicas_sync(self) -> bool:
        """Whether this process follows the shared corpus generation (see ReplicaSettings)."""
        if self.replicas.sync == "auto":
            return not self.storage.url.startswith("sqlite")
        return self.replicas.sync == "on"


_SECTIONS: dict[str, type[_Section]] = {
    "corpus": CorpusSettings,
    "discord": DiscordSettings,
    "slack": SlackSettings,
    "daily": DailySettings,
    "storage": StorageSettings,
    "replicas": ReplicaSettings,
    "web": WebSettings,
    "log": LogSettings,
}


def settings_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """QUOTEBOT_CONFIG, else config/quotebot.toml in the config directory."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("QUOTEBOT_CONFIG")
    return Path(env) if env else config_dir() / DEFAULT_FILE


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read, merge with the environment, validate; SettingsError lists every problem by key."""
    file = settings_path(path)
    data: dict[str, Any] = {}
    problems: list[str] = []
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError([f"{file}: invalid TOML: {exc}"]) from None
        except UnicodeDecodeError as exc:
            raise SettingsError([f"{file}: not valid UTF-8 ({exc.reason}); save it as UTF-8"]) from None
        except RecursionError:
            raise SettingsError([f"{file}: nested too deeply to be a settings file"]) from None
        except OSError as exc:
            raise SettingsError([f"{file}: cannot be read: {exc.strerror or exc}"]) from None
    elif path is not None:
        raise SettingsError([f"{file}: file not found"])
    for key in sorted(set(data) - set(_SECTIONS)):
        problems.append(f"{key}: unknown section (known: {', '.join(_SECTIONS)})")
    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        table = data.get(name, {})
        if not isinstance(table, dict):
            problems.append(f"{name}: must be a table ([{name}])")
            continue
        try:
            sections[name] = cls(**table)
        except ValidationError as exc:
            for error in exc.errors():
                key = ".".join(str(p) for p in (name, *error["loc"]))
                problems.append(f"{key}: {printable(error['msg'])}")
        except RecursionError:  # an environment variable holding JSON nested thousands deep
            problems.append(f"{name}: a value (file or environment) is nested too deeply to be read")
    if problems:
        raise SettingsError(problems)
    return Settings(**sections, source=file if file.exists() else None)
