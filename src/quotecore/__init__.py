"""quotecore: the corpus, cleaning, search and daily rotation behind every quotebot adapter.

This module is the public API: adapters import from `quotecore` and nothing deeper, so the
modules behind it can be split and renamed without touching a chat platform. Names are loaded
on first use (PEP 562), so `import quotecore` stays cheap (no jieba, no OpenCC) and nothing is
loaded on import: the corpus is reloadable and lives in a QuoteService snapshot.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name → the module that defines it.
_EXPORTS: dict[str, str] = {
    "QuoteService": "quotecore.service",
    "Results": "quotecore.service",
    "ReloadReport": "quotecore.service",
    "Quote": "quotecore.models",
    "Speaker": "quotecore.models",
    "Document": "quotecore.models",
    "Passage": "quotecore.models",
    "KINDS": "quotecore.models",
    "QuoteError": "quotecore.errors",
    "QueryError": "quotecore.errors",
    "UnknownSpeakerError": "quotecore.errors",
    "CorpusError": "quotecore.errors",
    "mark": "quotecore.excerpt",
    "truncate": "quotecore.excerpt",
    "search_form": "quotecore.text",
    "cache_dir": "quotecore.paths",
    "config_dir": "quotecore.paths",
    "seeds_dir": "quotecore.paths",
}

__all__ = [
    "KINDS",
    "CorpusError",
    "Document",
    "Passage",
    "QueryError",
    "Quote",
    "QuoteError",
    "QuoteService",
    "ReloadReport",
    "Results",
    "Speaker",
    "UnknownSpeakerError",
    "cache_dir",
    "config_dir",
    "mark",
    "search_form",
    "seeds_dir",
    "truncate",
]

if TYPE_CHECKING:  # the same names, eagerly, for type checkers only (no module imports quotecore back)
    from quotecore.errors import CorpusError, QueryError, QuoteError, UnknownSpeakerError
    from quotecore.excerpt import mark, truncate
    from quotecore.models import KINDS, Document, Passage, Quote, Speaker
    from quotecore.paths import cache_dir, config_dir, seeds_dir
    from quotecore.service import QuoteService, ReloadReport, Results
    from quotecore.text import search_form


def __getattr__(name: str) -> Any:
    """Import the defining module on first use of a public name."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'quotecore' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
