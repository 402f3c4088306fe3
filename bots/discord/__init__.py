"""The Discord adapter: slash commands and buttons over QuoteService, nothing else.

`create_bot` is the one factory (used by `quotebot run` and by the tests); `serve` runs it until
stopped; `post_quote` is the daily scheduler's way in.
"""

from bots.discord.bot import QuoteBot, create_bot, post_quote, serve, sync_commands
from bots.discord.sync import invite_url

__all__ = ["QuoteBot", "create_bot", "invite_url", "post_quote", "serve", "sync_commands"]
