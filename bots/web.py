"""Health and metrics over HTTP, for an orchestrator: /healthz, /readyz, /metrics (off by default).

- `/healthz`: 200 while the process runs its loop (a liveness probe restarts a process stuck past it).
- `/readyz`: 200 only when the corpus is loaded, the database answers (when one is used) and each
  enabled platform is connected; otherwise 503, one line per part that is not (a load balancer
  sends nothing to a process that could not answer).
- `/metrics`: Prometheus text format (bots.metrics).

The Slack HTTP listener shares this server when `slack.port` equals `web.port`: its path is routed
here from the start and handed to bolt once the Slack adapter attaches (503 before, which Slack
retries), so one port serves both and a container exposes one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bots.runtime import AppContext

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: How long /readyz waits for the database's answer (a probe's own timeout is usually 1–5 s).
PING_TIMEOUT = 2.0


class WebServer:
    """One aiohttp server per process; built and started by `quotebot run` before the corpus loads."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings.web
        self._handlers: dict[str, Handler] = {}
        self._runner: web.AppRunner | None = None
        self.app = web.Application()
        self.app.router.add_get("/healthz", self.healthz)
        self.app.router.add_get("/readyz", self.readyz)
        self.app.router.add_get("/metrics", self.metrics)
        slack = ctx.settings.slack
        if ctx.settings.slack_enabled and slack.transport == "http" and self.shares_port(slack.port):
            self.app.router.add_post(slack.path, self._delegate)
            if slack.distributed:  # the OAuth install page and its redirect share the port too
                self.app.router.add_get(slack.install_path, self._delegate)
                self.app.router.add_get(slack.redirect_path, self._delegate)

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one the OS chose for port 0)."""
        if self._runner is not None and self._runner.addresses:
            return int(self._runner.addresses[0][1])
        return self.settings.port

    def shares_port(self, port: int) -> bool:
        """Whether a listener on `port` is to be served here instead of on a server of its own."""
        return port == self.settings.port

    def attach(self, path: str, handler: Handler) -> None:
        """Serve requests to `path` with `handler` (the Slack HTTP listener, its install pages)."""
        self._handlers[path] = handler

    def detach(self, path: str) -> None:
        """Stop serving `path` (its adapter is stopping)."""
        self._handlers.pop(path, None)

    async def _delegate(self, request: web.Request) -> web.StreamResponse:
        handler = self._handlers.get(request.path)
        if handler is None:
            return web.Response(status=503, text="not ready yet\n")
        return await handler(request)

    async def start(self) -> None:
        """Listen on web.host:web.port."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.settings.host, self.settings.port).start()
        log.info("web: /healthz /readyz /metrics on %s:%s", self.settings.host, self.port)

    async def stop(self) -> None:
        """Close the listener."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---------------------------------------------------------------- endpoints

    async def healthz(self, request: web.Request) -> web.Response:
        """Alive: the loop answers."""
        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        """Ready, or 503 with what is not."""
        problems = await self.problems()
        if problems:
            return web.Response(status=503, text="not ready\n" + "".join(f"{p}\n" for p in problems))
        return web.Response(text="ready\n")

    async def metrics(self, request: web.Request) -> web.Response:
        """The Prometheus exposition."""
        body = self.ctx.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def problems(self) -> list[str]:
        """One line per part that keeps the process from being ready; empty when ready."""
        ctx = self.ctx
        problems: list[str] = []
        if not ctx.service.loaded:
            problems.append("corpus: not loaded yet")
        database = await self._database_problem()
        if database is not None:
            problems.append(f"database: {database}")
        for platform, enabled in (("discord", ctx.settings.discord_enabled), ("slack", ctx.settings.slack_enabled)):
            if enabled and not ctx.connected.get(platform, False):
                problems.append(f"{platform}: not connected")
        if ctx.settings.daily.enabled and ctx.daily is None and ctx.service.loaded:
            problems.append("daily scheduler: not running (see the log)")
        return problems

    async def _database_problem(self) -> str | None:
        ping = self._ping()
        if ping is None:
            return None
        try:
            await asyncio.wait_for(asyncio.to_thread(ping), PING_TIMEOUT)
        except TimeoutError:
            return f"no answer within {PING_TIMEOUT:.0f} s"
        except Exception as exc:
            return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        return None

    def _ping(self) -> Callable[[], None] | None:
        """The database round trip to try: the replica sync's, else the scheduler's; None without a database."""
        if self.ctx.replicas is not None:
            return self.ctx.replicas.store.ping
        store = getattr(self.ctx.daily, "store", None)
        if store is not None and hasattr(store, "ping"):
            return store.ping  # type: ignore[no-any-return]
        return None
