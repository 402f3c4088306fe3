"""What every adapter says the same way: wording, cooldowns, and running a reload off the loop.

Adapters differ in markup and transport only; the words a user reads (no-match hints, cooldown
notices, reload reports) are built here once so Discord, Slack and the console never drift apart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from quotecore.errors import CorpusError, QueryError, QuoteError, UnknownSpeakerError
from quotecore.models import Quote
from quotecore.service import QuoteService, ReloadReport

log = logging.getLogger(__name__)

HELP_TEXT = (
    "/quote <words> — the best-matching quotes (Chinese, traditional or simplified, or English names)\n"
    "/quote <words> speaker:<name> — only that speaker (奥特曼, Altman, 莱特卡普, …)\n"
    "/quote — a random quote\n"
    "/quote-reload — admins: reload the corpus from disk\n"
    "/quote-daily <channel> <HH:MM> <timezone> | off — admins: the daily excerpt"
)


def attribution(quote: Quote) -> str:
    """Speaker (Chinese and English), then source title and date: one line under every quote."""
    who = quote.speaker.display if quote.speaker else "文章叙述 (narration)"
    source = f"《{quote.document.title}》"
    extras = [p for p in (quote.document.outlet, quote.document.date) if p]
    return " · ".join([who, source, *extras])


def no_match_message(query: str, service: QuoteService, speaker: str | None = None) -> str:
    """A friendly no-result reply that suggests something to try next."""
    quoted = Counter(
        p.speaker_id for p in service.snapshot.passages if p.kind in ("answer", "reported") and p.speaker_id
    )
    names = ", ".join(s.name for s in sorted(service.speakers(), key=lambda s: -quoted[s.id]) if quoted[s.id])
    if speaker:
        return f"No quote by {speaker} matches “{query}”. Try a broader word, or drop the speaker filter."
    return f"No quote matches “{query}”. Try a broader word (能源, 研究, AGI) or a speaker ({names})."


def error_message(exc: QuoteError) -> str:
    """The short reply for a refusal from the core (never a traceback)."""
    if isinstance(exc, UnknownSpeakerError):
        return f"I don't know the speaker “{exc.name}”. Known speakers: {', '.join(exc.known)}."
    if isinstance(exc, QueryError):
        return f"Sorry: {exc}."
    return "Sorry, that did not work."


class Cooldown:
    """Per-user rate limit: one command every `seconds`; the clock is injectable for tests."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: dict[str, float] = {}

    def retry_after(self, user: str) -> float:
        """0 when the user may go ahead (and the use is recorded), else seconds to wait."""
        if self.seconds <= 0:
            return 0.0
        now = self._clock()
        last = self._last.get(user)
        if last is not None and now - last < self.seconds:
            return self.seconds - (now - last)
        self._last[user] = now
        if len(self._last) > 10_000:  # forget users whose cooldown is long over
            self._last = {u: t for u, t in self._last.items() if now - t < self.seconds}
        return 0.0


def cooldown_message(wait: float) -> str:
    """The cooldown reply, in whole seconds (never 'try again in 0 s')."""
    return f"Slow down a little: try again in {max(1, round(wait))} s."


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """What a reload did, in words every adapter can show as is."""

    ok: bool
    message: str
    report: ReloadReport | None = None


async def reload_corpus(service: QuoteService) -> ReloadOutcome:
    """Rebuild in a worker thread; a broken corpus is reported and the old one keeps serving."""
    try:
        report = await asyncio.to_thread(service.reload)
    except CorpusError as exc:
        log.warning("reload failed, keeping the current corpus: %s", exc)
        return ReloadOutcome(False, f"Reload failed, still serving the previous corpus.\n{exc}")
    except Exception:
        log.exception("reload crashed, keeping the current corpus")
        return ReloadOutcome(False, "Reload failed unexpectedly, still serving the previous corpus (see the logs).")
    return ReloadOutcome(True, f"Corpus reloaded: {report.summary()}.", report)


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """A text command (`/quote 基础设施 speaker:奥特曼 count:3`) split into its parts."""

    query: str
    speaker: str | None = None
    count: int = 1
    help: bool = False
    problem: str | None = None  # an unknown option: the reply explains the syntax


_OPTION_NAMES = {"speaker": "speaker", "by": "speaker", "count": "count", "n": "count"}


def parse_quote_text(text: str, max_count: int = 5) -> QuoteRequest:
    """Parse the free text after /quote on platforms without typed options (Slack, console).

    `speaker:` takes one word (`speaker:奥特曼`, `speaker:Altman`, or `speaker: Altman`).
    """
    words = text.split()
    if words and words[0].lower() in ("help", "-h", "--help", "?"):
        return QuoteRequest(query="", help=True)
    query: list[str] = []
    speaker: list[str] = []
    count = 1
    current: list[str] = query
    for word in words:
        name, sep, value = word.partition(":")
        if not sep:
            name, sep, value = word.partition("：")
        key = _OPTION_NAMES.get(name.lower()) if sep else None
        if sep and key is None and name.isascii() and name.isalpha() and value:
            return QuoteRequest(query="", help=True, problem=f"unknown option “{name}:”")
        if key == "speaker":
            if value:
                speaker.append(value)
                current = query
            else:
                current = speaker
        elif key == "count":
            if not value.isdigit() or not 1 <= int(value) <= max_count:
                return QuoteRequest(query="", help=True, problem=f"count must be a number from 1 to {max_count}")
            count = int(value)
            current = query
        else:
            current.append(word)
            current = query
    return QuoteRequest(query=" ".join(query), speaker=" ".join(speaker) or None, count=count)
