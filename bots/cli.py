"""The `quotebot` entry point: the core's commands plus the ones that need the chat adapters.

Adapter modules are imported only by the commands that use them, so `quotebot search` never
pays for importing discord.py or slack-bolt.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from quotecore.cli import build_parser as build_core_parser
from quotecore.cli import run


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_core_parser()
    return run(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
