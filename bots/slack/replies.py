"""The messages the Slack app sends for /quote and its buttons, built from QuoteService results.

Button state (query, speaker, offset, count, visibility) travels in the button value, so actions
work on any process and after a restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bots.common import error_message, no_match_message
from bots.slack.blocks import Block, button, escape, fallback_text, fit, quote_blocks, short
from quotecore.errors import QuoteError
from quotecore.service import QuoteService

log = logging.getLogger(__name__)

ANOTHER = "quote_another"
CONTEXT = "quote_context"
SHARE = "quote_share"


@dataclass(frozen=True, slots=True)
class Page:
    """A reply: blocks, fallback text, and whether only the caller sees it."""

    blocks: list[Block]
    text: str
    ephemeral: bool
    refused: bool = False

    def message(self, **extra: Any) -> dict[str, Any]:
        """Keyword arguments for respond() / chat.postMessage."""
        return {"blocks": self.blocks, "text": self.text, **extra}


def refusal(text: str) -> Page:
    """A short ephemeral answer (no match, bad input, cooldown)."""
    return Page([{"type": "section", "text": {"type": "mrkdwn", "text": text}}], text, True, refused=True)


def page(service: QuoteService, query: str, speaker: str | None, count: int, offset: int, ephemeral: bool) -> Page:
    """Search (or a random quote for an empty query) and render; refusals are ephemeral."""
    try:
        speaker_id = service.resolve_speaker(speaker).id if speaker else None
        if not query.strip():
            quote = service.random(speaker_id)
            if quote is None:
                return refusal("There are no quotes to show yet: the corpus is empty.")
            quotes, total, header = [quote], 1, "🎲"
        else:
            results = service.search(query, speaker=speaker_id, limit=count, offset=offset)
            quotes, total = list(results.quotes), results.total
            shown = offset + len(quotes)
            span = f"{shown}" if len(quotes) == 1 else f"{offset + 1}–{shown}"
            header = f"🔎 “{short(query, 80)}” · {span} / {total}"
    except QuoteError as exc:
        return refusal(escape(error_message(exc)))
    if not quotes:
        return refusal(escape(no_match_message(" ".join(query.split())[:100], service, speaker)))
    blocks: list[Block] = [{"type": "context", "elements": [{"type": "mrkdwn", "text": header}]}]
    for quote in quotes:
        blocks += quote_blocks(quote)
    state = {"q": query[:500], "s": speaker_id, "n": count, "e": ephemeral}
    actions: list[Block] = []
    next_offset = 0 if not query.strip() else offset + len(quotes)
    if not query.strip() or next_offset < total:
        actions.append(button("Another", ANOTHER, {**state, "o": next_offset}, primary=True))
    for number, quote in enumerate(quotes, 1):
        label = "Context" if len(quotes) == 1 else f"Context {number}"
        actions.append(button(label, CONTEXT, quote.id))
    if ephemeral:
        actions.append(button("Share to channel", SHARE, {**state, "o": offset}))
    blocks.append({"type": "actions", "block_id": "quote_actions", "elements": actions[:25]})
    return Page(fit(blocks), fallback_text(quotes), ephemeral)


def context_page(service: QuoteService, passage_id: str) -> Page:
    """The whole passage for "Context", only for the user who asked."""
    quote = service.show(passage_id)
    if quote is None:
        return refusal("That passage is no longer in the corpus (it changed in a reload).")
    return Page(quote_blocks(quote, whole=True), fallback_text([quote]), True)
