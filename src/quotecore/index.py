"""BM25 over an inverted index: only passages that share a query term are scored.

rank-bm25's `BM25Okapi` supplies the statistics (idf with its epsilon floor, document lengths,
average length, k1, b); scoring walks the postings of the query's terms instead of every
document, with the same formula as `BM25Okapi.get_scores`, so the scores are identical to a full
pass (tests check it) while the work grows with the matches, not with the corpus.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
from rank_bm25 import BM25Okapi


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
        super().__init__([])
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
        weights = float(self._idf[row]) * (tf * (self._k1 + 1) / (tf + self._norm[docs]))
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


#: Documents counted per pass: bounds the temporary arrays of a build to a slice of the corpus
#: (at most 65,536: a slice addresses its documents with two bytes).
CHUNK = 1024


@dataclass(frozen=True, slots=True)
class _Slice:
    """One slice of documents' (term, document, count) triples, kept small until they are placed.

    Triples come sorted by term, so terms are kept as runs (term, how many documents), and
    documents as offsets into the slice (two bytes): a third of the memory of full triples.
    """

    first: int  # the slice's first document
    terms: np.ndarray  # int64 distinct terms of the slice, ascending
    runs: np.ndarray  # int64 how many of the slice's documents hold each of them
    docs: np.ndarray  # uint16 document offsets, ascending within each term's run
    counts: np.ndarray  # smallest uint: the term's count in that document


def _count_pairs(
    documents: Sequence[Sequence[str]],
) -> tuple[dict[str, int], list[int], np.ndarray, np.ndarray, np.ndarray]:
    """Terms' numbers, document lengths, document frequencies, and every (document, count) pair.

    Terms are numbered in order of first occurrence (the order BM25Okapi fills its `nd` in). The
    pairs come out grouped by term (in term-number order), documents ascending within a term: the
    layout of the posting table. Each document's terms are read once, a slice of documents at a
    time, and each slice's pairs are kept compact until they are placed in their final rows:
    numbering every token first and sorting the lot cost several times the finished index.
    """
    vocab: dict[str, int] = {}
    doc_len: list[int] = []
    slices: list[_Slice] = []
    df = np.zeros(0, dtype=np.int64)
    for first in range(0, len(documents), CHUNK):
        chunk = [documents[i] for i in range(first, min(first + CHUNK, len(documents)))]
        lengths = [len(tokens) for tokens in chunk]
        doc_len.extend(lengths)
        # Dict calls that run in C per slice: a Python loop per token is several times slower.
        fresh = [term for term in dict.fromkeys(chain.from_iterable(chunk)) if term not in vocab]
        vocab.update(zip(fresh, range(len(vocab), len(vocab) + len(fresh)), strict=True))
        ids = np.fromiter(map(vocab.__getitem__, chain.from_iterable(chunk)), np.int64, sum(lengths))
        del chunk
        width = len(lengths)
        owner = np.repeat(np.arange(width, dtype=np.int64), lengths)
        pairs, count = np.unique(ids * width + owner, return_counts=True)
        del ids, owner
        terms, runs = np.unique(pairs // width, return_counts=True)
        df = np.concatenate((df, np.zeros(len(vocab) - df.size, dtype=np.int64)))
        df[terms] += runs
        slices.append(_Slice(first, terms, runs, (pairs % width).astype(np.uint16), _smallest_uint(count)))
    widest = np.result_type(np.uint8, *(piece.counts.dtype for piece in slices))
    doc_of = np.empty(int(df.sum()), dtype=np.int32)
    count_of = np.empty(doc_of.size, dtype=widest)
    cursor = np.cumsum(df) - df  # the next free row of each term
    slices.reverse()
    while slices:  # slices come in document order, so each term's documents stay ascending
        piece = slices.pop()
        within = np.arange(piece.docs.size) - np.repeat(np.cumsum(piece.runs) - piece.runs, piece.runs)
        rows = np.repeat(cursor[piece.terms], piece.runs) + within
        doc_of[rows] = piece.docs.astype(np.int32) + piece.first
        count_of[rows] = piece.counts
        cursor[piece.terms] += piece.runs
    return vocab, doc_len, df, doc_of, count_of


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

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        self.size = len(documents)
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
        vocab, doc_len, df, doc_of, counts = _count_pairs(documents)
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

    @property
    def avgdl(self) -> float:
        """rank-bm25's average document length (0 for an index with no terms)."""
        return self.params[3]

    def idf(self, term: str) -> float:
        """rank-bm25's idf for a term (with its epsilon floor), 0 for an unknown term."""
        row = self.postings._vocab.get(term)
        return 0.0 if row is None else float(self.postings._idf[row])

    def df(self, term: str) -> int:
        """In how many documents the term occurs."""
        posting = self.postings.get(term)
        return 0 if posting is None else len(posting.docs)

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
