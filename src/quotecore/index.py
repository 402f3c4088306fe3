"""BM25 over an inverted index: only passages that share a query term are scored.

rank-bm25's `BM25Okapi` supplies the statistics (idf with its epsilon floor, document lengths,
average length, k1, b); scoring walks the postings of the query's terms instead of every
document, with the same formula as `BM25Okapi.get_scores`, so the scores are identical to a full
pass (tests check it) while the work grows with the matches, not with the corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi


@dataclass(frozen=True, slots=True)
class Posting:
    """Where a term occurs, and what it adds to each of those documents' BM25 score."""

    docs: np.ndarray  # int32 document indices, ascending
    weights: np.ndarray  # float64 idf * tf * (k1 + 1) / (tf + norm): the term's share of the score


class CorpusStatistics(BM25Okapi):
    """rank-bm25's BM25Okapi, fed document lengths and document frequencies we already counted.

    BM25Okapi keeps one dict per document (`doc_freqs`) only to serve `get_scores`, which we never
    call: at 100k passages those dicts cost gigabytes and most of the build time. This subclass
    hands its `_calc_idf` (idf with the epsilon floor) the same `nd` in the same insertion order,
    so idf, avgdl, k1 and b are rank-bm25's own numbers; `get_scores` is unavailable (tests and the
    benchmark compare against a full BM25Okapi built separately).
    """

    def __init__(self, doc_len: list[int], nd: dict[str, int]) -> None:
        self._counted = (doc_len, nd)
        super().__init__([])

    def _initialize(self, corpus: object) -> dict[str, int]:
        doc_len, nd = self._counted
        self.doc_len = doc_len
        self.corpus_size = len(doc_len)
        self.avgdl = sum(doc_len) / self.corpus_size
        return nd


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


#: Documents counted per pass: bounds the temporary arrays of a build to a slice of the corpus.
CHUNK = 4096


def _count_pairs(
    documents: Sequence[Sequence[str]], number: Callable[[str], int], vocabulary: int
) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray]:
    """Document lengths, each term's document frequency, and its (document, count) pairs.

    The pairs come out grouped by term (in term-number order), documents ascending within a
    term: the layout of the posting table. Counting a slice of documents at a time, then placing
    each slice's pairs straight into their final rows, keeps the peak memory of a 100k-passage
    build near the pairs themselves: one array of every token's term number, sorted whole, cost
    several times the finished index.
    """
    doc_len: list[int] = []
    slices: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    df = np.zeros(vocabulary, dtype=np.int64)
    for first in range(0, len(documents), CHUNK):
        lengths: list[int] = []
        ids: list[np.ndarray] = []
        for index in range(first, min(first + CHUNK, len(documents))):
            tokens = documents[index]
            lengths.append(len(tokens))
            ids.append(np.fromiter(map(number, tokens), dtype=np.int64, count=len(tokens)))
        doc_len.extend(lengths)
        width = len(lengths)
        owner = np.repeat(np.arange(width, dtype=np.int64), lengths)
        pairs, count = np.unique(np.concatenate(ids) * width + owner, return_counts=True)
        term = (pairs // width).astype(np.int32)
        df += np.bincount(term, minlength=vocabulary)
        slices.append((term, (pairs % width + first).astype(np.int32), _smallest_uint(count)))
    total = int(df.sum())
    widest = np.result_type(np.uint8, *(count.dtype for _, _, count in slices))
    doc_of = np.empty(total, dtype=np.int32)
    count_of = np.empty(total, dtype=widest)
    cursor = np.concatenate(([0], np.cumsum(df)[:-1]))  # the next free row of each term
    slices.reverse()
    while slices:  # slices are in document order, so each term's documents stay ascending
        term, docs, count = slices.pop()
        runs = np.flatnonzero(np.r_[True, term[1:] != term[:-1]]) if term.size else term
        lengths_of_runs = np.diff(np.r_[runs, term.size])
        rows = cursor[term] + (np.arange(term.size) - np.repeat(runs, lengths_of_runs))
        doc_of[rows] = docs
        count_of[rows] = count
        cursor[term[runs]] += lengths_of_runs
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

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        self.size = len(documents)
        self.bm25: CorpusStatistics | None = None
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
        # Terms are numbered in first-occurrence order (the order BM25Okapi fills its `nd` in), with
        # per-document dict and map calls that run in C: a Python loop per token is several times slower.
        seen: dict[str, None] = {}
        for tokens in documents:
            seen.update(dict.fromkeys(tokens))
        vocab = {term: number for number, term in enumerate(seen)}
        del seen
        doc_len, df, doc_of, counts = _count_pairs(documents, vocab.__getitem__, len(vocab))
        if doc_of.size == 0:
            # BM25Okapi([]) divides by zero, and an all-empty corpus has avgdl 0: nothing can match.
            self._norm = np.zeros(0)
            return
        terms = list(vocab)
        self.bm25 = CorpusStatistics(doc_len, {t: int(n) for t, n in zip(terms, df, strict=True)})
        bm25 = self.bm25
        doc_length = np.asarray(bm25.doc_len, dtype=np.float64)
        # The length part of BM25's denominator depends only on the document: compute it once.
        self._norm = bm25.k1 * (1 - bm25.b + bm25.b * doc_length / bm25.avgdl)
        idf = np.array([self.idf(t) for t in terms], dtype=np.float64)
        ends = np.cumsum(df)  # every numbered term occurs somewhere: no empty rows
        starts = ends - df
        self.postings = PostingTable(vocab, starts, ends, doc_of, counts, idf, self._norm, bm25.k1)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Everything the index holds, as plain arrays (numbers and UTF-8 bytes, never objects)."""
        table = self.postings
        terms = list(table._vocab)
        bm25 = self.bm25
        return {
            "size": np.array([self.size]),
            "terms": np.frombuffer(SEPARATOR.join(terms).encode(), dtype=np.uint8),
            "starts": np.asarray(table._starts),
            "ends": np.asarray(table._ends),
            "docs": table._docs,
            "tfs": table._tfs,
            "norm": self._norm,
            "doc_len": np.asarray(bm25.doc_len if bm25 else [], dtype=np.int64),
            "idf": table._idf,
            "params": np.array([bm25.k1, bm25.b, bm25.epsilon, bm25.avgdl] if bm25 else [0.0, 0.0, 0.0, 0.0]),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Index:
        """The index `to_arrays` described, without numbering a single term again."""
        index = cls.__new__(cls)
        index.size = int(arrays["size"][0])
        raw = arrays["terms"].tobytes().decode()
        terms = raw.split(SEPARATOR) if raw else []
        k1, b, epsilon, avgdl = (float(v) for v in arrays["params"])
        index._norm = arrays["norm"]
        index.postings = PostingTable(
            {t: i for i, t in enumerate(terms)},
            arrays["starts"],
            arrays["ends"],
            arrays["docs"],
            arrays["tfs"],
            arrays["idf"],
            index._norm,
            k1,
        )
        index.bm25 = None
        if terms:
            stats = CorpusStatistics.__new__(CorpusStatistics)
            stats.k1, stats.b, stats.epsilon, stats.avgdl = k1, b, epsilon, avgdl
            stats.doc_len = arrays["doc_len"].tolist()
            stats.corpus_size = len(stats.doc_len)
            stats.doc_freqs, stats.tokenizer = [], None
            stats.idf = dict(zip(terms, arrays["idf"].tolist(), strict=True))
            index.bm25 = stats
        return index

    def idf(self, term: str) -> float:
        """rank-bm25's idf for a term (with its epsilon floor), 0 for an unknown term."""
        return float(self.bm25.idf.get(term) or 0.0) if self.bm25 else 0.0

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
        if not postings or self.bm25 is None:
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
