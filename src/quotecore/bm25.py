"""BM25 (Okapi), as rank-bm25's `BM25Okapi` defines it: our own arrays, its exact numbers.

rank-bm25 keeps a dict per document and per term, which at 100k passages costs gigabytes; its
formula is small, so the index owns it here, in arrays, and the tests check every number against
`BM25Okapi` itself (idf with its epsilon floor, document lengths, scores from `get_scores`). The
idf is computed term by term with `math.log` and summed in order exactly as rank-bm25 does, so the
floats are identical, not merely close.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Params:
    """BM25Okapi's parameters; its defaults, with b measured (README, "How it finds the quote")."""

    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25


DEFAULT = Params()


def idf(df: np.ndarray, size: int, params: Params = DEFAULT) -> np.ndarray:
    """Each term's idf: log((N - df + 0.5) / (df + 0.5)), negatives floored at epsilon × the mean idf."""
    if not df.size:
        return np.zeros(0, dtype=np.float64)
    # One log per distinct count (a few thousand among 10⁵ terms), each with math.log as rank-bm25.
    counts, which = np.unique(df, return_inverse=True)
    distinct = np.array([math.log(size - f + 0.5) - math.log(f + 0.5) for f in counts.tolist()], dtype=np.float64)
    out = distinct[which.reshape(-1)]
    # Summed in term order, one addition after another as rank-bm25 does (cumsum never pairs them).
    total = float(np.cumsum(out)[-1])
    out[out < 0] = params.epsilon * (total / out.size)
    return out


def length_norm(doc_len: np.ndarray, params: Params = DEFAULT) -> np.ndarray:
    """The document part of BM25's denominator, k1 (1 - b + b len / avgdl), with get_scores' expression."""
    avgdl = int(doc_len.sum()) / doc_len.size
    return params.k1 * (1 - params.b + params.b * doc_len.astype(np.float64) / avgdl)


def weights(tf: np.ndarray, norm: np.ndarray, term_idf: float, params: Params = DEFAULT) -> np.ndarray:
    """A term's share of each document's score: idf tf (k1 + 1) / (tf + norm), as get_scores computes it."""
    out = tf.astype(np.float64) * (params.k1 + 1)
    out /= tf + norm
    out *= term_idf
    return out
