"""One query over one snapshot: read it, rank the matches, cut the excerpts, explain if asked.

The query is read first (`quotecore.query`: speaker intent, filler words, alternatives), then
ranked (`quotecore.ranking`: BM25 on the content, kind and speaker priors, answers inheriting
their question's evidence, a minimum match). The character-gram index is the fallback for a
query whose words the word index knows none of.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from quotecore.excerpt import DEFAULT_MAX_CHARS, excerpt
from quotecore.models import Quote
from quotecore.query import QueryPlan
from quotecore.ranking import Scored, by_speaker, order, priors, score, speaker_code
from quotecore.snapshot import Snapshot
from quotecore.tokenize import INSIDE, Tokenizer

#: The share of a query's character bigrams a passage must hold to match in the fallback.
_GRAM_COVERAGE = 0.6


@dataclass(frozen=True, slots=True)
class Results:
    """One page of search results, and how many matched in all (for "Another" and "3 of 7")."""

    query: str
    quotes: tuple[Quote, ...]
    total: int
    offset: int = 0

    def to_json(self) -> dict[str, object]:
        """The design doc's search JSON shape."""
        return {"query": self.query, "results": [q.to_json() for q in self.quotes]}


def search(
    snap: Snapshot,
    query: str,
    who: str | None = None,
    limit: int = 5,
    offset: int = 0,
    max_chars: int = DEFAULT_MAX_CHARS,
    explain: bool = False,
) -> Results:
    """Best-matching quotes; no match is an empty result, never the least-bad passage.

    The query is read first (`quotecore.query`: speaker intent, filler words, alternatives),
    then ranked (`quotecore.ranking`: BM25 on the content, kind and speaker priors, answers
    inheriting their question's evidence, a minimum match).
    """
    if snap.layout is None or snap.reader is None:
        return Results(query=query, quotes=(), total=0, offset=offset)
    plan = snap.reader.read(query)
    if plan.words:
        scored = score(plan, snap.words, snap.layout, who, snap.grams)
        if scored.docs.size == 0 and _unknown_word(snap, plan):
            scored = _by_grams(snap, plan, who)
    elif plan.intent or who:
        scored = by_speaker(snap.layout, who or plan.intent or "")
    else:
        scored = _nothing()
    want = offset + max(limit, 0)
    positions, final = order(scored, snap.layout, plan, want, lambda d: snap.text(d).lower())
    weights = _highlight_weights(snap, plan)
    if not weights:  # found through character grams: mark the words as typed
        weights = {w.word: 1.0 for w in plan.words}
    quotes = []
    for pos in positions[offset:].tolist():
        passage = snap.passages[int(scored.docs[pos])]
        text, spans = excerpt(passage, weights, max_chars)
        detail = _explain(snap, plan, scored, pos, float(final[pos])) if explain else None
        quotes.append(snap.quote(passage, text, float(final[pos]), spans, detail))
    return Results(query=query, quotes=tuple(quotes), total=int(scored.docs.size), offset=offset)


def _unknown_word(snap: Snapshot, plan: QueryPlan) -> bool:
    """Whether the word index knows none of the content words (a name jieba cuts its own way)."""
    return all(all(v.term not in snap.words.postings for v in w.variants) for w in plan.words)


def _by_grams(snap: Snapshot, plan: QueryPlan, who: str | None) -> Scored:
    """The character-bigram fallback for words jieba cuts differently or does not know."""
    assert snap.layout is not None
    grams = Tokenizer.query_grams(" ".join(w.word for w in plan.words))
    docs, scores = snap.grams.score(grams)
    if docs.size:
        keep = snap.grams.coverage(grams, docs) >= _coverage_needed(grams)
        if who is not None:
            keep &= snap.layout.speaker[docs] == speaker_code(snap.layout, who)
        docs, scores = docs[keep], scores[keep]
    prior = priors(docs, snap.layout, who or plan.intent)
    zeros = np.zeros(docs.size)
    return Scored(docs, scores * prior, scores, zeros, np.ones(docs.size), prior, 0.0)


def _highlight_weights(snap: Snapshot, plan: QueryPlan) -> dict[str, float]:
    """Each matched term's idf: the excerpt centres on the sentence holding the most of it."""
    weights: dict[str, float] = {}
    variants = [variant for word in plan.words for variant in word.variants]
    for variant, idf in zip(variants, snap.words.postings.idfs([v.term for v in variants]), strict=True):
        if idf is not None:
            shown = variant.term.removeprefix(INSIDE)  # an inside part is found in the text as is
            weight = max(idf, 0.01) * variant.factor
            if weight > weights.get(shown, 0.0):
                weights[shown] = weight
    return weights


def _explain(snap: Snapshot, plan: QueryPlan, scored: Scored, pos: int, final: float) -> dict[str, object]:
    """Why one result ranked where it did: matched words, how the query was read, priors, score."""
    doc = int(scored.docs[pos])
    matched: dict[str, list[dict[str, str]]] = {}
    for word in plan.words:
        for variant in word.variants:
            posting = snap.words.postings.get(variant.term)
            if posting is None:
                continue
            at = int(np.searchsorted(posting.docs, doc))
            if at < posting.docs.size and int(posting.docs[at]) == doc:
                shown = variant.term.removeprefix(INSIDE)
                matched.setdefault(word.word, []).append({"term": shown, "how": variant.how})
    passage = snap.passages[doc]
    detail: dict[str, object] = {
        **plan.explain(),
        "matched": matched,
        "kind": passage.kind,
        "priors": round(float(scored.prior[pos]), 4),
        "bm25": round(float(scored.bm25[pos]), 6),
        "carried": round(float(scored.carried[pos]), 6),
        "share": round(float(scored.share[pos]), 4),
        "score": round(final, 6),
    }
    if scored.carried[pos] > 0 and snap.layout is not None:
        edge = np.flatnonzero(snap.layout.edge_dst == doc)
        if edge.size:
            detail["carried_from"] = snap.passages[int(snap.layout.edge_src[edge[0]])].id
    return detail


def _nothing() -> Scored:
    empty = np.zeros(0)
    return Scored(np.zeros(0, dtype=np.int32), empty, empty, empty, empty, empty, 0.0)


def _coverage_needed(grams: Sequence[str]) -> int:
    distinct = len(set(grams))
    return distinct if distinct <= 2 else math.ceil(_GRAM_COVERAGE * distinct)
