"""BM25 over an inverted index: only passages that share a query term are scored.

The index is built by counting postings (`quotecore.postings`, words; `quotecore.grams`,
character grams), scored with BM25Okapi's formula (`quotecore.bm25`), and saved as plain arrays
(`to_arrays`, `quotecore.cache.IndexCache`). Scoring walks the postings of the query's terms
instead of every document, so the scores are identical to `BM25Okapi.get_scores` (tests check
it) while the work grows with the matches, not with the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quotecore import bm25
from quotecore.grams import _gram_slices, _GramNumbering
from quotecore.postings import PostingTable, Scratch, _count_pairs, _slices
from quotecore.tokenize import SEP

#: BM25's length normalisation, measured on the natural-query sets at 0.3, 0.5, 0.75 and 0.9
#: (README, "How it finds the quote"): rank-bm25's default 0.75 kept.
B = 0.75


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
        first: np.ndarray,
    ) -> None:
        self.size = size
        #: Per term, its position in the first document holding it: a reload merging documents
        #: in keeps terms in a fresh build's order (`quotecore.merge`).
        self.first = np.asarray(first, dtype=np.int64)
        params = bm25.Params(k1=bm25.DEFAULT.k1, b=B, epsilon=bm25.DEFAULT.epsilon)
        if doc_of.size == 0:
            # BM25Okapi([]) divides by zero, and an all-empty corpus has avgdl 0: nothing can match.
            self.doc_len = np.zeros(0, np.int64)
            self.params = (params.k1, params.b, params.epsilon, 0.0)
            self._norm = np.zeros(0)
            empty = np.zeros(0, np.int64)
            self.postings = PostingTable(
                {}, empty, empty, np.zeros(0, np.int32), np.zeros(0, np.uint8), np.zeros(0), self._norm, params
            )
            return
        self.doc_len = np.asarray(doc_len, dtype=np.int64)
        self.params = (params.k1, params.b, params.epsilon, int(self.doc_len.sum()) / size)
        # The length part of BM25's denominator depends only on the document: compute it once.
        self._norm = bm25.length_norm(self.doc_len, params)
        ends = np.cumsum(df)  # every numbered term occurs somewhere: no empty rows
        starts = ends - df
        idf = bm25.idf(df, size, params)
        self.postings = PostingTable(vocab, starts, ends, doc_of, counts, idf, self._norm, params)

    @classmethod
    def of_postings(
        cls,
        size: int,
        vocab: dict[str, int],
        doc_len: np.ndarray,
        df: np.ndarray,
        docs: np.ndarray,
        tfs: np.ndarray,
        first: np.ndarray,
    ) -> Index:
        """An index over postings already grouped by term (`quotecore.merge` makes them)."""
        index = cls.__new__(cls)
        index._fill(size, vocab, np.asarray(doc_len).tolist(), np.asarray(df, dtype=np.int64), docs, tfs, first)
        return index

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Everything the index holds, as plain arrays (numbers and UTF-8 bytes, never objects)."""
        return {
            "size": np.array([self.size]),
            "terms": np.frombuffer(SEP.join(self.postings.terms()).encode(), dtype=np.uint8),
            **self.postings.arrays(),
            "norm": self._norm,
            "doc_len": self.doc_len,
            "params": np.array(self.params),
            "first": self.first,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Index:
        """The index `to_arrays` described, without numbering a single term again."""
        index = cls.__new__(cls)
        index.size = int(arrays["size"][0])
        raw = arrays["terms"].tobytes().decode()
        terms = raw.split(SEP) if raw else []
        del raw
        k1, b, epsilon, avgdl = (float(v) for v in arrays["params"])
        index.params = (k1, b, epsilon, avgdl)
        index.doc_len = arrays["doc_len"]
        index._norm = arrays["norm"]
        index.first = arrays["first"]
        index.postings = PostingTable(
            dict(zip(terms, range(len(terms)), strict=True)),
            arrays["starts"],
            arrays["ends"],
            arrays["docs"],
            arrays["tfs"],
            arrays["idf"],
            index._norm,
            bm25.Params(k1=k1, b=b, epsilon=epsilon),
        )
        return index

    def terms(self) -> list[str]:
        """Every term the index holds (the homophone table is made from them)."""
        return self.postings.terms()

    @property
    def avgdl(self) -> float:
        """rank-bm25's average document length (0 for an index with no terms)."""
        return self.params[3]

    def idf(self, term: str) -> float:
        """rank-bm25's idf for a term (with its epsilon floor), 0 for an unknown term."""
        row = self.postings.row(term)
        return 0.0 if row is None else self.postings.idf(row)

    def df(self, term: str) -> int:
        """In how many documents the term occurs (read off the row bounds: no weights computed)."""
        row = self.postings.row(term)
        return 0 if row is None else self.postings.df(row)

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
