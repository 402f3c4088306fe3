"""Quotes as Block Kit, escaped for Slack and inside its limits.

Slack parses `<…>` in any mrkdwn text as a link or a mention (`<!channel>` notifies everyone), so
every piece of text that comes from a quote or from a user is escaped (&, <, >) before the bot's
own markup is added. Bold around Chinese text needs a zero-width space on each side: Slack only
recognises `*…*` at word boundaries, and CJK text has no spaces.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from bots.common import attribution
from quotecore.excerpt import mark, truncate
from quotecore.models import Quote

SECTION_LIMIT = 3000
BLOCKS_LIMIT = 50
CONTEXT_ELEMENT_LIMIT = 2000
VALUE_LIMIT = 2000
ZWSP = "\u200b"

KIND_LABELS = {"answer": "访谈回答", "reported": "转述", "question": "提问", "narration": "文章叙述"}

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three escapes, after dropping control characters that could garble the message."""
    cleaned = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def short(text: str, limit: int) -> str:
    """Escaped one-line text (a query echoed back), cut with an ellipsis."""
    flat = " ".join(text.split())
    return escape(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def excerpt_mrkdwn(quote: Quote, limit: int) -> str:
    """The quote text with matched words in bold, escaped, at most `limit` characters."""
    text, spans = quote.text, quote.highlights
    room = limit - 8 * len(spans) - 200  # markup and escapes take room too
    if len(text) > room:
        text = truncate(text, max(room, 100))
        spans = tuple((s, e) for s, e in spans if e <= len(text) - 1)
    rendered = mark(text, spans, f"{ZWSP}*", f"*{ZWSP}", escape=escape)
    return rendered if len(rendered) <= limit else truncate(escape(quote.text), limit)


def context_line(quote: Quote) -> str:
    """Speaker (Chinese and English), topic, source and date, passage id: one small line."""
    parts = [attribution(quote)]
    if quote.passage.topic:
        parts.append(f"话题: {quote.passage.topic}")
    parts.append(f"{KIND_LABELS.get(quote.passage.kind, quote.passage.kind)} · {quote.id}")
    return truncate(escape(" · ".join(parts)), CONTEXT_ELEMENT_LIMIT)


def quote_blocks(quote: Quote, *, whole: bool = False) -> list[Block]:
    """A section with the excerpt (or the whole passage) and a context block under it."""
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": excerpt_mrkdwn(quote, SECTION_LIMIT if whole else 1500)},
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context_line(quote)}]},
    ]


def button(text: str, action_id: str, value: dict[str, Any] | str, *, primary: bool = False) -> Block:
    """A button whose value carries the state the action needs (no server-side state)."""
    raw = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": raw[:VALUE_LIMIT],
    }
    if primary:
        element["style"] = "primary"
    return element


def fallback_text(quotes: list[Quote]) -> str:
    """The notification / screen-reader text: the first quote, escaped."""
    if not quotes:
        return ""
    return truncate(escape(f"{quotes[0].text} — {attribution(quotes[0])}"), 300)


def fit(blocks: list[Block]) -> list[Block]:
    """At most Slack's 50 blocks (the actions block, last, is kept)."""
    if len(blocks) <= BLOCKS_LIMIT:
        return blocks
    return [*blocks[: BLOCKS_LIMIT - 1], blocks[-1]]
