"""Cutting a passage down to a chat-sized quote: whole sentences, around what matched.

Also the one sentence-boundary truncation every adapter uses to respect its platform's limits,
so a long passage is never rejected by an API nor cut in the middle of a word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from itertools import compress

from quotecore.models import Passage

ELLIPSIS = "…"
DEFAULT_MAX_CHARS = 280
_CLAUSE = re.compile(r"[,，、;；:：]")


def _sentence_weights(text: str, sentences: Sequence[tuple[int, int]], weights: Mapping[str, float]) -> list[float]:
    lowered = text.lower()
    terms, values = list(weights), list(weights.values())
    # `sum` adds the held terms' weights in the mapping's order, as a loop over it would.
    return [sum(compress(values, map(lowered[s:e].__contains__, terms))) for s, e in sentences]


def _cut_long(text: str, start: int, end: int, focus: int, max_chars: int) -> tuple[int, int]:
    """A window of at most max_chars inside [start, end) around `focus`, snapped to clause marks."""
    lo = max(start, min(focus - max_chars // 3, end - max_chars))
    hi = min(end, lo + max_chars)
    # Prefer to start right after a clause mark and stop right after one, inside the window.
    for m in _CLAUSE.finditer(text, lo, min(focus, hi)):
        lo = m.end()
        break
    last = None
    for m in _CLAUSE.finditer(text, max(focus, lo), hi):
        last = m.end()
    if last is not None and last - lo > max_chars // 2:
        hi = last
    return lo, hi


def excerpt(
    passage: Passage,
    weights: Mapping[str, float] | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The quote text for a passage and the highlight offsets of the weighted terms inside it.

    The best sentence is the one holding the most query weight (idf); neighbours are added, next
    first, while the whole stays within max_chars. An ellipsis marks text left out on either side.
    """
    text = passage.text
    sentences = list(passage.sentences) or [(0, len(text))]
    weights = weights or {}
    if len(weights) > 1:  # a long query's terms: most are not in this passage at all
        lowered = text.lower()
        weights = {term: w for term, w in weights.items() if term in lowered}
    scores = _sentence_weights(text, sentences, weights)
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i)) if weights else 0
    first = last = best
    start, end = sentences[best]
    if end - start > max_chars:
        lowered = text.lower()
        hits = [lowered.find(t, start, end) for t in weights if lowered.find(t, start, end) >= 0]
        start, end = _cut_long(text, start, end, min(hits) if hits else start, max_chars)
    else:
        grew = True
        while grew:
            grew = False
            if last + 1 < len(sentences) and sentences[last + 1][1] - start <= max_chars:
                last += 1
                end = sentences[last][1]
                grew = True
            if first > 0 and end - sentences[first - 1][0] <= max_chars:
                first -= 1
                start = sentences[first][0]
                grew = True
    body = text[start:end].strip()
    lead = ELLIPSIS if start > 0 else ""
    tail = ELLIPSIS if end < len(text.rstrip()) and not body.endswith(ELLIPSIS) else ""
    out = f"{lead}{body}{tail}"
    return out, highlight(out, weights)


def highlight(text: str, terms: Mapping[str, float] | Sequence[str]) -> tuple[tuple[int, int], ...]:
    """Non-overlapping (start, end) spans of the terms in text, longest terms first.

    Which characters are taken is kept per character: checking each span against every span
    taken so far grew with the square of the matches (a 30-word query over a long passage).
    """
    lowered = text.lower()
    taken: list[tuple[int, int]] = []
    used = bytearray(len(lowered))
    find, free = lowered.find, used.find
    # Only the terms the text holds (most of a long query's are not in a given excerpt).
    for term in sorted((t for t in terms if t in lowered and t.strip()), key=len, reverse=True):
        size = len(term)
        pos = find(term)
        while pos >= 0:
            end = pos + size
            if free(1, pos, end) < 0:
                taken.append((pos, end))
                used[pos:end] = b"\x01" * size
            pos = find(term, end)
    return tuple(sorted(taken))


def mark(
    text: str,
    spans: Sequence[tuple[int, int]],
    before: str,
    after: str,
    escape: Callable[[str], str] | None = None,
) -> str:
    """Wrap each span in markup (`**`, `*`, ANSI) and escape everything else with `escape`.

    Adapters call this so that escaping happens per piece and the markup itself is never escaped.
    """
    esc = escape or (lambda s: s)
    out: list[str] = []
    pos = 0
    for start, end in spans:
        out.append(esc(text[pos:start]))
        out.append(f"{before}{esc(text[start:end])}{after}")
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, cut after the last sentence end that fits, with an ellipsis.

    Falls back to a clause mark, then to a hard cut, so the result always fits.
    """
    if len(text) <= limit:
        return text
    room = max(limit - len(ELLIPSIS), 0)
    window = text[:room]
    for pattern in (r"[。!?！？;；.](?=[^。!?！？;；.]*$)", r"[,，、:：](?=[^,，、:：]*$)"):
        match = re.search(pattern, window)
        if match and match.end() > room // 2:
            return window[: match.end()] + ELLIPSIS
    return window + ELLIPSIS
