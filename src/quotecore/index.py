"""BM25 over an inverted index: only passages that share a query term are scored.

rank-bm25's `BM25Okapi` supplies the statistics (idf with its epsilon floor, document lengths,
average length, k1, b); scoring walks the postings of the query's terms instead of every
document, with the same formula as `BM25Okapi.get_scores`, so the scores are identical to a full
pass (tests check it) while the work grows with the matches, not with the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    """Every term's posting list in three flat arrays (compressed sparse rows), sliced on demand.

    One Python object per term would cost hundreds of megabytes and a second of build time at
    100k passages; a query only ever looks at a handful of terms.
    """

    def __init__(
        self, vocab: dict[str, int], starts: np.ndarray, ends: np.ndarray, docs: np.ndarray, weights: np.ndarray
    ) -> None:
        self._vocab = vocab  # term -> row; every row has at least one document
        self._starts, self._ends = starts, ends
        self._docs, self._weights = docs, weights

    def get(self, term: str) -> Posting | None:
        """The term's posting list, or None for a term no document holds."""
        row = self._vocab.get(term)
        if row is None:
            return None
        a, b = int(self._starts[row]), int(self._ends[row])
        return Posting(self._docs[a:b], self._weights[a:b])

    def __getitem__(self, term: str) -> Posting:
        posting = self.get(term)
        if posting is None:
            raise KeyError(term)
        return posting

    def __contains__(self, term: object) -> bool:
        return term in self._vocab

    def __len__(self) -> int:
        return len(self._vocab)


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
            {}, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0)
        )
        # Terms are numbered in first-occurrence order (the order BM25Okapi fills its `nd` in), with
        # per-document dict and map calls that run in C: a Python loop per token is several times slower.
        seen: dict[str, None] = {}
        for tokens in documents:
            seen.update(dict.fromkeys(tokens))
        vocab = {term: number for number, term in enumerate(seen)}
        del seen
        lookup = vocab.__getitem__
        doc_len: list[int] = []
        chunks: list[np.ndarray] = []
        for tokens in documents:
            doc_len.append(len(tokens))
            chunks.append(np.fromiter(map(lookup, tokens), dtype=np.int64, count=len(tokens)))
        ids = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
        del chunks
        if ids.size == 0:
            # BM25Okapi([]) divides by zero, and an all-empty corpus has avgdl 0: nothing can match.
            self._norm = np.zeros(0)
            return
        owner = np.repeat(np.arange(self.size, dtype=np.int64), doc_len)
        pairs, counts = np.unique(ids * self.size + owner, return_counts=True)
        del ids, owner
        term_of = pairs // self.size
        doc_of = (pairs % self.size).astype(np.int32)
        del pairs
        terms = list(vocab)
        df = np.bincount(term_of, minlength=len(terms))
        self.bm25 = CorpusStatistics(doc_len, {t: int(n) for t, n in zip(terms, df, strict=True)})
        bm25 = self.bm25
        doc_length = np.asarray(bm25.doc_len, dtype=np.float64)
        # The length part of BM25's denominator depends only on the document: compute it once.
        self._norm = bm25.k1 * (1 - bm25.b + bm25.b * doc_length / bm25.avgdl)
        tf = counts.astype(np.float64)
        idf = np.array([self.idf(t) for t in terms])[term_of]
        # The same expression, in the same order, as BM25Okapi.get_scores: identical floats.
        weights = idf * (tf * (bm25.k1 + 1) / (tf + self._norm[doc_of]))
        starts = np.flatnonzero(np.r_[True, term_of[1:] != term_of[:-1]])
        ends = np.r_[starts[1:], term_of.size]
        self.postings = PostingTable(vocab, starts, ends, doc_of, weights)

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
            "weights": table._weights,
            "norm": self._norm,
            "doc_len": np.asarray(bm25.doc_len if bm25 else [], dtype=np.int64),
            "idf": np.array([bm25.idf[t] for t in terms] if bm25 else [], dtype=np.float64),
            "params": np.array([bm25.k1, bm25.b, bm25.epsilon, bm25.avgdl] if bm25 else [0.0, 0.0, 0.0, 0.0]),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Index:
        """The index `to_arrays` described, without numbering a single term again."""
        index = cls.__new__(cls)
        index.size = int(arrays["size"][0])
        raw = arrays["terms"].tobytes().decode()
        terms = raw.split(SEPARATOR) if raw else []
        index.postings = PostingTable(
            {t: i for i, t in enumerate(terms)}, arrays["starts"], arrays["ends"], arrays["docs"], arrays["weights"]
        )
        index._norm = arrays["norm"]
        index.bm25 = None
        if terms:
            k1, b, epsilon, avgdl = (float(v) for v in arrays["params"])
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
