"""Replies of the command layer as Discord messages: embeds inside Discord's limits, never able to ping.

Quote text is escaped for Discord markdown piece by piece and only the matched words are bolded,
so a quote or a query containing `**`, `@everyone` or a mention renders as the literal text. A
result's first line (`🔎 “query” · 2 / 13`) shows the query (cut at `wording.QUERY_ECHO`); a query
too long for the "Another" button rides whole in the first embed's URL, and "Context" reads back the
words a message bolded.
"""

from __future__ import annotations

import base64
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bots import wording
from bots.commands import Context, Notice, Reply, Results
from bots.discord.buttons import more_id, result_view
from quotecore import Quote, truncate

# Discord's documented limits.
CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
FIELD_LIMIT = 1024
AUTHOR_LIMIT = 256
MESSAGE_EMBEDS_LIMIT = 6000
#: What we leave for the description of a "Context" embed: the whole passage, cut at a sentence.
CONTEXT_CHARS = 3900
COLOUR = discord.Colour(0x10A37F)
#: Excerpt budgets tried in turn by `fit_embeds` until a message of several quotes fits.
_BUDGETS = (1500, 1000, 700, 450, 300)
_PUNCTUATION = frozenset(string.punctuation)
_MENTIONS = re.compile(r"@(everyone|here)|<(@[!&]?|#)\d+>")
#: Where a query too long for the "Another" button rides: the first embed's URL, never displayed
#: without a title (base64url of UTF-8; Discord allows 2048 characters).
QUERY_URL = "https://quotebot.invalid/q/"
URL_LIMIT = 2048
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Message:
    """What to send: keyword arguments for send_message / edit_message, and whether it is private."""

    fields: dict[str, Any]
    private: bool


def safe_text(text: str) -> str:
    """User or corpus text made inert for Discord: no control characters, markdown or mentions."""
    escaped = discord.utils.escape_markdown(wording.strip_controls(text))
    # A zero-width space after '@' and '<' keeps mentions from forming, even if allowed_mentions failed.
    return _MENTIONS.sub(lambda m: m.group(0).replace("@", "@\u200b").replace("<", "<\u200b"), escaped)


def short(text: str, limit: int) -> str:
    """Safe one-line text, cut so that what Discord receives (escapes included) fits `limit`."""
    return wording.fitted(text, limit, safe_text, cut=wording.cut)


def content(text: str) -> str:
    """Message content within Discord's 2000 characters."""
    return truncate(text, CONTENT_LIMIT)


def quote_embed(
    quote: Quote, *, number: int | None = None, whole: bool = False, limit: int | None = None
) -> discord.Embed:
    """One quote: excerpt (matches in bold), speaker, topic, source, passage id in the footer."""
    room = limit or (CONTEXT_CHARS if whole else _BUDGETS[0])
    description = wording.marked(quote, DESCRIPTION_LIMIT, ("**", "**"), safe_text, room)
    embed = discord.Embed(description=description, colour=COLOUR)
    speaker = wording.speaker_name(quote)
    embed.set_author(name=wording.cut(f"{number}. {speaker}" if number else speaker, AUTHOR_LIMIT))
    if quote.passage.topic:
        embed.add_field(name=wording.topic_label(), value=short(quote.passage.topic, FIELD_LIMIT), inline=False)
    embed.add_field(name=wording.source_label(), value=short(wording.source_line(quote), FIELD_LIMIT), inline=False)
    return embed.set_footer(text=wording.cut(wording.footer(quote), FOOTER_LIMIT))


def fit_embeds(quotes: Sequence[Quote], *, first_number: int | None = None) -> list[discord.Embed]:
    """One embed per quote in one message: shorter excerpts until it fits 6000 characters, then fewer."""
    embeds: list[discord.Embed] = []
    for budget in _BUDGETS:
        numbers = [None if first_number is None else first_number + i for i in range(len(quotes))]
        embeds = [quote_embed(q, number=n, limit=budget) for q, n in zip(quotes, numbers, strict=True)]
        if sum(len(e) for e in embeds) <= MESSAGE_EMBEDS_LIMIT:
            return embeds
    while embeds and sum(len(e) for e in embeds) > MESSAGE_EMBEDS_LIMIT:
        embeds.pop()
    return embeds


def query_markup(query: str) -> str:
    """A query shown literally: ASCII punctuation escaped, `@` kept from pinging; what users read is the query."""
    return "".join("\\" + ch + ("\u200b" if ch == "@" else "") if ch in _PUNCTUATION else ch for ch in query)


def query_url(query: str) -> str | None:
    """The URL that carries a whole query (None if even that is too long: "Another" then says so)."""
    url = QUERY_URL + base64.urlsafe_b64encode(query.encode()).decode()
    return url if len(url) <= URL_LIMIT else None


def query_from_message(message: discord.Message | None) -> str | None:
    """The query a result message was for, read back from its first embed's URL (None if not there)."""
    url = message.embeds[0].url if message is not None and message.embeds else None
    if not url or not url.startswith(QUERY_URL):
        return None
    try:
        return base64.urlsafe_b64decode(url[len(QUERY_URL) :]).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def bolded_words(message: discord.Message | None) -> list[str]:
    """The words a result message shows in bold: the matches to highlight again in "Context"."""
    found = (m for e in (message.embeds if message else []) for m in _BOLD.findall(e.description or ""))
    return sorted({w for m in found if (w := _ESCAPED.sub(r"\1", m).replace("\u200b", "")).strip()})


def results_message(results: Results) -> Message:
    """A page of results (or a random quote) with "Another" while there is more, and "Context"."""
    quotes, first = list(results.quotes), results.state.offset + 1
    embeds = fit_embeds(quotes, first_number=first if len(quotes) > 1 else None)
    header = results.header(query_markup, len(embeds))
    following = results.next(len(embeds))
    if following is not None and more_id(0, 1, following.speaker_id, following.query).startswith("qb:mq:"):
        embeds[0].url = query_url(following.query)  # too long for the button: "Another" reads it here
    view = result_view([q.id for q in quotes[: len(embeds)]], following)
    return Message({"content": content(header), "embeds": embeds, "view": view}, private=False)


def render(reply: Reply) -> Message:
    """Any reply of the command layer as a Discord message."""
    if isinstance(reply, Results):
        return results_message(reply)
    if isinstance(reply, Context):
        return Message({"embed": quote_embed(reply.quote, whole=True)}, private=True)
    return Message({"content": content(safe_text(notice_text(reply)))}, private=True)


def notice_text(notice: Notice) -> str:
    """A notice's words (help has no Discord form: its options are typed)."""
    return notice.full_text
