"""A reload merges the changed documents into the built index: the result must equal a fresh build."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from quotecore.columns import passages_digest
from quotecore.daily import is_eligible
from quotecore.errors import CorpusError
from quotecore.index import Index
from quotecore.merge import merge
from quotecore.service import QuoteService
from quotecore.tokenize import Tokenizer, grams_of_form

#: Passages per fake document (the corpus's passages cut into documents of this many).
PER_DOC = 7


def _documents(service: QuoteService) -> list[list[str]]:
    texts = [p.text for p in service.snapshot.passages]
    return [texts[i : i + PER_DOC] for i in range(0, len(texts), PER_DOC)]


def _edits() -> dict[str, Callable[[list[list[str]]], list[list[str]]]]:
    return {
        "append a document": lambda d: [*d, ["奥特曼说核聚变和量子计算会改变一切。", "莱特卡普补充了一句。"]],
        "a paragraph added in the middle": lambda d: [
            *d[:5],
            [*d[5], "我们正在扩大数据中心的规模,以满足全世界的计算需求。"],
            *d[6:],
        ],
        "the first document removed": lambda d: d[1:],
        "a middle document rewritten with new words": lambda d: [
            *d[:3],
            ["斑马和长颈鹿在草原上奔跑。", d[3][0], "独角兽公司估值十亿美元。"],
            *d[4:],
        ],
        "two documents swapped": lambda d: [d[1], d[0], *d[2:]],
    }


def _merge_case(
    before: list[list[str]], after: list[list[str]], tokens: Callable[[str], list[str]], build: Callable
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(merged, fresh) arrays: the merge reuses every document whose passages are unchanged."""
    old_rows = [t for doc in before for t in doc]
    new_rows = [t for doc in after for t in doc]
    old_index = build([tokens(t) for t in old_rows])
    remap = np.full(len(old_rows), -1, dtype=np.int64)
    added: dict[int, tuple[list[str], np.ndarray]] = {}
    spans_before: dict[tuple[str, ...], int] = {}
    at = 0
    for doc in before:
        spans_before.setdefault(tuple(doc), at)
        at += len(doc)
    at = 0
    last = -1
    for doc in after:
        start = spans_before.pop(tuple(doc), None)
        if start is not None and start > last:  # rows keep their order, or the document counts as new
            last = start
            remap[start : start + len(doc)] = np.arange(at, at + len(doc))
        else:
            for i, text in enumerate(doc):
                found = tokens(text)
                added[at + i] = (found, np.arange(len(found)))
        at += len(doc)

    def analyse(row: int) -> tuple[list[str], np.ndarray]:
        found = tokens(new_rows[row])
        return found, np.arange(len(found))

    merged = merge(old_index, remap, len(new_rows), added, analyse).to_arrays()
    fresh = build([tokens(t) for t in new_rows]).to_arrays()
    return merged, fresh


@pytest.mark.parametrize("edit", list(_edits()))
@pytest.mark.parametrize("which", ["words", "grams"])
def test_a_merged_index_equals_a_fresh_build(service: QuoteService, edit: str, which: str) -> None:
    tokenizer = service.snapshot.tokenizer
    before = _documents(service)
    after = _edits()[edit](before)
    if which == "words":
        merged, fresh = _merge_case(before, after, tokenizer.terms, Index)
    else:

        def grams(text: str) -> list[str]:
            return grams_of_form(Tokenizer.gram_form(text))

        merged, fresh = _merge_case(before, after, grams, Index)
    assert merged.keys() == fresh.keys()
    for name in fresh:
        assert np.array_equal(merged[name], fresh[name]), name
        assert merged[name].dtype == fresh[name].dtype, name


def test_gram_index_first_occurrences_match_the_string_build(service: QuoteService) -> None:
    """The numpy gram build records each gram's first position as the build over gram strings does."""
    forms = [Tokenizer.gram_form(p.text) for p in service.snapshot.passages]
    by_numbers = Index.of_grams(forms).to_arrays()
    by_strings = Index([grams_of_form(f) for f in forms]).to_arrays()
    assert np.array_equal(by_numbers["first"], by_strings["first"])
    assert by_numbers["first"].size == by_numbers["idf"].size > 1000


QUERIES = ("能源", "计算资源", "GPT-5", "核聚变", "奥特曼", "斑马")


def _same_as_fresh(service: QuoteService, seeds: Path, config: Path, elsewhere: Path) -> None:
    """Index arrays, passages and answers of `service` equal those of a build from empty caches."""
    fresh = QuoteService(seeds, config, elsewhere)
    fresh.load()
    a, b = service.snapshot, fresh.snapshot
    for name in ("words", "grams", "sounds"):
        mine, theirs = getattr(a, name).to_arrays(), getattr(b, name).to_arrays()
        assert mine.keys() == theirs.keys() and all(np.array_equal(mine[k], theirs[k]) for k in theirs), name
    assert [(p.id, p.text, p.kind, p.speaker_id) for p in a.passages] == [
        (p.id, p.text, p.kind, p.speaker_id) for p in b.passages
    ]
    for query in QUERIES:
        mine_q, theirs_q = service.search(query, limit=10).quotes, fresh.search(query, limit=10).quotes
        assert [(q.id, q.score, q.text) for q in mine_q] == [(q.id, q.score, q.text) for q in theirs_q]


def test_a_reload_after_one_document_changed_segments_only_that_document(
    corpus_copy: tuple[Path, Path], tmp_path: Path
) -> None:
    seeds, config = corpus_copy
    service = QuoteService(seeds, config, tmp_path / "cache")
    first = service.load()
    changed = sorted(seeds.glob("*.txt"))[0]  # the first file: every later passage moves
    with changed.open("a", encoding="utf-8") as extra:
        extra.write("\n奥特曼:斑马和核聚变一样,都是我们没想到的话题。\n")
    report = service.reload()
    assert report.passages_after == first.passages_after + 1 and report.added == 1
    assert report.tokenized == 1, "only the new paragraph is segmented"
    assert service.search("斑马").quotes, "the new paragraph is found"
    _same_as_fresh(service, seeds, config, tmp_path / "fresh")


def test_a_restart_after_an_offline_change_starts_from_the_saved_generation(
    corpus_copy: tuple[Path, Path], tmp_path: Path
) -> None:
    seeds, config = corpus_copy
    first = QuoteService(seeds, config, tmp_path / "cache").load()
    changed = sorted(seeds.glob("*.txt"))[0]  # the smaller article
    with changed.open("a", encoding="utf-8") as extra:
        extra.write("\n奥特曼:核聚变能源会很便宜。\n")
    (seeds / "zzz_new.txt").write_text("新访谈\n\n奥特曼:斑马是一个新词。\n", encoding="utf-8")
    restarted = QuoteService(seeds, config, tmp_path / "cache")
    report = restarted.load()
    assert report.tokenized == 2, "the new paragraph and the new file's, nothing else"
    assert first.passages_after > 100
    _same_as_fresh(restarted, seeds, config, tmp_path / "fresh")


def test_passages_read_from_columns_are_the_loaded_ones(corpus_copy: tuple[Path, Path], tmp_path: Path) -> None:
    """A restart reads passages from the generation file: every field comes back as cleaning made it."""
    seeds, config = corpus_copy
    built = QuoteService(seeds, config, tmp_path / "cache")
    built.load()
    restarted = QuoteService(seeds, config, tmp_path / "cache")
    restarted.load()
    snap = restarted.snapshot
    assert list(snap.passages) == list(built.snapshot.passages)
    assert any(p.original for p in snap.passages) and any(p.context for p in snap.passages)
    assert snap.passages[-1] == list(snap.passages)[-1] and snap.passages[1:3] == list(snap.passages)[1:3]
    ids = [p.id for p in snap.passages]
    assert [snap.by_id[i] for i in ids] == list(range(len(ids)))
    assert "nope" not in snap.by_id and snap.by_id.get(ids[0] + "x") is None
    assert list(snap.eligible) == [p.id for p in snap.passages if is_eligible(p)]
    assert restarted.stats() == built.stats()


def test_a_paragraph_removed_and_one_rewritten_in_place(corpus_copy: tuple[Path, Path], tmp_path: Path) -> None:
    seeds, config = corpus_copy
    service = QuoteService(seeds, config, tmp_path / "cache")
    service.load()
    changed = sorted(seeds.glob("*.txt"))[0]
    texts = [p.text for p in service.snapshot.passages if p.doc_id == service.snapshot.passages[0].doc_id]
    lines = changed.read_text(encoding="utf-8").split("\n")
    removed = next(i for i, line in enumerate(lines) if len(line) > 40 and line.endswith(texts[5][-20:]))
    rewritten = next(i for i, line in enumerate(lines) if len(line) > 40 and line.endswith(texts[9][-20:]))
    lines[rewritten] = lines[rewritten].replace(texts[9][-20:], "斑马也会用计算资源。")
    del lines[removed]
    changed.write_text("\n".join(lines), encoding="utf-8")
    report = service.reload()
    assert report.removed == 2 and report.added == 1 and report.tokenized >= 1
    assert [q.text for q in service.search("斑马").quotes]
    _same_as_fresh(service, seeds, config, tmp_path / "fresh")


def test_a_reload_is_built_by_a_worker_and_its_errors_come_back(
    corpus_copy: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seeds, config = corpus_copy
    service = QuoteService(seeds, config, tmp_path / "cache")
    service.load()
    before = service.search("能源").total
    (seeds / "zzz_new.txt").write_text("新访谈\n\n奥特曼:我们会继续研究能源。\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        report = service.reload()
    assert "in this process" not in caplog.text, "the worker built it"
    assert report.tokenized == 1 and service.search("能源").total == before + 1
    (seeds / "zzz_broken.txt").write_bytes("新访谈\n\n奥特曼:坏了".encode() + b"\xff\xfe")
    with pytest.raises(CorpusError, match=r"zzz_broken\.txt:\d+: not valid UTF-8"):
        service.reload()
    assert service.search("能源").total == before + 1, "the working corpus keeps serving"


def test_the_content_digest_follows_the_text_only(corpus_copy: tuple[Path, Path], tmp_path: Path) -> None:
    """What replicas compare: read off the columns, equal to the Passage objects' digest, changed by one edit."""
    seeds, config = corpus_copy
    service = QuoteService(seeds, config, tmp_path / "cache")
    service.load()
    first = service.snapshot.digest()
    assert first == passages_digest(list(service.snapshot.passages))
    other = QuoteService(seeds, config, tmp_path / "other")  # another process's own caches
    other.load()
    assert other.snapshot.digest() == first
    (seeds / "zzz_new.txt").write_text("新访谈\n\n奥特曼:我们会继续研究能源。\n", encoding="utf-8")
    service.reload()
    assert service.snapshot.digest() != first
