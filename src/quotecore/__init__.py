"""quotecore: the corpus, cleaning, search and daily rotation behind every quotebot adapter.

Nothing is loaded on import: the corpus is reloadable and lives in a QuoteService snapshot.
"""

__version__ = "0.1.0"
