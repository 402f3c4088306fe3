"""Line-level cleaning: page furniture out, pinyin annotations out, garbled sentences found.

The seed files stay exactly as published; every rule that makes them quotable lives here, so the
next article an admin drops in is cleaned the same way. Each rule is a regular expression with a
reason string, because `quotebot stats` reports every dropped line with the rule that dropped it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- page furniture -------------------------------------------------------------------------------

_FURNITURE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^字号\s*[::]"), "furniture: font-size widget"),
    (re.compile(r"^[•·]?\s*\|?\s*共\s*\d+\s*页"), "furniture: pagination"),
    (re.compile(r"^[•·]\s*\d{1,3}$"), "furniture: pagination"),
    (re.compile(r"^(上一页|下一页|首页|尾页|返回顶部)$"), "furniture: pagination"),
    (re.compile(r"^(还没有人评论|暂无评论|发表评论|我要评论|查看评论|网友评论)"), "furniture: comment box"),
    (re.compile(r"^还可输入\s*\d+\s*个?字"), "furniture: character counter"),
    (re.compile(r"^(©|\(c\)|copyright\b)|all rights reserved", re.I), "furniture: copyright footer"),
    (re.compile(r"^\d+(\.\d+)?\s*(is\s*)?(seconds?|秒)$|^(页面执行时间|processed in)", re.I), "furniture: page timing"),
    (re.compile(r"^△"), "furniture: image caption"),
    (re.compile(r"^(责任编辑|编辑|来源|原标题|本文来源)\s*[::]"), "furniture: byline"),
)

# A line with no letter, digit or Han character ("- ……", "——") carries nothing to quote.
_CONTENTLESS = re.compile(r"^[\W_]*$")


def furniture_reason(line: str) -> str | None:
    """Why this (already char-cleaned) line is page furniture, or None when it is content."""
    for pattern, reason in _FURNITURE:
        if pattern.search(line):
            return reason
    if _CONTENTLESS.match(line):
        return "furniture: no text"
    return None


# --- pinyin annotations ---------------------------------------------------------------------------

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_SYLLABLE = rf"[a-zü]{{0,5}}[{_TONED}][a-zü]{{0,5}}"
# A Han character immediately followed by "(toned-syllable)": 認(rèn) → 認. Real parentheses never
# hold a single toned Latin syllable, so "(入股AMD、獲得英偉達(dá)…)" and "(ambiently aware)" survive.
_PINYIN = re.compile(rf"(?<=[\u3400-\u9fff])\(({_SYLLABLE})\)")


def strip_pinyin(line: str) -> tuple[str, int]:
    """Remove pinyin annotations; return the line and how many were removed."""
    return _PINYIN.subn("", line)


# --- garbled runs ---------------------------------------------------------------------------------

_GARBLE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile("\ufffd"), "garbled: replacement character U+FFFD"),
    (
        re.compile(r"[\u3040-\u30ff](?=[\u3400-\u9fff])|(?<=[\u3400-\u9fff])[\u3040-\u30ff]"),
        "garbled: kana inside Chinese text",
    ),
    (re.compile(rf"\?{_SYLLABLE}\)?"), "garbled: '?' glued to pinyin"),
    (re.compile(rf"(?<![(\w]){_SYLLABLE}\)"), "garbled: broken pinyin annotation"),
    (re.compile(r"(?<=[\u3400-\u9fff])[a-z](?=[\u3400-\u9fff])"), "garbled: stray Latin letter"),
    (re.compile(r"[\ue000-\uf8ff]"), "garbled: private-use character"),
)


def garbled_spans(line: str) -> list[tuple[int, int, str]]:
    """(start, end, reason) of every garbled run in a line, in order."""
    spans = [(m.start(), m.end(), reason) for pattern, reason in _GARBLE_RULES for m in pattern.finditer(line)]
    return sorted(spans)


# --- sentences ------------------------------------------------------------------------------------

_TERMINATORS = "。!?！？;；…"
_CLOSERS = "”’\"')）」』】》"


def split_sentences(text: str, protected: list[tuple[int, int, str]] | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence: ends after 。!?; (and any closing quotes that follow).

    `protected` spans (garbled runs) never end a sentence: a '?' inside mojibake is not a question.
    """
    blocked = set()
    for start, end, _ in protected or ():
        blocked.update(range(start, end))
    bounds: list[tuple[int, int]] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        if text[i] in _TERMINATORS and i not in blocked:
            j = i + 1
            while j < n and (text[j] in _TERMINATORS or text[j] in _CLOSERS):
                j += 1
            # A closing quote right after a terminator belongs to the sentence it closes.
            bounds.append((start, j))
            start = j
            i = j
            continue
        i += 1
    if start < n:
        bounds.append((start, n))
    return [(s, e) for s, e in _trim(text, bounds) if e > s]


def _trim(text: str, bounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for s, e in bounds:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        out.append((s, e))
    return out


def join_sentences(parts: list[str]) -> str:
    """Join sentences back together: no space between Chinese ones, one between Latin ones."""
    out = ""
    for part in parts:
        if out and out[-1] in ".!?;" and part[:1].isascii():
            out += " "
        out += part
    return out


@dataclass(frozen=True, slots=True)
class CleanLine:
    """A content line after cleaning: the kept text, its sentences, and what was cut out."""

    text: str
    sentences: tuple[tuple[int, int], ...]
    dropped: tuple[tuple[str, str], ...]  # (reason, sentence text)


def drop_garbled(line: str) -> CleanLine:
    """Split a line into sentences and remove every sentence that holds a garbled run."""
    spans = garbled_spans(line)
    sentences = split_sentences(line, spans)
    kept: list[str] = []
    dropped: list[tuple[str, str]] = []
    for s, e in sentences:
        reasons = [reason for gs, ge, reason in spans if gs < e and ge > s]
        if reasons:
            dropped.append((reasons[0], line[s:e]))
        else:
            kept.append(line[s:e])
    if not dropped:
        return CleanLine(text=line, sentences=tuple(sentences), dropped=())
    text = join_sentences(kept)
    # Offsets are recomputed on the joined text: sentences were kept whole, so they still split.
    return CleanLine(text=text, sentences=tuple(split_sentences(text)), dropped=tuple(dropped))
