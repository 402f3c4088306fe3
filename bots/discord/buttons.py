"""Persistent buttons under a result: the state lives in `custom_id`, so clicks work after a restart.

Discord caps `custom_id` at 100 characters. "Context" carries only the passage id. "Another"
carries the next page's state (`qb:more:offset:count:speaker:query`); a query too long for it is
never cut (a prefix would page through a different search): the button becomes `qb:mq:…` and the
query is read back from the result message's first embed (see `render.query_from_message`).
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bots.commands import PageState

CUSTOM_ID_LIMIT = 100


def _length(text: str) -> int:
    """Discord counts UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def more_id(offset: int, count: int, speaker_id: str | None, query: str | None) -> str:
    """custom_id of "Another": the whole state when the query fits, else all but the query."""
    whole = f"qb:more:{offset}:{count}:{speaker_id or ''}:{query}"
    return (
        whole
        if query is not None and _length(whole) <= CUSTOM_ID_LIMIT
        else f"qb:mq:{offset}:{count}:{speaker_id or ''}"
    )


class AnotherButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=re.compile(
        r"qb:(?:more|mq):(?P<offset>\d+):(?P<count>\d):(?P<speaker>[\w-]*)(?::(?P<query>.*))?", re.DOTALL
    ),
):
    """The next page (or another random quote), edited into the message; `query` None: read the header."""

    def __init__(self, offset: int, count: int, speaker_id: str | None, query: str | None) -> None:
        custom_id = more_id(offset, count, speaker_id, query)
        super().__init__(
            discord.ui.Button(label="Another", emoji="🔁", style=discord.ButtonStyle.primary, custom_id=custom_id)
        )
        self.offset, self.count, self.speaker_id, self.query = offset, count, speaker_id, query

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AnotherButton:
        """Rebuild the button's state from its custom_id (called by discord.py on each click)."""
        query = match["query"] if match.group(0).startswith("qb:more:") else None
        return cls(int(match["offset"]), int(match["count"]), match["speaker"] or None, query)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Edit the message to the next page (the client is the QuoteBot that added this item)."""
        await interaction.client.another(interaction, self.offset, self.count, self.speaker_id, self.query)


class ContextButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=re.compile(r"qb:ctx:(?P<passage>[0-9a-zA-Z_-]+)")
):
    """The whole passage around a quote, shown only to whoever asked."""

    def __init__(self, passage_id: str, label: str = "Context") -> None:
        button = discord.ui.Button(
            label=label, emoji="📖", style=discord.ButtonStyle.secondary, custom_id=f"qb:ctx:{passage_id}"
        )
        super().__init__(button)
        self.passage_id = passage_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ContextButton:
        """Rebuild the button's state from its custom_id."""
        return cls(match["passage"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Answer ephemerally with the whole passage."""
        await interaction.client.context(interaction, self.passage_id)


def result_view(quote_ids: list[str], more: PageState | None) -> discord.ui.View:
    """The buttons under a result: "Another" while there is a next match, one "Context" per quote."""
    view = discord.ui.View(timeout=None)
    if more is not None:
        view.add_item(AnotherButton(more.offset, more.count, more.speaker_id, more.query))
    for number, passage_id in enumerate(quote_ids, 1):
        view.add_item(ContextButton(passage_id, "Context" if len(quote_ids) == 1 else f"Context {number}"))
    return view
