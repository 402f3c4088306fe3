"""Where the corpus, the core's config and the caches live when nobody says otherwise.

Order: explicit argument, environment, the current directory's seeds/ and config/ (a checkout),
then the copy bundled in the installed package, so `quotebot search` works from any directory
after a plain `pip install`.

The environment variables are the ones `quotebot run` and `check` read through bots.settings
(section `corpus`, prefix QUOTEBOT_CORPUS_): one set, documented once in `.env.example`, so
`search`, `stats`, `check` and `run` always see the same corpus.
"""

from __future__ import annotations

import os
from pathlib import Path

SEEDS_ENV = "QUOTEBOT_CORPUS_SEEDS_DIR"
CONFIG_ENV = "QUOTEBOT_CORPUS_CONFIG_DIR"
CACHE_ENV = "QUOTEBOT_CORPUS_CACHE_DIR"

_PACKAGE = Path(__file__).resolve().parent
_CANDIDATES = (
    Path.cwd,
    lambda: _PACKAGE / "_bundled",  # inside a wheel
    lambda: _PACKAGE.parent.parent,  # an editable install of the source tree
)


def _find(name: str, marker: str) -> Path:
    for candidate in _CANDIDATES:
        path = candidate() / name
        if (path / marker).exists():
            return path
    return Path.cwd() / name


def _explicit_or_env(explicit: str | os.PathLike[str] | None, variable: str) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get(variable)
    return Path(env) if env else None


def seeds_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where the interview files are: explicit, QUOTEBOT_CORPUS_SEEDS_DIR, ./seeds, bundled copy."""
    return _explicit_or_env(explicit, SEEDS_ENV) or _find("seeds", "sources.toml")


def config_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where the core config is: explicit, QUOTEBOT_CORPUS_CONFIG_DIR, ./config, bundled copy."""
    return _explicit_or_env(explicit, CONFIG_ENV) or _find("config", "speakers.toml")


def cache_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where derived files go: explicit, QUOTEBOT_CORPUS_CACHE_DIR, else the tokenizer's default."""
    found = _explicit_or_env(explicit, CACHE_ENV)
    if found is not None:
        return found.expanduser()
    from quotecore.tokenize import default_cache_dir  # jieba is imported only when needed

    return default_cache_dir()


def size_limit(variable: str, default: int) -> int:
    """A size limit in bytes from a QUOTEBOT_CORPUS_MAX_*_MB variable (MiB), or the default.

    `quotebot run` and `check` read the same variables through bots.settings; a value that is not
    a positive number is ignored here (with the default kept) and reported by `check`.
    """
    try:
        megabytes = float(os.environ.get(variable, ""))
    except ValueError:
        return default
    return int(megabytes * 2**20) if megabytes > 0 else default
