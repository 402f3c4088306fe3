"""Which passages may be a daily excerpt, and the stateless rotation over them.

The rotation is a pure function of (eligible ids, date): every process, the CLI included, agrees
on a day's pick without sharing state, and within one cycle of N days no passage comes twice.
The scheduler layers a persistent rotation on top when the corpus changes between days.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from quotecore.models import QUOTABLE_KINDS, Passage

EPOCH = dt.date(2024, 1, 1)
MIN_CHARS = 30
MAX_CHARS = 280


def is_eligible(passage: Passage) -> bool:
    """Someone's own words, surely theirs, long enough to stand alone, and not an intro ending in a colon.

    Never a question, a lead-in or the article's narration: `/quote` alone and the daily post
    present what they pick as a person's quote.
    """
    text = passage.text.rstrip()
    return (
        passage.kind in QUOTABLE_KINDS
        and passage.attribution == "certain"
        and passage.speaker_id is not None
        and len(text) >= MIN_CHARS
        and not text.endswith((":", "："))
    )


def _order(ids: Sequence[str], cycle: int) -> list[str]:
    order = sorted(ids, key=lambda i: hashlib.blake2b(f"{cycle}:{i}".encode(), digest_size=8).digest())
    if cycle > 0 and len(order) > 2:
        previous_last = sorted(ids, key=lambda i: hashlib.blake2b(f"{cycle - 1}:{i}".encode(), digest_size=8).digest())[
            -1
        ]
        if order[0] == previous_last:  # no repeat across the boundary between two cycles
            order[0], order[1] = order[1], order[0]
    return order


def pick(ids: Sequence[str], date: dt.date) -> str | None:
    """The id for `date`: day n of the epoch is position n mod N of cycle n div N's shuffled order."""
    unique = sorted(set(ids))
    if not unique:
        return None
    cycle, position = divmod((date - EPOCH).days, len(unique))
    return _order(unique, cycle)[position]
