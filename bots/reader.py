"""Replies in the reader's script: the same search, shown in simplified or traditional characters.

The command layer answers in the corpus's own (simplified) form; just before rendering, each
surface hands over the reader's locale (Discord's interaction locale, Slack's user locale) and
the quotes are converted for that reader. Paging state and passage ids stay script-free, so an
"Another" clicked by a reader in Taipei continues the same search as the asker's in Shanghai.
"""

from __future__ import annotations

from dataclasses import replace

from bots import wording
from bots.commands import Commands, Context, Reply, Results
from quotecore import Quote, Script, in_script, script_for


def for_reader(reply: Reply, locale: str | None, chosen: Script | None = None) -> Reply:
    """`reply` with its quotes in the script `locale` reads, or the one an admin `chosen` for the channel."""
    script = chosen or script_for(locale)
    if script == "simplified":
        return reply
    if isinstance(reply, Results):
        return replace(reply, quotes=tuple(in_script(q, script) for q in reply.quotes))
    if isinstance(reply, Context):
        return Context(in_script(reply.quote, script))
    return reply


async def shown(commands: Commands, reply: Reply, locale: str | None, channel: str | None) -> Reply:
    """`reply` as this reader sees it in this channel: the script an admin chose there, else their own.

    The labels follow (`wording.reading`), so a channel set to traditional reads 話題 and 來源 too.
    """
    chosen = await commands.channel_script(channel) if channel else None
    wording.reading(locale, chosen)
    return for_reader(reply, locale, chosen)


async def posted(commands: Commands, quote: Quote, channel: str) -> Quote:
    """A daily quote in the script an admin chose for the channel (simplified, as indexed, if none)."""
    chosen = await commands.channel_script(channel)
    return in_script(quote, chosen) if chosen else quote
