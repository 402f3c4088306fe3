"""Ranking quotes, not mentions: BM25 on the query's content, then what kind of passage it is.

A passage's score is its BM25 score on the query's content words (each word counted once, through
the best of its alternatives), plus what it inherits from the question or lead-in right before it,
times priors:

- kind: the speaker's own words (answer, reported) 1.0; the article's narration 0.5; the host's
  question 0.35. A question or narration still comes back when it is all that matches, and a
  host's questions are his words when the query asks for him; a lead-in that only announces what
  follows is never served alone;
- a matched question is evidence for its answer: each passage of the answer turn that follows
  inherits 0.8 of the question's score (a little less for each later paragraph), so
  "开源以及开源的蓬勃发展如何…" finds the answer; a lead-in hands its words to its list the same
  way, unless an item already holds as much of the query;
- the speaker the query names (intent) ×2; a doubtful attribution ×0.8.

A minimum match keeps one common word from making a match: the content words a passage holds
(directly or through the passage it inherits from) must carry at least half of the query's
idf weight. A word the corpus never uses carries the most weight of all, so "足球比赛结果" finds
nothing although 结果 occurs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from quotecore.alternatives import (
    SEARCH,
    Among,
    Scratch,
    as_characters,
    bests,
    dense_sum,
    merged,
    pieces_of,
    positions,
    recent_for,
    restricted_found,
    scratch_for,
    summed,
    word_scores,
)
from quotecore.columns import Columns
from quotecore.index import Index
from quotecore.models import KINDS
from quotecore.query import QueryPlan, QueryWord, Variant

KIND_PRIOR: dict[str, float] = {"answer": 1.0, "reported": 1.0, "narration": 0.5, "question": 0.35, "lead-in": 0.3}
CARRY = 0.8
#: What each kind passes on of its evidence to the quotable run right after it: a question to its
#: answer turn; a lead-in to the list it announces, but only when no item of the list holds as much
#: of the query as the lead-in ("…提到了一些关于能源和开源的话题:" announces one bullet on each: 能源
#: finds its own bullet, not the 开源 one; "未来三年会出现三类公司：" hands 未来 and 会 to items that
#: only say 公司). Narration
#: passes nothing: with 0.2–0.5 it pulled unrelated quotes after the article's framing lines above
#: the line that says the words (the old dev set's `funding`).
CARRIES: dict[str, float] = {"question": CARRY, "lead-in": CARRY}
_INTRODUCES = frozenset(CARRIES)
_QUOTABLE = frozenset({"answer", "reported"})
_LEAD_IN = KINDS.index("lead-in")
INTENT = 2.0
DOUBTFUL = 0.8
CARRY_DECAY = 0.85
MAX_FOLLOWERS = 6
MIN_SHARE = 0.5
MIN_SHARE_MEDIUM = 0.35
MIN_SHARE_LONG = 0.3
#: A named speaker's passages get the intent prior when they hold this much of the best share.
INTENT_EVIDENCE = 0.8
_FLOOR = 1e-6
#: Results re-ranked with the phrase bonus (the query's words side by side in the passage).
PHRASE_WINDOW = 20
PHRASE = 1.0


@dataclass(frozen=True, slots=True)
class Layout:
    """Per-snapshot arrays the ranking reads: each passage's kind, speaker, doubt, and who it introduces.

    `edge_src[i]` introduces `edge_dst[i]` (a question its answer turn, a lead-in what it announces),
    `edge_decay[i]` being the introducer kind's CARRIES share times CARRY_DECAY to the power of how
    far down the run that passage is. A
    passage follows at most one introducer (a run stops at the next question or lead-in), so each
    `edge_dst` is distinct.
    """

    kind: np.ndarray  # int8, index into KINDS
    speaker: np.ndarray  # int16, index into speaker_ids, -1 for nobody
    doubtful: np.ndarray  # bool
    speaker_ids: tuple[str, ...]
    edge_src: np.ndarray  # int32
    edge_dst: np.ndarray  # int32
    edge_decay: np.ndarray  # float64
    edge_lead: np.ndarray  # bool: the edge comes from a lead-in
    prior: np.ndarray  # float64 kind prior per passage
    quotable: np.ndarray  # bool: may be served alone (`daily.is_eligible`)
    #: Arrays derived from the ones above on first use (`_derived`); never part of equality.
    derived: dict[object, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, columns: Columns, speaker_ids: tuple[str, ...]) -> Layout:
        """Arrays for a snapshot's passages, read off its columns (no Passage object is made)."""
        arrays = columns.arrays
        table = {s: i for i, s in enumerate(speaker_ids)}
        # The columns' own speaker table, renumbered to the snapshot's (-1 indexes the last entry: -1).
        recode = np.array([table.get(s, -1) for s in columns.speakers] + [-1], dtype=np.int16)
        kind = np.asarray(arrays["kind"], dtype=np.int8)
        prior = np.array([KIND_PRIOR[k] for k in KINDS], dtype=np.float64)[kind]
        src, dst, steps, lead = _followers(kind, np.asarray(arrays["doc"]), np.asarray(arrays["speaker"]))
        shares = np.array([CARRIES.get(k, 0.0) for k in KINDS])[kind[src]]
        return cls(
            kind,
            recode[arrays["speaker"]],
            np.asarray(arrays["doubtful"], dtype=bool),
            speaker_ids,
            src,
            dst,
            shares * CARRY_DECAY ** steps.astype(np.float64),
            lead,
            prior,
            np.asarray(arrays["quotable"], dtype=bool),
        )


def _followers(
    kind: np.ndarray, doc: np.ndarray, speaker: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Who introduces whom: (introducer, follower, step down the run, from a lead-in), introducer-ordered.

    A question or lead-in introduces the quotable run right after it in the same document, at
    most MAX_FOLLOWERS passages; a lead-in's run also stops where the speaker changes from its
    first item's. Walked one step at a time over every introducer at once, in numpy.
    """
    n = kind.size
    codes = np.array([KINDS.index(k) for k in _INTRODUCES], dtype=np.int8)
    quotable = np.isin(kind, np.array([KINDS.index(k) for k in _QUOTABLE], dtype=np.int8))
    intro = np.flatnonzero(np.isin(kind, codes)).astype(np.int32)
    is_lead = kind[intro] == _LEAD_IN
    alive = np.ones(intro.size, dtype=bool)
    first = np.zeros(intro.size, dtype=speaker.dtype)
    found: list[tuple[np.ndarray, np.ndarray, int]] = []
    for step in range(MAX_FOLLOWERS):
        at = intro + 1 + step
        alive &= at < n
        safe = np.where(alive, at, 0)
        alive &= (doc[safe] == doc[intro]) & quotable[safe]
        if step == 0:
            first = speaker[safe]
        else:
            alive &= ~is_lead | (speaker[safe] == first)
        if not alive.any():
            break
        found.append((intro[alive], at[alive].astype(np.int32), step))
    if not found:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    src = np.concatenate([f[0] for f in found])
    dst = np.concatenate([f[1] for f in found])
    steps = np.concatenate([np.full(f[0].size, f[2], dtype=np.int64) for f in found])
    order = np.lexsort((steps, src))  # the order a walk passage by passage lists them
    src, dst, steps = src[order], dst[order], steps[order]
    return src, dst, steps, kind[src] == _LEAD_IN


@dataclass(frozen=True, slots=True)
class Scored:
    """Every passage that matched enough of the query, with its score and how it was reached."""

    docs: np.ndarray  # passage numbers (intp: numpy indexes with it without converting)
    final: np.ndarray  # float64, same order
    bm25: np.ndarray  # the passage's own BM25 part
    carried: np.ndarray  # what it inherited from the passage that introduces it
    share: np.ndarray  # the share of the query's weight it holds
    prior: np.ndarray  # the product of its priors
    weight: float  # the query's total weight


def word_weight(word: QueryWord, index: Index) -> float:
    """A query word's idf; a word the corpus never uses weighs as a term in no document."""
    idf = index.idf(word.word)
    if idf > 0:
        return idf
    return float(np.log((index.size + 0.5) / 0.5)) if index.size else 1.0


def _common_words(weights: list[float], weight: float, share: float) -> set[int]:
    """Query words too common to make a match on their own, even all of them together.

    A match needs `share` of the query's weight, and a word adds at most its weight (every
    alternative is worth at most the word itself). If the lightest words together stay below that,
    every match holds one of the others, or follows a passage that does: those words need only be
    looked up in the passages the others found, not read whole (我们, 会, 模型 in a long question).
    """
    if weight <= 0 or len(weights) < 2:
        return set()
    room = (share - 1e-6) * weight  # the margin dwarfs any rounding in the sums
    common: set[int] = set()
    held = 0.0
    for i in sorted(range(len(weights)), key=lambda i: weights[i]):
        if held + weights[i] >= room:
            break
        held += weights[i]
        common.add(i)
    return common


#: Passage sets this many times smaller than the corpus are sorted rather than marked in a mask.
_SPARSE = 16


#: Common words are looked up only when their postings are this many times the others'.
_WORTH = 2
#: Postings this short in all are read whole and at once, common words too: finding the candidates
#: first (`_heads`, `_candidates`) costs a few dozen numpy calls, as much as merging this many entries.
_READ_ALL = 32768
#: Postings this short in all are merged in one batch (`_read_all`): past that, the sort of the
#: batch costs more than the calls it saves (long words keep the scratch arrays, `bests`).
_MERGE_ALL = 8192


def _heads(
    size: int,
    weights: list[float],
    found: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]],
    common: dict[int, tuple[np.ndarray, np.ndarray] | None],
    needed: float,
) -> np.ndarray:
    """The passages that may hold `needed` of the query's weight themselves (ascending).

    `common` holds each common word's merge (passages ascending, credit), or None for a word no
    posting holds.

    Each passage a rarer word found gets an upper bound of its credit: exact for the rarer words
    and the common words read so far, plus the weight of the common words not read yet. A passage
    whose bound falls short is dropped; the heaviest (shortest) common words are read first, so
    the longest merges are only searched for the few passages left. Passages no rarer word found
    cannot reach `needed` (that is what makes the others common).
    """
    words = list(found.values())
    sizes = [docs.size for docs, _, _ in words]
    if words:  # the rarer words' credit
        credit = np.concatenate([got for _, _, got in words]) * np.repeat([weights[i] for i in found], sizes)
        bound = dense_sum(np.concatenate([docs for docs, _, _ in words]), credit, size)
    else:
        bound = np.zeros(size)
    order = sorted(common, key=lambda i: -weights[i])
    rest = 0.0
    for i in order:
        rest += weights[i]
    # Alive: a bound that, with every common word not read yet, still reaches `needed`. A dropped
    # passage gets nothing more and `rest` only shrinks, so it stays below. Short merges are read
    # whole, testing that for each entry; the passages left are listed (a pass over the corpus)
    # only once a merge is long enough that searching them in it may pay.
    left = None
    for i in order:
        floor = needed - rest
        rest -= weights[i]
        merge = common[i]
        if merge is None:
            continue
        docs, got = merge
        if left is None and docs.size * _LISTED > size:
            left = np.flatnonzero(bound >= floor)
        elif left is not None:
            left = left[bound[left] >= floor]
        if left is not None and left.size * SEARCH < docs.size:  # few passages left: each searched for
            at = positions(docs, left)
        else:
            at = np.flatnonzero(bound[docs] >= floor)
        bound[docs[at]] += weights[i] * got[at]
    floor = needed - max(rest, 0.0)
    # The passages some rarer word found (their credit is positive) that reach `needed`: the common
    # words weigh less than it, so no other passage does.
    return np.flatnonzero(bound >= floor) if left is None else left[bound[left] >= floor]


#: A common word's merge longer than the corpus over this is searched for the passages left
#: rather than read whole (`_heads`).
_LISTED = 8


def _union(arrays: list[np.ndarray], size: int) -> np.ndarray:
    """The distinct passages of several arrays, ascending: sorted when few, marked when many."""
    count = sum(a.size for a in arrays)
    if count * _SPARSE < size:  # np.unique hashes first: slower than a plain sort for these
        ordered = np.sort(np.concatenate(arrays)) if arrays else np.zeros(0, dtype=np.intp)
        first = np.ones(ordered.size, dtype=bool)
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        return ordered[first]
    mark = np.zeros(size, dtype=bool)
    for a in arrays:
        mark[a] = True
    return np.flatnonzero(mark)


def _candidates(heads: np.ndarray, layout: Layout) -> Among:
    """Every passage whose score a match can depend on, given the possible matches `heads`.

    `heads` (ascending) are the passages that may hold enough of the query themselves. A match is
    such a passage or is introduced by one; its score reads its introducer's, and a lead-in's
    hand-over reads every passage the lead-in introduces. So: the heads, their introducers, and
    whatever those two introduce.
    """
    size = layout.kind.size
    docs = heads
    if layout.edge_src.size:
        introducer = _derived(layout, "introducer", lambda: _introducers(layout))
        up = introducer[heads]
        docs = _union([heads, up[up >= 0]], size)
        docs = _union([docs, layout.edge_dst[_edges_from(docs, layout)].astype(np.intp)], size)
    mask = np.zeros(size, dtype=bool)
    mask[docs] = True
    return Among(mask, docs)


def _introducers(layout: Layout) -> np.ndarray:
    """For each passage, the passage that introduces it (-1 for none; each has at most one)."""
    out = np.full(layout.kind.size, -1, dtype=np.int64)
    out[layout.edge_dst] = layout.edge_src
    return out


def score(
    plan: QueryPlan,
    index: Index,
    layout: Layout,
    only: str | None = None,
    grams: Index | None = None,
) -> Scored:
    """Every passage that matches enough of `plan`, best first (see the module docstring)."""
    n = index.size
    scratch = scratch_for(n)
    # Each word's table rows read once: its idf, and how many entries its alternatives hold.
    idfs = [idf or 0.0 for idf in index.postings.idfs([word.word for word in plan.words])]
    unseen = float(np.log((n + 0.5) / 0.5)) if n else 1.0  # `word_weight` of a word no passage holds
    weights = [(idf if idf > 0 else unseen) * word.scale for idf, word in zip(idfs, plan.words, strict=True)]
    weight = 0.0
    for w in weights:
        weight += w
    # Only a word the index holds itself may be common: the others are looked for in pieces.
    common = _common_words(
        [w if idf > 0 else np.inf for w, idf in zip(weights, idfs, strict=True)], weight, min_share(len(plan.words))
    )
    read = [pieces_of(word, index) for word in plan.words]
    entries = [sum(docs.size for docs, _, _ in pieces) for pieces, _ in read]  # each its row's df
    if len(plan.words) > 2 and sum(entries) <= _MERGE_ALL and any(pieces for pieces, _ in read):
        # Short postings: all of it read whole and merged at once, common words too.
        total, credit = _read_all(plan, index, read, weights, scratch, grams)
        return _ranked(plan, layout, only, total, credit, weight, None)
    if sum(entries) <= _READ_ALL:
        common = set()  # read whole, word by word
    if common and sum(entries[i] for i in common) < _WORTH * sum(e for i, e in enumerate(entries) if i not in common):
        common = set()  # the rarer words find about as many passages: looking up buys nothing
    # The words read whole, all at once; a word no posting holds whole is looked for in pieces.
    recent = recent_for(index)
    keys = {i: word.variants for i, word in enumerate(plan.words)}
    found = bests([(i, read[i][0]) for i in range(len(read)) if i not in common and read[i][0]], scratch, recent, keys)
    for i, word in enumerate(plan.words):
        if i not in common and i not in found:
            found[i] = _whole_or_characters(word, index, scratch, read[i], grams)
    among = None
    if common:
        # Each common word merged whole (or as an earlier query merged it), then cut to the candidates.
        merges = bests([(i, read[i][0]) for i in sorted(common) if read[i][0]], scratch, recent, keys)
        lists = {i: (merges[i][0], merges[i][2]) if i in merges else None for i in common}
        heads = _heads(n, weights, found, lists, (min_share(len(plan.words)) - 1e-6) * weight)
        among = _candidates(heads, layout)
        found.update({i: restricted_found(merge, among) for i, merge in merges.items()})
    held: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for i, word in enumerate(plan.words):
        if i not in found:
            held.append(word_scores(word, index, scratch, among, read[i]))
        else:
            held.append(found[i])
    if among is not None:  # sums for the candidates only: no array over the whole corpus
        total, credit = _compact_sums(held, [word.scale for word in plan.words], weights, among)
        return _ranked(plan, layout, only, total, credit, weight, among, compact=True)
    if len(held) == 1:  # written straight into the dense sums: no copies to make
        docs, best, got = held[0]
        total, credit = np.zeros(n), np.zeros(n)
        total[docs] = plan.words[0].scale * best
        credit[docs] = weights[0] * got
    else:
        total, credit = summed(held, [word.scale for word in plan.words], weights, n)
    reach = sum(docs.size for docs, _, _ in held)  # at least the number of passages matched directly
    return _ranked(plan, layout, only, total, credit, weight, None, dense=reach * _DENSE > n)


def _compact_sums(
    held: list[tuple[np.ndarray, np.ndarray, np.ndarray]], scales: list[float], weights: list[float], among: Among
) -> tuple[np.ndarray, np.ndarray]:
    """`summed` for the candidates only, position by position in `among.docs`.

    The entries lie side by side in query order, so each candidate's terms are added in the order
    `summed` adds them. The words read whole bring every passage they hold: all cut to the
    candidates with one mask.
    """
    sizes = [docs.size for docs, _, _ in held]
    docs = np.concatenate([docs for docs, _, _ in held])
    best = np.concatenate([best for _, best, _ in held]) * np.repeat(scales, sizes)
    got = np.concatenate([got for _, _, got in held]) * np.repeat(weights, sizes)
    inside = among.mask[docs]
    if not inside.all():
        docs, best, got = docs[inside], best[inside], got[inside]
    at = among.docs.searchsorted(docs)
    return dense_sum(at, best, among.docs.size), dense_sum(at, got, among.docs.size)


def _whole_or_characters(
    word: QueryWord,
    index: Index,
    scratch: Scratch,
    read: tuple[list[tuple[np.ndarray, np.ndarray, float]], list[Variant]],
    grams: Index | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A word read whole (or in pieces); one the word index never saw, as its characters side by side."""
    found = word_scores(word, index, scratch, read=read)
    if not found[0].size and grams is not None:
        found = as_characters(word, grams)
    return found


def _read_all(
    plan: QueryPlan,
    index: Index,
    read: list[tuple[list[tuple[np.ndarray, np.ndarray, float]], list[Variant]]],
    weights: list[float],
    scratch: Scratch,
    grams: Index | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Dense BM25 sums and credit of every word: the ones a posting holds merged in one batch.

    A word no posting holds whole is looked for in pieces (or characters) on its own, and its
    entries are put back among the others in query order, so each passage's sum is added in
    that order as in `summed`.
    """
    n = index.size
    batch = [(i, pieces) for i, (pieces, _) in enumerate(read) if pieces]
    docs, values, factors, slots = merged(batch, n)
    word_of = np.array([i for i, _ in batch])[slots]
    alone = []
    for i, word in enumerate(plan.words):
        if not read[i][0]:
            alone.append((i, _whole_or_characters(word, index, scratch, read[i], grams)))
    if alone:
        docs = np.concatenate([docs] + [found[0] for _, found in alone])
        values = np.concatenate([values] + [found[1] for _, found in alone])
        factors = np.concatenate([factors] + [found[2] for _, found in alone])
        word_of = np.concatenate([word_of] + [np.full(found[0].size, i) for i, found in alone])
        order = np.argsort(word_of, kind="stable")  # back in query order (sorted runs: a merge)
        docs, values, factors, word_of = docs[order], values[order], factors[order], word_of[order]
    total = dense_sum(docs, values * np.array([word.scale for word in plan.words])[word_of], n)
    return total, dense_sum(docs, factors * np.array(weights)[word_of], n)


def _ranked(
    plan: QueryPlan,
    layout: Layout,
    only: str | None,
    total: np.ndarray,
    credit: np.ndarray,
    weight: float,
    among: Among | None,
    *,
    dense: bool = False,
    compact: bool = False,
) -> Scored:
    """`score`'s matches from each passage's own BM25 sum and credit: carried, filtered, priors applied.

    With every passage's credit exact (`among` None) and three words or more, the passages that hold
    enough of the query themselves are known at once: only they and their runs (`_candidates`)
    are carried and filtered, not every passage holding some common word of a long query. With
    `dense` (the words' postings reach a large part of the corpus), every array is read whole; with
    `compact`, `total` and `credit` hold the candidates `among` only, position by position.
    """
    if among is None and len(plan.words) > 2 and weight > 0:  # two words: most holders match
        heads = np.flatnonzero(credit >= (min_share(len(plan.words)) - 1e-6) * weight)
        if heads.size * _SPARSE < np.count_nonzero(credit):  # few of the passages held: worth it
            among = _candidates(heads, layout)
    if dense and among is None and weight > 0:
        docs, share, own, inherited = _ranked_dense(plan, layout, total, credit, weight)
    else:
        docs, share, own, inherited = _ranked_sparse(plan, layout, total, credit, weight, among, compact)
    if only is not None:
        keep = layout.speaker[docs] == speaker_code(layout, only)
        docs, share, own = docs[keep], share[keep], own[keep]
        inherited = None if inherited is None else inherited[keep]
    # The name is intent only where that person's words hold the query about as well as the
    # best match does; otherwise the name is the topic ("山姆最大的优点": Lightcap on Sam).
    strong = share >= (INTENT_EVIDENCE * share.max() if share.size else 0.0) - 1e-9
    prior = priors(docs, layout, only or plan.intent, strong)
    if inherited is None:
        inherited, base = np.zeros(docs.size), own
    else:
        base = own + inherited
    final = (base + _FLOOR) * prior  # the floor lets priors order matches that score 0
    return Scored(docs, final, own, inherited, share, prior, weight)


#: A query whose postings reach one passage in this many is carried and filtered over the whole
#: corpus at once (`_ranked_dense`): finding so many matched passages' own edges first costs more.
_DENSE = 6

#: (passages, share, own BM25, inherited or None): the matches that hold enough of the query.
_Matches = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]


def _ranked_sparse(
    plan: QueryPlan,
    layout: Layout,
    total: np.ndarray,
    credit: np.ndarray,
    weight: float,
    among: Among | None,
    compact: bool,
) -> _Matches:
    """The matches that hold enough of the query, read match by match."""
    # Matched is held a query word, not a positive score: in a tiny corpus a word in half the
    # passages has idf 0 (rank-bm25), and its passages still match.
    at, docs = _matched(credit, among, compact)
    carried = None
    if layout.edge_src.size and docs.size:
        carried, credit = _carry(docs, total, credit, layout, among if compact else None)
        if carried is not None:
            at, docs = _matched(credit, among, compact)
    share = credit[at] / weight if weight else np.zeros(docs.size)
    # A lead-in is never served alone: its evidence went to what it announces.
    keep = (share >= min_share(len(plan.words)) - 1e-9) & (layout.kind[docs] != _LEAD_IN)
    at = at[keep]
    return docs[keep], share[keep], total[at], None if carried is None else carried[at]


def _ranked_dense(plan: QueryPlan, layout: Layout, total: np.ndarray, credit: np.ndarray, weight: float) -> _Matches:
    """`_ranked_sparse` for a query that a large part of the corpus matches: every array read whole.

    The same values: an edge out of a passage that matched nothing carries 0 and raises no
    credit, and a share over the minimum implies a match (the minimum is positive).
    """
    carried = _carry_all(total, credit, layout)
    shares = credit / weight
    servable = _derived(layout, "servable", lambda: layout.kind != _LEAD_IN)
    docs = np.flatnonzero((shares >= min_share(len(plan.words)) - 1e-9) & servable)
    return docs, shares[docs], total[docs], carried[docs]


def _matched(credit: np.ndarray, among: Among | None, compact: bool) -> tuple[np.ndarray, np.ndarray]:
    """(positions in `credit`, passages) holding some of the query, ascending; among the candidates if any."""
    if compact:
        assert among is not None
        at = np.flatnonzero(credit > 0)
        return at, among.docs[at]
    docs = np.flatnonzero(credit > 0) if among is None else among.docs[credit[among.docs] > 0]
    return docs, docs


def by_speaker(layout: Layout, speaker_id: str) -> Scored:
    """A query that only names a person ("奥特曼"): that person's quotable passages, in corpus order."""
    code = speaker_code(layout, speaker_id)
    docs = _derived(layout, ("speaker", code), lambda: np.flatnonzero(layout.quotable & (layout.speaker == code)))
    ones = np.ones(docs.size)
    final = 1.0 - np.arange(docs.size) / max(docs.size, 1) / 2  # earlier first, all positive
    return Scored(docs, final, ones, np.zeros(docs.size), ones, ones, 0.0)


def speaker_code(layout: Layout, speaker_id: str) -> int:
    """The layout's number for a speaker id (-2, which no passage carries, for an unknown one)."""
    try:
        return layout.speaker_ids.index(speaker_id)
    except ValueError:
        return -2  # nobody's passages carry -2: a filter for an unknown id matches nothing


def min_share(words: int) -> float:
    """The share of the query's weight a match must hold: long chat questions carry more incidental words."""
    if words <= 2:
        return MIN_SHARE
    return MIN_SHARE_LONG if words >= 5 else MIN_SHARE_MEDIUM


def priors(docs: np.ndarray, layout: Layout, wanted: str | None, strong: np.ndarray | None = None) -> np.ndarray:
    """Kind, intent and doubt priors of `docs`; a wanted speaker's questions are his own words."""
    if wanted is None:  # the same products as below, made once per snapshot
        return _derived(layout, "prior_doubt", lambda: _with_doubt(layout.prior.copy(), layout.doubtful))[docs]
    prior = layout.prior[docs].copy()
    if wanted is not None:
        own = layout.speaker[docs] == speaker_code(layout, wanted)
        if strong is not None:
            own &= strong
        prior[own] = np.maximum(prior[own], 1.0) * INTENT
    prior[layout.doubtful[docs]] *= DOUBTFUL
    return prior


def _with_doubt(prior: np.ndarray, doubtful: np.ndarray) -> np.ndarray:
    prior[doubtful] *= DOUBTFUL
    return prior


def _carry(
    docs: np.ndarray, total: np.ndarray, credit: np.ndarray, layout: Layout, among: Among | None = None
) -> tuple[np.ndarray | None, np.ndarray]:
    """What each passage inherits from the question or lead-in that introduces it (None: nothing).

    Only the edges out of matched passages (`docs`, ascending) are read: walking every edge of the
    corpus cost more than the rest of a query at 100k passages. `credit` is updated in place
    (introducers and the passages they introduce are distinct kinds: no edge reads what another
    wrote). With `among`, the arrays hold the candidates only, position by position (`score`), and
    an edge to a passage outside them is left out: nothing of it is served, and its credit (0)
    never says a lead-in's words.
    """
    edges = _edges_from(docs, layout)
    src, dst = layout.edge_src[edges].astype(np.intp), layout.edge_dst[edges].astype(np.intp)
    if among is not None and edges.size:
        inside = among.mask[dst]
        edges, src, dst = edges[inside], among.docs.searchsorted(src[inside]), among.docs.searchsorted(dst[inside])
    if not edges.size:
        return None, credit
    live = np.ones(edges.size, dtype=bool)
    lead = layout.edge_lead[edges]
    if lead.any():
        live[lead] = _handing_on(src[lead], dst[lead], credit)
    if not live.any():
        return None, credit
    carried = np.zeros(total.size)
    _hand_on(total, credit, carried, src[live], dst[live], layout.edge_decay[edges[live]])
    return carried, credit


def _handing_on(src: np.ndarray, dst: np.ndarray, credit: np.ndarray) -> np.ndarray:
    """Which of these lead-in edges hand anything on.

    A lead-in whose list already says what it says hands nothing on: the items speak for themselves.
    """
    said = np.zeros(credit.size, dtype=bool)
    said[src[credit[dst] >= credit[src]]] = True
    return ~said[src]


def _hand_on(
    total: np.ndarray, credit: np.ndarray, carried: np.ndarray, src: np.ndarray, dst: np.ndarray, decay: np.ndarray
) -> None:
    """What each follower inherits along these edges, and the credit it gains (in place)."""
    carried[dst] = total[src] * decay  # each passage has one introducer
    credit[dst] = np.maximum(credit[dst], credit[src])


def _carry_all(total: np.ndarray, credit: np.ndarray, layout: Layout) -> np.ndarray:
    """`_carry` over every edge of the corpus (`credit` updated in place); zeros where nothing is carried."""
    carried = np.zeros(total.size)
    src, dst, decay = _edge_arrays(layout, lead=True)
    live = _handing_on(src, dst, credit)  # read before any credit is raised, as in `_carry`
    _hand_on(total, credit, carried, *_edge_arrays(layout, lead=False))
    _hand_on(total, credit, carried, src[live], dst[live], decay[live])
    return carried


def _edge_arrays(layout: Layout, *, lead: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(introducer, follower, decay) of the edges out of lead-ins, or out of questions (intp indices)."""
    which = _derived(layout, ("edges", lead), lambda: np.flatnonzero(layout.edge_lead == lead))
    src = _derived(layout, ("edge_src", lead), lambda: layout.edge_src[which].astype(np.intp))
    dst = _derived(layout, ("edge_dst", lead), lambda: layout.edge_dst[which].astype(np.intp))
    return src, dst, _derived(layout, ("edge_decay", lead), lambda: layout.edge_decay[which])


def _edges_from(docs: np.ndarray, layout: Layout) -> np.ndarray:
    """Indices of the edges whose introducer is one of `docs` (each passage's edges are contiguous)."""
    first = _derived(layout, "edge_first", lambda: _edge_first(layout))
    order = _derived(layout, "edge_order", lambda: np.argsort(layout.edge_src, kind="stable"))
    introduces = _derived(layout, "introduces", lambda: np.diff(first) > 0)
    docs = docs[introduces[docs]]  # most matches introduce nothing: a cheap mask first
    starts, ends = first[docs], first[docs + 1]
    counts = ends - starts
    has = counts > 0
    starts, counts = starts[has], counts[has]
    if not starts.size:
        return np.zeros(0, dtype=np.intp)
    # The ranges [start, start + count) side by side, without a Python loop.
    ahead = np.cumsum(counts) - counts  # where each range begins in the output
    return order[np.repeat(starts - ahead, counts) + np.arange(int(counts.sum()))]


def _edge_first(layout: Layout) -> np.ndarray:
    """For passage i, where its edges start among the edges ordered by introducer (length n + 1)."""
    ordered = np.sort(layout.edge_src)
    return np.searchsorted(ordered, np.arange(layout.kind.size + 1)).astype(np.intp)


def _derived(layout: Layout, key: object, make: Callable[[], np.ndarray]) -> np.ndarray:
    """A per-snapshot array computed from the layout once, on first use (a race only computes it twice)."""
    found = layout.derived.get(key)
    if found is None:
        found = layout.derived[key] = make()
    return found


def order(
    scored: Scored, layout: Layout, plan: QueryPlan, want: int, text_of: Callable[[int], str]
) -> tuple[np.ndarray, np.ndarray]:
    """Positions into `scored` of the best `want` results, and the final scores they were ordered by.

    Only the leading PHRASE_WINDOW results get the phrase bonus (the query's words side by side
    in the passage's lower-cased text), and only they are sorted: sorting every match would be
    the slow part at 100k passages. Ties go to the quotable kind, then to corpus order, at the
    window's edge as inside it.
    """
    final = scored.final.copy()
    window = min(final.size, max(PHRASE_WINDOW, want))
    top = leading(final, scored.docs, layout.kind, window)
    if plan.adjacent:
        pairs = [a + b for a, b in plan.adjacent]
        for pos in top.tolist():
            text = "".join(text_of(int(scored.docs[pos])).split())
            together = sum(map(text.__contains__, pairs))
            if together:
                final[pos] *= 1 + PHRASE * together / len(plan.adjacent)
    keys = np.lexsort((scored.docs[top], layout.kind[scored.docs[top]], -final[top]))
    return top[keys][:want], final


def leading(final: np.ndarray, docs: np.ndarray, kind: np.ndarray, count: int) -> np.ndarray:
    """Positions of the first `count` in the order (higher final, then lower kind, then lower doc).

    `final` and `docs` are per match; `kind` is the corpus's, indexed by passage.

    A partition finds the `count`-th score; what ties with it is settled by the tie-break keys,
    so a window edge that falls inside a run of equal scores (duplicate passages) is exact too.
    Only the tied run is sorted, never every match.
    """
    if count >= final.size:
        return np.arange(final.size)
    if count <= 0:
        return np.zeros(0, dtype=np.intp)
    negated = -final
    edge = np.partition(negated, count - 1)[count - 1]
    above = np.flatnonzero(negated < edge)
    tied = np.flatnonzero(negated == edge)
    if above.size + tied.size > count:  # `kind` is per passage: read only for the tied ones
        tied = tied[np.lexsort((docs[tied], kind[docs[tied]]))[: count - above.size]]
    return np.concatenate((above, tied))
