"""Each cleaning rule, on real lines of the seeds."""

from __future__ import annotations

import pytest

from quotecore.cleaning import drop_garbled, furniture_reason, garbled_spans, strip_pinyin
from quotecore.text import clean_chars, search_form, to_simplified
from tests.conftest import SEEDS

SEED0 = (SEEDS / "000_db0142c2bbde2aab.txt").read_text(encoding="utf-8").splitlines()
SEED1 = (SEEDS / "001_0d9c3300cbf463b9.txt").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (SEED0[0], "font-size widget"),
        (SEED0[101], "pagination"),
        (SEED0[102], "pagination"),
        (SEED0[106], "comment box"),
        (SEED0[110], "character counter"),
        (SEED0[111], "copyright footer"),
        (SEED0[112], "page timing"),
        (SEED1[13], "image caption"),
        (SEED1[12], "no text"),
    ],
)
def test_page_furniture_is_recognised(line: str, reason: str) -> None:
    found = furniture_reason(clean_chars(line))
    assert found is not None and reason in found, (line, found)


def test_content_lines_are_not_furniture() -> None:
    content = [clean_chars(ln) for ln in SEED0[5:100] if ln.strip()]
    assert content and all(furniture_reason(ln) is None for ln in content)


def test_pinyin_annotations_are_removed() -> None:
    title, removed = strip_pinyin(SEED1[0])
    assert title == "OpenAI奧特曼認錯:我天生不適合管理公司"
    assert removed == 2


def test_real_parentheses_survive_pinyin_removal() -> None:
    line, _ = strip_pinyin(SEED1[2])
    assert "(入股AMD、獲得英偉達千億美元投資等等)" in line
    ambient, _ = strip_pinyin(next(ln for ln in SEED1 if "ambiently" in ln))
    assert "(ambiently aware)" in ambient
    doge, _ = strip_pinyin(SEED1[5])
    assert "(doge)" in doge and "(" not in doge.replace("(doge)", "")


def test_no_pinyin_is_left_anywhere(service) -> None:
    for passage in service.snapshot.passages:
        assert not any(c in passage.text for c in "āáǎàēéěèīíǐìōóǒòūúǔù"), passage.text


@pytest.mark.parametrize("needle", ["?cè)偃フ務揂GI", "因?yàn)橐曨l", "?yàn)樗麑", "們?cè)僖膊粫"])
def test_garbled_runs_are_detected(needle: str) -> None:
    line = next(strip_pinyin(ln)[0] for ln in SEED1 if needle in strip_pinyin(ln)[0])
    assert garbled_spans(line)
    cleaned = drop_garbled(line)
    assert cleaned.dropped
    assert needle not in cleaned.text


def test_garbled_sentences_never_reach_a_passage(service) -> None:
    for passage in service.snapshot.passages:
        assert not garbled_spans(passage.text), passage.text
        assert "\ufffd" not in passage.text


def test_clean_sentences_around_garbage_are_kept() -> None:
    mixed = "他说得很好。因?yàn)橐曨l比文本有更多的情感共鸣。最后一句。"
    cleaned = drop_garbled(mixed)
    assert cleaned.text == "他说得很好。最后一句。"
    assert cleaned.dropped[0][0].startswith("garbled")


def test_stats_list_what_was_dropped_and_why(service) -> None:
    reasons = {d.reason for d in service.stats().drops}
    assert any(r.startswith("garbled") for r in reasons)
    assert any("copyright" in r for r in reasons)
    assert all(d.line > 0 and d.path.endswith(".txt") for d in service.stats().drops)


def test_nfc_and_invisible_characters() -> None:
    assert clean_chars("cafe\u0301") == "café"
    assert clean_chars("a\u202eb\u200bc\x07d\ufeff") == "abcd"
    assert clean_chars("  two   spaces\u3000here ") == "two spaces here"


def test_traditional_becomes_simplified_and_original_is_kept(service) -> None:
    passage = next(p for p in service.snapshot.passages if "英伟达千亿美元投资" in p.text)
    assert passage.original is not None and "英偉達千億美元投資" in passage.original
    assert to_simplified("計算資源") == "计算资源"
    assert search_form("ＧＰＴ－５ Sora") == "gpt-5 sora"


def test_page_furniture_never_becomes_a_passage(service) -> None:
    texts = [p.text for p in service.snapshot.passages]
    for junk in ("字号", "共3 页", "还没有人评论", "还可输入", "all rights reserved", "is seconds", "△"):
        assert not any(junk in t for t in texts), junk
