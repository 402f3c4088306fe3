"""Replies of the command layer as Block Kit, escaped for Slack and inside its limits.

Slack reads `<…>` in mrkdwn as a link or a mention (`<!channel>` notifies everyone): all text from
a quote or a user is escaped (&, <, >) before our markup is added. Bold around Chinese needs a
zero-width space on each side (Slack wants `*…*` at word boundaries). Button values carry the page
state, so actions work on any process and after a restart.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bots import wording
from bots.commands import Context, PageState, Reply, Results
from quotecore import Quote, mark, truncate

SECTION_LIMIT = 3000
BLOCKS_LIMIT = 50
CONTEXT_ELEMENT_LIMIT = 2000
VALUE_LIMIT = 2000
ZWSP = "\u200b"
ANOTHER = "quote_another"
CONTEXT = "quote_context"
SHARE = "quote_share"

Block = dict[str, Any]


#: Plain-text special mentions: mrkdwn (with link_names, or in a client's own parsing) can turn them
#: into pings, so a zero-width space after the '@' keeps them words.
_SPECIAL = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)


def escape(text: str) -> str:
    """Slack's three escapes and inert special mentions, after dropping control characters."""
    escaped = wording.strip_controls(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub("@" + ZWSP, escaped)


HELP = "*quotebot*\n" + escape(wording.HELP).replace("/quote ", "`/quote` ", 1)


def excerpt_mrkdwn(quote: Quote, limit: int) -> str:
    """The quote text with matched words in bold, escaped, at most `limit` characters."""
    text, spans = wording.within(quote, max(limit - 8 * len(quote.highlights) - 200, 100))  # room for markup
    rendered = mark(text, spans, f"{ZWSP}*", f"*{ZWSP}", escape=escape)
    return rendered if len(rendered) <= limit else truncate(escape(quote.text), limit)


def context_line(quote: Quote) -> str:
    """Speaker, source and date, topic, kind, passage id: one small line under the quote."""
    topic = [f"话题: {quote.passage.topic}"] if quote.passage.topic else []
    line = " · ".join([wording.attribution(quote), *topic, wording.kind_label(quote.passage.kind), quote.id])
    return truncate(escape(line), CONTEXT_ELEMENT_LIMIT)


def quote_blocks(quote: Quote, *, whole: bool = False) -> list[Block]:
    """A section with the excerpt (or the whole passage) and a context block under it."""
    text = excerpt_mrkdwn(quote, SECTION_LIMIT if whole else 1500)
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context_line(quote)}]},
    ]


def button(text: str, action_id: str, value: str, *, primary: bool = False) -> Block:
    """A button whose value carries the state the action needs (no server-side state)."""
    label = {"type": "plain_text", "text": text, "emoji": True}
    element = {"type": "button", "text": label, "action_id": action_id, "value": value[:VALUE_LIMIT]}
    return element | ({"style": "primary"} if primary else {})


def state_value(state: PageState, ephemeral: bool) -> str:
    """A page's state as a button value."""
    data = {"q": state.query[:500], "s": state.speaker_id, "n": state.count, "o": state.offset, "e": ephemeral}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def state_from_value(value: str | None) -> tuple[PageState, bool]:
    """The inverse of `state_value`."""
    data = json.loads(value or "{}")
    state = PageState(data.get("q", ""), data.get("s"), int(data.get("n", 1)), int(data.get("o", 0)))
    return state, bool(data.get("e"))


def fallback_text(quotes: list[Quote]) -> str:
    """The notification / screen-reader text: the first quote, escaped."""
    return truncate(escape(f"{quotes[0].text} — {wording.attribution(quotes[0])}"), 300) if quotes else ""


def results_message(results: Results, ephemeral: bool) -> dict[str, Any]:
    """A page of results: header, quotes, then Another (while there is more), Context, Share."""
    state, quotes = results.state, list(results.quotes)
    header = results.header(lambda query: escape(wording.cut(query, 80)))
    blocks: list[Block] = [{"type": "context", "elements": [{"type": "mrkdwn", "text": header}]}]
    for quote in quotes:
        blocks += quote_blocks(quote)
    following = results.next()
    actions = [button("Another", ANOTHER, state_value(following, ephemeral), primary=True)] if following else []
    for number, quote in enumerate(quotes, 1):
        actions.append(button("Context" if len(quotes) == 1 else f"Context {number}", CONTEXT, quote.id))
    if ephemeral:
        actions.append(button("Share to channel", SHARE, state_value(state, ephemeral)))
    blocks = [*blocks[: BLOCKS_LIMIT - 1], {"type": "actions", "block_id": "quote_actions", "elements": actions[:25]}]
    kind = "ephemeral" if ephemeral else "in_channel"
    return {"blocks": blocks, "text": fallback_text(quotes), "response_type": kind}


def message(reply: Reply, *, ephemeral: bool = False) -> dict[str, Any]:
    """Any reply of the command layer as keyword arguments for `respond`."""
    if isinstance(reply, Results):
        return results_message(reply, ephemeral)
    if isinstance(reply, Context):
        return {
            "blocks": quote_blocks(reply.quote, whole=True),
            "text": fallback_text([reply.quote]),
            "response_type": "ephemeral",
        }
    text = escape(reply.full_text).replace(escape(wording.HELP), HELP)  # the help keeps its Slack markup
    return {
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        "text": text,
        "response_type": "ephemeral",
    }
