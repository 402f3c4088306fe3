"""BM25 over an inverted index: only passages that share a query term are scored.

rank-bm25's `BM25Okapi` supplies the statistics (idf with its epsilon floor, document lengths,
average length, k1, b); scoring walks the postings of the query's terms instead of every
document, with the same formula as `BM25Okapi.get_scores`, so the scores are identical to a full
pass (tests check it) while the work grows with the matches, not with the corpus.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi


@dataclass(frozen=True, slots=True)
class Posting:
    docs: np.ndarray  # int32 document indices, ascending
    tfs: np.ndarray  # float64 term frequency in each of those documents


class Index:
    """An immutable BM25 index over pre-tokenized documents (rank-bm25's tokenizer= is never used)."""

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        self.size = len(documents)
        self.bm25: BM25Okapi | None = None
        self.postings: dict[str, Posting] = {}
        if not any(documents):
            # BM25Okapi([]) divides by zero, and an all-empty corpus has avgdl 0: nothing can match.
            self._norm = np.zeros(0)
            return
        self.bm25 = BM25Okapi([list(d) for d in documents])
        building: dict[str, tuple[list[int], list[int]]] = {}
        for doc, tokens in enumerate(documents):
            for term, tf in Counter(tokens).items():
                docs, tfs = building.setdefault(term, ([], []))
                docs.append(doc)
                tfs.append(tf)
        self.postings = {
            term: Posting(np.asarray(docs, dtype=np.int32), np.asarray(tfs, dtype=np.float64))
            for term, (docs, tfs) in building.items()
        }
        bm25 = self.bm25
        doc_len = np.asarray(bm25.doc_len, dtype=np.float64)
        # The length part of BM25's denominator depends only on the document: compute it once.
        self._norm = bm25.k1 * (1 - bm25.b + bm25.b * doc_len / bm25.avgdl)

    def idf(self, term: str) -> float:
        return float(self.bm25.idf.get(term) or 0.0) if self.bm25 else 0.0

    def df(self, term: str) -> int:
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

        Repeated query terms count again, as in `BM25Okapi.get_scores`.
        """
        docs = self.candidates(terms)
        if docs.size == 0 or self.bm25 is None:
            return docs, np.zeros(0)
        scores = np.zeros(docs.size)
        k1 = self.bm25.k1
        for term in terms:
            posting = self.postings.get(term)
            if posting is None:
                continue
            where = np.searchsorted(docs, posting.docs)
            tf = posting.tfs
            scores[where] += self.idf(term) * (tf * (k1 + 1) / (tf + self._norm[posting.docs]))
        return docs, scores

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
