"""Broken corpus and config files: the error names the file and line, the old corpus keeps serving."""

from __future__ import annotations

import pytest

from quotecore.errors import CorpusError
from quotecore.service import QuoteService


@pytest.fixture
def loaded(corpus_copy, cache_dir):
    seeds, config = corpus_copy
    svc = QuoteService(seeds, config, cache_dir)
    svc.load()
    return svc, seeds, config


def test_invalid_utf8_names_file_and_line(loaded) -> None:
    svc, seeds, _ = loaded
    before = svc.snapshot
    (seeds / "002_broken.txt").write_bytes("第一行\n第二行\n".encode() + b"\xff\xfe bad\n")
    with pytest.raises(CorpusError) as info:
        svc.reload()
    assert info.value.path.endswith("002_broken.txt") and info.value.line == 3
    assert svc.snapshot is before and svc.search("能源").quotes


def test_binary_file_is_refused(loaded) -> None:
    svc, seeds, _ = loaded
    (seeds / "003.txt").write_bytes(b"abc\n\x00\x01")
    with pytest.raises(CorpusError, match="NUL"):
        svc.reload()


def test_sources_toml_syntax_error_has_a_line(loaded) -> None:
    svc, seeds, _ = loaded
    (seeds / "sources.toml").write_text('[[document]]\nfile = "x.txt"\nid = \n', encoding="utf-8")
    with pytest.raises(CorpusError) as info:
        svc.reload()
    assert info.value.path.endswith("sources.toml") and info.value.line == 3


def test_speakers_schema_error_names_the_key(loaded) -> None:
    svc, _, config = loaded
    (config / "speakers.toml").write_text('[[speaker]]\nid = "x"\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"speaker\.0\.name"):
        svc.reload()


def test_furniture_only_file_is_an_error(loaded) -> None:
    svc, seeds, _ = loaded
    (seeds / "004.txt").write_text("字号:TTT\n©2024 x\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no text left"):
        svc.reload()


def test_new_file_is_picked_up_without_description(loaded) -> None:
    svc, seeds, _ = loaded
    (seeds / "005_new.txt").write_text("新采访\n奥特曼:我们正在建设星际之门数据中心。\n", encoding="utf-8")
    report = svc.reload()
    assert report.documents_after == report.documents_before + 1
    quote = svc.search("星际之门").quotes[0]
    assert quote.document.title == "新采访" and quote.speaker.id == "altman"


def test_emptied_corpus_does_not_replace_a_working_one(loaded) -> None:
    svc, seeds, _ = loaded
    for path in seeds.glob("*.txt"):
        path.unlink()
    with pytest.raises(CorpusError, match="keeping the current corpus"):
        svc.reload()
    assert svc.search("能源").quotes
