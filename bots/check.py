"""`quotebot check`: everything a deploy needs, validated before anything connects.

Every problem is one line that says what to fix; the exit status is 0 only when all is well, so
the command can gate a deploy script or a systemd `ExecStartPre`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import IO

from bots.settings import Settings, SettingsError, load_settings, settings_path
from quotecore.errors import CorpusError


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


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter else ""


def check_tokens(settings: Settings, report: Report) -> None:
    """Which platforms would start, and whether their tokens fit together."""
    discord, slack = settings.discord, settings.slack
    token = _secret(discord.token)
    if token:
        if token.count(".") != 2:
            report.problems.append(
                "DISCORD_TOKEN does not look like a bot token (three dot-separated parts): "
                "copy it again from the Developer Portal → Bot → Reset Token"
            )
        else:
            report.ok.append("Discord: DISCORD_TOKEN set")
    bot_token, app_token, secret = _secret(slack.bot_token), _secret(slack.app_token), _secret(slack.signing_secret)
    if bot_token:
        if not bot_token.startswith("xoxb-"):
            report.problems.append(
                "SLACK_BOT_TOKEN must be a bot token starting with xoxb- (OAuth & Permissions → Bot User OAuth Token)"
            )
        if app_token and not app_token.startswith("xapp-"):
            report.problems.append(
                "SLACK_APP_TOKEN must be an app-level token starting with xapp- "
                "(Basic Information → App-Level Tokens, scope connections:write)"
            )
        mode = slack.mode if slack.mode != "auto" else ("socket" if app_token else "http")
        if mode == "socket" and not app_token:
            report.problems.append('slack.mode is socket but SLACK_APP_TOKEN is not set: set it, or use mode = "http"')
        elif mode == "http" and not secret:
            report.problems.append(
                "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode): set one of them"
            )
        else:
            report.ok.append(f"Slack: SLACK_BOT_TOKEN set, {mode} mode")
    elif app_token or secret:
        report.problems.append("SLACK_APP_TOKEN/SLACK_SIGNING_SECRET are set but SLACK_BOT_TOKEN is not: set it too")
    if not token and not bot_token:
        report.ok.append(
            "no chat token: `quotebot run` starts the console chat "
            "(DISCORD_TOKEN or SLACK_BOT_TOKEN turn on Discord or Slack)"
        )


def check_targets(settings: Settings, report: Report) -> None:
    """Targets for a platform that will not run never post: say so."""
    enabled = {"discord": settings.discord_enabled, "slack": settings.slack_enabled}
    console = not any(enabled.values())
    for number, target in enumerate(settings.daily.targets):
        runs = enabled.get(target.platform, console)
        where = f"daily.targets.{number} ({target.platform} {target.channel} at {target.time:%H:%M} {target.timezone})"
        if not runs:
            token = "DISCORD_TOKEN" if target.platform == "discord" else "SLACK_BOT_TOKEN"
            hint = f"set {token}" if target.platform != "console" else "the console only runs without chat tokens"
            report.problems.append(f"{where}: that platform will not run, so nothing is posted: {hint}")
        else:
            report.ok.append(where)


def check_corpus(settings: Settings, report: Report) -> None:
    """The corpus loads: documents, passages, dropped lines; or the file and line that stop it."""
    from bots.app import build_service

    service = build_service(settings)
    try:
        service.load()
    except CorpusError as exc:
        report.problems.append(f"corpus: {exc} (fix the file, or move it out of the seeds directory)")
        return
    stats = service.stats()
    report.ok.append(
        f"corpus {service.seeds_dir}: {stats.documents} documents, {stats.passages} passages, "
        f"{len(stats.drops)} lines dropped (see `quotebot stats`)"
    )


def check_database(settings: Settings, report: Report) -> None:
    """The database opens and its schema is one this version understands."""
    if not settings.daily.enabled:
        report.ok.append("daily excerpt disabled: no database needed")
        return
    from bots.scheduler import check_database as open_database

    problem = open_database(settings)
    if problem:
        report.problems.append(problem)
    else:
        report.ok.append(f"database {settings.storage.url}")


def run_check(path: str | os.PathLike[str] | None, out: IO[str]) -> int:
    """Check the config file (default: config/quotebot.toml) with the environment; 0 when all is well."""
    report = Report()
    file = settings_path(path)
    try:
        settings = load_settings(path)
    except SettingsError as exc:
        report.problems += [f"config {problem}" for problem in exc.problems]
        report.write(out)
        return 1
    report.ok.append(f"config {file}" if file.exists() else "config: no file, defaults and environment only")
    check_tokens(settings, report)
    check_targets(settings, report)
    check_corpus(settings, report)
    check_database(settings, report)
    report.write(out)
    return 0 if not report.problems else 1
