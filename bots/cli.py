"""The `quotebot` entry point: the core's commands plus the ones that need the chat adapters.

Adapter modules, asyncio and pydantic are imported only by the commands that use them, so
`quotebot search` never pays for them (tests/test_cold_start.py checks what it imports).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from quotecore.cli import EXIT_ERROR, EXIT_OK
from quotecore.cli import build_parser as build_core_parser
from quotecore.cli import run as run_cli

if TYPE_CHECKING:  # imported only by the commands that need them (see _settings)
    from bots.settings import Settings
    from quotecore import QuoteService


def _settings(args: argparse.Namespace) -> tuple[Settings | None, list[str]]:
    """The bot settings, or the problems (each with its fix) that stop them from loading.

    Imported here and not at the top so that `quotebot search` never pays for pydantic.
    """
    from bots.check import load_checked

    settings, problems = load_checked(args.settings)
    if settings is None:
        return None, problems
    # --seeds / --config-dir on the command line win over the file.
    corpus = settings.corpus.model_copy(
        update={k: v for k, v in (("seeds_dir", args.seeds), ("config_dir", args.config_dir)) if v}
    )
    return settings.model_copy(update={"corpus": corpus}), []


def _with_settings(handler: object) -> object:
    def wrapped(args: argparse.Namespace, service: QuoteService, out: IO[str]) -> int:
        settings, problems = _settings(args)
        if settings is None:
            for problem in problems:
                print(f"quotebot: config {problem}", file=sys.stderr)  # noqa: T201
            print("quotebot: `quotebot check` lists every problem", file=sys.stderr)  # noqa: T201
            return EXIT_ERROR
        return int(handler(args, settings, out))  # type: ignore[operator]

    return wrapped


def cmd_run(args: argparse.Namespace, settings: Settings, out: IO[str]) -> int:
    """`run`: the bots for the tokens set, or the console chat; the daily scheduler with them."""
    import asyncio

    from bots.app import main as run_main

    output = None if out is sys.stdout else out  # None: the chat on stdout, errors on stderr
    return asyncio.run(run_main(settings, out=output, console=not args.no_console))


def cmd_check(args: argparse.Namespace, service: QuoteService, out: IO[str]) -> int:
    """`check`: config, tokens, targets, corpus and database, one line per problem."""
    from bots.check import run_check

    return run_check(args.settings, out)


def cmd_daily(args: argparse.Namespace, service: QuoteService, out: IO[str]) -> int:
    """`daily`: the scheduler's own pick (its database holds the rotation), else the core's."""
    import datetime as dt

    from quotecore.cli import cmd_daily as core_daily
    from quotecore.cli import render_quote

    settings, _ = _settings(args)
    if settings is None:
        return core_daily(args, service, out)
    from bots.scheduler import DailyScheduler, Store
    from quotecore.cli import _dump, _without_score

    date = args.date or dt.date.today()
    store = Store(settings.storage.url, readonly=True)  # a preview reads, never writes
    try:
        store.open()
        scheduler = DailyScheduler(service, settings.daily, store)
        previews = [(target, scheduler.preview(date, target)) for target in scheduler.preview_targets()]
    finally:
        store.close()
    if args.json:
        results = [_without_score(p[0]) if p else None for _, p in previews]
        data: dict[str, object] = {"date": date.isoformat(), "result": results[0]}
        if previews[0][0] is not None:  # one rotation per target
            data["targets"] = [{"target": t.key, "result": r} for (t, _), r in zip(previews, results, strict=True) if t]
        _dump(data, out)
        return EXIT_OK
    for target, preview in previews:
        where = f"{target.key}: " if target is not None else ""
        if preview is None:
            out.write(f"{where}{date.isoformat()}: no quote (the corpus is empty).\n")
        else:
            out.write(f"{where}{preview[1]}\n{render_quote(preview[0])}\n")
    return EXIT_OK


def cmd_discord_sync(args: argparse.Namespace, settings: Settings, out: IO[str]) -> int:
    """`discord-sync`: register the slash commands now (a normal start syncs only on changes)."""
    import asyncio

    from bots.app import build_service
    from bots.discord import sync_commands
    from bots.runtime import AppContext

    if not settings.discord_enabled:
        print("quotebot: DISCORD_TOKEN is not set", file=sys.stderr)  # noqa: T201
        return EXIT_ERROR
    report = asyncio.run(sync_commands(AppContext(build_service(settings), settings)))
    out.write(report + "\n")
    return EXIT_ERROR if report.startswith("Sync failed") else EXIT_OK


def invite_url(settings: Settings) -> str:
    """The OAuth2 URL that adds the bot with exactly the scopes and permissions it needs."""
    import discord

    # What the bot does in a channel, and nothing more: see it, post (also in threads), with embeds.
    # Interaction replies and their edits need no permission at all; the daily post needs these.
    permissions = discord.Permissions(
        view_channel=True, send_messages=True, send_messages_in_threads=True, embed_links=True
    )
    app_id = settings.discord.application_id or settings.discord.token_application_id
    if not app_id:
        raise ValueError("set DISCORD_APPLICATION_ID (or DISCORD_TOKEN) to build the invite URL")
    return discord.utils.oauth_url(app_id, permissions=permissions, scopes=("bot", "applications.commands"))


def cmd_discord_invite(args: argparse.Namespace, settings: Settings, out: IO[str]) -> int:
    """`discord-invite`: the URL that adds the bot with the scopes and permissions it needs."""
    try:
        out.write(invite_url(settings) + "\n")
    except ValueError as exc:
        print(f"quotebot: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_ERROR
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The core's parser plus the bot commands."""
    parser = build_core_parser()
    parser.add_argument("--settings", metavar="FILE", help="bot config (default: config/quotebot.toml)")
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    p = sub.add_parser("run", help="the bots (and the daily scheduler) for whatever is configured")
    p.add_argument(
        "--no-console",
        action="store_true",
        help="fail when no chat token is set instead of opening the console chat (for services)",
    )
    p.set_defaults(handler=_with_settings(cmd_run))
    p = sub.add_parser("check", help="validate config, tokens, targets, corpus and database before a deploy")
    p.set_defaults(handler=cmd_check)
    sub.choices["daily"].set_defaults(handler=cmd_daily)
    p = sub.add_parser("discord-sync", help="register the slash commands with Discord now")
    p.set_defaults(handler=_with_settings(cmd_discord_sync))
    p = sub.add_parser("discord-invite", help="print the URL that adds the bot to a server")
    p.set_defaults(handler=_with_settings(cmd_discord_invite))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The `quotebot` console script."""
    return run_cli(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
