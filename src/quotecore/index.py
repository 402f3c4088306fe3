"""BM25 over an inverted index: only passages that share a query term are scored.

rank-bm25's `BM25Okapi` supplies the statistics (idf with its epsilon floor, document lengths,
average length, k1, b); scoring walks the postings of the query's terms instead of every
document, with the same formula as `BM25Okapi.get_scores`, so the scores are identical to a full
pass (tests check it) while the work grows with the matches, not with the corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Protocol

import numpy as np
from rank_bm25 import BM25Okapi

from quotecore.tokenize import RUN_SEP


@dataclass(frozen=True, slots=True)
class Posting:
    """Where a term occurs, and what it adds to each of those documents' BM25 score."""

    docs: np.ndarray  # int32 document indices, ascending
    weights: np.ndarray  # float64 idf * tf * (k1 + 1) / (tf + norm): the term's share of the score


class _Frequencies:
    """Document frequencies by term row, in the shape `BM25Okapi._calc_idf` reads (`nd.items()`)."""

    def __init__(self, df: np.ndarray) -> None:
        self._df = df

    def items(self) -> Iterator[tuple[int, int]]:
        return zip(range(len(self._df)), self._df.tolist(), strict=True)


class _IdfRows:
    """Where `BM25Okapi._calc_idf` writes each term's idf: one float64 slot per term row."""

    def __init__(self, size: int) -> None:
        self.values = np.zeros(size)

    def __setitem__(self, row: int, idf: float) -> None:
        self.values[row] = idf

    def __len__(self) -> int:
        return len(self.values)


#: BM25Okapi's own defaults. b (length normalisation) was measured on the natural-query sets at
#: 0.3, 0.5, 0.75 and 0.9 (README, "How it finds the quote"): 0.75 kept.
K1 = 1.5
B = 0.75


class CorpusStatistics(BM25Okapi):
    """rank-bm25's BM25Okapi, fed document lengths and document frequencies we already counted.

    BM25Okapi keeps one dict per document (`doc_freqs`) only to serve `get_scores`, which we never
    call: at 100k passages those dicts cost gigabytes and most of the build time. Its `nd` and
    `idf` dicts, keyed by term, would still cost a few hundred bytes per distinct term (a million
    character grams at 100k passages), so this subclass hands `_calc_idf` (idf with the epsilon
    floor) term rows in place of terms, in the same order, and collects the idf into an array.
    idf, avgdl, k1, b and epsilon are rank-bm25's own numbers; `get_scores` is unavailable (tests
    and the benchmark compare against a full BM25Okapi built separately).
    """

    def __init__(self, doc_len: list[int], df: np.ndarray) -> None:
        self._counted = (doc_len, df)
        super().__init__([], k1=K1, b=B)
        self.idf_rows = self.idf.values
        del self._counted, self.idf

    def _initialize(self, corpus: object) -> _Frequencies:
        doc_len, df = self._counted
        self.doc_len = doc_len
        self.corpus_size = len(doc_len)
        self.avgdl = sum(doc_len) / self.corpus_size
        self.idf = _IdfRows(len(df))
        return _Frequencies(df)


#: Joins the terms when an index is saved (terms never contain it: cleaning drops control characters).
SEPARATOR = "\x1f"


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
        k1: float,
    ) -> None:
        self._vocab = vocab  # term -> row; every row has at least one document
        self._starts, self._ends = starts, ends
        self._docs, self._tfs = docs, tfs
        self._idf, self._norm, self._k1 = idf, norm, k1

    def get(self, term: str) -> Posting | None:
        """The term's posting list, or None for a term no document holds."""
        row = self._vocab.get(term)
        if row is None:
            return None
        a, b = int(self._starts[row]), int(self._ends[row])
        docs = self._docs[a:b]
        tf = self._tfs[a:b].astype(np.float64)
        # The same expression, in the same order, as BM25Okapi.get_scores: identical floats.
        weights = tf * (self._k1 + 1)
        weights /= tf + self._norm[docs]
        weights *= float(self._idf[row])
        return Posting(docs, weights)

    def __getitem__(self, term: str) -> Posting:
        posting = self.get(term)
        if posting is None:
            raise KeyError(term)
        return posting

    def __contains__(self, term: object) -> bool:
        return term in self._vocab

    def __len__(self) -> int:
        return len(self._vocab)


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


def _run_starts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values begins in a sorted array (sorting plus this beats np.unique)."""
    if not ordered.size:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])


def _group(first: int, lengths: list[int], ids: np.ndarray, owner: np.ndarray) -> _Slice:
    """A slice's term numbers and their documents (offsets in the slice) as (term, document, count)."""
    width = len(lengths)
    ordered = np.sort(ids * width + owner)
    begins = _run_starts(ordered)
    pairs, count = ordered[begins], np.diff(np.r_[begins, ordered.size])
    term = pairs // width  # ascending: runs of equal terms
    begins = _run_starts(term)
    terms, runs = term[begins], np.diff(np.r_[begins, term.size])
    docs = (pairs % width + first).astype(np.int32)
    return _Slice(first, lengths, terms, runs, docs, _smallest_uint(count))


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
        yield _group(first, lengths, ids, np.repeat(np.arange(len(lengths), dtype=np.int64), lengths))


#: A bigram's key: this offset plus its two code points (21 bits each); a unigram's key is its code point.
_BIGRAM = 1 << 42
_CODE = (1 << 21) - 1


class _GramNumbering:
    """Gram keys numbered in order of first occurrence, kept as two sorted arrays, not a dict of strings."""

    def __init__(self) -> None:
        self._keys = np.zeros(0, dtype=np.int64)  # ascending
        self._numbers = np.zeros(0, dtype=np.int64)  # each key's number

    def __len__(self) -> int:
        return self._keys.size

    def number(self, keys: np.ndarray, where: np.ndarray) -> np.ndarray:
        """The numbers of `keys`, numbering unknown ones in order of `where` they first occur."""
        order = np.argsort(keys)
        ordered = keys[order]
        begins = _run_starts(ordered)
        unique = ordered[begins]
        at = np.searchsorted(self._keys, unique)
        known = at < self._keys.size
        known[known] = self._keys[at[known]] == unique[known]
        if not known.all():
            first = np.minimum.reduceat(where[order], begins)[~known]
            new = unique[~known]
            numbers = np.empty(new.size, dtype=np.int64)
            numbers[np.argsort(first)] = np.arange(self._keys.size, self._keys.size + new.size)
            self._keys = np.insert(self._keys, at[~known], new)
            self._numbers = np.insert(self._numbers, at[~known], numbers)
            at = np.searchsorted(self._keys, unique)
        ids = np.empty(keys.size, dtype=np.int64)
        ids[order] = np.repeat(self._numbers[at], np.diff(np.r_[begins, keys.size]))
        return ids

    def vocab(self) -> dict[str, int]:
        """Each gram as text, with its number."""
        keys = self._keys[np.argsort(self._numbers)].tolist()
        grams = [chr(k) if k < _BIGRAM else chr((k - _BIGRAM) >> 21) + chr(k & _CODE) for k in keys]
        return dict(zip(grams, range(len(grams)), strict=True))


def _gram_slices(forms: Sequence[str], numbering: _GramNumbering) -> Iterator[_Slice]:
    """Like `_slices` over `grams_of_form` of each form, with the grams computed as numbers in numpy.

    Each slice's forms become one array of code points; a unigram is a code point that is not a
    separator, a bigram two adjacent ones. Tokens are numbered in the order `grams_of_form` lists
    them (each run's unigrams, then its bigrams), so the index equals one built from the grams as
    strings, without creating a Python string per gram.
    """
    sep = ord(RUN_SEP)
    for first in range(0, len(forms), CHUNK):
        chunk = [forms[i] for i in range(first, min(first + CHUNK, len(forms)))]
        text = "".join(form + RUN_SEP for form in chunk)  # every document ends with a separator
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        width = len(chunk)
        owner = np.repeat(np.arange(width, dtype=np.int64), [len(form) + 1 for form in chunk])
        del chunk, text
        cut = points == sep
        index = np.arange(points.size)
        run_start = np.maximum.accumulate(np.where(np.r_[True, cut[:-1]], index, 0))
        run_end = np.minimum.accumulate(np.where(cut, index, points.size)[::-1])[::-1]
        uni = np.flatnonzero(~cut)
        bi = np.flatnonzero(~cut[:-1] & ~cut[1:])
        keys = np.concatenate((points[uni], _BIGRAM + (points[bi] << 21) + points[bi + 1]))
        # Where grams_of_form would list each gram: a run's unigrams, then its bigrams.
        where = np.concatenate((run_start[uni] + uni, run_end[bi] + bi))
        owners = np.concatenate((owner[uni], owner[bi]))
        lengths = np.bincount(owners, minlength=width).tolist()
        yield _group(first, lengths, numbering.number(keys, where), owners)


def _count_pairs(
    passes: Callable[[], Iterator[_Slice]], vocabulary: Callable[[], int], scratch: Scratch | None
) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray]:
    """Document lengths, document frequencies, and every (document, count) pair, from two passes.

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
    for piece in passes():
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
    return doc_len, df, doc_of, count_of


class Tokens(Sequence[list[str]]):
    """Documents' terms kept as one joined string each, split only while an index reads them.

    A list of strings per passage costs about 60 bytes per term; at 100k passages and their
    character grams that is gigabytes, for data that is only read once per build.
    """

    def __init__(self, joined: Sequence[str], sep: str) -> None:
        self._joined = joined
        self._sep = sep

    def __len__(self) -> int:
        return len(self._joined)

    def __getitem__(self, index: int) -> list[str]:  # type: ignore[override]
        text = self._joined[index]
        return text.split(self._sep) if text else []


class Index:
    """An immutable BM25 index over pre-tokenized documents (rank-bm25's tokenizer= is never used)."""

    def __init__(self, documents: Sequence[Sequence[str]], scratch: Scratch | None = None) -> None:
        vocab: dict[str, int] = {}
        counted = _count_pairs(lambda: _slices(documents, vocab), vocab.__len__, scratch)
        self._fill(len(documents), vocab, *counted)

    @classmethod
    def of_grams(cls, forms: Sequence[str], scratch: Scratch | None = None) -> Index:
        """The index of `grams_of_form` of each form, built in numpy.

        Equal to an `Index` over `grams_of_form` of each form (tests compare them); a Python string per gram was
        most of a 100k-passage rebuild's time and memory.
        """
        index = cls.__new__(cls)
        numbering = _GramNumbering()
        counted = _count_pairs(lambda: _gram_slices(forms, numbering), numbering.__len__, scratch)
        index._fill(len(forms), numbering.vocab(), *counted)
        return index

    def _fill(
        self,
        size: int,
        vocab: dict[str, int],
        doc_len: list[int],
        df: np.ndarray,
        doc_of: np.ndarray,
        counts: np.ndarray,
    ) -> None:
        self.size = size
        self.doc_len = np.zeros(0, np.int64)
        self.params = (0.0, 0.0, 0.0, 0.0)  # k1, b, epsilon, avgdl
        self.postings = PostingTable(
            {},
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int32),
            np.zeros(0, np.uint8),
            np.zeros(0),
            np.zeros(0),
            0.0,
        )
        if doc_of.size == 0:
            # BM25Okapi([]) divides by zero, and an all-empty corpus has avgdl 0: nothing can match.
            self._norm = np.zeros(0)
            return
        bm25 = CorpusStatistics(doc_len, df)
        self.doc_len = np.asarray(doc_len, dtype=np.int64)
        self.params = (bm25.k1, bm25.b, bm25.epsilon, bm25.avgdl)
        # The length part of BM25's denominator depends only on the document: compute it once.
        self._norm = bm25.k1 * (1 - bm25.b + bm25.b * self.doc_len.astype(np.float64) / bm25.avgdl)
        ends = np.cumsum(df)  # every numbered term occurs somewhere: no empty rows
        starts = ends - df
        self.postings = PostingTable(vocab, starts, ends, doc_of, counts, bm25.idf_rows, self._norm, bm25.k1)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Everything the index holds, as plain arrays (numbers and UTF-8 bytes, never objects)."""
        table = self.postings
        return {
            "size": np.array([self.size]),
            "terms": np.frombuffer(SEPARATOR.join(table._vocab).encode(), dtype=np.uint8),
            "starts": np.asarray(table._starts),
            "ends": np.asarray(table._ends),
            "docs": table._docs,
            "tfs": table._tfs,
            "norm": self._norm,
            "doc_len": self.doc_len,
            "idf": table._idf,
            "params": np.array(self.params),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Index:
        """The index `to_arrays` described, without numbering a single term again."""
        index = cls.__new__(cls)
        index.size = int(arrays["size"][0])
        raw = arrays["terms"].tobytes().decode()
        terms = raw.split(SEPARATOR) if raw else []
        del raw
        k1, b, epsilon, avgdl = (float(v) for v in arrays["params"])
        index.params = (k1, b, epsilon, avgdl)
        index.doc_len = arrays["doc_len"]
        index._norm = arrays["norm"]
        index.postings = PostingTable(
            dict(zip(terms, range(len(terms)), strict=True)),
            arrays["starts"],
            arrays["ends"],
            arrays["docs"],
            arrays["tfs"],
            arrays["idf"],
            index._norm,
            k1,
        )
        return index

    def terms(self) -> list[str]:
        """Every term the index holds (the homophone table is made from them)."""
        return list(self.postings._vocab)

    @property
    def avgdl(self) -> float:
        """rank-bm25's average document length (0 for an index with no terms)."""
        return self.params[3]

    def idf(self, term: str) -> float:
        """rank-bm25's idf for a term (with its epsilon floor), 0 for an unknown term."""
        row = self.postings._vocab.get(term)
        return 0.0 if row is None else float(self.postings._idf[row])

    def df(self, term: str) -> int:
        """In how many documents the term occurs (read off the row bounds: no weights computed)."""
        row = self.postings._vocab.get(term)
        return 0 if row is None else int(self.postings._ends[row] - self.postings._starts[row])

    def candidates(self, terms: Sequence[str]) -> np.ndarray:
        """Every document that holds at least one of the terms."""
        arrays = [self.postings[t].docs for t in set(terms) if t in self.postings]
        if not arrays:
            return np.zeros(0, dtype=np.int32)
        return np.unique(np.concatenate(arrays))

    def score(self, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(documents, scores) for the documents that share a term with the query.

        Each term adds its precomputed weights to the documents in its posting list, in query
        order, so a document's sum is built exactly as `BM25Okapi.get_scores` builds it; repeated
        query terms count again, as there. Only postings of the query's terms are touched.
        """
        postings = [self.postings[t] for t in terms if t in self.postings]
        if not postings:
            return np.zeros(0, dtype=np.int32), np.zeros(0)
        if len(postings) == 1:
            return postings[0].docs, postings[0].weights.copy()
        total = np.zeros(self.size)
        hit = np.zeros(self.size, dtype=bool)
        for posting in postings:
            total[posting.docs] += posting.weights  # a posting lists each document once
            hit[posting.docs] = True
        docs = np.flatnonzero(hit).astype(np.int32)
        return docs, total[docs]

    def coverage(self, terms: Sequence[str], docs: np.ndarray) -> np.ndarray:
        """How many distinct query terms each document holds (the fallback's minimum-match rule)."""
        counts = np.zeros(docs.size, dtype=np.int32)
        for term in set(terms):
            posting = self.postings.get(term)
            if posting is None:
                continue
            hit = np.isin(docs, posting.docs, assume_unique=True)
            counts += hit
        return counts
