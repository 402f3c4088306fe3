"""Replies in the reader's script: the same search, shown in simplified or traditional characters.

The command layer answers in the corpus's own (simplified) form; just before rendering, each
surface hands over the reader's locale (Discord's interaction locale, Slack's user locale) and
the quotes are converted for that reader. Paging state and passage ids stay script-free, so an
"Another" clicked by a reader in Taipei continues the same search as the asker's in Shanghai.
"""

from __future__ import annotations

from dataclasses import replace

from bots.commands import Context, Reply, Results
from quotecore import Script, in_script, script_for


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
