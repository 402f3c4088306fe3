"""Quotes in the reader's script: simplified as indexed, or Taiwan / Hong Kong traditional.

The corpus is searched in simplified characters (a traditional article is folded with t2s when it
is cleaned), so a search answers the same whatever script the reader types in. Only what is shown
changes with the reader: OpenCC's `s2tw` or `s2hk`, which convert characters and never phrasing
(`s2twp` would rewrite 软件 as 軟體: a quote is what someone said, so its words stay theirs).

Highlights must still cover the matched words after conversion: the text is converted piece by
piece between highlight boundaries, so the spans stay exact even where a conversion changed a
length.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import opencc

    from quotecore.models import Quote

Script = Literal["simplified", "zh-TW", "zh-HK"]
SCRIPTS: tuple[Script, ...] = ("simplified", "zh-TW", "zh-HK")
_CONFIGS = {"zh-TW": "s2tw", "zh-HK": "s2hk"}


def script_for(locale: str | None) -> Script:
    """The script for a locale (`zh-TW`, `zh_HK.UTF-8`, `zh-Hant`, `en-US`, …); simplified by default.

    Readers of Taiwan's and Hong Kong's (and Macau's) locales read traditional characters; every
    other locale, English included, reads the corpus as it is indexed.
    """
    tag = (locale or "").split(".")[0].split("@")[0].replace("_", "-").lower()  # POSIX: zh_TW.UTF-8
    if tag in ("zh-hk", "zh-mo") or tag.startswith(("zh-hant-hk", "zh-hant-mo")):
        return "zh-HK"
    if tag in ("zh-tw", "zh-hant") or tag.startswith("zh-hant"):
        return "zh-TW"
    return "simplified"


@functools.cache
def _converter(script: Script) -> opencc.OpenCC:
    import opencc  # only when a reader wants traditional: a simplified answer never loads it

    return opencc.OpenCC(_CONFIGS[script])


def convert(text: str, script: Script) -> str:
    """`text` (simplified) in `script`; unchanged for simplified."""
    return text if script == "simplified" or not text else _converter(script).convert(text)


def in_script(quote: Quote, script: Script) -> Quote:
    """The same quote for a reader of `script`: its text, topic, source title and speaker name converted."""
    if script == "simplified":
        return quote
    pieces: list[str] = []
    spans: list[tuple[int, int]] = []
    at = 0
    length = 0
    for start, end in sorted(quote.highlights):
        if start < at:  # overlapping highlights: the first one already covers this
            continue
        before = convert(quote.text[at:start], script)
        inside = convert(quote.text[start:end], script)
        pieces += [before, inside]
        length += len(before)
        spans.append((length, length + len(inside)))
        length += len(inside)
        at = end
    pieces.append(convert(quote.text[at:], script))
    passage = dataclasses.replace(
        quote.passage,
        text=convert(quote.passage.text, script),
        topic=convert(quote.passage.topic or "", script) or None,
        context=convert(quote.passage.context or "", script) or None,
    )
    document = dataclasses.replace(quote.document, title=convert(quote.document.title, script))
    speaker = quote.speaker and dataclasses.replace(quote.speaker, name=convert(quote.speaker.name, script))
    return dataclasses.replace(
        quote, text="".join(pieces), highlights=tuple(spans), passage=passage, document=document, speaker=speaker
    )
