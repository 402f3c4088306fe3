"""quotebot's adapters: Discord, Slack, console, and the daily scheduler.

Transport and rendering only: every answer comes from quotecore.QuoteService.
"""
