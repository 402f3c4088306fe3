"""A built index with some documents replaced: what a one-document reload costs instead of a rebuild.

Rebuilding both indexes of a 100k-passage corpus reads every passage's tokens twice and numbers
every term again (about 10 s of CPU) to change one document. The posting arrays of the new
generation differ from the old ones only where a document changed: the rows of unchanged passages
move (`remap`), the removed passages' postings go, and the added passages' few thousand postings
are inserted where a fresh build would have put them. Every step is a pass over flat arrays.

The result equals a fresh build exactly (tests compare every array): terms keep the order of their
first occurrence (rank-bm25's `nd` order, in which the idf floor's mean is summed), so each term
carries where it first occurs in its first passage (`Index.first`), and a term whose first passage
went away is looked up again in the passage that now holds it first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from quotecore.index import Index
from quotecore.postings import _smallest_uint

#: A passage's tokens, in order, and each token's key of position within the passage (the order a
#: fresh build numbers terms in: `Index.first`).
Analysed = tuple[list[str], np.ndarray]


def merge(
    old: Index, remap: np.ndarray, size: int, added: Mapping[int, Analysed], analyse: Callable[[int], Analysed]
) -> Index:
    """`old` with passages moved, removed and added; equal to an index built afresh over the new passages.

    `remap[i]` is old passage i's row in the new generation, or -1 when it is gone (the rows kept
    stay in order: a moved document is removed and added again); `size` is the
    new generation's number of passages; `added` holds the tokens of every new row that `remap`
    does not fill; `analyse(row)` gives the tokens of any other new row (needed only for a term
    whose first passage was removed).
    """
    stays = remap[remap >= 0]
    if np.any(np.diff(stays) <= 0):
        raise ValueError("merge: the passages kept must keep their order")
    table = old.postings
    arrays = table.arrays()
    starts, ends = np.asarray(arrays["starts"]), np.asarray(arrays["ends"])
    docs, tfs = arrays["docs"], arrays["tfs"]
    terms = table.terms()
    remap64 = np.asarray(remap, dtype=np.int64)
    # int32 throughout: these are the passes over every posting (about 12M at 100k passages).
    moved = remap64.astype(np.int32)[docs] if docs.size else np.zeros(0, dtype=np.int32)
    keep = moved >= 0
    kept_docs = moved[keep]
    kept_tfs = tfs[keep]
    del moved
    df_old = ends - starts
    # Few postings go (one document's passages): count those per row rather than sum every flag.
    gone = np.flatnonzero(~keep)
    kept_df = df_old.astype(np.int64)
    if gone.size:
        rows_gone = np.searchsorted(starts, gone, side="right") - 1  # rows lie back to back, in order
        kept_df -= np.bincount(rows_gone, minlength=kept_df.size)
    del keep, gone

    # The added passages' postings: (row, document, count), and where each term first occurs in them.
    vocab = table.rows()
    fresh: list[str] = []
    add_rows: list[int] = []
    add_docs: list[int] = []
    add_tfs: list[int] = []
    first_in: dict[tuple[int, int], int] = {}  # (row, added document) -> key of the first occurrence
    doc_len = np.zeros(size, dtype=np.int64)
    stays = remap64 >= 0
    doc_len[remap64[stays]] = np.asarray(old.doc_len)[stays]
    for doc in sorted(added):
        tokens, keys = added[doc]
        doc_len[doc] = len(tokens)
        counts: dict[int, int] = {}
        for token, key in zip(tokens, keys.tolist(), strict=True):
            row = vocab.get(token)
            if row is None:
                row = vocab[token] = len(terms) + len(fresh)
                fresh.append(token)
            if row in counts:
                counts[row] += 1
            else:
                counts[row] = 1
                first_in[(row, doc)] = key
        for row, count in counts.items():
            add_rows.append(row)
            add_docs.append(doc)
            add_tfs.append(count)
    rows_total = len(terms) + len(fresh)
    df = np.zeros(rows_total, dtype=np.int64)
    df[: len(terms)] = kept_df
    np.add.at(df, np.asarray(add_rows, dtype=np.int64), 1)

    # Insert the added postings: documents stay ascending within each row.
    kept_starts = np.cumsum(kept_df) - kept_df
    kept_starts = np.concatenate((kept_starts, np.full(len(fresh), kept_docs.size, dtype=np.int64)))
    at = _insertion_points(
        kept_docs, kept_starts, kept_df, np.asarray(add_rows, dtype=np.int64), np.asarray(add_docs, dtype=np.int64)
    )
    # Rows of new terms come after every kept posting, in the order they were numbered.
    order = np.lexsort((np.asarray(add_docs), np.asarray(add_rows), at))
    at = at[order]
    merged_docs = np.insert(kept_docs, at, np.asarray(add_docs, dtype=np.int32)[order])
    widest = np.result_type(kept_tfs.dtype, _smallest_uint(np.asarray(add_tfs or [0])).dtype)
    merged_tfs = np.insert(kept_tfs.astype(widest, copy=False), at, np.asarray(add_tfs, dtype=widest)[order])
    del kept_docs, kept_tfs

    # Each surviving term's first occurrence: its first posting's document, and where in it.
    alive = np.flatnonzero(df > 0)
    row_starts = np.cumsum(df) - df
    first_doc = merged_docs[row_starts[alive]].astype(np.int64)
    first_key = np.full(alive.size, -1, dtype=np.int64)
    # A term first met in an added passage: the key recorded while counting it.
    if first_in:
        pairs = np.array(list(first_in), dtype=np.int64).reshape(-1, 2)
        found = np.fromiter(first_in.values(), dtype=np.int64, count=len(first_in))
        wanted = alive * size + first_doc
        recorded = pairs[:, 0] * size + pairs[:, 1]
        order_in = np.argsort(recorded)
        at_in = np.minimum(np.searchsorted(recorded[order_in], wanted), recorded.size - 1)
        hit = recorded[order_in][at_in] == wanted
        first_key[hit] = found[order_in][at_in[hit]]
    # A term whose first passage is still the same one (perhaps moved): its saved key.
    old_rows = alive < len(terms)
    same = np.zeros(alive.size, dtype=bool)
    if docs.size:
        same[old_rows] = remap64[docs[starts[alive[old_rows]]]] == first_doc[old_rows]
    same &= first_key < 0
    first_key[same] = np.asarray(old.first)[alive[same]]
    # Otherwise the term's first passage was removed: read the passage that holds it first now.
    lookups: dict[int, list[int]] = {}
    for i in np.flatnonzero(first_key < 0).tolist():
        lookups.setdefault(int(first_doc[i]), []).append(i)
    for doc, positions in lookups.items():
        tokens, keys = analyse(doc)
        where: dict[str, int] = {}
        for token, key in zip(tokens, keys.tolist(), strict=True):
            where.setdefault(token, key)
        for i in positions:
            row = int(alive[i])
            first_key[i] = where[terms[row] if row < len(terms) else fresh[row - len(terms)]]

    # Rows in order of first occurrence, as a fresh build numbers them.
    ranked = np.lexsort((first_key, first_doc))
    rows = alive[ranked]
    new_df = df[rows]
    total = int(new_df.sum())
    if rows.size == rows_total and np.array_equal(rows, np.arange(rows_total)):
        docs_out, tfs_out = merged_docs, merged_tfs
    else:
        docs_out = _reordered(merged_docs, row_starts, df, rows, total)
        tfs_out = _reordered(merged_tfs, row_starts, df, rows, total)
    del merged_docs, merged_tfs
    everything = np.empty(rows_total, dtype=object)  # one gather instead of a Python loop per term
    everything[: len(terms)] = terms
    everything[len(terms) :] = fresh
    names = everything[rows].tolist()
    del everything
    return Index.of_postings(
        size,
        dict(zip(names, range(len(names)), strict=True)),
        doc_len,
        new_df,
        docs_out,
        _narrowest(tfs_out),
        first_key[ranked],
    )


def _reordered(flat: np.ndarray, row_starts: np.ndarray, df: np.ndarray, rows: np.ndarray, total: int) -> np.ndarray:
    """`flat`'s postings with the rows in the order `rows`, copied a run of consecutive rows at a time.

    A reload moves few rows (the terms first met in a changed document): the rest stay in long
    runs, each one slice of `flat`, so this copies memory instead of gathering every posting
    through an index array as long as the postings.
    """
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    firsts = np.concatenate(([0], breaks))
    lasts = np.concatenate((breaks, [rows.size])) - 1
    begin = row_starts[rows[firsts]]
    end = row_starts[rows[lasts]] + df[rows[lasts]]
    out = np.empty(total, dtype=flat.dtype)
    at = 0
    for b, e in zip(begin.tolist(), end.tolist(), strict=True):
        out[at : at + e - b] = flat[b:e]
        at += e - b
    return out


def _insertion_points(
    kept_docs: np.ndarray, kept_starts: np.ndarray, kept_df: np.ndarray, rows: np.ndarray, docs: np.ndarray
) -> np.ndarray:
    """Where each added (row, document) posting goes among the kept ones, documents ascending per row.

    Added documents come in a few runs of consecutive rows (a changed file's passages), and no
    kept document falls inside a run: within a row, every added document of a run goes after the
    kept documents before the run's first. So one count per run and row does, over the flat arrays.
    """
    at = kept_starts[rows].copy()
    old = rows < kept_df.size
    if not old.any() or not kept_docs.size:
        return at
    nonempty = kept_df > 0
    heads = np.flatnonzero(np.r_[True, np.diff(np.unique(docs)) > 1])
    firsts = np.unique(docs)[heads]
    for first in firsts.tolist():
        below = np.zeros(kept_df.size, dtype=np.int64)
        below[nonempty] = np.add.reduceat(kept_docs < first, kept_starts[: kept_df.size][nonempty], dtype=np.int64)
        ends = np.searchsorted(firsts, first, side="right")
        last = firsts[ends] if ends < firsts.size else np.iinfo(np.int64).max
        mine = old & (docs >= first) & (docs < last)
        at[mine] += below[rows[mine]]
    return at


def _narrowest(counts: np.ndarray) -> np.ndarray:
    """Counts in the type a fresh build would give them (`_smallest_uint`), copied only if it differs."""
    if not counts.size:
        return counts.astype(np.uint8)
    target = _smallest_uint(np.array([counts.max()])).dtype
    return counts.astype(target, copy=False)
