"""Errors the core raises on purpose, each carrying what a user or admin needs to act on it."""

from __future__ import annotations


class QuoteError(Exception):
    """Base class: adapters catch this to turn any core refusal into a short, friendly reply."""


class QueryError(QuoteError):
    """The query itself is unusable (empty, too long): the user can fix it."""


class UnknownSpeakerError(QuoteError):
    """A speaker filter matched nobody; carries the known names so the reply can list them."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown speaker {name!r}; known speakers: {', '.join(known)}")


class CorpusError(QuoteError):
    """A corpus or config file cannot be loaded; names the file and, where known, the line.

    Reload reports this to the admin and keeps the previous snapshot serving.
    """

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {reason}")
