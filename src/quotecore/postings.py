"""Posting lists: which documents hold each term, how often, counted in slices and stored flat.

One Python object per term would cost hundreds of megabytes and a second of build time at 100k
passages; a query only ever looks at a handful of terms. So every term's postings live in a few
flat arrays (compressed sparse rows), counted from the documents a slice at a time, and turned
into BM25 weights (`quotecore.bm25`) only for the terms a query touches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Protocol

import numpy as np

from quotecore import bm25


@dataclass(frozen=True, slots=True)
class Posting:
    """Where a term occurs, and what it adds to each of those documents' BM25 score."""

    docs: np.ndarray  # intp document indices, ascending
    weights: np.ndarray  # float64 idf * tf * (k1 + 1) / (tf + norm): the term's share of the score


#: Posting entries whose weights (and intp documents) a table keeps between queries (16 MiB at most).
RECENT_POSTINGS = 1 << 20


class PostingTable:
    """Every term's posting list in flat arrays (compressed sparse rows), sliced on demand.

    One Python object per term would cost hundreds of megabytes and a second of build time at
    100k passages; a query only ever looks at a handful of terms. Term frequencies are kept as
    small integers and turned into BM25 weights only for the terms a query touches: float64
    weights for every posting would double the index's memory for numbers that are rarely read.
    """

    def __init__(
        self,
        vocab: dict[str, int],
        starts: np.ndarray,
        ends: np.ndarray,
        docs: np.ndarray,
        tfs: np.ndarray,
        idf: np.ndarray,
        norm: np.ndarray,
        params: bm25.Params,
    ) -> None:
        self._vocab = vocab  # term -> row; every row has at least one document
        self._starts, self._ends = starts, ends
        self._docs, self._tfs = docs, tfs
        self._idf, self._norm, self._params = idf, norm, params
        self._recent: dict[str, Posting] = {}
        self._recent_size = 0

    def get(self, term: str) -> Posting | None:
        """The term's posting list, or None for a term no document holds.

        Weights are computed on demand and the recent ones kept (at most RECENT_POSTINGS entries
        in all): words recur across queries, and "Another" asks the same query again.
        """
        posting = self._recent.get(term)
        if posting is not None:
            return posting
        row = self._vocab.get(term)
        if row is None:
            return None
        a, b = int(self._starts[row]), int(self._ends[row])
        # As intp, once: numpy converts narrower indices on every use, and a query's words each
        # scatter and gather with them several times (a copy per use cost more than the use).
        docs = self._docs[a:b].astype(np.intp)
        posting = Posting(docs, bm25.weights(self._tfs[a:b], self._norm[docs], float(self._idf[row]), self._params))
        if self._recent_size + docs.size > RECENT_POSTINGS:
            self._recent, self._recent_size = {}, 0
        self._recent[term] = posting
        self._recent_size += docs.size
        return posting

    def __getitem__(self, term: str) -> Posting:
        posting = self.get(term)
        if posting is None:
            raise KeyError(term)
        return posting

    def __contains__(self, term: object) -> bool:
        return term in self._vocab

    def __len__(self) -> int:
        return len(self._vocab)

    def row(self, term: str) -> int | None:
        """The term's row, or None for a term no document holds."""
        return self._vocab.get(term)

    def df(self, row: int) -> int:
        """How many documents hold the term of `row` (no weights computed)."""
        return int(self._ends[row] - self._starts[row])

    def idf(self, row: int) -> float:
        """The idf of the term of `row`."""
        return float(self._idf[row])

    def idfs(self, terms: Sequence[str]) -> list[float | None]:
        """The idf of each term, None for a term no document holds: one gather for a long query's words."""
        rows = [self._vocab.get(term) for term in terms]
        known = [row for row in rows if row is not None]
        values = iter(self._idf[known].tolist() if known else ())
        return [None if row is None else next(values) for row in rows]

    def terms(self) -> list[str]:
        """Every term, in row order."""
        return list(self._vocab)

    def rows(self) -> dict[str, int]:
        """Term → row, a copy the caller may extend (a merge numbers new terms after these)."""
        return dict(self._vocab)

    def arrays(self) -> dict[str, np.ndarray]:
        """The table's own arrays, for saving (the terms are saved by the index)."""
        return {
            "starts": np.asarray(self._starts),
            "ends": np.asarray(self._ends),
            "docs": self._docs,
            "tfs": self._tfs,
            "idf": self._idf,
        }


def _smallest_uint(values: np.ndarray) -> np.ndarray:
    """Counts in the narrowest unsigned type that holds them (almost always uint8)."""
    top = int(values.max()) if values.size else 0
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return values.astype(dtype)
    return values.astype(np.uint64)


#: Documents counted at a time: bounds the temporary arrays of a build to a slice of the corpus.
CHUNK = 1024


class Scratch(Protocol):
    """Where a build puts its largest arrays (`quotecore.cache.ScratchArrays`: unlinked files)."""

    def empty(self, size: int, dtype: np.dtype) -> np.ndarray:
        """A writable array of `size` elements."""
        ...

    def release(self) -> None:
        """The arrays are filled: their pages need not stay in this process's memory."""
        ...


class _InMemory:
    """Scratch for builds with nowhere to write: ordinary arrays."""

    def empty(self, size: int, dtype: np.dtype) -> np.ndarray:
        return np.empty(size, dtype=dtype)

    def release(self) -> None:
        pass


#: Slices placed between two `Scratch.release()` calls. Each slice writes all over the arrays, so
#: releasing after every one costs page faults (a third more build time at 100k passages); every
#: eighth kept the same peak.
RELEASE_EVERY = 8


@dataclass(frozen=True, slots=True)
class _Slice:
    """One slice of documents' (term, document, count) triples, grouped by term."""

    first: int  # the slice's first document
    lengths: list[int]  # each document's number of terms
    terms: np.ndarray  # int64 distinct terms of the slice, ascending
    runs: np.ndarray  # int64 how many of the slice's documents hold each of them
    docs: np.ndarray  # int32 documents, ascending within each term's run
    counts: np.ndarray  # smallest uint: the term's count in that document
    #: For the terms this slice numbered first (in number order): where each first occurs in
    #: its first document (`Index.first`).
    first_keys: np.ndarray


def _run_starts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values begins in a sorted array (sorting plus this beats np.unique)."""
    if not ordered.size:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])


def _group(first: int, lengths: list[int], ids: np.ndarray, owner: np.ndarray, first_keys: np.ndarray) -> _Slice:
    """A slice's term numbers and their documents (offsets in the slice) as (term, document, count)."""
    width = len(lengths)
    ordered = np.sort(ids * width + owner)
    begins = _run_starts(ordered)
    pairs, count = ordered[begins], np.diff(np.r_[begins, ordered.size])
    term = pairs // width  # ascending: runs of equal terms
    begins = _run_starts(term)
    terms, runs = term[begins], np.diff(np.r_[begins, term.size])
    docs = (pairs % width + first).astype(np.int32)
    return _Slice(first, lengths, terms, runs, docs, _smallest_uint(count), first_keys)


def _first_occurrences(ids: np.ndarray, base: int, keys: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Terms numbered from `base` on, in number order: each one's position in its first document.

    `keys` are the tokens' positions within their documents; the slice's first document holding
    a new term, and the smallest position there, is where it first occurs.
    """
    new = np.flatnonzero(ids >= base)
    if not new.size:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((keys[new], owner[new], ids[new]))
    picked = new[order][_run_starts(ids[new][order])]
    return keys[picked].astype(np.int64)


def _slices(documents: Sequence[Sequence[str]], vocab: dict[str, int]) -> Iterator[_Slice]:
    """Each slice of documents counted, numbering terms not yet in `vocab` as they first occur."""
    for first in range(0, len(documents), CHUNK):
        chunk = [documents[i] for i in range(first, min(first + CHUNK, len(documents)))]
        lengths = [len(tokens) for tokens in chunk]
        # Dict calls that run in C per slice: a Python loop per token is several times slower.
        fresh = [term for term in dict.fromkeys(chain.from_iterable(chunk)) if term not in vocab]
        vocab.update(zip(fresh, range(len(vocab), len(vocab) + len(fresh)), strict=True))
        ids = np.fromiter(map(vocab.__getitem__, chain.from_iterable(chunk)), np.int64, sum(lengths))
        del chunk
        owner = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        # A word's key is its position in its document.
        keys = np.arange(ids.size, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        yield _group(first, lengths, ids, owner, _first_occurrences(ids, len(vocab) - len(fresh), keys, owner))


def _count_pairs(
    passes: Callable[[], Iterator[_Slice]], vocabulary: Callable[[], int], scratch: Scratch | None
) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Document lengths, document frequencies, every (document, count) pair, and each term's first key.

    `passes()` reads the documents a slice at a time, numbering terms as they first occur (the
    order BM25Okapi fills its `nd` in); `vocabulary()` is how many terms are numbered so far. The
    pairs come out grouped by term (in term-number order), documents ascending within a term: the
    layout of the posting table. The first pass numbers the terms and counts their documents, the
    second places each pair in its final row. Keeping every slice's pairs between the two would
    save the second read but hold the pairs twice at the peak of a rebuild.
    """
    scratch = scratch or _InMemory()
    doc_len: list[int] = []
    df = np.zeros(0, dtype=np.int64)
    widest: np.dtype = np.dtype(np.uint8)
    first_keys: list[np.ndarray] = []
    for piece in passes():
        first_keys.append(piece.first_keys)
        doc_len.extend(piece.lengths)
        df = np.concatenate((df, np.zeros(vocabulary() - df.size, dtype=np.int64)))
        df[piece.terms] += piece.runs
        widest = np.result_type(widest, piece.counts.dtype)
    doc_of = scratch.empty(int(df.sum()), np.dtype(np.int32))
    count_of = scratch.empty(doc_of.size, widest)
    cursor = np.cumsum(df) - df  # the next free row of each term
    for number, piece in enumerate(passes(), 1):  # in document order: documents stay ascending
        within = np.arange(piece.docs.size) - np.repeat(np.cumsum(piece.runs) - piece.runs, piece.runs)
        rows = np.repeat(cursor[piece.terms], piece.runs) + within
        doc_of[rows] = piece.docs
        count_of[rows] = piece.counts
        cursor[piece.terms] += piece.runs
        if number % RELEASE_EVERY == 0:
            scratch.release()
    scratch.release()
    return doc_len, df, doc_of, count_of, np.concatenate(first_keys or [np.zeros(0, dtype=np.int64)])
