"""What both fakes share: an aiohttp server on 127.0.0.1 (a free port), and waiting for what it records."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

T = TypeVar("T")


@contextlib.asynccontextmanager
async def serve_app(app: web.Application, host: str = "127.0.0.1") -> AsyncIterator[tuple[web.AppRunner, str]]:
    """Serve `app` on a free port for the block: yields the runner and `http://host:port`.

    A short shutdown timeout: a stuck handler must not hang the suite for aiohttp's 60 s.
    """
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, 0).start()
        yield runner, f"http://{host}:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


class LocalServer:
    """A fake platform: subclasses add their routes (`routes`) and what they record."""

    host = "127.0.0.1"

    def routes(self, app: web.Application) -> None:
        """Add the platform's routes."""
        raise NotImplementedError

    async def before_stop(self) -> None:
        """Close long-lived connections (WebSockets) so the server can stop at once."""

    @property
    def recent(self) -> list[Any]:
        """What a timed-out wait lists, to show what did arrive."""
        return []

    async def start(self) -> Self:
        """Bind a free port on 127.0.0.1 and serve (inside the test's event loop)."""
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self.routes(app)
        self._serving = serve_app(app, self.host)
        _, self.base_url = await self._serving.__aenter__()
        self.port = int(self.base_url.rsplit(":", 1)[1])
        return self

    async def stop(self) -> None:
        """Stop serving; what was recorded stays for the assertions."""
        await self.before_stop()
        await self._serving.__aexit__(None, None, None)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def wait_for(self, find: Callable[[], T | None], timeout: float, what: str) -> T:
        """`find()` once it returns something, re-checked whenever the server records anything."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                while (found := find()) is None:
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; recent: {self.recent!r}") from None
        return found

    async def notify(self) -> None:
        """Wake the waits: something was recorded."""
        async with self._changed:
            self._changed.notify_all()


def first_match(items: Iterable[T]) -> T | None:
    """The first item, or None: what a `wait_for` finder returns."""
    return next(iter(items), None)


def utf16_len(text: Any) -> int:
    """Length as Discord and Slack count it: UTF-16 code units (an emoji outside the BMP is two)."""
    return len(str(text).encode("utf-16-le")) // 2 if text is not None else 0
