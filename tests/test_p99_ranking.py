"""Long queries merged all at once give the same results as the plain reference, whichever path runs.

A query's words are merged side by side (one sort over their postings) when they are short, one
by one in the scratch arrays when they are long, and kept between queries; the common words are
looked up for the candidates only, unless all the postings together are short enough to read
whole; large matches are filtered over the whole corpus, the others match by match. The
thresholds pick the path by size, so the bundled corpus alone would only exercise some of them:
here each is forced both ways and compared with `tests.test_speed_ranking`'s reference (Python
dicts, a full sort).
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from quotecore import alternatives, ranking
from quotecore.search import search
from quotecore.service import QuoteService
from quotecore.snapshot import Snapshot
from tests.test_speed_ranking import _reference


def _long_queries(snap: Snapshot) -> list[str]:
    """Many-word queries (common and rare words, with and without synonyms), and ones matching nothing."""
    rng = random.Random(99)
    terms = sorted(t for t in snap.words.terms() if not t.startswith("~") and t.strip())
    queries = [" ".join(rng.sample(terms, rng.randint(6, 30))) for _ in range(40)]
    queries += [p.text[:60] for p in rng.sample(snap.passages, 20)]
    queries += ["我们 正在 扩大 数据中心 的 规模 以 满足 全世界 的 计算 需求 人工智能 未来 会 怎样 改变 社会 和 经济"]
    queries += ["开源 模型 与 闭源 模型 之间 的 竞争 研究 文化", "研究文化", "管理公司 视频模型"]
    queries += ["足球比赛 结果 比分 球员"]
    return queries


@pytest.mark.parametrize("batched", [0, 1 << 30])
@pytest.mark.parametrize("read_all", [0, 1 << 30])
def test_long_queries_equal_the_reference_whichever_way_words_are_merged(
    service: QuoteService, monkeypatch: pytest.MonkeyPatch, batched: int, read_all: int
) -> None:
    monkeypatch.setattr(alternatives, "BATCHED", batched)
    monkeypatch.setattr(ranking, "_READ_ALL", read_all)  # 0: common words looked up among candidates
    assert _compared(service, _long_queries(service.snapshot)) > 20  # most match something: not vacuous


def _compared(service: QuoteService, queries: list[str]) -> int:
    """How many of the queries matched something; each one's top 10 must equal the reference's."""
    snap = service.snapshot
    assert snap.layout is not None and snap.reader is not None
    compared = 0
    for query in queries:
        plan = snap.reader.read(query)
        if not plan.words:
            continue
        scored = ranking.score(plan, snap.words, snap.layout, None, snap.grams)
        positions, final = ranking.order(scored, snap.layout, plan, 10, lambda d: snap.passages[d].text.lower())
        fast = [(int(scored.docs[p]), float(final[p])) for p in positions.tolist()]
        assert fast == _reference(snap, plan, None, 10), query
        compared += bool(fast)
    return compared


@pytest.mark.parametrize("dense", [0, 1 << 30])  # never / always filtered over the whole corpus
@pytest.mark.parametrize("few_words", [0, 1 << 30])  # summed by one bincount / word by word
def test_queries_equal_the_reference_however_the_sums_and_the_filter_run(
    service: QuoteService, monkeypatch: pytest.MonkeyPatch, dense: int, few_words: int
) -> None:
    monkeypatch.setattr(ranking, "_DENSE", dense)
    monkeypatch.setattr(alternatives, "FEW_WORDS", few_words)
    snap = service.snapshot
    queries = [*_long_queries(snap), "能源", "开源", "公司", "模型", "我们", "管理公司", "视频模型", "AI 的 未来"]
    assert _compared(service, queries) > 20


@pytest.mark.parametrize("kept", ["none", "all", "a few"])
def test_merges_kept_between_queries_score_as_fresh_ones(
    service: QuoteService, monkeypatch: pytest.MonkeyPatch, kept: str
) -> None:
    """Each query twice: the second reads the words' kept merges (or none, or a store emptied as it fills)."""
    if kept == "none":
        monkeypatch.setattr(ranking, "recent_for", lambda index: alternatives.Recent())
    elif kept == "a few":
        monkeypatch.setattr(alternatives, "RECENT_MERGES", 64)
        monkeypatch.setattr(ranking, "recent_for", _fresh_store())
    queries = _long_queries(service.snapshot)
    assert _compared(service, queries) > 20
    assert _compared(service, list(reversed(queries))) > 20


def _fresh_store() -> object:
    """A `recent_for` with its own store (so an earlier test's kept merges are not read)."""
    store = alternatives.Recent()
    return lambda index: store


def test_a_kept_merge_is_shared_and_emptied_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alternatives, "RECENT_MERGES", 5)
    store = alternatives.Recent()
    one = (np.arange(3), np.ones(3), np.ones(3))
    store.put(("a",), one)  # type: ignore[arg-type]
    assert store.get(("a",)) is one  # type: ignore[arg-type]
    store.put(("b",), (np.arange(3), np.ones(3), np.ones(3)))  # type: ignore[arg-type]
    assert store.get(("a",)) is None  # full: emptied, then the new one kept
    assert store.get(("b",)) is not None  # type: ignore[arg-type]


def test_a_many_word_query_that_matches_nothing_scores_nothing(service: QuoteService) -> None:
    snap = service.snapshot
    assert snap.layout is not None and snap.reader is not None
    plan = snap.reader.read("足球比赛 篮球联赛 网球公开赛 棒球")
    assert len(plan.words) > 1
    assert ranking.score(plan, snap.words, snap.layout, None, snap.grams).docs.size == 0
    assert search(snap, "足球比赛 篮球联赛 网球公开赛 棒球").quotes == ()
