"""QuoteService: the one object every adapter talks to (search, random, show, daily, reload).

It holds one immutable Snapshot (`quotecore.snapshot`) and swaps it whole: reload asks the
builder for a new snapshot, validates it and replaces the reference; readers never lock and never
see a half-built corpus, and a failed build leaves the old snapshot serving. The service is
synchronous and does no I/O except in `load`/`reload`: adapters run those in a worker thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import random as _random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quotecore import daily as daily_rotation
from quotecore import paths
from quotecore.columns import PassageIds
from quotecore.errors import CorpusError, QueryError, UnknownSpeakerError
from quotecore.excerpt import DEFAULT_MAX_CHARS, excerpt, highlight
from quotecore.ingest import MAX_CORPUS_BYTES, MAX_FILE_BYTES
from quotecore.models import KINDS, CorpusStats, Quote, Speaker
from quotecore.search import Results
from quotecore.search import search as search_snapshot
from quotecore.snapshot import Snapshot, SnapshotBuilder
from quotecore.text import clean_chars, search_form
from quotecore.tokenize import default_cache_dir

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 500
MAX_SPEAKER_CHARS = 100

__all__ = ["MAX_QUERY_CHARS", "QuoteService", "ReloadReport", "Results", "Snapshot"]


@dataclass(frozen=True, slots=True)
class ReloadReport:
    """What a reload changed: the admin's reply is built from this."""

    documents_before: int
    documents_after: int
    passages_before: int
    passages_after: int
    added: int
    removed: int
    seconds: float
    documents: tuple[str, ...] = ()
    #: Passages that had to be segmented (the rest came from the token cache).
    tokenized: int = 0

    def summary(self) -> str:
        """One line for the admin: before → after, and how long it took."""
        return (
            f"documents {self.documents_before} → {self.documents_after}, "
            f"passages {self.passages_before} → {self.passages_after} "
            f"(+{self.added} −{self.removed}) in {self.seconds:.2f} s"
        )


def _id_changes(before: Snapshot | None, after: Snapshot) -> tuple[int, int]:
    """How many passage ids a reload added and removed (sorted id arrays compared, not 100k-string sets)."""
    old_keys, new_keys = _sorted_ids(before), _sorted_ids(after)
    if old_keys is None or new_keys is None:
        old = set(before.by_id) if before else set()
        new = set(after.by_id)
        return len(new - old), len(old - new)
    width = max(old_keys.dtype.itemsize, new_keys.dtype.itemsize, 1)
    old_keys, new_keys = old_keys.astype(f"S{width}"), new_keys.astype(f"S{width}")
    added = np.setdiff1d(new_keys, old_keys, assume_unique=True).size
    return int(added), int(np.setdiff1d(old_keys, new_keys, assume_unique=True).size)


def _tally(codes: np.ndarray, name: Callable[[int], str]) -> Counter[str]:
    """Counts of a code array by name, in order of first appearance (how `most_common` lists ties)."""
    values, first, counts = np.unique(codes, return_index=True, return_counts=True)
    out: Counter[str] = Counter()
    for at in np.argsort(first, kind="stable").tolist():
        out[name(int(values[at]))] += int(counts[at])
    return out


def _sorted_ids(snapshot: Snapshot | None) -> np.ndarray | None:
    if snapshot is None:
        return np.zeros(0, dtype="S1")
    ids = snapshot.by_id
    return ids.keys if isinstance(ids, PassageIds) else None


class QuoteService:
    """Search and everything else over the current snapshot; see the module docstring."""

    def __init__(
        self,
        seeds_dir: str | Path | None = None,
        config_dir: str | Path | None = None,
        cache_dir: str | Path | None = None,
        max_file_bytes: int = MAX_FILE_BYTES,
        max_corpus_bytes: int = MAX_CORPUS_BYTES,
    ) -> None:
        self.seeds_dir = paths.seeds_dir(seeds_dir)
        self.config_dir = paths.config_dir(config_dir)
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.builder = SnapshotBuilder(
            self.seeds_dir, self.config_dir, self.cache_dir, max_file_bytes, max_corpus_bytes
        )
        self._snapshot: Snapshot | None = None
        self._reload_lock = threading.Lock()

    # -- loading -------------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        """The current snapshot; readers take it once and never see a half-built one."""
        snapshot = self._snapshot
        if snapshot is None:
            raise RuntimeError("QuoteService.load() has not been called")
        return snapshot

    @property
    def loaded(self) -> bool:
        """Whether a snapshot exists (load() has succeeded once)."""
        return self._snapshot is not None

    def load(self) -> ReloadReport:
        """Build the first snapshot (or rebuild); raises CorpusError and keeps the old one on failure."""
        return self.reload()

    def reload(self) -> ReloadReport:
        """Build a new snapshot in the calling thread and swap it in; on CorpusError keep the old one."""
        with self._reload_lock:
            before = self._snapshot
            started = time.perf_counter()
            new = self._build()
            if before is not None and not before.empty and new.empty:
                raise CorpusError(str(self.seeds_dir), None, "no seed files found; keeping the current corpus")
            self._snapshot = new
            seconds = time.perf_counter() - started
            added, removed = _id_changes(before, new)
            report = ReloadReport(
                documents_before=len(before.documents) if before else 0,
                documents_after=len(new.documents),
                passages_before=len(before.passages) if before else 0,
                passages_after=len(new.passages),
                added=added,
                removed=removed,
                seconds=seconds,
                tokenized=self.builder.tokenized,
                documents=tuple(d.title for d in new.documents.values()),
            )
            log.info(
                "corpus loaded: %s (%d passages segmented, the rest from the token cache)",
                report.summary(),
                report.tokenized,
            )
            return report

    def _build(self) -> Snapshot:
        return self.builder.build()

    # -- speakers ------------------------------------------------------------------------------

    def speakers(self) -> list[Speaker]:
        """Every configured speaker, in config order (autocomplete lists them)."""
        return list(self.snapshot.speakers.values())

    def resolve_speaker(self, name: str) -> Speaker:
        """Any alias, Chinese or English, any case or script, or raise with the known names."""
        snap = self.snapshot
        if len(name) > MAX_SPEAKER_CHARS:  # no alias is this long: refuse before normalizing a megabyte
            raise UnknownSpeakerError(name[:MAX_SPEAKER_CHARS], [s.display for s in snap.speakers.values()])
        speaker_id = snap.aliases.get(search_form(name).replace(" ", "")) or snap.aliases.get(search_form(name))
        if speaker_id is None:
            known = [s.display for s in snap.speakers.values()]
            raise UnknownSpeakerError(name, known)
        return snap.speakers[speaker_id]

    # -- queries -------------------------------------------------------------------------------

    @staticmethod
    def validate_query(query: str) -> str:
        """The cleaned query, or QueryError with a message fit to show a user."""
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError(f"query too long ({len(query)} characters; the limit is {MAX_QUERY_CHARS})")
        cleaned = clean_chars(query.replace("\n", " ").replace("\r", " "))
        if not cleaned:
            raise QueryError("empty query: give a few words to search for")
        return cleaned

    def search(
        self,
        query: str,
        speaker: str | None = None,
        limit: int = 5,
        offset: int = 0,
        max_chars: int = DEFAULT_MAX_CHARS,
        explain: bool = False,
    ) -> Results:
        """Best-matching quotes (`quotecore.search`); no match is an empty result, never the least-bad passage."""
        query = self.validate_query(query)
        snap = self.snapshot
        who = self.resolve_speaker(speaker).id if speaker else None
        return search_snapshot(snap, query, who, limit, offset, max_chars, explain)

    def show(self, passage_id: str, terms: Iterable[str] = ()) -> Quote | None:
        """The whole passage (for "Context"), optionally with the query's words highlighted."""
        snap = self.snapshot
        index = snap.by_id.get(passage_id.strip())
        if index is None:
            return None
        passage = snap.passages[index]
        words = [search_form(t) for t in terms]
        return snap.quote(passage, passage.text, spans=highlight(passage.text, words))

    def random(self, speaker: str | None = None, rng: _random.Random | None = None) -> Quote | None:
        """A random quotable passage (someone's own words), optionally from one speaker."""
        snap = self.snapshot
        who = self.resolve_speaker(speaker).id if speaker else None
        if snap.layout is None:
            return None
        # Rows, not Passage objects: only the one picked is made.
        rows = np.flatnonzero(snap.layout.quotable)
        if who:
            rows = rows[snap.layout.speaker[rows] == snap.layout.speaker_ids.index(who)]
        if not rows.size:
            return None
        passage = snap.passages[(rng or _random).choice(rows.tolist())]
        return snap.quote(passage, excerpt(passage)[0])

    def daily(self, date: dt.date, eligible: Sequence[str] | None = None) -> Quote | None:
        """The excerpt a post on `date` carries; `eligible` lets a persistent rotation pick among fewer."""
        snap = self.snapshot
        pool = list(snap.eligible) if eligible is None else [i for i in eligible if i in snap.by_id]
        chosen = daily_rotation.pick(pool, date)
        if chosen is None:
            return None
        passage = snap.passages[snap.by_id[chosen]]
        return snap.quote(passage, excerpt(passage)[0])

    def quote_for(self, passage_id: str) -> Quote | None:
        """The chat-sized excerpt (no query) of a passage by id: what a post of that passage shows."""
        snap = self.snapshot
        index = snap.by_id.get(passage_id)
        if index is None:
            return None
        passage = snap.passages[index]
        return snap.quote(passage, excerpt(passage)[0])

    def passages(self) -> list[Quote]:
        """Every passage, whole (`quotebot passages --json`)."""
        snap = self.snapshot
        return [snap.quote(p, p.text) for p in snap.passages]

    def _speaker_display(self, code: int) -> str:
        snap = self.snapshot
        if code < 0 or snap.layout is None:
            return "(narration, nobody)"
        return snap.speakers[snap.layout.speaker_ids[code]].display

    def stats(self) -> CorpusStats:
        """Counts by speaker and kind, and what cleaning dropped."""
        snap = self.snapshot
        by_speaker: Counter[str] = Counter()
        by_kind: Counter[str] = Counter()
        if snap.layout is not None:
            by_speaker = _tally(snap.layout.speaker, self._speaker_display)
            by_kind = _tally(snap.layout.kind, KINDS.__getitem__)
        return CorpusStats(
            documents=len(snap.documents),
            passages=len(snap.passages),
            by_speaker=dict(by_speaker.most_common()),
            by_kind={k: by_kind.get(k, 0) for k in KINDS},
            drops=snap.drops,
        )
