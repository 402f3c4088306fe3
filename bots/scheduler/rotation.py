"""Which quote a day's post carries: a persistent rotation with no repeats until all were used.

A day's pick is stored per scope (one shared scope, or one per target), so every process and every
restart agrees on it. Within a cycle, the pick comes from the eligible quotes not used yet in that
cycle, in the core's deterministic order for the date; when none are left, a new cycle starts
(without repeating the last quote across the boundary). Quotes added by a reload join the current
cycle at once; quotes removed simply stop being candidates. With an empty history the pick equals
the core's stateless `QuoteService.daily(date)`, so `quotebot daily` agrees with a fresh database.
"""

from __future__ import annotations

import datetime as dt
import logging

from bots.scheduler.store import Store
from quotecore import QuoteService

log = logging.getLogger(__name__)

SHARED_SCOPE = "shared"


class Rotation:
    """Picks over the service's current eligible quotes, with history from the store."""

    def __init__(self, store: Store, service: QuoteService) -> None:
        self.store = store
        self.service = service

    def pick(self, scope: str, date: dt.date, *, commit: bool) -> str | None:
        """The passage id for `date` in `scope`; with commit, stored so that it never changes."""
        eligible = list(self.service.snapshot.eligible)
        if not eligible:
            return None
        history = self.store.picks(scope)
        for day, _cycle, passage_id in history:
            if day == date and passage_id in eligible:
                return passage_id
        before = [(d, c, p) for d, c, p in history if d < date]
        cycle = max((c for _, c, _ in before), default=0)
        used = {p for _, c, p in before if c == cycle}
        remaining = [i for i in eligible if i not in used]
        if not remaining:
            cycle += 1
            last = before[-1][2] if before else None
            remaining = [i for i in eligible if i != last] or eligible
        quote = self.service.daily(date, eligible=remaining)
        if quote is None:
            return None
        if not commit:
            return quote.id
        return self.store.save_pick(scope, date, cycle, quote.id)
