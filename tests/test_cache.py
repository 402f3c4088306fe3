"""The disk token cache, and replies that never wait on a reload."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from quotecore.index import Index
from quotecore.service import QuoteService


def test_a_restart_segments_nothing_and_one_change_segments_one_document(
    corpus_copy: tuple[Path, Path], tmp_path: Path
) -> None:
    seeds, config = corpus_copy
    cache = tmp_path / "cache"
    first = QuoteService(seeds, config, cache).load()
    assert first.tokenized == first.passages_after > 100
    restarted = QuoteService(seeds, config, cache)
    again = restarted.load()
    assert again.tokenized == 0, "a restart takes every passage's terms from the disk cache"
    (seeds / "002_new.txt").write_text(
        "新访谈\n\n奥特曼:我们会继续研究核聚变。\n\n奥特曼:还有太空能源。\n", encoding="utf-8"
    )
    changed = restarted.reload()
    assert changed.tokenized == 2 and changed.passages_after == first.passages_after + 2
    fresh = QuoteService(seeds, config, tmp_path / "other-cache")
    fresh.load()
    assert [q.id for q in fresh.search("能源").quotes] == [q.id for q in restarted.search("能源").quotes]
    assert [q.score for q in fresh.search("能源").quotes] == [q.score for q in restarted.search("能源").quotes]


def test_a_changed_dictionary_invalidates_the_cache(corpus_copy: tuple[Path, Path], tmp_path: Path) -> None:
    seeds, config = corpus_copy
    cache = tmp_path / "cache"
    QuoteService(seeds, config, cache).load()
    with (config / "userdict.txt").open("a", encoding="utf-8") as extra:
        extra.write("研究文化 10 n\n")
    report = QuoteService(seeds, config, cache).load()
    assert report.tokenized == report.passages_after
    assert len(list((cache / "terms").glob("terms-*.tsv"))) == 2


def test_a_corrupt_cache_is_ignored_with_a_log_line(
    corpus_copy: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seeds, config = corpus_copy
    cache = tmp_path / "cache"
    QuoteService(seeds, config, cache).load()
    (file,) = (cache / "terms").glob("terms-*.tsv")
    file.write_bytes(file.read_bytes()[:500] + b"\xff\xfe garbage\nnot-hex\tx\n")
    shutil.rmtree(cache / "index")  # so that the build needs the terms
    with caplog.at_level(logging.WARNING, logger="quotecore.cache"):
        report = QuoteService(seeds, config, cache).load()
    assert report.tokenized == report.passages_after
    assert any("ignoring the token cache" in r.getMessage() for r in caplog.records)


def test_queries_are_answered_from_the_old_snapshot_while_a_reload_builds(
    corpus_copy: tuple[Path, Path], tmp_path: Path
) -> None:
    seeds, config = corpus_copy
    service = QuoteService(seeds, config, tmp_path / "cache")
    service.load()
    before = service.search("能源").total
    (seeds / "002_new.txt").write_text("新访谈\n\n奥特曼:我们会继续研究能源。\n", encoding="utf-8")
    building, release = threading.Event(), threading.Event()
    real_build = service._build

    def held_build() -> object:  # the build blocks until the test has queried the old snapshot
        building.set()
        assert release.wait(30)
        return real_build()

    service._build = held_build  # type: ignore[method-assign]
    reloader = threading.Thread(target=service.reload)
    reloader.start()
    assert building.wait(30)
    answers = [service.search("能源").total for _ in range(50)]  # the reload is in progress
    release.set()
    reloader.join(30)
    assert answers == [before] * 50
    assert service.search("能源").total == before + 1


def test_an_unchanged_corpus_starts_from_its_saved_index(
    corpus_copy: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seeds, config = corpus_copy
    cache = tmp_path / "cache"
    built = QuoteService(seeds, config, cache)
    built.load()
    restarted = QuoteService(seeds, config, cache)
    restarted.load()
    for query in ("能源", "计算资源", "GPT-5", "核", "显卡"):
        a, b = built.search(query, limit=10).quotes, restarted.search(query, limit=10).quotes
        assert [(q.id, q.score, q.text) for q in a] == [(q.id, q.score, q.text) for q in b]
    snap = restarted.snapshot
    fresh = Index([snap.tokenizer.terms(p.text) for p in snap.passages]).to_arrays()
    loaded = snap.words.to_arrays()
    assert fresh.keys() == loaded.keys()
    assert all(np.array_equal(fresh[name], loaded[name]) for name in fresh)
    (saved,) = (cache / "index").glob("*/index-*.npz")
    broken = saved.with_name("broken.tmp")
    broken.write_bytes(b"not a zip file")
    os.replace(broken, saved)  # replaced, as files in the cache always are: `built` still maps the old one
    with caplog.at_level(logging.WARNING, logger="quotecore.cache"):
        again = QuoteService(seeds, config, cache)
        again.load()
    assert any("ignoring the cached index" in r.getMessage() for r in caplog.records)
    assert [q.id for q in again.search("能源").quotes] == [q.id for q in built.search("能源").quotes]


def test_scratch_arrays_keep_their_data_when_released(tmp_path: Path, service: QuoteService) -> None:
    """A build's largest arrays live in unlinked files; releasing their pages loses nothing."""
    from quotecore.cache import IndexCache

    cache = IndexCache(tmp_path / "index")
    scratch = cache.scratch()
    snap = service.snapshot
    documents = [snap.tokenizer.terms(p.text) for p in snap.passages]
    in_memory = Index(documents).to_arrays()
    built = Index(documents, scratch).to_arrays()
    assert scratch.file_of(built["docs"]) is not None and scratch.file_of(in_memory["docs"]) is None
    scratch.release()
    assert all(np.array_equal(in_memory[name], built[name]) for name in in_memory)
    assert list((tmp_path / "index").iterdir()) == []  # unlinked: nothing is left behind
    assert cache.save("k", {"words": built, "grams": built}, scratch)
    scratch.close()
    loaded = cache.load("k")
    assert loaded is not None
    assert all(np.array_equal(in_memory[name], loaded["words"][name]) for name in in_memory)


def test_scratch_falls_back_to_memory_when_it_cannot_write(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from quotecore.cache import ScratchArrays

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    scratch = ScratchArrays(blocker / "index")
    with caplog.at_level(logging.WARNING):
        array = scratch.empty(10, np.dtype(np.int32))
    array[:] = 7
    assert array.sum() == 70 and scratch.file_of(array) is None
    assert "building the index in memory" in caplog.text
