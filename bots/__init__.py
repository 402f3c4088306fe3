"""quotebot's adapters: Discord, Slack, console, and the daily scheduler.

What every command does and says is `bots.commands` (with `bots.wording`), over the core's public
API (`from quotecore import …`); the adapters only render its replies and send them.
"""
