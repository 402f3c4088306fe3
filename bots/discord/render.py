"""Quotes as Discord embeds, always inside Discord's limits and never able to ping anyone.

Quote text is escaped for Discord markdown piece by piece and only the matched words are bolded,
so a quote or a query containing `**`, `@everyone` or a mention renders as the literal text.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence

import discord

from bots.common import attribution
from quotecore.excerpt import mark, truncate
from quotecore.models import Quote

# Discord's documented limits.
CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
FIELD_LIMIT = 1024
AUTHOR_LIMIT = 256
MESSAGE_EMBEDS_LIMIT = 6000
#: What we leave for the description of a "Context" embed: the whole passage, cut at a sentence.
CONTEXT_CHARS = 3900

KIND_LABELS = {"answer": "访谈回答", "reported": "转述", "question": "提问", "narration": "文章叙述"}
COLOUR = discord.Colour(0x10A37F)

#: Excerpt budgets tried in turn by `fit_embeds` until a message of several quotes fits.
_BUDGETS = (1500, 1000, 700, 450, 300)
_PUNCTUATION = frozenset(string.punctuation)
_UNESCAPE = re.compile(r"\\([" + re.escape(string.punctuation) + "])")
_MENTIONS = re.compile(r"@(everyone|here)|<(@[!&]?|#)\d+>")


def safe_text(text: str) -> str:
    """User or corpus text made inert for Discord: no control characters, markdown or mentions."""
    cleaned = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    escaped = discord.utils.escape_markdown(cleaned)
    # A zero-width space after '@' and '<' keeps mentions from forming, even if allowed_mentions failed.
    return _MENTIONS.sub(lambda m: m.group(0).replace("@", "@\u200b").replace("<", "<\u200b"), escaped)


def short(text: str, limit: int) -> str:
    """Safe text for a one-line spot (a query echoed back, a title), cut with an ellipsis.

    Cut after escaping is measured: escaping can double a text's length, and Discord counts
    what it receives.
    """
    flat = " ".join(text.split())
    out = safe_text(flat)
    while len(out) > limit:
        flat = flat[: max(0, len(flat) - (len(out) - limit) - 1)]
        out = safe_text(flat) + "…"
    return out


def plain_line(text: str, limit: int) -> str:
    """One line for a spot Discord shows without markdown (embed author, footer): no escaping."""
    flat = " ".join("".join(ch for ch in text if unicodedata.category(ch)[0] != "C").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def quote_embed(
    quote: Quote, *, number: int | None = None, whole: bool = False, limit: int | None = None
) -> discord.Embed:
    """One quote: excerpt (matches in bold), speaker, topic, source, passage id in the footer."""
    text = quote.text
    spans = quote.highlights
    limit = limit or (CONTEXT_CHARS if whole else _BUDGETS[0])
    if len(text) > limit:
        text = truncate(text, limit)
        spans = tuple((s, e) for s, e in spans if e <= len(text) - 1)
    description = mark(text, spans, "**", "**", escape=safe_text)
    if len(description) > DESCRIPTION_LIMIT:  # escaping can lengthen text: cut the plain text again
        description = truncate(safe_text(text), DESCRIPTION_LIMIT)
    embed = discord.Embed(description=description, colour=COLOUR)
    speaker = quote.speaker.display if quote.speaker else "文章叙述 (narration)"
    embed.set_author(name=plain_line(f"{number}. {speaker}" if number else speaker, AUTHOR_LIMIT))
    if quote.passage.topic:
        embed.add_field(name="话题 Topic", value=short(quote.passage.topic, FIELD_LIMIT), inline=False)
    source = " · ".join(p for p in (f"《{quote.document.title}》", quote.document.outlet, quote.document.date) if p)
    embed.add_field(name="来源 Source", value=short(source, FIELD_LIMIT), inline=False)
    kind = KIND_LABELS.get(quote.passage.kind, quote.passage.kind)
    embed.set_footer(text=plain_line(f"{quote.id} · {kind}", FOOTER_LIMIT))
    return embed


def fit_embeds(quotes: Sequence[Quote], *, first_number: int | None = None) -> list[discord.Embed]:
    """One embed per quote, all in one message: shorter excerpts first, dropping one only as a last resort.

    Excerpts are chat-sized already, but escaping and long titles add up over five embeds, so
    the excerpt budget shrinks until the whole message fits Discord's 6000 characters.
    """
    embeds: list[discord.Embed] = []
    for budget in _BUDGETS:
        embeds = [
            quote_embed(q, number=None if first_number is None else first_number + i, limit=budget)
            for i, q in enumerate(quotes)
        ]
        if sum(len(e) for e in embeds) <= MESSAGE_EMBEDS_LIMIT:
            return embeds
    return within_limits(embeds)


def within_limits(embeds: list[discord.Embed]) -> list[discord.Embed]:
    """Drop trailing embeds until the message fits Discord's 6000-character total."""
    kept: list[discord.Embed] = []
    total = 0
    for embed in embeds:
        size = len(embed)
        if total + size > MESSAGE_EMBEDS_LIMIT:
            break
        kept.append(embed)
        total += size
    return kept


def canonical_query(query: str) -> str:
    """The query as searched and as carried by "Another": cleaned, one line, no control characters.

    Searching this form gives the same results as the raw text (the core cleans queries the same
    way), and it survives a round trip through `query_markup` exactly.
    """
    flat = " ".join(query.split())
    return "".join(ch for ch in flat if unicodedata.category(ch)[0] != "C")


def query_markup(query: str) -> str:
    """A canonical query shown literally: every ASCII punctuation escaped, `@` kept from pinging.

    Unlike `safe_text` this is exactly reversible (`query_from_markup`), so a message's header can
    carry a query too long for a button's custom_id.
    """
    out = []
    for ch in query:
        if ch in _PUNCTUATION:
            out.append("\\" + ch + ("\u200b" if ch == "@" else ""))
        else:
            out.append(ch)
    return "".join(out)


def query_from_markup(markup: str) -> str:
    """The inverse of `query_markup`."""
    return _UNESCAPE.sub(r"\1", markup.replace("\u200b", ""))


def plain(quote: Quote) -> str:
    """A text-only rendering (logs, fallbacks): the excerpt and the attribution line."""
    return truncate(f"{safe_text(quote.text)}\n— {safe_text(attribution(quote))}", CONTENT_LIMIT)


def content(text: str) -> str:
    """Message content within Discord's 2000 characters."""
    return truncate(text, CONTENT_LIMIT)
