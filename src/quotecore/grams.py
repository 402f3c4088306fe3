"""The character-gram index's terms, numbered in numpy: no Python string per gram.

The gram index (each Chinese run's characters and adjacent pairs) is the fallback for words jieba
does not know. At 100k passages a string per gram was most of a rebuild's time and memory, so a
gram is a number here: a character's code point, or a pair's two code points under an offset.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from quotecore import postings
from quotecore.postings import _first_occurrences, _group, _run_starts, _Slice
from quotecore.tokenize import SEP

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
    sep = ord(SEP)
    for first in range(0, len(forms), postings.CHUNK):
        chunk = [forms[i] for i in range(first, min(first + postings.CHUNK, len(forms)))]
        text = "".join(form + SEP for form in chunk)  # every document ends with a separator
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
        base = len(numbering)
        ids = numbering.number(keys, where)
        # Each gram's position in its document's `grams_of_form` list: the grams of the runs before
        # its run, then its place among the run's unigrams or, after them, its bigrams.
        begins = ~cut & np.r_[True, cut[:-1]]
        run_of = np.cumsum(begins) - 1
        heads = np.flatnonzero(begins)
        sizes = run_end[heads] - heads
        before = np.cumsum(2 * sizes - 1) - (2 * sizes - 1)
        before -= (np.cumsum(lengths) - lengths)[owner[heads]]
        at = np.concatenate((uni, bi))
        run = run_of[at]
        local = before[run] + at - heads[run] + np.r_[np.zeros(uni.size, np.int64), sizes[run_of[bi]]]
        yield _group(first, lengths, ids, owners, _first_occurrences(ids, base, local, owners))
