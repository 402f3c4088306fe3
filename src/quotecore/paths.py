"""Where the corpus and the core's config live when nobody says otherwise.

Order: explicit argument, environment (QUOTEBOT_SEEDS, QUOTEBOT_CONFIG_DIR), the current
directory's seeds/ and config/ (a checkout), then the copy bundled in the installed package,
so `quotebot search` works from any directory after a plain `pip install`.
"""

from __future__ import annotations

import os
from pathlib import Path

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


def seeds_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where the interview files are: explicit, QUOTEBOT_SEEDS, ./seeds, bundled copy, source tree."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("QUOTEBOT_SEEDS")
    return Path(env) if env else _find("seeds", "sources.toml")


def config_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where the core config is: explicit, QUOTEBOT_CONFIG_DIR, ./config, bundled copy, source tree."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("QUOTEBOT_CONFIG_DIR")
    return Path(env) if env else _find("config", "speakers.toml")
