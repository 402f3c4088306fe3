"""Run one function in a forked child process: how a reload builds without taking the serving thread's turn.

A reload in the serving process competes with queries for the interpreter lock: every Python step
of the build delays a query by up to the switch interval, and queries asked during a reload
took two to three times as long. A forked child starts with everything the parent holds (the
loaded tokenizer, the previous generation, mapped read-only) at no cost, builds the new
generation and writes it to its file; the parent waits without holding the lock and then maps
the file. The result crosses back as JSON; an error as its kind and text.

Where there is no fork (Windows, macOS's default), or the child dies, the caller builds in its
own process as before: the worker is an optimisation, never a requirement.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import select
import signal
import traceback
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: The child's scheduling niceness, added to the parent's: a build must not slow the queries down.
NICENESS = 10
#: A child still silent after this long is taken as stuck (a lock another thread held at the fork).
TIMEOUT_SECONDS = 900.0


class WorkerFailed(Exception):
    """The child could not report a result (no fork, crash, timeout): build in this process instead."""


def available() -> bool:
    """Whether this platform can fork."""
    return hasattr(os, "fork") and hasattr(os, "waitpid")


def run(task: Callable[[], Any], errors: tuple[type[Exception], ...] = ()) -> Any:
    """`task()`'s JSON-able result, computed in a forked child.

    An exception of one of `errors` is re-raised here as `(kind name, its args)` via
    `ChildError`; anything else, or no answer at all, raises WorkerFailed.
    """
    if not available():
        raise WorkerFailed("this platform cannot fork")
    read_fd, write_fd = os.pipe()
    # The collector writes into every tracked object it visits, and each write copies a page the
    # child shares with the parent: the frozen objects are never visited, and the child, which
    # lives for one build, never collects at all.
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        gc.disable()
        status = 0
        try:
            os.close(read_fd)
            with contextlib.suppress(OSError):
                os.nice(NICENESS)  # background work: the serving process keeps the cores it needs
            try:
                message: dict[str, Any] = {"result": task()}
            except errors as exc:
                message = {"error": type(exc).__name__, "args": list(exc.args), "attrs": _attrs(exc)}
            except BaseException:  # reported to the parent, which decides
                message = {"failed": traceback.format_exc(limit=5)}
            data = json.dumps(message).encode()
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view) :]
        except BaseException:  # the parent sees no answer and builds itself
            status = 1
        finally:
            os._exit(status)
    gc.unfreeze()
    os.close(write_fd)
    try:
        raw = _read_all(read_fd, pid)
    finally:
        os.close(read_fd)
        _reap(pid)
    if not raw:
        raise WorkerFailed("the build process ended without an answer")
    message = json.loads(raw)
    if "failed" in message:
        raise WorkerFailed(message["failed"])
    if "error" in message:
        raise ChildError(message["error"], message["args"], message["attrs"])
    return message["result"]


class ChildError(Exception):
    """An expected error the child raised, for the caller to raise again as its own kind."""

    def __init__(self, kind: str, args: list[Any], attrs: dict[str, Any]) -> None:
        super().__init__(kind, *args)
        self.kind, self.error_args, self.attrs = kind, args, attrs


def _attrs(exc: Exception) -> dict[str, Any]:
    return {k: v for k, v in vars(exc).items() if isinstance(v, str | int | float | type(None))}


def _read_all(fd: int, pid: int) -> bytes:
    """Everything the child writes; waiting here holds no lock, so queries run meanwhile."""
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([fd], [], [], TIMEOUT_SECONDS)
        if not ready:
            log.warning("the build process %d answered nothing in %.0f s: stopping it", pid, TIMEOUT_SECONDS)
            os.kill(pid, signal.SIGKILL)
            return b""
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
