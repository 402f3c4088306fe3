"""A query word's postings, each passage's best alternative: the sparse merging under `quotecore.ranking`.

A query word is found through several alternatives (the word, the word inside longer words,
synonyms, its pieces): for each passage, the best of them counts, once. Ranking asks this module
for (passages, score, credit) per word, read whole, restricted to candidates, or merged for many
words at once, and never sees a posting list itself. The merges are exact (max per passage):
tests/test_speed_ranking.py and tests/test_p99_ranking.py compare them with plain Python.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from quotecore.index import Index
from quotecore.query import INSIDE_WORD, PART, QueryWord, Variant
from quotecore.tokenize import INSIDE


def word_scores(
    word: QueryWord,
    index: Index,
    scratch: Scratch | None = None,
    among: Among | None = None,
    read: tuple[list[tuple[np.ndarray, np.ndarray, float]], list[Variant]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(passages, score, credit) for one query word: the best of its alternatives in each passage.

    Sparse: only the postings of the word's alternatives are touched, so the cost follows the
    matches, not the corpus, and a word found through a single alternative needs no merging.
    Passages come back each once, in no particular order (the caller adds them into dense sums).
    With `among`, only those passages come back; `read` is `pieces_of` already done for the word.
    """
    pieces, parts = read or pieces_of(word, index)
    if among is not None:
        if among.docs.size * SEARCH < sum(docs.size for docs, _, _ in pieces):
            return looked_up(pieces, among.docs)
        pieces = [restricted(piece, among) for piece in pieces]
    if parts and not pieces:  # only a word the corpus never holds whole is looked for in pieces
        found = parts_scores(parts, index, scratch)
        if found is not None:
            return found
    if not pieces:
        empty = np.zeros(0)
        return np.zeros(0, dtype=np.intp), empty, empty
    if len(pieces) == 1:
        docs, weights, factor = pieces[0]
        return docs, factor * weights, np.full(docs.size, factor)
    return (scratch or scratch_for(index.size)).best(pieces)


#: A word with more posting entries than this is merged on its own, in the scratch arrays: past
#: a few thousand entries the sort of `all_best` costs more than the calls it saves.
BATCHED = 2048


def bests(
    words: list[tuple[int, list[tuple[np.ndarray, np.ndarray, float]]]],
    scratch: Scratch,
    recent: Recent | None = None,
    keys: dict[int, tuple[Variant, ...]] | None = None,
) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """`word_scores` of several words (number, pieces): the small ones at once, the others one by one.

    With `recent` and each word's alternatives (`keys`), words merged before are taken from it,
    and the others kept there (passages ascending).
    """
    found: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    todo = words
    if recent is not None and keys is not None:
        todo = []
        for i, pieces in words:
            kept = recent.get(keys[i])
            if kept is None:
                todo.append((i, pieces))
            else:
                found[i] = kept
    made: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    small = []
    for i, pieces in todo:
        if len(pieces) == 1:
            docs, weights, factor = pieces[0]
            made[i] = (docs, factor * weights, np.full(docs.size, factor))
        elif sum(docs.size for docs, _, _ in pieces) > BATCHED:
            made[i] = scratch.best(pieces, ascending=recent is not None)
        else:
            small.append((i, pieces))
    if len(small) == 1:  # nothing to batch with: the scratch arrays are quicker than a sort
        made[small[0][0]] = scratch.best(small[0][1], ascending=recent is not None)
    else:
        made.update(all_best(small, scratch.size))  # ascending already
    if recent is not None and keys is not None:
        for i, merge in made.items():
            recent.put(keys[i], merge)
    found.update(made)
    return found


#: Merged entries a `Recent` keeps (24 bytes each: 12 MiB at most per index).
RECENT_MERGES = 1 << 19


class Recent:
    """Words' merged alternatives (passages ascending, best, credit), kept between queries.

    Merging a word found through several alternatives (公司 and ~公司, 管理 and its synonyms: tens
    of thousands of entries at 100k passages) is most of the time of a query that uses it, and
    words recur across queries, as the posting weights do (`postings.RECENT_POSTINGS`). Kept per
    index, so a reload starts afresh; when full, emptied, like the posting table's. The arrays are
    shared by every query (and thread) that reads the word: they are made read-only.
    """

    def __init__(self) -> None:
        self._found: dict[tuple[Variant, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._size = 0

    def get(self, key: tuple[Variant, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The word's merge, if kept."""
        return self._found.get(key)

    def put(self, key: tuple[Variant, ...], found: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        """Keep a word's merge (passages ascending)."""
        for array in found:
            array.flags.writeable = False
        if self._size + found[0].size > RECENT_MERGES:
            self._found, self._size = {}, 0
        self._found[key] = found
        self._size += found[0].size


_RECENT: weakref.WeakKeyDictionary[Index, Recent] = weakref.WeakKeyDictionary()
_RECENT_LOCK = threading.Lock()


def recent_for(index: Index) -> Recent:
    """The index's kept merges (made on first use; gone with the index)."""
    with _RECENT_LOCK:
        recent = _RECENT.get(index)
        if recent is None:
            recent = _RECENT[index] = Recent()
        return recent


def restricted_found(
    found: tuple[np.ndarray, np.ndarray, np.ndarray], among: Among
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A kept merge's entries that lie in `among` (as `restricted`, for a word already merged)."""
    docs, best, credit = found
    at = inside(docs, among)
    return docs[at], best[at], credit[at]


def all_best(
    words: list[tuple[int, list[tuple[np.ndarray, np.ndarray, float]]]], size: int, among: np.ndarray | None = None
) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """`word_scores` of several words (number, pieces) at once: their postings side by side.

    A long query's words each cost a dozen small numpy calls when merged one by one; here each
    entry is keyed by (word, passage), one stable sort (the postings are sorted runs: a merge)
    brings each word's alternatives for a passage together, and a max over each run keeps the
    best. Passages come back ascending within each word; with the mask `among`, only those.
    """
    if not words:
        return {}
    docs, values, factors, slots = merged(words, size, among)
    bounds = np.searchsorted(slots, np.arange(len(words) + 1)).tolist()
    return {
        i: (docs[a:b], values[a:b], factors[a:b]) for (i, _), a, b in zip(words, bounds[:-1], bounds[1:], strict=True)
    }


def merged(
    words: list[tuple[int, list[tuple[np.ndarray, np.ndarray, float]]]], size: int, among: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`all_best`'s work: (passage, best, credit, slot) side by side, ordered by slot then passage.

    The slot is the word's position in `words`.
    """
    pieces = [piece for _, word in words for piece in word]
    sizes = [docs.size for docs, _, _ in pieces]
    docs = np.concatenate([docs for docs, _, _ in pieces])
    factors = np.repeat([factor for _, _, factor in pieces], sizes)
    values = factors * np.concatenate([weights for _, weights, _ in pieces])
    slots = np.repeat([slot for slot, (_, word) in enumerate(words) for _ in word], sizes)
    if among is not None:
        keep = among[docs]
        docs, factors, values, slots = docs[keep], factors[keep], values[keep], slots[keep]
    if len(pieces) > len(words):  # some word has several alternatives: merge them
        keys = slots * size + docs
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        first = np.ones(keys.size, dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        values, factors = values[order], factors[order]
        if starts.size < keys.size:  # a passage held through several alternatives: the best kept
            # Each repeat merged into its run's first entry (reduceat over every run cost more).
            repeats = np.flatnonzero(~first)
            heads = starts[np.searchsorted(starts, repeats, side="right") - 1]
            np.maximum.at(values, heads, values[repeats])
            np.maximum.at(factors, heads, factors[repeats])
        values, factors, keys = values[starts], factors[starts], keys[starts]
        slots = keys // size
        docs = keys - slots * size
    return docs, values, factors, slots


#: Up to this many words are summed into the dense arrays one by one (`summed`).
FEW_WORDS = 3


def summed(
    held: list[tuple[np.ndarray, np.ndarray, np.ndarray]], scales: list[float], weights: list[float], size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Dense BM25 sums and credit over the words' (passages, best, credit), added word after word.

    Each word's passages are distinct. A few words are added into the dense arrays one by one
    (for two long postings, a third of the time of bincount over their concatenation, whose
    scattered writes miss the cache); many short ones side by side in query order, one bincount
    each, which adds each passage's terms in that same order: the same sums either way.
    """
    if len(held) <= FEW_WORDS:
        total, credit = np.zeros(size), np.zeros(size)
        for n, ((docs, best, got), scale, weight) in enumerate(zip(held, scales, weights, strict=True)):
            if n:
                total[docs] += best * scale
                credit[docs] += got * weight
            else:  # onto zeros: written, not added (0.0 + x is x)
                total[docs] = best * scale
                credit[docs] = got * weight
        return total, credit
    sizes = [docs.size for docs, _, _ in held]
    docs = np.concatenate([docs for docs, _, _ in held])
    total = dense_sum(docs, np.concatenate([best for _, best, _ in held]) * np.repeat(scales, sizes), size)
    credit = dense_sum(docs, np.concatenate([got for _, _, got in held]) * np.repeat(weights, sizes), size)
    return total, credit


def dense_sum(docs: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """`values` added up per passage, in their order, over the whole corpus (float64 even when empty)."""
    if not docs.size:
        return np.zeros(size)  # bincount of nothing is an int64 array
    return np.bincount(docs, values, size)


def looked_up(
    pieces: list[tuple[np.ndarray, np.ndarray, float]], among: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`word_scores` for the few passages of `among` (ascending), each searched for in the postings."""
    best = got = None
    for docs, weights, factor in pieces:
        if not docs.size:
            continue
        at = docs.searchsorted(among)
        np.minimum(at, docs.size - 1, out=at)  # past the end: any entry, the test below fails
        hit = np.flatnonzero(docs[at] == among)
        if best is None:  # the first alternative is written whole, not merged
            best, got = np.full(among.size, -np.inf), np.full(among.size, -np.inf)
            best[hit] = factor * weights[at[hit]]
            got[hit] = factor
            continue
        np.maximum.at(best, hit, factor * weights[at[hit]])
        np.maximum.at(got, hit, factor)
    if best is None or got is None:
        empty = np.zeros(0)
        return among[:0], empty, empty
    held = got > -np.inf
    return among[held], best[held], got[held]


def restricted(piece: tuple[np.ndarray, np.ndarray, float], among: Among) -> tuple[np.ndarray, np.ndarray, float]:
    """The entries of one posting that lie in `among`."""
    docs, weights, factor = piece
    at = inside(docs, among)
    return docs[at], weights[at], factor


def inside(docs: np.ndarray, among: Among) -> np.ndarray:
    """Where the entries of `docs` (ascending) that lie in `among` are: searched for when `among` is much shorter."""
    if among.docs.size * SEARCH < docs.size:
        return positions(docs, among.docs)
    return np.flatnonzero(among.mask[docs])


def positions(docs: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Where the entries of `wanted` that `docs` holds are in `docs` (both ascending, `docs` not empty)."""
    at = docs.searchsorted(wanted)
    np.minimum(at, docs.size - 1, out=at)  # past the end: any entry, the test below fails
    return at[docs[at] == wanted]


def present(small: np.ndarray, large: np.ndarray) -> np.ndarray:
    """The entries of `small` that `large` holds (both ascending, distinct)."""
    if not small.size or not large.size:
        return small[:0]
    at = np.searchsorted(large, small)
    at[at == large.size] = 0
    return small[large[at] == small]


def pieces_of(word: QueryWord, index: Index) -> tuple[list[tuple[np.ndarray, np.ndarray, float]], list[Variant]]:
    """The postings of the word's alternatives (passages, weights, factor), and its parts aside."""
    pieces: list[tuple[np.ndarray, np.ndarray, float]] = []
    parts = []
    for variant in word.variants:
        if variant.how == "part":
            parts.append(variant)
            continue
        posting = index.postings.get(variant.term)
        if posting is not None:
            pieces.append((posting.docs, posting.weights, variant.factor))  # intp (`PostingTable.get`)
    return pieces, parts


#: A posting this many times longer than the passages wanted is searched rather than masked.
SEARCH = 16


@dataclass(frozen=True, slots=True)
class Among:
    """A set of passages both ways: a mask over the corpus, and the passages ascending."""

    mask: np.ndarray
    docs: np.ndarray


_LOCAL = threading.local()


def scratch_for(size: int) -> Scratch:
    """The calling thread's scratch for a corpus of `size` passages (kept between queries)."""
    scratch = getattr(_LOCAL, "scratch", None)
    if scratch is None or scratch.size != size:
        scratch = _LOCAL.scratch = Scratch(size)
    return scratch


class Scratch:
    """Dense per-query arrays over every passage for merging a word's alternatives.

    Taking each passage's best alternative by sorting the concatenated postings cost milliseconds
    for a common word at 100k passages (它 and ~它 and a synonym: tens of thousands of entries);
    scattering each posting into dense arrays costs one pass over the postings. Only the touched
    entries are reset, so one scratch serves every word of every query of a thread.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # made on first use

    def best(
        self, pieces: list[tuple[np.ndarray, np.ndarray, float]], *, ascending: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each passage once, with its best score and best credit among the alternatives (exact: max).

        `ascending` orders the passages (read off the marks, which costs a pass over the corpus).
        """
        if self._arrays is None:
            self._arrays = (np.full(self.size, -np.inf), np.full(self.size, -np.inf), np.zeros(self.size, bool))
        best, credit, seen = self._arrays
        firsts: list[np.ndarray] = []
        try:
            for docs, weights, factor in pieces:  # a posting lists each passage once
                if not firsts:  # nothing is marked yet: written, not merged
                    firsts.append(docs)
                    seen[docs] = True
                    best[docs] = factor * weights
                    credit[docs] = factor
                    continue
                firsts.append(docs[~seen[docs]])
                seen[docs] = True
                np.maximum.at(best, docs, factor * weights)
                np.maximum.at(credit, docs, factor)
            docs = np.flatnonzero(seen) if ascending else np.concatenate(firsts)
            return docs, best[docs], credit[docs]
        finally:  # clean for the next word, whatever happened
            for touched in firsts:
                best[touched] = -np.inf
                credit[touched] = -np.inf
                seen[touched] = False


def as_characters(word: QueryWord, grams: Index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A Chinese word the word index never saw, found as its characters side by side.

    jieba cuts 最难 whole in a query and 最/难 in "最难的是招人": the character-bigram index holds
    every pair of adjacent characters, so a passage that has all of the word's pairs has the word
    (as a string). Scored below a match of the word itself (PART).
    """
    text = word.word
    if len(text) < 2 or text.isascii():
        empty = np.zeros(0)
        return np.zeros(0, dtype=np.intp), empty, empty
    pairs = list(dict.fromkeys(text[i : i + 2] for i in range(len(text) - 1)))
    postings = [grams.postings.get(pair) for pair in pairs]
    if any(p is None for p in postings):
        empty = np.zeros(0)
        return np.zeros(0, dtype=np.intp), empty, empty
    docs = min((p.docs for p in postings), key=len)  # type: ignore[union-attr]
    for posting in postings:  # the shortest list searched in the others: no sort of the longer ones
        docs = present(docs, posting.docs)  # type: ignore[union-attr]
    total = np.zeros(docs.size)
    for posting in postings:
        at = np.searchsorted(posting.docs, docs)  # type: ignore[union-attr]
        total += posting.weights[at]  # type: ignore[union-attr]
    return docs.astype(np.intp), PART * total / len(postings), np.full(docs.size, PART)


def parts_scores(
    parts: list[Variant], index: Index, scratch: Scratch | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The pieces of a compound the passage cut differently: all of them together make a near-match."""
    found: list[tuple[np.ndarray, np.ndarray]] = []
    for variant in parts:
        pieces = []
        for term, factor in ((variant.term, 1.0), (INSIDE + variant.term, INSIDE_WORD)):
            posting = index.postings.get(term)
            if posting is not None:
                pieces.append((posting.docs, posting.weights, factor))
        if len(pieces) == 1:
            docs, weights, factor = pieces[0]
            found.append((docs, factor * weights))
        elif pieces:
            docs, best, _ = (scratch or scratch_for(index.size)).best(pieces)
            found.append((docs, best))
    if not found:
        return None
    if len(found) == 1:
        docs, summed = found[0]
        return docs, PART * summed / len(parts), np.full(docs.size, PART / len(parts))
    summed = np.zeros(index.size)
    held = np.zeros(index.size)
    for docs, best in found:  # added part by part: the sums a bincount over them all would make
        summed[docs] += best
        held[docs] += 1
    docs = np.flatnonzero(held)
    return docs, PART * summed[docs] / len(parts), PART * held[docs] / len(parts)
