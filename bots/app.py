"""`quotebot run`: the composition root. `main()` builds and owns every resource, in one exit stack.

One asyncio loop runs every adapter side by side (Discord, Slack, or the console chat when no token
is set) and the daily scheduler. Order matters and is kept here only:

0. the health/metrics server starts when enabled (/healthz answers, /readyz says "corpus: not
   loaded yet" until it is);
1. the corpus loads in a worker thread (jieba takes about a second; the loop stays free); then,
   when several processes share the database, this one joins the corpus generation (bots.replicas);
2. each adapter prepares (the console greets and offers its poster), then the scheduler starts (its
   database opens, missed posts are caught up), so a post that is due prints before the first prompt;
3. every adapter is served with the same `AppContext` and stop event (`serve(ctx, stop)`);
4. SIGINT/SIGTERM (or the console's end of input) set the stop event; adapters close their
   connections, then the exit stack shuts the scheduler down, so a post in flight records its
   outcome, and restores the signal handlers. A second signal gets the default behaviour back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol, TextIO

from sqlalchemy.exc import SQLAlchemyError

from bots import logs
from bots.daily_control import DailyControl
from bots.preferences import ScriptChoices
from bots.runtime import Adapter, AppContext, until_stopped
from bots.scheduler.store import create_db_engine, missing_driver
from bots.settings import Settings
from quotecore import CorpusError, QuoteService, cache_dir

if TYPE_CHECKING:
    from bots.replicas import ReplicaSync

log = logging.getLogger(__name__)

NO_TOKEN = (
    "quotebot: no chat token set: set DISCORD_TOKEN, or SLACK_BOT_TOKEN plus SLACK_APP_TOKEN or "
    "SLACK_SIGNING_SECRET (without --no-console, `quotebot run` opens the console chat)\n"
)


class Scheduler(DailyControl, Protocol):
    """What main() needs of bots.scheduler.DailyScheduler beyond the adapters' seam."""

    async def start(self) -> None:
        """Open the database, schedule the targets, catch up."""

    async def shutdown(self) -> None:
        """Stop the jobs, wait for a post in flight, close the database."""


def build_service(settings: Settings) -> QuoteService:
    """The one QuoteService every adapter shares."""
    corpus = settings.corpus
    return QuoteService(
        corpus.seeds_dir,
        corpus.config_dir,
        cache_dir(corpus.cache_dir),
        max_file_bytes=int(corpus.max_file_mb * 2**20),
        max_corpus_bytes=int(corpus.max_corpus_mb * 2**20),
    )


def script_choices(settings: Settings) -> ScriptChoices:
    """The channels' scripts on the database (in memory only when its driver is missing)."""
    url = settings.storage.url
    try:
        return ScriptChoices(None if missing_driver(url) else create_db_engine(url))
    except (OSError, SQLAlchemyError) as exc:  # a broken database never stops the chat
        log.warning("channel scripts kept in memory only: the database cannot be opened (%s)", exc)
        return ScriptChoices(None)


def choose_adapters(settings: Settings, stdin: TextIO | None, out: TextIO | None, console: bool) -> list[Adapter]:
    """The adapters the settings turn on (imported only when used); the console when no token is set."""
    chosen: list[Adapter] = []
    if settings.discord_enabled:
        from bots.discord import DiscordAdapter

        chosen.append(DiscordAdapter())
    if settings.slack_enabled:
        from bots.slack import SlackAdapter

        chosen.append(SlackAdapter())
    if not chosen and console:
        from bots.console import ConsoleAdapter

        chosen.append(ConsoleAdapter(stdin or sys.stdin, out or sys.stdout))
    return chosen


async def start_daily(ctx: AppContext) -> Scheduler | None:
    """The scheduler, started with the posters offered so far; None when disabled or its database fails."""
    if not ctx.settings.daily.enabled:
        return None
    from bots.scheduler import DailyScheduler

    scheduler: DailyScheduler | None = None
    try:
        scheduler = DailyScheduler.from_settings(ctx.service, ctx.settings)  # the engine is built here (may fail)
        scheduler.on_post = ctx.metrics.daily_post
        for platform, poster in ctx.posters.items():
            scheduler.register_poster(platform, poster)
        await scheduler.start()
    except Exception as exc:
        log.error(
            "daily excerpt disabled: the database %s did not open: %s (see `quotebot check`)",
            ctx.settings.storage.url,
            exc,
        )
        if scheduler is not None:
            with contextlib.suppress(Exception):
                await scheduler.shutdown()
        return None
    return scheduler


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set `stop` once; the next one gets the default behaviour back."""
    loop = asyncio.get_running_loop()
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
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _is_environment_failure(exc: BaseException) -> bool:
    """A refused token or an unreachable server: one line says it, a traceback would not help."""
    module = type(exc).__module__.split(".", 1)[0]
    return isinstance(exc, OSError | TimeoutError) or module in ("discord", "slack_sdk", "slack_bolt", "aiohttp")


async def main(
    settings: Settings,
    service: QuoteService | None = None,
    stop: asyncio.Event | None = None,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    console: bool = True,
) -> int:
    """Serve until stopped or the console's input ends; the exit status (`console=False`: no token is an error)."""
    adapters = choose_adapters(settings, stdin, out, console)
    if not adapters:
        (out or sys.stderr).write(NO_TOKEN)
        return 1
    logs.configure(settings.log.format)
    stop = stop or asyncio.Event()
    ctx = AppContext(service or build_service(settings), settings, scripts=script_choices(settings))
    ctx.metrics.watch(
        lambda: ctx.replicas.generation if ctx.replicas is not None else 0,
        lambda: len(ctx.service.snapshot.passages) if ctx.service.loaded else 0,
    )
    async with contextlib.AsyncExitStack() as stack:
        stack.enter_context(stop_on_signals(stop))
        if settings.web.enabled and not await start_web(ctx, stack, out or sys.stderr):
            return 1
        if not await load_corpus(ctx.service, out or sys.stderr):
            return 1
        if settings.replicas_sync:
            ctx.replicas = await start_replicas(ctx)
            if ctx.replicas is not None:
                stack.push_async_callback(ctx.replicas.stop)
        for adapter in adapters:
            adapter.prepare(ctx)
        scheduler = await start_daily(ctx)
        if scheduler is not None:
            ctx.daily = scheduler
            stack.push_async_callback(_shut_down, scheduler)
        return await serve_all(adapters, ctx, stop)
    return 1  # not reached: the stack does not swallow exceptions


async def start_web(ctx: AppContext, stack: contextlib.AsyncExitStack, out: TextIO) -> bool:
    """The health/metrics server (ctx.web), stopped with the stack; False when its port cannot be had."""
    from bots.web import WebServer

    web = WebServer(ctx)
    try:
        await web.start()
    except OSError as exc:
        await web.stop()
        out.write(f"quotebot: web.port {ctx.settings.web.port}: cannot listen: {exc.strerror or exc}\n")
        return False
    ctx.web = web
    stack.push_async_callback(web.stop)
    return True


async def start_replicas(ctx: AppContext) -> ReplicaSync | None:
    """Join the shared corpus generation and follow it; a database that does not answer is retried inside.

    None (this process reloads alone, as one process always did) when the database URL cannot be used at all.
    """
    from bots.generation import GenerationStore
    from bots.replicas import ReplicaSync

    try:
        store = GenerationStore(ctx.settings.storage.url)
    except Exception as exc:  # a missing driver, a malformed URL: `quotebot check` says more
        log.error("replicas: %s cannot be used (%s); reloads stay local to this process", ctx.settings.storage.url, exc)
        return None
    sync = ReplicaSync(
        ctx.service,
        store,
        ctx.settings.replicas,
        memo=ctx.memo,
        on_reload=ctx.metrics.reload,
    )
    await sync.start()
    return sync


async def load_corpus(service: QuoteService, out: TextIO) -> bool:
    """Load in a worker thread (the loop stays free); a corpus that does not load stops `run` with its reason."""
    if service.loaded:
        return True
    try:
        await asyncio.to_thread(service.load)
    except CorpusError as exc:
        log.error("the corpus did not load: %s", exc)
        out.write(f"quotebot: corpus error: {exc}\n")
        return False
    return True


async def _shut_down(scheduler: Scheduler) -> None:
    await scheduler.shutdown()
    log.info("daily scheduler stopped")


async def serve_all(adapters: list[Adapter], ctx: AppContext, stop: asyncio.Event) -> int:
    """Run the adapters until one ends or `stop` is set; then stop the others and collect failures."""
    log.info("starting: %s", ", ".join(a.name for a in adapters))
    tasks = {a.name: asyncio.create_task(a.serve(ctx, stop), name=a.name) for a in adapters}
    try:
        await until_stopped(asyncio.wait(tasks.values(), return_when=asyncio.FIRST_COMPLETED), stop)
    finally:
        stop.set()
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
