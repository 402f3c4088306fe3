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
from bots.commands import MAX_COUNT, Context, PageState, Reply, Results
from quotecore import Quote

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
_WORKSPACE_CHANNEL = re.compile(r"\b[TE][A-Z0-9]{2,}/([CGD][A-Z0-9]{2,})\b")


def escape(text: str) -> str:
    """Slack's three escapes and inert special mentions, after dropping control characters."""
    escaped = wording.strip_controls(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub("@" + ZWSP, escaped)


def help_markup() -> str:
    """The help with Slack markup (the first command as code), in the reader's language."""
    return "*quotebot*\n" + escape(wording.HELP).replace("/quote ", "`/quote` ", 1)


def escape_cut(text: str, limit: int) -> str:
    """`text` cut at a sentence, then escaped, within `limit` (`wording.fitted`)."""
    return wording.fitted(text, limit, escape)


def excerpt_mrkdwn(quote: Quote, limit: int) -> str:
    """The quote text with matched words in bold (a zero-width space outside each `*`), escaped, ≤ `limit`."""
    room = max(limit - 8 * len(quote.highlights) - 200, 100)  # room for markup
    return wording.marked(quote, limit, (f"{ZWSP}*", f"*{ZWSP}"), escape, room)


def context_line(quote: Quote) -> str:
    """Speaker, source and date, topic, kind, passage id: one small line under the quote."""
    topic = [f"{wording.say('话题', '话题')}: {quote.passage.topic}"] if quote.passage.topic else []
    line = " · ".join([wording.attribution(quote), *topic, wording.kind_label(quote.passage.kind), quote.id])
    return escape_cut(line, CONTEXT_ELEMENT_LIMIT)


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
    """A page's state as a button value: valid JSON within VALUE_LIMIT by construction.

    The query is cleaned (as searched) and shortened until the encoded value fits, so the value is
    never cut afterwards (a cut value is not JSON, and "Another" would fail).
    """
    query = wording.one_line(state.query)[:500]
    speaker = wording.one_line(state.speaker_id)[:100] if state.speaker_id else None
    while True:
        data = {"q": query, "s": speaker, "n": state.count, "o": state.offset, "e": ephemeral}
        value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if len(value) <= VALUE_LIMIT or not query:
            return value
        query = query[: max(0, len(query) - (len(value) - VALUE_LIMIT))].rstrip()


def state_from_value(value: str | None) -> tuple[PageState, bool] | None:
    """The inverse of `state_value`; None for a value it cannot have made (edited, cut, from elsewhere)."""
    try:
        data = json.loads(value or "")
        query, speaker, count, offset = data["q"], data.get("s"), data.get("n", 1), data.get("o", 0)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if not (isinstance(query, str) and (speaker is None or isinstance(speaker, str))):
        return None
    if not (isinstance(count, int) and isinstance(offset, int) and 0 <= offset < 10_000):
        return None
    state = PageState(wording.one_line(query)[:500], speaker, max(1, min(count, MAX_COUNT)), offset)
    return state, bool(data.get("e"))


def fallback_text(quotes: list[Quote]) -> str:
    """The notification / screen-reader text: the first quote, escaped."""
    return escape_cut(f"{quotes[0].text} — {wording.attribution(quotes[0])}", 300) if quotes else ""


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
    text = escape(reply.full_text).replace(escape(wording.HELP), help_markup())  # the help keeps its Slack markup
    text = _WORKSPACE_CHANNEL.sub(r"<#\1>", text)  # a target's TEAM/CHANNEL key, shown as the channel
    return {
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        "text": text,
        "response_type": "ephemeral",
    }
