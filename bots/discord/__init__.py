"""The Discord adapter: slash commands and buttons over the command layer, nothing else.

`DiscordAdapter` serves it in `quotebot run`; `create_bot` is the one factory (the tests use it);
`post_quote` is the daily scheduler's way in.
"""

from bots.discord.bot import DiscordAdapter, QuoteBot, create_bot, post_quote, sync_commands

__all__ = ["DiscordAdapter", "QuoteBot", "create_bot", "post_quote", "sync_commands"]
