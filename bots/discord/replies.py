"""What the bot answers to /quote and its buttons: results from QuoteService, rendered as embeds.

Search is sub-millisecond, so it runs on the event loop and every interaction is answered directly,
well inside Discord's 3-second window; only a reload (seconds) goes to a worker thread.

A result message's first line (`🔎 “query” · 2 / 13`) shows the query in a reversible markup, so
"Another" can read a query that was too long for its custom_id back from the message it sits on,
and "Context" can bold the words the message bolded: no server-side state, restarts included.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bots.common import error_message, no_match_message
from bots.discord.buttons import result_view
from bots.discord.render import (
    canonical_query,
    content,
    fit_embeds,
    query_from_markup,
    query_markup,
    quote_embed,
    safe_text,
    short,
)
from quotecore.errors import QuoteError
from quotecore.service import QuoteService

if TYPE_CHECKING:
    from bots.discord.bot import QuoteBot

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
RANDOM_HEADER = "🎲"
_HEADER = re.compile(r"^🔎 “(?P<query>.*)” · \d+(?:–\d+)? / \d+$", re.DOTALL)
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Page:
    """One result message: its first line, the quote embeds and the buttons under them."""

    text: str
    embeds: list[discord.Embed]
    view: discord.ui.View


def header(query: str, first: int, last: int, total: int) -> str:
    """`🔎 “query” · 1–3 / 13` (or `· 2 / 13` for one quote); see `query_from_header`."""
    where = f"{first}" if first == last else f"{first}–{last}"
    return f"🔎 “{query_markup(query)}” · {where} / {total}"


def query_from_header(message: discord.Message | None) -> str | None:
    """The query a result message was for, read back from its first line (None if not one)."""
    match = _HEADER.match(message.content) if message is not None else None
    return query_from_markup(match["query"]) if match else None


def bolded_words(message: discord.Message | None) -> list[str]:
    """The words a result message shows in bold: the matches to highlight again in "Context"."""
    if message is None:
        return []
    found = (m for e in message.embeds for m in _BOLD.findall(e.description or ""))
    words = {_ESCAPED.sub(r"\1", m).replace("\u200b", "") for m in found}
    return sorted(w for w in words if w.strip())


class Replies:
    """Builds and sends the answers; shared by the slash command and the persistent buttons."""

    def __init__(self, service: QuoteService) -> None:
        self.service = service

    def page(self, query: str | None, speaker: str | None, count: int, offset: int) -> Page | str:
        """A page of results, or the text of a friendly refusal.

        `query` None (or "") asks for a random quote; a query that cleans down to nothing is
        refused by the core ("empty query") rather than silently turned into a random one.
        """
        try:
            speaker_id = self.service.resolve_speaker(speaker).id if speaker else None
            if not query:
                quote = self.service.random(speaker_id)
                if quote is None:
                    return "There are no quotes to show yet: the corpus is empty."
                return Page(RANDOM_HEADER, [quote_embed(quote)], result_view([quote.id], 0, 1, speaker_id, ""))
            searched = canonical_query(query)
            results = self.service.search(searched, speaker=speaker_id, limit=count, offset=offset)
            if not results.quotes and offset and results.total:  # past the end after a reload: start over
                offset = 0
                results = self.service.search(searched, speaker=speaker_id, limit=count, offset=0)
        except QuoteError as exc:
            return safe_text(error_message(exc))  # it may echo what the user typed (a speaker name)
        if not results.quotes:
            return no_match_message(short(searched, 100), self.service, speaker)
        quotes = list(results.quotes)
        embeds = fit_embeds(quotes, first_number=offset + 1 if len(quotes) > 1 else None)
        shown = offset + len(embeds)
        # "Another" goes on to the next page, and from the last page back to the first.
        more = shown if shown < results.total else (0 if results.total > len(embeds) else None)
        view = result_view([q.id for q in quotes[: len(embeds)]], more, count, speaker_id, searched)
        return Page(content(header(searched, offset + 1, shown, results.total)), embeds, view)

    async def quote(
        self, interaction: discord.Interaction[Any], query: str | None, speaker: str | None, count: int
    ) -> None:
        """/quote: a public answer, or an ephemeral hint when nothing matches."""
        page = self.page(query, speaker, count, 0)
        if isinstance(page, str):
            await interaction.response.send_message(content(page), ephemeral=True, allowed_mentions=NONE)
            return
        await interaction.response.send_message(page.text, embeds=page.embeds, view=page.view, allowed_mentions=NONE)

    async def another(
        self,
        interaction: discord.Interaction[QuoteBot],
        offset: int,
        count: int,
        speaker_id: str | None,
        query: str | None,
    ) -> None:
        """Another: edit the message to the next page (a new random quote when there was no query).

        `query` None means it did not fit in the custom_id: it is read from the message's header.
        """
        if query is None:
            query = query_from_header(interaction.message)
            if query is None:
                log.warning("an Another button on message %s without a query header", interaction.message)
                await interaction.response.send_message(
                    "Sorry, I can't tell what this message searched for: try /quote again.",
                    ephemeral=True,
                    allowed_mentions=NONE,
                )
                return
        page = self.page(query, speaker_id, count, offset)
        if isinstance(page, str):
            await interaction.response.send_message(content(page), ephemeral=True, allowed_mentions=NONE)
            return
        await interaction.response.edit_message(
            content=page.text, embeds=page.embeds, view=page.view, allowed_mentions=NONE
        )

    async def context(self, interaction: discord.Interaction[QuoteBot], passage_id: str) -> None:
        """Context: the whole passage, only for the user who asked, with the same words in bold."""
        quote = self.service.show(passage_id, bolded_words(interaction.message))
        if quote is None:
            await interaction.response.send_message(
                "That passage is no longer in the corpus (it changed in a reload).",
                ephemeral=True,
                allowed_mentions=NONE,
            )
            return
        await interaction.response.send_message(
            embed=quote_embed(quote, whole=True), ephemeral=True, allowed_mentions=NONE
        )
