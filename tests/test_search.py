"""Search: normalization, the inverted index's exactness, the no-match rule, quotes and ranking."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from quotecore.errors import QueryError
from quotecore.index import Index
from quotecore.service import QuoteService
from quotecore.tokenize import Tokenizer, grams_of_form


class GramDocuments(Sequence[list[str]]):
    """The gram index's definition as strings: each form's `grams_of_form`, the reference for `Index.of_grams`."""

    def __init__(self, forms: Sequence[str]) -> None:
        self._forms = forms

    def __len__(self) -> int:
        return len(self._forms)

    def __getitem__(self, index: int) -> list[str]:  # type: ignore[override]
        return grams_of_form(self._forms[index])


def ids(service: QuoteService, query: str, **kw) -> list[str]:
    return [q.id for q in service.search(query, **kw).quotes]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("計算資源", "计算资源"),
        ("GPT-5", "gpt-5"),
        ("ＧＰＴ－５", "GPT-5"),
        ("英偉達", "英伟达"),
        ("SORA", "sora"),
        ("OpenAI", "openai"),
    ],
)
def test_variants_find_the_same_quotes(service: QuoteService, a: str, b: str) -> None:
    assert ids(service, a) == ids(service, b) != []


def test_hyphenated_names_stay_whole(service: QuoteService) -> None:
    terms = service.snapshot.tokenizer.terms("GPT-5做得非常出色")
    assert "gpt-5" in terms
    assert "gpt-5" in service.snapshot.words.postings


def test_scaling_law_phrase(service: QuoteService) -> None:
    results = service.search("scaling law").quotes
    assert results and "Scaling Law" in results[0].text
    assert "scaling law" in service.snapshot.tokenizer.terms("Scaling Law")


@pytest.mark.parametrize("query", ["天气预报", "asdfghjkl", "!!!", "🙂"])
def test_no_match_means_no_result(service: QuoteService, query: str) -> None:
    assert service.search(query).quotes == ()


@pytest.mark.parametrize("query", ["核", "美"])
def test_single_character_queries_work(service: QuoteService, query: str) -> None:
    results = service.search(query).quotes
    assert results and all(query in q.passage.text for q in results)


def test_synonyms_and_unknown_words_find_something(service: QuoteService) -> None:
    assert any("GPU" in q.text for q in service.search("显卡").quotes)
    assert any("投资" in q.text for q in service.search("funding").quotes)


@pytest.mark.parametrize("query", ["能源 瓶颈", "计算资源", "OpenAI", "规模 效果", "gpt-5", "研究", "决策"])
def test_inverted_index_scores_equal_a_full_bm25_pass(service: QuoteService, query: str) -> None:
    snap = service.snapshot
    terms = snap.tokenizer.terms(query)
    docs, scores = snap.words.score(terms)
    reference = BM25Okapi([snap.tokenizer.terms(p.text) for p in snap.passages])
    assert len(reference.idf) == len(snap.words.postings)
    assert reference.idf == {t: snap.words.idf(t) for t in reference.idf}
    assert reference.avgdl == snap.words.avgdl
    full = reference.get_scores(terms)
    assert np.array_equal(scores, full[docs])
    outside = np.setdiff1d(np.arange(len(full)), docs)
    assert np.all(full[outside] == 0)


@pytest.mark.parametrize("chunk", [1, 3, 64])
def test_counting_in_slices_builds_the_same_index(
    service: QuoteService, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Large corpora are counted a slice of documents at a time; slicing must not change a score."""
    import quotecore.postings as index_module

    snap = service.snapshot
    documents = [snap.tokenizer.terms(p.text) for p in snap.passages]
    whole = Index(documents)
    monkeypatch.setattr(index_module, "CHUNK", chunk)
    sliced = Index(documents)
    for name, array in whole.to_arrays().items():
        assert np.array_equal(array, sliced.to_arrays()[name]), name
    reference = BM25Okapi(documents)
    for query in (["计算", "资源"], ["openai"], ["研究", "决策", "gpt-5"]):
        docs, scores = sliced.score(query)
        assert np.array_equal(scores, reference.get_scores(query)[docs])
    # The gram index is built from code points in numpy: it must equal the one built from strings.
    forms = [Tokenizer.gram_form(p.text) for p in snap.passages]
    from_strings = Index(GramDocuments(forms)).to_arrays()
    from_numbers = Index.of_grams(forms).to_arrays()
    for name, array in from_strings.items():
        assert np.array_equal(array, from_numbers[name]), name


def test_empty_index_is_safe() -> None:
    index = Index([])
    docs, scores = index.score(["x"])
    assert docs.size == 0 and scores.size == 0
    assert Index([[], []]).score(["x"])[0].size == 0
    assert Index.of_grams([]).score(["核"])[0].size == 0
    assert Index.of_grams(["", ""]).score(["核"])[0].size == 0
    assert Index.of_grams(["", "核"]).score(["核"])[0].tolist() == [1]


def test_quotes_are_whole_sentences_within_the_limit(service: QuoteService) -> None:
    for query in ("计算资源", "决策", "投资者", "规模", "模型"):
        for quote in service.search(query, limit=10).quotes:
            body = quote.text.strip("…")
            assert len(quote.text) <= 282
            assert body in quote.passage.text
            start = quote.passage.text.index(body)
            assert start == 0 or quote.passage.text[start - 1] in "。!?;”…" or len(body) > 270


def test_highlights_mark_the_matched_words(service: QuoteService) -> None:
    quote = service.search("计算资源").quotes[0]
    marked = {quote.text[s:e] for s, e in quote.highlights}
    assert "计算资源" in marked


def test_answers_rank_before_questions_that_say_the_same(corpus_copy, cache_dir) -> None:
    seeds, config = corpus_copy
    for path in seeds.glob("*.txt"):
        path.unlink()
    (seeds / "sources.toml").write_text(
        '[[document]]\nfile = "qa.txt"\nid = "qa"\ntitle = "测试"\ninterviewees = ["altman"]\n'
        'interviewers = ["stebbings"]\n',
        encoding="utf-8",
    )
    (seeds / "qa.txt").write_text(
        "测试\n斯特宾斯:核聚变很重要。\n奥特曼:核聚变很重要。\n奥特曼:别的话题。\n斯特宾斯:还有别的吗?\n",
        encoding="utf-8",
    )
    svc = QuoteService(seeds, config, cache_dir)
    svc.load()
    quotes = svc.search("核聚变").quotes
    kinds = [q.passage.kind for q in quotes]
    # The answer that says the words comes first; the question that says them too is evidence
    # for the answers after it, and ranks below them.
    assert kinds[0] == "answer" and "核聚变" in quotes[0].text
    assert kinds.index("question") > 0
    assert quotes[kinds.index("question")].score < quotes[0].score


def test_speaker_filter(service: QuoteService) -> None:
    quotes = service.search("规模", speaker="Altman", limit=10).quotes
    assert quotes and all(q.speaker.id == "altman" for q in quotes)


def test_paging_gives_the_next_match(service: QuoteService) -> None:
    whole = ids(service, "研究", limit=4)
    assert [service.search("研究", limit=1, offset=i).quotes[0].id for i in range(4)] == whole
    assert service.search("研究", limit=1).total >= 4


@pytest.mark.parametrize("query", ["", "   ", "\x00\x07"])
def test_empty_query_is_refused(service: QuoteService, query: str) -> None:
    with pytest.raises(QueryError):
        service.search(query)


def test_huge_query_is_refused(service: QuoteService) -> None:
    with pytest.raises(QueryError):
        service.search("能源" * 251)


def test_hostile_query_is_just_text(service: QuoteService) -> None:
    results = service.search("@everyone <!channel> **能源** \u202e")
    assert results.quotes and "能源" in results.quotes[0].text


def test_random_and_daily(service: QuoteService) -> None:
    import datetime as dt
    import random

    quote = service.random(rng=random.Random(1))
    assert quote and quote.passage.kind in ("answer", "reported")
    assert service.random("莱特卡普", rng=random.Random(2)).speaker.id == "lightcap"
    from quotecore.daily import EPOCH

    eligible = service.snapshot.eligible
    start = EPOCH + dt.timedelta(days=len(eligible) * 12)  # the first day of a rotation cycle
    picks = [service.daily(start + dt.timedelta(days=i)).id for i in range(len(eligible))]
    assert len(set(picks)) == len(eligible)  # no repeat until every eligible quote was used
    assert service.daily(start).id == service.daily(start).id
    following = [service.daily(start + dt.timedelta(days=len(eligible) + i)).id for i in range(3)]
    assert picks[-1] != following[0]


def test_grams_come_from_the_cached_gram_form() -> None:
    """The token cache keeps gram forms; the grams made from them are those of the text."""
    form = Tokenizer.gram_form("GPT-5做得出色,計算資源!")
    assert form == "做得出色\x1f计算资源"
    assert grams_of_form(form) == Tokenizer.grams("GPT-5做得出色,計算資源!")
    assert grams_of_form(form) == [*"做得出色", "做得", "得出", "出色", *"计算资源", "计算", "算资", "资源"]
    assert grams_of_form("") == []


def test_bm25_numbers_are_rank_bm25s() -> None:
    """quotecore.bm25 owns the formula; every number must be rank-bm25's, floats identical."""
    documents = [["核", "能源"], ["核"], ["核", "开源", "开源"], ["能源", "开源", "gpt-5", "核"], ["sora"]]
    reference = BM25Okapi(documents)
    index = Index(documents)
    assert index.avgdl == reference.avgdl
    for term in {t for d in documents for t in d}:
        assert index.idf(term) == reference.idf[term], term  # 核 is in 4 of 5: the epsilon floor
    for query in (["核"], ["开源", "核"], ["gpt-5", "sora", "能源"], ["核", "核"]):
        docs, scores = index.score(query)
        assert np.array_equal(scores, reference.get_scores(query)[docs]), query
