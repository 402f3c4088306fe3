"""What every adapter is given and how it runs: the context, the adapter protocol, stopping.

An adapter is anything with `serve(ctx, stop)`: Discord, Slack and the console alike. It gets the
one `AppContext` (the service, the settings, the daily scheduler, the one place posters are
registered) and returns when `stop` is set or its connection ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bots.commands import Commands
from bots.daily_control import DailyControl, Platform, Poster
from bots.metrics import Metrics
from bots.preferences import ScriptChoices
from bots.settings import Settings
from quotecore import QuoteService

if TYPE_CHECKING:
    from bots.replicas import ReplicaSync

T = TypeVar("T")


class SharedPort(Protocol):
    """The health server's port, as a Slack HTTP listener shares it (bots.web.WebServer)."""

    def shares_port(self, port: int) -> bool:
        """Whether a listener on `port` is served by the health server instead of one of its own."""

    def attach(self, path: str, handler: Callable[[Any], Awaitable[Any]]) -> None:
        """Serve `path` with `handler` until `detach`."""

    def detach(self, path: str) -> None:
        """Stop serving `path`."""


@dataclass
class AppContext:
    """The shared resources of one `quotebot run`, owned by `bots.app.main`."""

    service: QuoteService
    settings: Settings
    daily: DailyControl | None = None
    posters: dict[Platform, Poster] = field(default_factory=dict)
    #: What the command layers of all surfaces compute once from the corpus (a reload clears it).
    memo: dict[str, list[str]] = field(default_factory=dict)
    #: Admins' per-channel scripts (`/quote-script`), shared by every surface.
    scripts: ScriptChoices = field(default_factory=lambda: ScriptChoices(None))
    metrics: Metrics = field(default_factory=Metrics)
    #: The shared corpus generation, when several processes share the database (settings.replicas_sync).
    replicas: ReplicaSync | None = None
    #: The health/metrics server, when enabled (the Slack HTTP listener may share its port).
    web: SharedPort | None = None
    #: Platform → whether it is connected now (what /readyz and the connection gauge report).
    connected: dict[str, bool] = field(default_factory=dict)

    def commands(self, platform: Platform, *, cooldown_seconds: float = 0.0, max_results: int = 5) -> Commands:
        """The command layer for one surface, over the shared service, scheduler and replica sync."""
        shared = self.replicas is not None and self.settings.replicas.shared_cooldowns
        return Commands(
            self.service,
            platform,
            daily=self.daily,
            cooldown_seconds=cooldown_seconds,
            max_results=max_results,
            memo=self.memo,
            scripts=self.scripts,
            replicas=self.replicas,
            shared_turn=self.replicas.take_turn if shared and self.replicas is not None else None,
            metrics=self.metrics,
        )

    def set_connected(self, platform: str, connected: bool) -> None:
        """An adapter reports its connection (made, lost, back): readiness and the gauge follow."""
        self.connected[platform] = connected
        self.metrics.set_connected(platform, connected)

    def offer_poster(self, platform: Platform, poster: Poster) -> None:
        """The one place a daily poster is registered: now, or when the scheduler starts."""
        self.posters[platform] = poster
        if self.daily is not None:
            self.daily.register_poster(platform, poster)

    def withdraw_poster(self, platform: Platform) -> None:
        """The adapter is going away: its targets wait for it."""
        if self.posters.pop(platform, None) is not None and self.daily is not None:
            self.daily.unregister_poster(platform)


class Adapter(Protocol):
    """A chat surface: Discord, Slack, the console, or the next one."""

    name: str

    def prepare(self, ctx: AppContext) -> None:
        """Work before the scheduler starts (the console offers its poster here); usually nothing."""

    async def serve(self, ctx: AppContext, stop: asyncio.Event) -> None:
        """Answer users until `stop` is set (or the surface ends); then close cleanly."""


async def until_stopped(work: Awaitable[T], stop: asyncio.Event) -> tuple[bool, T | None]:
    """Await `work` unless `stop` is set first (then cancel it): (finished, its result).

    The one race against the stop event: connecting, reading a line, serving. An exception from
    `work` propagates.
    """
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        return False, None
    return True, task.result()
