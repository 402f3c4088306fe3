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
from dataclasses import dataclass

import numpy as np

from quotecore.columns import Columns
from quotecore.index import Index
from quotecore.models import KINDS
from quotecore.query import INSIDE_WORD, PART, QueryPlan, QueryWord, Variant
from quotecore.tokenize import INSIDE

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

    docs: np.ndarray  # int32, in ranked order
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


def _word_scores(word: QueryWord, index: Index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(passages, score, credit) for one query word: the best of its alternatives in each passage.

    Sparse: only the postings of the word's alternatives are touched, so the cost follows the
    matches, not the corpus, and a word found through a single alternative needs no merging.
    """
    docs: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    credits: list[np.ndarray] = []
    parts = []
    for variant in word.variants:
        if variant.how == "part":
            parts.append(variant)
            continue
        posting = index.postings.get(variant.term)
        if posting is None:
            continue
        docs.append(posting.docs)
        scores.append(variant.factor * posting.weights)
        credits.append(np.full(posting.docs.size, variant.factor))
    if parts and not docs:  # only a word the corpus never holds whole is looked for in pieces
        found = _parts_scores(parts, index)
        if found is not None:
            docs.append(found[0])
            scores.append(found[1])
            credits.append(found[2])
    if not docs:
        empty = np.zeros(0)
        return np.zeros(0, dtype=np.int32), empty, empty
    if len(docs) == 1:
        return docs[0], scores[0], credits[0]
    return _best_per_doc(np.concatenate(docs), np.concatenate(scores), np.concatenate(credits))


def _as_characters(word: QueryWord, grams: Index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A Chinese word the word index never saw, found as its characters side by side.

    jieba cuts 最难 whole in a query and 最/难 in "最难的是招人": the character-bigram index holds
    every pair of adjacent characters, so a passage that has all of the word's pairs has the word
    (as a string). Scored below a match of the word itself (PART).
    """
    text = word.word
    if len(text) < 2 or text.isascii():
        empty = np.zeros(0)
        return np.zeros(0, dtype=np.int32), empty, empty
    pairs = list(dict.fromkeys(text[i : i + 2] for i in range(len(text) - 1)))
    postings = [grams.postings.get(pair) for pair in pairs]
    if any(p is None for p in postings):
        empty = np.zeros(0)
        return np.zeros(0, dtype=np.int32), empty, empty
    docs = postings[0].docs  # type: ignore[union-attr]
    for posting in postings[1:]:
        docs = np.intersect1d(docs, posting.docs, assume_unique=True)  # type: ignore[union-attr]
    total = np.zeros(docs.size)
    for posting in postings:
        at = np.searchsorted(posting.docs, docs)  # type: ignore[union-attr]
        total += posting.weights[at]  # type: ignore[union-attr]
    return docs.astype(np.int32), PART * total / len(postings), np.full(docs.size, PART)


def _best_per_doc(docs: np.ndarray, scores: np.ndarray, credits: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each passage once, with its best score and best credit among the alternatives that reached it."""
    by_score = np.lexsort((-scores, docs))
    keep = by_score[_firsts(docs[by_score])]
    by_credit = np.lexsort((-credits, docs))
    best_credit = credits[by_credit][_firsts(docs[by_credit])]
    return docs[keep], scores[keep], best_credit


def _firsts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values starts in a sorted array, as a mask."""
    mask = np.empty(ordered.size, dtype=bool)
    mask[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=mask[1:])
    return mask


def _parts_scores(parts: list[Variant], index: Index) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The pieces of a compound the passage cut differently: all of them together make a near-match."""
    docs: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    for variant in parts:
        pieces = []
        for term, factor in ((variant.term, 1.0), (INSIDE + variant.term, INSIDE_WORD)):
            posting = index.postings.get(term)
            if posting is not None:
                pieces.append((posting.docs, factor * posting.weights))
        if not pieces:
            continue
        if len(pieces) == 1:
            d, v = pieces[0]
        else:
            d, v, _ = _best_per_doc(
                np.concatenate([d for d, _ in pieces]),
                np.concatenate([v for _, v in pieces]),
                np.zeros(sum(d.size for d, _ in pieces)),
            )
        docs.append(d)
        scores.append(v)
    if not docs:
        return None
    every = np.concatenate(docs)
    unique, inverse, held = np.unique(every, return_inverse=True, return_counts=True)
    summed = np.bincount(inverse, weights=np.concatenate(scores), minlength=unique.size)
    return unique.astype(np.int32), PART * summed / len(parts), PART * held / len(parts)


def score(
    plan: QueryPlan,
    index: Index,
    layout: Layout,
    only: str | None = None,
    grams: Index | None = None,
) -> Scored:
    """Every passage that matches enough of `plan`, best first (see the module docstring)."""
    n = index.size
    docs_of: list[np.ndarray] = []
    scores_of: list[np.ndarray] = []
    credits_of: list[np.ndarray] = []
    weight = 0.0
    for word in plan.words:
        w = word_weight(word, index) * word.scale
        docs, best, got = _word_scores(word, index)
        if not docs.size and grams is not None:
            docs, best, got = _as_characters(word, grams)
        docs_of.append(docs)
        scores_of.append(word.scale * best)
        credits_of.append(w * got)
        weight += w
    every = np.concatenate(docs_of) if docs_of else np.zeros(0, dtype=np.int32)
    total = np.bincount(every, weights=np.concatenate(scores_of), minlength=n) if every.size else np.zeros(n)
    credit = np.bincount(every, weights=np.concatenate(credits_of), minlength=n) if every.size else np.zeros(n)
    # Matched is held a query word, not a positive score: in a tiny corpus a word in half the
    # passages has idf 0 (rank-bm25), and its passages still match.
    docs = np.flatnonzero(credit > 0).astype(np.int32)
    carried = np.zeros(n)
    if layout.edge_src.size and docs.size:
        carried, credit, inherited = _carry(total, credit, layout)
        if inherited:
            docs = np.flatnonzero(credit > 0).astype(np.int32)
    base = total + carried
    share = credit[docs] / weight if weight else np.zeros(docs.size)
    # A lead-in is never served alone: its evidence went to what it announces.
    keep = (share >= min_share(len(plan.words)) - 1e-9) & (layout.kind[docs] != _LEAD_IN)
    if only is not None:
        keep &= layout.speaker[docs] == speaker_code(layout, only)
    docs, share = docs[keep], share[keep]
    # The name is intent only where that person's words hold the query about as well as the
    # best match does; otherwise the name is the topic ("山姆最大的优点": Lightcap on Sam).
    strong = share >= (INTENT_EVIDENCE * share.max() if share.size else 0.0) - 1e-9
    prior = priors(docs, layout, only or plan.intent, strong)
    final = (base[docs] + _FLOOR) * prior  # the floor lets priors order matches that score 0
    return Scored(docs, final, total[docs], carried[docs], share, prior, weight)


def by_speaker(layout: Layout, speaker_id: str) -> Scored:
    """A query that only names a person ("奥特曼"): that person's quotable passages, in corpus order."""
    docs = np.flatnonzero(layout.quotable & (layout.speaker == speaker_code(layout, speaker_id))).astype(np.int32)
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
    prior = layout.prior[docs].copy()
    if wanted is not None:
        own = layout.speaker[docs] == speaker_code(layout, wanted)
        if strong is not None:
            own &= strong
        prior[own] = np.maximum(prior[own], 1.0) * INTENT
    prior[layout.doubtful[docs]] *= DOUBTFUL
    return prior


def _carry(total: np.ndarray, credit: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray, bool]:
    """What each passage inherits from the question or lead-in that introduces it (and whether any did)."""
    carried = np.zeros(total.size)
    live = credit[layout.edge_src] > 0
    if layout.edge_lead.any():
        # A lead-in whose list already says what it says hands nothing on: the items speak for themselves.
        said = np.zeros(total.size, dtype=bool)
        said[layout.edge_src[layout.edge_lead & (credit[layout.edge_dst] >= credit[layout.edge_src])]] = True
        live &= ~(layout.edge_lead & said[layout.edge_src])
    if not live.any():
        return carried, credit, False
    src, dst = layout.edge_src[live], layout.edge_dst[live]
    carried[dst] = total[src] * layout.edge_decay[live]  # each passage has one introducer
    credit = credit.copy()
    credit[dst] = np.maximum(credit[dst], credit[src])
    return carried, credit, True


def order(
    scored: Scored, layout: Layout, plan: QueryPlan, want: int, text_of: Callable[[int], str]
) -> tuple[np.ndarray, np.ndarray]:
    """Positions into `scored` of the best `want` results, and the final scores they were ordered by.

    Only the leading PHRASE_WINDOW results get the phrase bonus (the query's words side by side
    in the passage's lower-cased text), and only they are sorted: sorting every match would be
    the slow part at 100k passages. Ties go to the quotable kind, then to corpus order.
    """
    final = scored.final.copy()
    size = final.size
    window = min(size, max(PHRASE_WINDOW, want))
    top = np.argpartition(-final, window - 1)[:window] if window < size else np.arange(size)
    if plan.adjacent:
        for pos in top.tolist():
            text = "".join(text_of(int(scored.docs[pos])).split())
            together = sum(1 for a, b in plan.adjacent if a + b in text)
            if together:
                final[pos] *= 1 + PHRASE * together / len(plan.adjacent)
    keys = np.lexsort((scored.docs[top], layout.kind[scored.docs[top]], -final[top]))
    return top[keys][:want], final
