"""Character-level normalization shared by passages and queries.

Passages and queries must go through the same steps, or a traditional-script query, a full-width
letter or a capital would silently miss: `search_form` is that single path.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import opencc

# C0/C1 controls (tab and newline are handled by the line splitter), zero-width and bidi controls:
# invisible, and bidi overrides can make a quote read differently from what it says.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\ud800-\udfff]"  # lone surrogates: what undecodable bytes become (surrogateescape), never text
)
# Terminal escape sequences go whole: stripping only ESC would leave "[31m" behind as words.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u3000]+")
# The dot inside a transliterated name is typed many ways (山姆・奥特曼, 山姆•奥特曼, 山姆‧奥特曼): one form,
# so a name in any of them is the alias in speakers.toml.
NAME_DOTS = re.compile("(?<=[\u4e00-\u9fff])[\u30fb\u2022\u2027\u2219\u22c5\uff65\u16eb](?=[\u4e00-\u9fff])")


@functools.cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def clean_chars(text: str) -> str:
    """NFC, invisible and bidi-control characters removed, runs of spaces folded to one, one name dot."""
    text = _ESCAPES.sub("", text)
    text = _INVISIBLE.sub("", text)
    text = NAME_DOTS.sub("·", unicodedata.normalize("NFC", text))
    return _SPACES.sub(" ", text).strip()


# Characters OpenCC's `t2s` leaves traditional because the same character is also valid simplified
# Chinese with another meaning. 著 is 着 (the aspect particle: 紧接著, 接著, 随著, 看著) except in
# the words where it means "notable" or "to write" (著名, 显著, 著作, 名著, …); 乾 is 干 ("dry",
# 乾净) except in 乾隆 and 乾坤.
LEFT_TRADITIONAL: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![显土卓昭巨名专原论遗编合拙撰译大新著])著(?![名作称述录者书])"), "着"),
    (re.compile(r"乾(?![隆坤])"), "干"),
    # Variants t2s keeps: 甚麼 becomes 甚么 (standard 什么), 祇/衹有 (只有) outside 神祇.
    (re.compile(r"甚么"), "什么"),
    (re.compile(r"(?<!神)[祇衹]"), "只"),
)


def to_simplified(text: str) -> str:
    """Traditional to simplified with OpenCC `t2s` (not `tw2sp`, which also rewrites vocabulary).

    Then the characters t2s leaves traditional because they are also simplified words.
    """
    text = _converter("t2s").convert(text)
    for pattern, replacement in LEFT_TRADITIONAL:
        text = pattern.sub(replacement, text)
    return text


def to_traditional(text: str) -> str:
    """Simplified to traditional, for showing a quote in the script a user prefers."""
    return _converter("s2t").convert(text)


def search_form(text: str) -> str:
    """The form both sides of a search are compared in: simplified, half-width, case-folded.

    NFKC turns full-width letters and digits into ASCII (`ＧＰＴ－５` → `GPT-5`).
    """
    text = unicodedata.normalize("NFKC", clean_chars(text))
    return to_simplified(text).casefold()


def is_han(char: str) -> bool:
    """A CJK ideograph (pinyin and garbled-run detection look at their neighbours)."""
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def traditional_ratio(text: str) -> float:
    """Share of Han characters that t2s changes: tells a traditional document from a simplified one."""
    han = [c for c in text if is_han(c)]
    if not han:
        return 0.0
    simplified = to_simplified("".join(han))
    changed = sum(1 for a, b in zip(han, simplified, strict=False) if a != b)
    return changed / len(han)
