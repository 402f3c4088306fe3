"""`quotebot run`: the composition root. Builds the service once and starts what is configured.

One asyncio loop runs every adapter (Discord, Slack) side by side; SIGINT/SIGTERM set one stop
event that each adapter watches, so shutdown is clean and in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

from bots.settings import Settings
from quotecore.service import QuoteService

log = logging.getLogger(__name__)

Serve = Callable[[QuoteService, Settings, asyncio.Event], Awaitable[None]]


def build_service(settings: Settings) -> QuoteService:
    return QuoteService(settings.corpus.seeds_dir, settings.corpus.config_dir, settings.corpus.cache_dir)


def adapters(settings: Settings) -> dict[str, Serve]:
    """The adapters the settings turn on, imported only when used."""
    chosen: dict[str, Serve] = {}
    if settings.discord_enabled:
        from bots.discord import serve as serve_discord

        chosen["discord"] = serve_discord
    if settings.slack_enabled:
        from bots.slack import serve as serve_slack

        chosen["slack"] = serve_slack
    return chosen


async def run(settings: Settings, service: QuoteService, stop: asyncio.Event | None = None) -> int:
    """Serve until stopped; returns the process exit status."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    chosen = adapters(settings)
    if not chosen:
        log.warning("no chat token configured (DISCORD_TOKEN, SLACK_BOT_TOKEN): nothing to run")
        return 1
    if not service.loaded:
        await asyncio.to_thread(service.load)
    log.info("starting: %s", ", ".join(chosen))
    tasks = {name: asyncio.create_task(serve(service, settings, stop), name=name) for name, serve in chosen.items()}
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({stopper, *tasks.values()}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    failed = 0
    for name, task in tasks.items():
        try:
            await task
        except Exception:
            log.exception("%s adapter stopped with an error", name)
            failed = 1
    stopper.cancel()
    return failed
