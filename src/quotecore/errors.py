"""Errors the core raises on purpose, each carrying what a user or admin needs to act on it."""

from __future__ import annotations

import re

#: Control, bidi and invisible characters, and lone surrogates: shown as escapes in messages, so a
#: file named with a newline or U+202E can neither split an error line nor reverse it.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
#: The longest name or path an error repeats back.
MAX_ECHO = 120


def printable(text: str, limit: int = MAX_ECHO) -> str:
    """`text` safe to echo in one line: invisible characters escaped, cut to `limit` characters."""
    shown = _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


class QuoteError(Exception):
    """Base class: adapters catch this to turn any core refusal into a short, friendly reply."""


class QueryError(QuoteError):
    """The query itself is unusable (empty, too long): the user can fix it."""


class UnknownSpeakerError(QuoteError):
    """A speaker filter matched nobody; carries the known names so the reply can list them."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = printable(name, 40)
        self.known = known
        super().__init__(f"unknown speaker “{self.name}”; known speakers: {', '.join(known)}")


class CorpusError(QuoteError):
    """A corpus or config file cannot be loaded; names the file and, where known, the line.

    Reload reports this to the admin and keeps the previous snapshot serving.
    """

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = printable(path, 300)
        self.line = line
        self.reason = printable(reason, 500)
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {self.reason}")
