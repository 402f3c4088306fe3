"""`quotebot run`: the composition root. Builds the service and the scheduler once, starts what is configured.

One asyncio loop runs every adapter side by side (Discord, Slack, or the console chat when no token
is set) and the daily scheduler; SIGINT/SIGTERM set one stop event that each adapter watches, then
the scheduler is shut down last so a post in flight records its outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from bots.daily_control import DailyControl
from bots.settings import Settings
from quotecore.errors import CorpusError
from quotecore.service import QuoteService

log = logging.getLogger(__name__)

Serve = Callable[[QuoteService, Settings, asyncio.Event, DailyControl | None], Awaitable[None]]


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


async def start_daily(service: QuoteService, settings: Settings) -> DailyControl | None:
    """The scheduler, started; None (with a log line) when disabled or when its database fails."""
    if not settings.daily.enabled:
        return None
    from bots.scheduler import DailyScheduler

    scheduler = DailyScheduler.from_settings(service, settings)
    try:
        await scheduler.start()
    except Exception as exc:
        log.error("daily excerpt disabled: the database %s did not open: %s", settings.storage.url, exc)
        return None
    return scheduler


async def run(
    settings: Settings,
    service: QuoteService,
    stop: asyncio.Event | None = None,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
) -> int:
    """Serve until stopped (or, for the console, until end of input); returns the exit status."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    if not service.loaded:
        try:
            await asyncio.to_thread(service.load)
        except CorpusError as exc:
            log.error("the corpus did not load: %s", exc)
            (out or sys.stderr).write(f"quotebot: corpus error: {exc}\n")
            return 1
    daily = await start_daily(service, settings)
    chosen = adapters(settings)
    if not chosen:
        from bots.console import ConsoleChat, console_color, read_lines

        output = out or sys.stdout
        console = ConsoleChat(service, settings, daily, output, color=console_color(output))
        lines = read_lines(stdin or sys.stdin, loop)
        if daily is not None:
            daily.register_poster("console", console.post)

        async def serve_console(
            service: QuoteService, settings: Settings, stop: asyncio.Event, daily: DailyControl | None
        ) -> None:
            await console.serve(lines, stop)

        chosen = {"console": serve_console}
    log.info("starting: %s", ", ".join(chosen))
    tasks = {
        name: asyncio.create_task(serve(service, settings, stop, daily), name=name) for name, serve in chosen.items()
    }
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({stopper, *tasks.values()}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    failed = 0
    for name, task in tasks.items():
        try:
            await task
        except Exception:
            log.exception("%s adapter stopped with an error", name)
            failed = 1
    stopper.cancel()
    if daily is not None:
        await daily.shutdown()  # type: ignore[attr-defined]
    return failed
