"""What the bot answers to /quote and its buttons: results from QuoteService, rendered as embeds.

Search is sub-millisecond, so it runs on the event loop and every interaction is answered directly,
well inside Discord's 3-second window; only a reload (seconds) goes to a worker thread.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from bots.common import error_message, no_match_message
from bots.discord.buttons import result_view
from bots.discord.render import content, quote_embed, short, within_limits
from quotecore.errors import QuoteError
from quotecore.models import Quote
from quotecore.service import QuoteService

if TYPE_CHECKING:
    from bots.discord.bot import QuoteBot

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()


class Replies:
    """Builds and sends the answers; shared by the slash command and the persistent buttons."""

    def __init__(self, service: QuoteService) -> None:
        self.service = service

    def page(
        self, query: str, speaker: str | None, count: int, offset: int
    ) -> tuple[str, list[discord.Embed], discord.ui.View] | str:
        """A page of results as (content, embeds, view), or the text of a friendly refusal."""
        try:
            speaker_id = self.service.resolve_speaker(speaker).id if speaker else None
            if not query.strip():
                quote = self.service.random(speaker_id)
                if quote is None:
                    return "There are no quotes to show yet: the corpus is empty."
                return "🎲", [quote_embed(quote)], result_view([quote.id], 0, 1, speaker_id, "")
            results = self.service.search(query, speaker=speaker_id, limit=count, offset=offset)
        except QuoteError as exc:
            return error_message(exc)
        if not results.quotes:
            return no_match_message(short(query, 100), self.service, speaker)
        quotes: list[Quote] = list(results.quotes)
        numbered = len(quotes) > 1
        embeds = within_limits(
            [quote_embed(q, number=offset + i if numbered else None) for i, q in enumerate(quotes, 1)]
        )
        shown = offset + len(embeds)
        header = f"🔎 “{short(query, 80)}” · {offset + 1}–{shown} / {results.total}"
        if len(embeds) == 1:
            header = f"🔎 “{short(query, 80)}” · {shown} / {results.total}"
        more = shown if shown < results.total else None
        view = result_view([q.id for q in quotes[: len(embeds)]], more, count, speaker_id, query)
        return content(header), embeds, view

    async def quote(self, interaction: discord.Interaction[Any], query: str, speaker: str | None, count: int) -> None:
        """/quote: a public answer, or an ephemeral hint when nothing matches."""
        page = self.page(query, speaker, count, 0)
        if isinstance(page, str):
            await interaction.response.send_message(content(page), ephemeral=True, allowed_mentions=NONE)
            return
        text, embeds, view = page
        await interaction.response.send_message(text, embeds=embeds, view=view, allowed_mentions=NONE)

    async def another(
        self, interaction: discord.Interaction[QuoteBot], offset: int, count: int, speaker_id: str | None, query: str
    ) -> None:
        """Another: edit the message to the next page (a new random quote when there was no query)."""
        page = self.page(query, speaker_id, count, offset)
        if isinstance(page, str):
            await interaction.response.send_message(content(page), ephemeral=True, allowed_mentions=NONE)
            return
        text, embeds, view = page
        await interaction.response.edit_message(content=text, embeds=embeds, view=view, allowed_mentions=NONE)

    async def context(self, interaction: discord.Interaction[QuoteBot], passage_id: str) -> None:
        """Context: the whole passage, only for the user who asked."""
        quote = self.service.show(passage_id)
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
