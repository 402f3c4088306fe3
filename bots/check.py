"""`quotebot check`: everything a deploy needs, validated before anything connects.

Every problem is one line that says what is wrong and how to fix it; the exit status is 0 only when
all is well, so the command can gate a deploy script or a systemd `ExecStartPre`. Config is read the
way `quotebot run` reads it (the TOML file, overridden by the environment), and a mistake in either
is reported by key *and* by environment variable name, since a user may have set either.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError
from pydantic_settings import SettingsError as EnvParseError

from bots import settings as settings_module
from bots.settings import Settings, SettingsError, SlackSettings, load_settings
from quotecore import CorpusError

log = logging.getLogger(__name__)

#: Section class name → (config table, environment prefix): how a problem names its variable.
SECTIONS: dict[str, tuple[str, str]] = {
    "CorpusSettings": ("corpus", "QUOTEBOT_CORPUS_"),
    "DiscordSettings": ("discord", "DISCORD_"),
    "SlackSettings": ("slack", "SLACK_"),
    "DailySettings": ("daily", "QUOTEBOT_DAILY_"),
    "StorageSettings": ("storage", "QUOTEBOT_STORAGE_"),
    "ReplicaSettings": ("replicas", "QUOTEBOT_REPLICAS_"),
    "WebSettings": ("web", "QUOTEBOT_WEB_"),
    "LogSettings": ("log", "QUOTEBOT_LOG_"),
}
PREFIXES = {table: prefix for table, prefix in SECTIONS.values()}

#: Substrings of pydantic's messages → what to write instead.
_TYPE_FIXES = (
    ("valid number", "write a number, e.g. 5"),
    ("valid integer", "write a whole number (ids are numbers, unquoted in the file)"),
    ("valid boolean", "write true or false"),
    ("valid list", "write a list: [1, 2] in the file, JSON such as '[1, 2]' in the environment"),
    ("valid string", 'write a quoted string, e.g. "text"'),
    ("valid time", 'write the time as "HH:MM", e.g. "09:00"'),
    ("valid dictionary", "write a table ([[daily.targets]] with platform, channel, time, timezone)"),
    ("greater than", "use a value within the range (documented defaults: config/quotebot.toml)"),
    ("less than", "use a value within the range (documented defaults: config/quotebot.toml)"),
    ("Field required", "add this key"),
    ("unknown IANA timezone", "use an IANA zone name such as Asia/Shanghai, Europe/Paris or UTC"),
)


@dataclass
class Report:
    """What was checked: lines that are fine, and problems with their fix."""

    ok: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def write(self, out: IO[str]) -> None:
        """Print the report: `ok` lines, then `FAIL` lines, then the verdict."""
        for line in self.ok:
            out.write(f"ok    {line}\n")
        for line in self.problems:
            out.write(f"FAIL  {line}\n")
        verdict = "all good" if not self.problems else f"{len(self.problems)} problem(s)"
        out.write(f"quotebot check: {verdict}\n")


# ---------------------------------------------------------------- config


def _env_name(key: str) -> str | None:
    """`discord.cooldown_seconds` → `DISCORD_COOLDOWN_SECONDS` (None for keys without one)."""
    table, _, rest = key.partition(".")
    prefix = PREFIXES.get(table)
    name = rest.split(".", 1)[0]
    return f"{prefix}{name.upper()}" if prefix and name else None


def _known_keys(key: str) -> list[str]:
    """The keys allowed next to `key` (for an unknown-key hint); empty when unknown."""
    parts = key.split(".")
    classes = {table: getattr(settings_module, cls, None) for cls, (table, _) in SECTIONS.items()}
    model = settings_module.Target if len(parts) > 3 and parts[1] == "targets" else classes.get(parts[0])
    return sorted(getattr(model, "model_fields", {}))


def explain(problem: str) -> str:
    """A problem line from bots.settings, with where it came from and how to fix it."""
    key, sep, message = problem.partition(": ")
    if not sep:
        return problem
    message = re.sub(r" \(for example [^)]*\)$", "", message.removeprefix("Value error, "))
    if message.startswith("invalid TOML"):
        return f"{key}: {message} → fix the syntax there (tables are [name], strings are quoted)"
    if message.startswith("file not found"):
        return f"{key}: file not found → check the path given with --settings or QUOTEBOT_CONFIG"
    if message.startswith("unknown section"):
        return f"{key}: {message} → remove the table or fix its spelling"
    if message.startswith("must be a table"):
        return f"{key}: {message} → write it as a [{key}] table"
    env = _env_name(key)
    where = f" (environment variable {env})" if env and env in os.environ else ""
    if env and os.environ.get(env) == "":
        return f"{key}{where}: set but empty → delete the line (or comment it out) or give it a value"
    if message == "Extra inputs are not permitted":
        known = _known_keys(key)
        listing = f" (known keys: {', '.join(known)})" if known else ""
        return f"{key}: unknown key → remove it or fix its spelling{listing}"
    fix = next((fix for needle, fix in _TYPE_FIXES if needle in message), None)
    if fix is None and "→" not in message and "e.g." not in message and "for example" not in message:
        fix = "see the documented keys and defaults in config/quotebot.toml"
    return f"{key}{where}: {message}" + (f" → {fix}" if fix else "")


def _validation_problems(exc: ValidationError) -> list[str]:
    """Problems from a section the environment made invalid."""
    table, _ = SECTIONS.get(exc.title, (exc.title, ""))
    problems = []
    for error in exc.errors():
        key = ".".join(str(p) for p in (table, *error["loc"]))
        problems.append(explain(f"{key}: {error['msg']}"))
    return problems


def _env_parse_problem(exc: EnvParseError) -> str:
    """pydantic-settings could not decode a list or table from an environment variable."""
    match = re.search(r'field "([^"]+)"', str(exc))
    name = match.group(1).upper() if match else ""
    candidates = [f"{prefix}{name}" for prefix in PREFIXES.values() if f"{prefix}{name}" in os.environ]
    var = candidates[0] if candidates else (name or "an environment variable")
    return (
        f"{var}: not valid JSON → lists and tables from the environment are JSON, "
        f"e.g. {var}='[123456789012345678]' (strings in double quotes: '[\"U0123ABCD\"]')"
    )


def load_checked(path: str | os.PathLike[str] | None) -> tuple[Settings | None, list[str]]:
    """The settings `quotebot run` would use, or every reason they cannot be built, each with its fix.

    Never raises for bad config: a list that is not JSON fails inside pydantic-settings, and it
    becomes a problem line like the file's own.
    """
    try:
        return load_settings(path), []
    except SettingsError as exc:
        return None, [explain(problem) for problem in exc.problems]
    except ValidationError as exc:
        return None, _validation_problems(exc)
    except EnvParseError as exc:
        return None, [_env_parse_problem(exc)]


# ---------------------------------------------------------------- tokens


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter else ""


def _pasted_badly(name: str, value: str, report: Report) -> bool:
    """Spaces, newlines or quotes around a token: a copy-paste or .env quoting mistake."""
    if value != value.strip() or value[:1] in "'\"" or value[-1:] in "'\"":
        report.problems.append(f"{name} has spaces or quotes around it → paste the bare value")
        return True
    return False


def check_discord(settings: Settings, report: Report) -> None:
    """DISCORD_TOKEN's shape, and that DISCORD_APPLICATION_ID belongs to the same application."""
    token = _secret(settings.discord.token)
    if not token or _pasted_badly("DISCORD_TOKEN", token, report):
        return
    if token.count(".") != 2:
        report.problems.append(
            "DISCORD_TOKEN does not look like a bot token (three dot-separated parts) "
            "→ copy it again from the Developer Portal → Bot → Reset Token"
        )
        return
    app_id = settings.discord.application_id
    from_token = settings.discord.token_application_id
    if app_id is not None and from_token is not None and app_id != from_token:
        report.problems.append(
            f"DISCORD_APPLICATION_ID {app_id} is not the application of DISCORD_TOKEN ({from_token}) "
            "→ copy both from the same application, or unset DISCORD_APPLICATION_ID"
        )
        return
    report.ok.append("Discord: DISCORD_TOKEN set")


def check_slack(settings: Settings, report: Report) -> None:
    """Slack tokens that fit together: a bot token plus an app token (Socket) or signing secret (HTTP)."""
    slack = settings.slack
    bot_token, app_token, secret = _secret(slack.bot_token), _secret(slack.app_token), _secret(slack.signing_secret)
    named = (("SLACK_BOT_TOKEN", bot_token), ("SLACK_APP_TOKEN", app_token), ("SLACK_SIGNING_SECRET", secret))
    if any([_pasted_badly(name, value, report) for name, value in named if value]):
        return
    if slack.client_id or slack.client_secret:
        _check_slack_oauth(slack, secret, report)
        return
    if not bot_token:
        if app_token or secret:
            report.problems.append(
                "SLACK_APP_TOKEN/SLACK_SIGNING_SECRET are set but SLACK_BOT_TOKEN is not → set it too "
                "(OAuth & Permissions → Bot User OAuth Token, xoxb-…)"
            )
        return
    problems = len(report.problems)
    report.problems += _slack_token_problems(slack.transport, bot_token, app_token, secret)
    for user in slack.admin_user_ids:
        if not re.fullmatch(r"[UW][A-Z0-9]{2,}", user):
            report.problems.append(
                f"slack.admin_user_ids: {user!r} is not a Slack user id → use the id (U0123ABCD) from the "
                "user's profile → ⋮ → Copy member ID, not the display name"
            )
    if len(report.problems) == problems:
        report.ok.append(f"Slack: SLACK_BOT_TOKEN set, {slack.transport} mode")


def _check_slack_oauth(slack: SlackSettings, secret: str, report: Report) -> None:
    """Distribution to many workspaces: the OAuth client, HTTP mode, and a redirect URL Slack accepts."""
    problems = []
    if not (slack.client_id and slack.client_secret and slack.client_secret.get_secret_value()):
        problems.append(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together → copy both from Basic Information → App Credentials"
        )
    elif not re.fullmatch(r"\d+\.\d+", slack.client_id):
        problems.append(f"SLACK_CLIENT_ID {slack.client_id!r} is not a client id → Basic Information → Client ID")
    if not secret:
        problems.append("installing in many workspaces needs HTTP mode: set SLACK_SIGNING_SECRET (Basic Information)")
    if slack.mode == "socket":
        problems.append('slack.mode is socket, but the OAuth install flow is HTTP → use mode = "http" (or "auto")')
    uri = slack.redirect_uri
    if uri and not (uri.startswith("https://") and uri.split("?")[0].endswith(slack.redirect_path)):
        problems.append(
            f"slack.redirect_uri {uri!r} must be the public https URL of {slack.redirect_path} → the same URL "
            "as OAuth & Permissions → Redirect URLs"
        )
    report.problems += problems
    if not problems:
        report.ok.append(f"Slack: installable by any workspace at {slack.install_path} (OAuth, HTTP mode)")


def _slack_token_problems(mode: str, bot_token: str, app_token: str, secret: str) -> list[str]:
    """Token kinds (xoxb-, xapp-) and the one the chosen mode needs."""
    problems = []
    if not bot_token.startswith("xoxb-"):
        problems.append(
            "SLACK_BOT_TOKEN must be a bot token starting with xoxb- → OAuth & Permissions → Bot User OAuth Token"
        )
    if app_token and not app_token.startswith("xapp-"):
        problems.append(
            "SLACK_APP_TOKEN must be an app-level token starting with xapp- "
            "→ Basic Information → App-Level Tokens, scope connections:write"
        )
    if mode == "socket" and not app_token:
        problems.append('slack.mode is socket but SLACK_APP_TOKEN is not set → set it, or use mode = "http"')
    elif mode == "http" and not secret:
        problems.append(
            "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) → set one of them"
        )
    return problems


def check_tokens(settings: Settings, report: Report) -> None:
    """Which platforms would start, and whether their tokens fit together."""
    check_discord(settings, report)
    check_slack(settings, report)
    if not settings.discord_enabled and not settings.slack_enabled:
        report.ok.append(
            "no chat token: `quotebot run` starts the console chat "
            "(DISCORD_TOKEN or SLACK_BOT_TOKEN turn on Discord or Slack)"
        )


# ---------------------------------------------------------------- targets, corpus, database


def check_targets(settings: Settings, report: Report) -> None:
    """Targets for a platform that will not run never post; two targets for one channel clash."""
    enabled = {"discord": settings.discord_enabled, "slack": settings.slack_enabled}
    console = not any(enabled.values())
    if not settings.daily.enabled:
        if settings.daily.targets:
            report.ok.append(f"daily excerpt disabled: {len(settings.daily.targets)} target(s) ignored")
        return
    seen = Counter((t.platform, t.channel) for t in settings.daily.targets)
    for (platform, channel), count in seen.items():
        if count > 1:
            report.problems.append(
                f"daily.targets: {platform} channel {channel} is listed {count} times → keep one (one post per day)"
            )
    for number, target in enumerate(settings.daily.targets):
        runs = enabled.get(target.platform, console)
        where = f"daily.targets.{number} ({target.platform} {target.channel} at {target.time:%H:%M} {target.timezone})"
        if not runs:
            token = "DISCORD_TOKEN" if target.platform == "discord" else "SLACK_BOT_TOKEN"
            hint = f"set {token}" if target.platform != "console" else "the console only runs without chat tokens"
            report.problems.append(f"{where}: that platform will not run, so nothing is posted → {hint}")
        else:
            report.ok.append(where)


def check_corpus(settings: Settings, report: Report) -> None:
    """The corpus loads: documents, passages, dropped lines; or the file and line that stop it."""
    from bots.app import build_service

    service = build_service(settings)
    seeds = Path(service.seeds_dir)
    if not seeds.is_dir():
        report.problems.append(
            f"corpus.seeds_dir {seeds}: no such directory → fix corpus.seeds_dir (or QUOTEBOT_CORPUS_SEEDS_DIR)"
        )
        return
    try:
        service.load()
    except CorpusError as exc:
        report.problems.append(f"corpus: {exc} → fix the file, or move it out of {seeds}")
        return
    except OSError as exc:
        report.problems.append(f"corpus: {exc} → check that the directories exist and are readable")
        return
    stats = service.stats()
    repaired = sum(1 for d in stats.drops if d.action == "repaired")
    skipped = len(service.snapshot.skipped)
    summary = (
        f"corpus {seeds}: {stats.documents} documents, {stats.passages} passages, "
        f"{len(stats.drops) - repaired} lines dropped, {repaired} repaired"
        + (f", {skipped} files skipped (not regular files inside the folder)" if skipped else "")
        + " (see `quotebot stats`)"
    )
    if stats.passages == 0:
        report.problems.append(f"{summary} → add interview .txt files (UTF-8) to {seeds}")
    else:
        report.ok.append(summary)


def check_database(settings: Settings, report: Report) -> None:
    """The database opens and its schema is one this version understands."""
    if not settings.daily.enabled:
        report.ok.append("daily excerpt disabled: no database needed")
        return
    from bots.scheduler import check_database as open_database

    problem = open_database(settings)
    if problem:
        report.problems.append(problem.replace(" (check", " → check", 1).removesuffix(")"))
    else:
        report.ok.append(f"database {settings.storage.url}")


def check_replicas(settings: Settings, report: Report) -> None:
    """With several processes on the database: which generation they serve, and which are alive now."""
    if not settings.replicas_sync:
        return
    from bots.generation import GenerationStore

    store: GenerationStore | None = None
    try:
        store = GenerationStore(settings.storage.url)
        store.open()
        current = store.current()
        alive = store.replicas(3 * settings.replicas.heartbeat_seconds + 1)
    except Exception as exc:  # a driver or connection error: one line
        message = (str(exc).splitlines() or [type(exc).__name__])[0]
        report.problems.append(f"replicas: {settings.storage.url}: {message} → check the URL and that the server runs")
        return
    finally:
        if store is not None:
            store.close()
    if current is None:
        report.ok.append("replicas: no corpus generation recorded yet (the first `quotebot run` records it)")
        return
    names = ", ".join(f"{r.name} (generation {r.generation})" for r in alive) or "none running"
    report.ok.append(f"replicas: generation {current.number}; running now: {names}")


def run_check(path: str | os.PathLike[str] | None, out: IO[str]) -> int:
    """Check the config file (default: config/quotebot.toml) with the environment; 0 when all is well."""
    report = Report()
    settings, problems = load_checked(path)
    if settings is None:
        report.problems += [f"config {problem}" for problem in problems]
        report.write(out)
        return 1
    source: Any = settings.source
    report.ok.append(f"config {source}" if source else "config: no file, defaults and environment only")
    check_tokens(settings, report)
    check_targets(settings, report)
    check_corpus(settings, report)
    check_database(settings, report)
    check_replicas(settings, report)
    report.write(out)
    return 0 if not report.problems else 1
