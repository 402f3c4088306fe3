"""Persistent buttons under a result: the state lives in `custom_id`, so clicks work after a restart.

Discord caps `custom_id` at 100 characters, so "Another" carries the page offset, the count, the
speaker id and as much of the query as fits (a longer query is searched by its first part, which
still finds the same kind of quote); "Context" carries only the passage id.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bots.discord.bot import QuoteBot

log = logging.getLogger(__name__)

CUSTOM_ID_LIMIT = 100


def more_id(offset: int, count: int, speaker_id: str | None, query: str) -> str:
    """custom_id of "Another": everything needed to fetch the next page, no server state."""
    head = f"qb:more:{offset}:{count}:{speaker_id or ''}:"
    return head + query[: CUSTOM_ID_LIMIT - len(head)]


def context_id(passage_id: str) -> str:
    """custom_id of "Context"."""
    return f"qb:ctx:{passage_id}"


class AnotherButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=re.compile(r"qb:more:(?P<offset>\d+):(?P<count>\d):(?P<speaker>[\w-]*):(?P<query>.*)", re.DOTALL),
):
    """The next match(es) for the same query (or another random quote), edited into the message."""

    def __init__(self, offset: int, count: int, speaker_id: str | None, query: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Another",
                emoji="🔁",
                style=discord.ButtonStyle.primary,
                custom_id=more_id(offset, count, speaker_id, query),
            )
        )
        self.offset, self.count, self.speaker_id, self.query = offset, count, speaker_id, query

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AnotherButton:
        """Rebuild the button's state from its custom_id (called by discord.py on each click)."""
        return cls(int(match["offset"]), int(match["count"]), match["speaker"] or None, match["query"])

    async def callback(self, interaction: discord.Interaction[QuoteBot]) -> None:
        """Edit the message to the next page of results."""
        await interaction.client.replies.another(interaction, self.offset, self.count, self.speaker_id, self.query)


class ContextButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=re.compile(r"qb:ctx:(?P<passage>[0-9a-f]+)"),
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
        await interaction.client.replies.context(interaction, self.passage_id)


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
