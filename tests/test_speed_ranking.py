"""The fast ranking path against a plain reference: same matches, same scores, same order.

The ranking works on numpy arrays, scatters each word's alternatives into shared scratch arrays,
reads only the edges out of matched passages and sorts only a window of the best results. The
reference here does the same arithmetic the slow, obvious way (Python dicts, a full sort of every
match), so any shortcut that changes a score, drops a match or breaks a tie differently fails.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from quotecore import alternatives, ranking
from quotecore.models import KINDS
from quotecore.query import QueryPlan
from quotecore.search import search
from quotecore.service import QuoteService
from quotecore.snapshot import Snapshot
from tests.conftest import ROOT


def _tsv_queries() -> list[str]:
    queries = []
    for name in ("dev_queries.tsv", "dev_natural.tsv", "own_natural.tsv"):
        for line in (ROOT / "tests" / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                queries.append(line.split("\t")[1])
    return queries


def _queries(snap: Snapshot) -> list[str]:
    """The quality sets' queries, single vocabulary words, and random runs of words and text."""
    rng = random.Random(15)
    terms = sorted(t for t in snap.words.terms() if not t.startswith("~") and t.strip())
    queries = _tsv_queries() + rng.sample(terms, 150)
    queries += ["".join(rng.sample(terms, rng.randint(2, 5))) for _ in range(60)]
    queries += [" ".join(rng.sample(terms, rng.randint(3, 30))) for _ in range(60)]
    queries += [p.text[: rng.randint(4, 40)] for p in rng.sample(snap.passages, 40)]
    return queries


def _reference(snap: Snapshot, plan: QueryPlan, who: str | None, want: int) -> list[tuple[int, float]]:
    """(passage, final score) of the best `want`, computed passage by passage with a full sort."""
    layout, index = snap.layout, snap.words
    assert layout is not None
    total: dict[int, float] = {}
    credit: dict[int, float] = {}
    weight = 0.0
    for word in plan.words:
        w = ranking.word_weight(word, index) * word.scale
        best: dict[int, float] = {}
        got: dict[int, float] = {}
        for variant in word.variants:
            posting = index.postings.get(variant.term) if variant.how != "part" else None
            if posting is None:
                continue
            for doc, value in zip(posting.docs.tolist(), posting.weights.tolist(), strict=True):
                best[doc] = max(best.get(doc, -np.inf), variant.factor * value)
                got[doc] = max(got.get(doc, -np.inf), variant.factor)
        parts = [v for v in word.variants if v.how == "part"]
        if not best and parts:
            found = alternatives.parts_scores(parts, index)
            if found is not None:
                best, got = _by_doc(*found)
        if not best:
            best, got = _by_doc(*alternatives.as_characters(word, snap.grams))
        for doc in best:
            total[doc] = total.get(doc, 0.0) + word.scale * best[doc]
            credit[doc] = credit.get(doc, 0.0) + w * got[doc]
        weight += w
    matched = {d for d, c in credit.items() if c > 0}
    carried: dict[int, float] = {}
    edges = list(
        zip(
            layout.edge_src.tolist(),
            layout.edge_dst.tolist(),
            layout.edge_decay.tolist(),
            layout.edge_lead,
            strict=True,
        )
    )
    said = {s for s, d, _, lead in edges if lead and credit.get(d, 0.0) >= credit.get(s, 0.0)}
    new_credit = dict(credit)
    for src, dst, decay, lead in edges:
        if src in matched and not (lead and src in said):
            carried[dst] = total.get(src, 0.0) * decay
            new_credit[dst] = max(credit.get(dst, 0.0), credit[src])
    code = ranking.speaker_code(layout, who) if who else None
    rows = []
    for doc in sorted(d for d, c in new_credit.items() if c > 0):
        share = new_credit[doc] / weight
        if share < ranking.min_share(len(plan.words)) - 1e-9 or KINDS[layout.kind[doc]] == "lead-in":
            continue
        if code is not None and layout.speaker[doc] != code:
            continue
        rows.append((doc, share))
    top_share = max((s for _, s in rows), default=0.0)
    wanted = who or plan.intent
    scored = []
    for doc, share in rows:
        prior = float(layout.prior[doc])
        own = wanted is not None and layout.speaker[doc] == ranking.speaker_code(layout, wanted)
        if own and share >= ranking.INTENT_EVIDENCE * top_share - 1e-9:
            prior = max(prior, 1.0) * ranking.INTENT
        if layout.doubtful[doc]:
            prior *= ranking.DOUBTFUL
        final = (total.get(doc, 0.0) + carried.get(doc, 0.0) + ranking._FLOOR) * prior
        scored.append([final, int(layout.kind[doc]), doc])
    scored.sort(key=lambda r: (-r[0], r[1], r[2]))
    window = scored[: max(ranking.PHRASE_WINDOW, want)]
    for row in window:
        text = "".join(snap.passages[row[2]].text.lower().split())
        together = sum(1 for a, b in plan.adjacent if a + b in text)
        if together:
            row[0] *= 1 + ranking.PHRASE * together / len(plan.adjacent)
    window.sort(key=lambda r: (-r[0], r[1], r[2]))
    return [(doc, final) for final, _, doc in window[:want]]


def _by_doc(docs: np.ndarray, values: np.ndarray, credits: np.ndarray) -> tuple[dict[int, float], dict[int, float]]:
    return dict(zip(docs.tolist(), values.tolist(), strict=True)), dict(
        zip(docs.tolist(), credits.tolist(), strict=True)
    )


@pytest.mark.parametrize("who", [None, "altman"])
def test_ranking_equals_the_reference_on_the_bundled_corpus(service: QuoteService, who: str | None) -> None:
    snap = service.snapshot
    assert snap.layout is not None and snap.reader is not None
    compared = 0
    for query in _queries(snap):
        plan = snap.reader.read(query)
        if not plan.words:
            continue
        for want in (10, 25):
            scored = ranking.score(plan, snap.words, snap.layout, who, snap.grams)
            positions, final = ranking.order(scored, snap.layout, plan, want, lambda d: snap.passages[d].text.lower())
            fast = [(int(scored.docs[p]), float(final[p])) for p in positions.tolist()]
            assert fast == _reference(snap, plan, who, want), query
            compared += bool(fast)
    assert compared > 300  # most queries match something: the comparison is not vacuous


def test_the_window_edge_inside_a_run_of_equal_scores_keeps_the_tie_break() -> None:
    """Duplicate passages score the same: who makes the window is settled by kind, then corpus order."""
    rng = np.random.default_rng(3)
    for _ in range(300):
        size = int(rng.integers(1, 80))
        final = rng.choice([1.0, 2.0, 2.5, 3.0], size=size)
        kinds = rng.integers(0, len(KINDS), size=1000).astype(np.int8)  # the corpus's, per passage
        docs = np.sort(rng.choice(1000, size=size, replace=False))
        count = int(rng.integers(0, size + 3))
        expected = np.lexsort((docs, kinds[docs], -final))[:count]
        got = ranking.leading(final, docs, kinds, count)
        assert sorted(got.tolist()) == sorted(expected.tolist())


def test_a_speaker_only_query_pages_through_that_speakers_quotes_in_corpus_order(service: QuoteService) -> None:
    first = search(service.snapshot, "奥特曼", limit=5)
    second = search(service.snapshot, "奥特曼", limit=5, offset=5)
    order = [service.snapshot.by_id[q.passage.id] for q in first.quotes + second.quotes]
    assert len(order) == 10 and order == sorted(order)
    assert all(q.speaker is not None and q.speaker.id == "altman" for q in first.quotes + second.quotes)
    assert first.total == second.total > 10
