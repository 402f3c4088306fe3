"""Persistent buttons under a result: the state lives in `custom_id`, so clicks work after a restart.

Discord caps `custom_id` at 100 characters. "Context" carries only the passage id. "Another"
carries the next offset, the count, the speaker id and the query when the whole query fits
(`qb:more:…`); a longer query is never cut (a prefix would page through a different search):
the button becomes `qb:mq:…` and the query is read back from the result message's first line,
which shows it in an exactly reversible markup (see `replies.header`).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bots.discord.failures import apologise

if TYPE_CHECKING:
    from bots.discord.bot import QuoteBot

log = logging.getLogger(__name__)

CUSTOM_ID_LIMIT = 100


def _length(text: str) -> int:
    """Discord counts UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def more_id(offset: int, count: int, speaker_id: str | None, query: str) -> str:
    """custom_id of "Another": everything needed to fetch the next page, no server state."""
    whole = f"qb:more:{offset}:{count}:{speaker_id or ''}:{query}"
    if _length(whole) <= CUSTOM_ID_LIMIT:
        return whole
    return f"qb:mq:{offset}:{count}:{speaker_id or ''}"


def context_id(passage_id: str) -> str:
    """custom_id of "Context"."""
    return f"qb:ctx:{passage_id}"


class AnotherButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=re.compile(
        r"qb:(?:more:(?P<offset>\d+):(?P<count>\d):(?P<speaker>[\w-]*):(?P<query>.*)"
        r"|mq:(?P<m_offset>\d+):(?P<m_count>\d):(?P<m_speaker>[\w-]*))",
        re.DOTALL,
    ),
):
    """The next match(es) for the same query (or another random quote), edited into the message.

    `query` None means "the query is in the message's header" (it was too long for the id).
    """

    def __init__(self, offset: int, count: int, speaker_id: str | None, query: str | None) -> None:
        custom_id = more_id(offset, count, speaker_id, query) if query is not None else None
        if custom_id is None:
            custom_id = f"qb:mq:{offset}:{count}:{speaker_id or ''}"
        super().__init__(
            discord.ui.Button(label="Another", emoji="🔁", style=discord.ButtonStyle.primary, custom_id=custom_id)
        )
        self.offset, self.count, self.speaker_id, self.query = offset, count, speaker_id, query

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AnotherButton:
        """Rebuild the button's state from its custom_id (called by discord.py on each click)."""
        if match["offset"] is not None:
            return cls(int(match["offset"]), int(match["count"]), match["speaker"] or None, match["query"])
        return cls(int(match["m_offset"]), int(match["m_count"]), match["m_speaker"] or None, None)

    async def callback(self, interaction: discord.Interaction[QuoteBot]) -> None:
        """Edit the message to the next page of results."""
        try:
            await interaction.client.replies.another(interaction, self.offset, self.count, self.speaker_id, self.query)
        except Exception:
            await _failed(interaction, "Another")


class ContextButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=re.compile(r"qb:ctx:(?P<passage>[0-9a-zA-Z_-]+)"),
):
    """The whole passage around a quote, shown only to whoever asked."""

    def __init__(self, passage_id: str, label: str = "Context") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, emoji="📖", style=discord.ButtonStyle.secondary, custom_id=context_id(passage_id)
            )
        )
        self.passage_id = passage_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ContextButton:
        """Rebuild the button's state from its custom_id."""
        return cls(match["passage"])

    async def callback(self, interaction: discord.Interaction[QuoteBot]) -> None:
        """Answer ephemerally with the whole passage."""
        try:
            await interaction.client.replies.context(interaction, self.passage_id)
        except Exception:
            await _failed(interaction, "Context")


async def _failed(interaction: discord.Interaction[QuoteBot], button: str) -> None:
    """Log a failed click with its context (a view's own error hook would leave the user hanging)."""
    data = interaction.data or {}
    log.exception(
        "%s button failed for user %s in guild %s channel %s (custom_id %r)",
        button,
        interaction.user.id,
        interaction.guild_id,
        interaction.channel_id,
        data.get("custom_id"),
    )
    await apologise(interaction, f"Sorry, the {button} button did not work.")


def result_view(
    quote_ids: list[str], next_offset: int | None, count: int, speaker_id: str | None, query: str
) -> discord.ui.View:
    """The buttons under a result: "Another" when there is more, one "Context" per quote."""
    view = discord.ui.View(timeout=None)
    if next_offset is not None:
        view.add_item(AnotherButton(next_offset, count, speaker_id, query))
    for number, passage_id in enumerate(quote_ids, 1):
        view.add_item(ContextButton(passage_id, "Context" if len(quote_ids) == 1 else f"Context {number}"))
    return view
