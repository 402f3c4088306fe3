"""Log lines: plain text by default, JSON lines (one event per line) for a log collector.

Every user query runs under a request id (a context variable, so it follows the query into worker
threads started with `asyncio.to_thread` and into every line logged meanwhile). The query's own
event line, logged at INFO on `bots.events`, carries the surface, command, outcome and latency;
in JSON mode that logger is switched to INFO so the events reach the collector without `-v`.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import uuid
from typing import Any, Literal

#: The id of the request being answered ("" outside one).
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

events = logging.getLogger("bots.events")

#: LogRecord attributes that are not an event's own fields.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def new_request() -> str:
    """Start a request: a fresh id for every line logged while answering it."""
    rid = uuid.uuid4().hex[:12]
    request_id.set(rid)
    return rid


def query_event(surface: str, command: str, outcome: str, seconds: float) -> None:
    """The one line per user query: what a dashboard or a log search needs."""
    fields = {"event": "query", "surface": surface, "command": command, "outcome": outcome}
    latency = round(seconds * 1000, 2)
    events.info("%s on %s: %s in %.1f ms", command, surface, outcome, latency, extra={**fields, "latency_ms": latency})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (non-ASCII kept: quotes and queries are Chinese)."""
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            line["request_id"] = rid
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(fmt: Literal["text", "json"]) -> None:
    """Apply the `[log] format` setting to the handlers the CLI installed (text: leave them as they are)."""
    if fmt != "json":
        return
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())
    events.setLevel(logging.INFO)
