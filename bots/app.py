"""`quotebot run`: the composition root. Builds the service and the scheduler once, starts what is configured.

One asyncio loop runs every adapter side by side (Discord, Slack, or the console chat when no token
is set) and the daily scheduler. Order matters and is kept here only:

1. the corpus loads in a worker thread (jieba takes about a second; the loop stays free);
2. the scheduler starts (its database opens, missed posts are caught up) with the console's poster
   already registered, so a post that is due prints before the first prompt is read;
3. every adapter gets the same service, settings, stop event and scheduler (`daily=`);
4. SIGINT/SIGTERM (or the console's end of input) set the one stop event; adapters close their
   connections, then the scheduler shuts down last so a post in flight records its outcome. A second
   signal gets the default behaviour back, for a shutdown that hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Protocol, TextIO

from bots.daily_control import DailyControl, Platform, Poster
from bots.settings import Settings
from quotecore.errors import CorpusError
from quotecore.service import QuoteService

log = logging.getLogger(__name__)

Serve = Callable[..., Awaitable[None]]  # serve(service, settings, stop, daily=None)


class Scheduler(DailyControl, Protocol):
    """What run() needs of bots.scheduler.DailyScheduler beyond the adapters' seam."""

    async def start(self) -> None:
        """Open the database, schedule the targets, catch up."""

    async def shutdown(self) -> None:
        """Stop the jobs, wait for a post in flight, close the database."""


def build_service(settings: Settings) -> QuoteService:
    """The one QuoteService every adapter shares."""
    return QuoteService(settings.corpus.seeds_dir, settings.corpus.config_dir, settings.corpus.cache_dir)


def adapters(settings: Settings) -> dict[str, Serve]:
    """The chat adapters the settings turn on, imported only when used."""
    chosen: dict[str, Serve] = {}
    if settings.discord_enabled:
        from bots.discord import serve as serve_discord

        chosen["discord"] = serve_discord
    if settings.slack_enabled:
        from bots.slack import serve as serve_slack

        chosen["slack"] = serve_slack
    return chosen


async def start_daily(
    service: QuoteService, settings: Settings, posters: dict[Platform, Poster] | None = None
) -> Scheduler | None:
    """The scheduler, started; None (with a log line) when disabled or when its database fails.

    `posters` are registered before the start, so its catch-up pass can already post through them.
    """
    if not settings.daily.enabled:
        return None
    from bots.scheduler import DailyScheduler

    scheduler: DailyScheduler | None = None
    try:
        scheduler = DailyScheduler.from_settings(service, settings)  # the engine is built here (may fail)
        for platform, poster in (posters or {}).items():
            scheduler.register_poster(platform, poster)
        await scheduler.start()
    except Exception as exc:
        log.error(
            "daily excerpt disabled: the database %s did not open: %s (see `quotebot check`)",
            settings.storage.url,
            exc,
        )
        if scheduler is not None:
            with contextlib.suppress(Exception):
                await scheduler.shutdown()
        return None
    return scheduler


def _install_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> list[signal.Signals]:
    """SIGINT/SIGTERM set `stop` once; the next one gets the default behaviour back."""
    installed: list[signal.Signals] = []

    def handle(sig: signal.Signals) -> None:
        log.info("%s: stopping (send it again to force)", sig.name)
        stop.set()
        loop.remove_signal_handler(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, handle, sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            continue
        installed.append(sig)
    return installed


def _is_environment_failure(exc: BaseException) -> bool:
    """A refused token or an unreachable server: one line says it, a traceback would not help."""
    module = type(exc).__module__.split(".", 1)[0]
    return isinstance(exc, OSError | TimeoutError) or module in ("discord", "slack_sdk", "slack_bolt", "aiohttp")


async def run(
    settings: Settings,
    service: QuoteService,
    stop: asyncio.Event | None = None,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    console: bool = True,
) -> int:
    """Serve until stopped (or, for the console, until end of input); returns the exit status.

    `console=False` (`quotebot run --no-console`, as a service runs it) makes a missing chat token
    an error instead of opening the console chat on a stdin nobody types into.
    """
    if not console and not adapters(settings):
        (out or sys.stderr).write(
            "quotebot: no chat token set: set DISCORD_TOKEN, or SLACK_BOT_TOKEN plus SLACK_APP_TOKEN or "
            "SLACK_SIGNING_SECRET (without --no-console, `quotebot run` opens the console chat)\n"
        )
        return 1
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = _install_signals(loop, stop)
    try:
        return await _run(settings, service, stop, stdin, out)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def _run(
    settings: Settings, service: QuoteService, stop: asyncio.Event, stdin: TextIO | None, out: TextIO | None
) -> int:
    if not service.loaded:
        try:
            await asyncio.to_thread(service.load)
        except CorpusError as exc:
            log.error("the corpus did not load: %s", exc)
            (out or sys.stderr).write(f"quotebot: corpus error: {exc}\n")
            return 1
    chosen = adapters(settings)
    posters: dict[Platform, Poster] = {}
    console = None
    if not chosen:
        from bots.console import ConsoleChat, console_color

        output = out or sys.stdout
        console = ConsoleChat(service, settings, None, output, color=console_color(output))
        console.greet()  # the up-front line, before anything the scheduler may print
        posters["console"] = console.post
    daily = await start_daily(service, settings, posters)
    try:
        if console is not None:
            from bots.console import read_lines

            console.daily = daily
            lines = read_lines(stdin or sys.stdin, asyncio.get_running_loop())

            async def serve_console(
                service: QuoteService, settings: Settings, stop: asyncio.Event, daily: DailyControl | None = None
            ) -> None:
                await console.serve(lines, stop)

            chosen = {"console": serve_console}
        return await _serve_all(chosen, service, settings, stop, daily)
    finally:
        if daily is not None:
            await daily.shutdown()
            log.info("daily scheduler stopped")


async def _serve_all(
    chosen: dict[str, Serve],
    service: QuoteService,
    settings: Settings,
    stop: asyncio.Event,
    daily: DailyControl | None,
) -> int:
    """Run the adapters until one ends or `stop` is set; then stop the others and collect failures."""
    log.info("starting: %s", ", ".join(chosen))
    tasks = {
        name: asyncio.create_task(serve(service, settings, stop, daily=daily), name=name)
        for name, serve in chosen.items()
    }
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({stopper, *tasks.values()}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        stopper.cancel()
    failed = 0
    for name, task in tasks.items():
        try:
            await task
        except Exception as exc:
            failed = 1
            if _is_environment_failure(exc):
                log.error("%s stopped: %s: %s", name, type(exc).__name__, exc)
            else:
                log.exception("%s stopped with an error", name)
    return failed
