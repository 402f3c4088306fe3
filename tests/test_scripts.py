"""The reader's script: which locales read traditional, and quotes converted with their highlights intact."""

from __future__ import annotations

import pytest

from quotecore import QuoteService, in_script, mark, script_for


@pytest.mark.parametrize(
    ("locale", "script"),
    [
        ("zh-TW", "zh-TW"),
        ("zh_TW", "zh-TW"),
        ("zh-Hant", "zh-TW"),
        ("zh-HK", "zh-HK"),
        ("zh-MO", "zh-HK"),
        ("zh-Hant-HK", "zh-HK"),
        ("zh_TW.UTF-8", "zh-TW"),
        ("zh_HK.UTF-8@latin", "zh-HK"),
        ("C.UTF-8", "simplified"),
        ("zh-CN", "simplified"),
        ("zh-SG", "simplified"),
        ("en-US", "simplified"),
        (None, "simplified"),
        ("", "simplified"),
    ],
)
def test_locales_pick_a_script(locale: str | None, script: str) -> None:
    assert script_for(locale) == script


def test_a_quote_in_traditional_keeps_its_highlights_on_the_same_words(service: QuoteService) -> None:
    for query in ("计算资源", "开源", "奥特曼 能源", "GPT-5"):
        for quote in service.search(query, limit=5).quotes:
            for script in ("zh-TW", "zh-HK"):
                shown = in_script(quote, script)  # type: ignore[arg-type]
                assert len(shown.highlights) == len(quote.highlights)
                before = mark(quote.text, quote.highlights, "[", "]")
                after = mark(shown.text, shown.highlights, "[", "]")
                assert after.count("[") == before.count("[") and len(after) == len(before)
                assert shown.id == quote.id and shown.passage.kind == quote.passage.kind


def test_traditional_output_converts_characters_never_phrasing(service: QuoteService) -> None:
    quote = service.search("计算资源", limit=1).quotes[0]
    taiwan = in_script(quote, "zh-TW")
    assert "計算資源" in taiwan.text and "计算资源" not in taiwan.text
    assert taiwan.speaker is not None and taiwan.speaker.name == "山姆·奧特曼"
    assert in_script(quote, "simplified") is quote
