"""quotecore: the corpus, cleaning, search and daily rotation behind every quotebot adapter.

This module is the public API: adapters import from `quotecore` and nothing deeper, so the
modules behind it can be split and renamed without touching a chat platform. Names are loaded
on first use (PEP 562), so `import quotecore` stays cheap (no jieba, no OpenCC) and nothing is
loaded on import: the corpus is reloadable and lives in a QuoteService snapshot. (No eager
imports for type checkers either: the modules behind these names import `quotecore` themselves,
and a TYPE_CHECKING block here would close that loop.)
"""

from __future__ import annotations

import importlib
from typing import Any

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
    "clean_chars": "quotecore.text",
    "printable": "quotecore.errors",
    "MAX_FILE_BYTES": "quotecore.ingest",
    "MAX_CORPUS_BYTES": "quotecore.ingest",
    "cache_dir": "quotecore.paths",
    "config_dir": "quotecore.paths",
    "seeds_dir": "quotecore.paths",
    "in_script": "quotecore.scripts",
    "convert": "quotecore.scripts",
    "Script": "quotecore.scripts",
    "SCRIPTS": "quotecore.scripts",
    "script_for": "quotecore.scripts",
}

__all__ = [
    "KINDS",
    "MAX_CORPUS_BYTES",
    "MAX_FILE_BYTES",
    "SCRIPTS",
    "CorpusError",
    "Document",
    "Passage",
    "QueryError",
    "Quote",
    "QuoteError",
    "QuoteService",
    "ReloadReport",
    "Results",
    "Script",
    "Speaker",
    "UnknownSpeakerError",
    "cache_dir",
    "clean_chars",
    "config_dir",
    "convert",
    "in_script",
    "mark",
    "printable",
    "script_for",
    "search_form",
    "seeds_dir",
    "truncate",
]


def __getattr__(name: str) -> Any:
    """Import the defining module on first use of a public name."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'quotecore' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names too, for completion and `help()`."""
    return sorted([*globals(), *__all__])
