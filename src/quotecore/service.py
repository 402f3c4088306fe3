"""QuoteService: the one object every adapter talks to (search, random, show, daily, reload).

It holds one immutable Snapshot (passages + indexes + config). Reload builds a new snapshot
from disk, validates it and swaps the reference; readers never lock and never see a half-built
corpus, and a failed build leaves the old snapshot serving. The service is synchronous and does
no I/O except in `load`/`reload`: adapters run those in a worker thread.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import random as _random
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from quotecore import daily as daily_rotation
from quotecore import paths
from quotecore.cache import TERMS_VERSION, DocumentCache, IndexCache, TermsCache
from quotecore.config import CoreConfig
from quotecore.errors import CorpusError, QueryError, UnknownSpeakerError
from quotecore.excerpt import DEFAULT_MAX_CHARS, excerpt, highlight
from quotecore.index import B, Index, Tokens
from quotecore.ingest import LoadedCorpus, LoadedDocument, load_corpus
from quotecore.models import KINDS, CorpusStats, Document, Drop, Passage, Quote, Speaker
from quotecore.query import QueryPlan, QueryReader
from quotecore.ranking import Layout, Scored, order, score
from quotecore.sounds import Sounds
from quotecore.text import clean_chars, search_form
from quotecore.tokenize import INSIDE, SEP, Tokenizer, default_cache_dir

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 500
_KIND_RANK = {kind: rank for rank, kind in enumerate(KINDS)}
#: The share of a query's character bigrams a passage must hold to match in the fallback.
_GRAM_COVERAGE = 0.6


@dataclass(frozen=True, slots=True)
class Results:
    """One page of search results, and how many matched in all (for "Another" and "3 of 7")."""

    query: str
    quotes: tuple[Quote, ...]
    total: int
    offset: int = 0

    def to_json(self) -> dict[str, object]:
        """The design doc's search JSON shape."""
        return {"query": self.query, "results": [q.to_json() for q in self.quotes]}


@dataclass(frozen=True, slots=True)
class ReloadReport:
    """What a reload changed: the admin's reply is built from this."""

    documents_before: int
    documents_after: int
    passages_before: int
    passages_after: int
    added: int
    removed: int
    seconds: float
    documents: tuple[str, ...] = ()
    #: Passages that had to be segmented (the rest came from the token cache).
    tokenized: int = 0

    def summary(self) -> str:
        """One line for the admin: before → after, and how long it took."""
        return (
            f"documents {self.documents_before} → {self.documents_after}, "
            f"passages {self.passages_before} → {self.passages_after} "
            f"(+{self.added} −{self.removed}) in {self.seconds:.2f} s"
        )


@dataclass(frozen=True)
class Snapshot:
    """An immutable corpus: passages, their attribution, and the indexes over them."""

    documents: dict[str, Document]
    passages: tuple[Passage, ...]
    speakers: dict[str, Speaker]
    tokenizer: Tokenizer
    words: Index
    grams: Index
    synonyms: dict[str, tuple[tuple[str, ...], ...]]
    drops: tuple[Drop, ...] = ()
    topics: tuple[str, ...] = ()
    seconds: float = 0.0
    by_id: dict[str, int] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    eligible: tuple[str, ...] = ()
    layout: Layout | None = None
    reader: QueryReader | None = None

    @property
    def empty(self) -> bool:
        """A corpus with no passages (nothing to search, nothing to post)."""
        return not self.passages


class QuoteService:
    """Search and everything else over the current snapshot; see the module docstring."""

    def __init__(
        self,
        seeds_dir: str | Path | None = None,
        config_dir: str | Path | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.seeds_dir = paths.seeds_dir(seeds_dir)
        self.config_dir = paths.config_dir(config_dir)
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self._snapshot: Snapshot | None = None
        self._reload_lock = threading.Lock()
        self._tokenizer: tuple[str, Tokenizer] | None = None
        self._terms_cache: dict[bytes, tuple[str, str]] = {}
        self._disk_cache: TermsCache | None = None
        self._terms_loaded = False
        self._documents: dict[tuple[str, bytes, str], LoadedDocument] = {}
        self._config_seen = ""
        self._document_cache: DocumentCache | None = None
        self._tokenized = 0

    # -- loading -------------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        """The current snapshot; readers take it once and never see a half-built one."""
        snapshot = self._snapshot
        if snapshot is None:
            raise RuntimeError("QuoteService.load() has not been called")
        return snapshot

    @property
    def loaded(self) -> bool:
        """Whether a snapshot exists (load() has succeeded once)."""
        return self._snapshot is not None

    def load(self) -> ReloadReport:
        """Build the first snapshot (or rebuild); raises CorpusError and keeps the old one on failure."""
        return self.reload()

    def reload(self) -> ReloadReport:
        """Build a new snapshot in the calling thread and swap it in; on CorpusError keep the old one."""
        with self._reload_lock:
            before = self._snapshot
            started = time.perf_counter()
            new = self._build()
            if before is not None and not before.empty and new.empty:
                raise CorpusError(str(self.seeds_dir), None, "no seed files found; keeping the current corpus")
            self._snapshot = new
            seconds = time.perf_counter() - started
            old_ids = set(before.by_id) if before else set()
            new_ids = set(new.by_id)
            report = ReloadReport(
                documents_before=len(before.documents) if before else 0,
                documents_after=len(new.documents),
                passages_before=len(before.passages) if before else 0,
                passages_after=len(new.passages),
                added=len(new_ids - old_ids),
                removed=len(old_ids - new_ids),
                seconds=seconds,
                tokenized=self._tokenized,
                documents=tuple(d.title for d in new.documents.values()),
            )
            log.info(
                "corpus loaded: %s (%d passages segmented, the rest from the token cache)",
                report.summary(),
                report.tokenized,
            )
            return report

    def _tokenizer_for(self, config: CoreConfig) -> Tokenizer:
        signature = repr((config.userdict, sorted(config.stopwords)))
        if self._tokenizer is None or self._tokenizer[0] != signature:
            self._tokenizer = (signature, Tokenizer(config.userdict, config.stopwords, self.cache_dir / "jieba"))
            # Terms depend on the dictionary and stopwords: start from that configuration's disk cache.
            # One file per corpus directory, so two corpora sharing a cache never evict each other.
            self._disk_cache = TermsCache(self.cache_dir / "terms", f"{signature}\n{self.seeds_dir.resolve()}")
            self._terms_cache = {}
            self._terms_loaded = False  # read on first need: an unchanged corpus starts from its index
        return self._tokenizer[1]

    def _terms(self, tokenizer: Tokenizer, text: str) -> tuple[str, str]:
        """Word terms and the gram form of a passage, cached by content across reloads."""
        if not self._terms_loaded and self._disk_cache is not None:
            self._terms_cache = self._disk_cache.load()
            self._terms_loaded = True
        key = hashlib.blake2b(text.encode(), digest_size=16).digest()
        cached = self._terms_cache.get(key)
        if cached is None:
            words = tokenizer.terms(text)
            if any(SEP in t for t in words):  # cannot happen after cleaning; never mis-split
                words = [t.replace(SEP, "") for t in words]
            cached = (SEP.join(words), tokenizer.gram_form(text))
            self._terms_cache[key] = cached
            self._tokenized += 1
        return cached

    def _build(self) -> Snapshot:
        started = time.perf_counter()
        config = CoreConfig.load(self.config_dir)
        tokenizer = self._tokenizer_for(config)
        seen = self._config_fingerprint()
        if seen != self._config_seen:  # cleaning and attribution depend on the config
            self._documents = {}
            self._config_seen = seen
            self._document_cache = DocumentCache(
                self.cache_dir / "documents", f"{self.seeds_dir.resolve()}\n{self._config_seen}"
            )
        corpus: LoadedCorpus = (
            load_corpus(self.seeds_dir, config, self._documents, self._document_cache)
            if self._has_seeds()
            else LoadedCorpus(())
        )
        passages = tuple(corpus.passages)
        self._tokenized = 0
        keys = [hashlib.blake2b(p.text.encode(), digest_size=16).digest() for p in passages]
        index_key = hashlib.blake2b(
            b"".join([TERMS_VERSION.encode(), f"b={B}".encode(), self._tokenizer_signature(), *keys]),
            digest_size=16,
        ).hexdigest()
        stored = self._index_cache().load(index_key)
        if stored is not None and "sounds" in stored:
            words, grams = Index.from_arrays(stored["words"]), Index.from_arrays(stored["grams"])
            sounds = Sounds.from_arrays(stored["sounds"], words.terms())
        else:
            terms = [self._terms(tokenizer, p.text) for p in passages]
            live = set(keys)
            stale = set(self._terms_cache) - live
            for key in stale:
                del self._terms_cache[key]
            on_disk = self._disk_cache is not None
            if (self._tokenized or stale) and self._disk_cache is not None:
                on_disk = self._disk_cache.save(self._terms_cache)
            if on_disk:
                # Every passage's tokens are on disk until the next changed build reads them again:
                # between reloads the bot holds its index, not the tokens it was built from.
                self._terms_cache, self._terms_loaded = {}, False
            # One index at a time, each kept only as its arrays once built, the largest of them in
            # scratch files: a build's peak is one index's counting, not every array at once.
            cache = self._index_cache()
            scratch = cache.scratch()
            try:
                joined = [t for t, _ in terms]
                built = {"words": Index(Tokens(joined, SEP), scratch).to_arrays()}
                joined = [g for _, g in terms]
                del terms
                built["grams"] = Index.of_grams(joined, scratch).to_arrays()
                del joined
                built["sounds"] = Sounds.build(Index.from_arrays(built["words"]).terms()).to_arrays()
                if cache.save(index_key, built, scratch):
                    # Serve from the saved file, as a restart would: mapped read-only, the postings
                    # live in the page cache and a query brings in only its own terms'.
                    built = cache.load(index_key) or built
            finally:
                scratch.close()
            words, grams = Index.from_arrays(built["words"]), Index.from_arrays(built["grams"])
            sounds = Sounds.from_arrays(built["sounds"], words.terms())
        speakers = {s.id: s for s in config.speakers}
        aliases: dict[str, str] = {}
        for speaker in config.speakers:
            for alias in (speaker.id, speaker.name, speaker.name_en, *speaker.aliases):
                if alias:
                    aliases[search_form(alias)] = speaker.id
        synonyms = _synonym_table(tokenizer, config)
        vocabulary = words.postings
        reader = QueryReader(
            tokenizer,
            aliases,
            config.fillers,
            synonyms,
            lambda word: () if word in vocabulary else sounds.like(word),
            vocabulary.__contains__,
        )
        return Snapshot(
            documents={d.document.id: d.document for d in corpus.documents},
            passages=passages,
            speakers=speakers,
            tokenizer=tokenizer,
            words=words,
            grams=grams,
            synonyms=synonyms,
            drops=tuple(d for doc in corpus.documents for d in doc.drops),
            topics=tuple(t for doc in corpus.documents for t in doc.topics),
            seconds=time.perf_counter() - started,
            by_id={p.id: i for i, p in enumerate(passages)},
            aliases=aliases,
            eligible=tuple(p.id for p in passages if daily_rotation.is_eligible(p)),
            layout=Layout.of(passages, tuple(speakers)),
            reader=reader,
        )

    def _tokenizer_signature(self) -> bytes:
        return (self._tokenizer[0] if self._tokenizer else "").encode()

    def _index_cache(self) -> IndexCache:
        """One directory per corpus, holding only its latest index."""
        corpus = hashlib.blake2b(str(self.seeds_dir.resolve()).encode(), digest_size=8).hexdigest()
        return IndexCache(self.cache_dir / "index" / corpus)

    def _config_fingerprint(self) -> str:
        """The config files' names and bytes: stable across processes (a set's repr is not)."""
        digest = hashlib.blake2b(digest_size=16)
        for path in sorted(p for p in self.config_dir.iterdir() if p.is_file()):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def _has_seeds(self) -> bool:
        return self.seeds_dir.is_dir() and any(self.seeds_dir.glob("*.txt"))

    # -- speakers ------------------------------------------------------------------------------

    def speakers(self) -> list[Speaker]:
        """Every configured speaker, in config order (autocomplete lists them)."""
        return list(self.snapshot.speakers.values())

    def resolve_speaker(self, name: str) -> Speaker:
        """Any alias, Chinese or English, any case or script, or raise with the known names."""
        snap = self.snapshot
        speaker_id = snap.aliases.get(search_form(name).replace(" ", "")) or snap.aliases.get(search_form(name))
        if speaker_id is None:
            known = [s.display for s in snap.speakers.values()]
            raise UnknownSpeakerError(name, known)
        return snap.speakers[speaker_id]

    # -- queries -------------------------------------------------------------------------------

    @staticmethod
    def validate_query(query: str) -> str:
        """The cleaned query, or QueryError with a message fit to show a user."""
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError(f"query too long ({len(query)} characters; the limit is {MAX_QUERY_CHARS})")
        cleaned = clean_chars(query.replace("\n", " ").replace("\r", " "))
        if not cleaned:
            raise QueryError("empty query: give a few words to search for")
        return cleaned

    def search(
        self,
        query: str,
        speaker: str | None = None,
        limit: int = 5,
        offset: int = 0,
        max_chars: int = DEFAULT_MAX_CHARS,
        explain: bool = False,
    ) -> Results:
        """Best-matching quotes; no match is an empty result, never the least-bad passage.

        The query is read first (`quotecore.query`: speaker intent, filler words, alternatives),
        then ranked (`quotecore.ranking`: BM25 on the content, kind and speaker priors, answers
        inheriting their question's evidence, a minimum match).
        """
        query = self.validate_query(query)
        snap = self.snapshot
        who = self.resolve_speaker(speaker).id if speaker else None
        if snap.layout is None or snap.reader is None:
            return Results(query=query, quotes=(), total=0, offset=offset)
        plan = snap.reader.read(query)
        if plan.words:
            scored = score(plan, snap.words, snap.layout, who)
            if scored.docs.size == 0 and self._unknown_word(snap, plan):
                scored = self._by_grams(snap, plan, who)
        elif plan.intent or who:
            scored = self._by_speaker(snap, who or plan.intent or "")
        else:
            scored = _nothing()
        want = offset + max(limit, 0)
        positions, final = order(scored, snap.layout, plan, want, lambda d: snap.passages[d].text.lower())
        weights = self._highlight_weights(snap, plan)
        quotes = []
        for pos in positions[offset:].tolist():
            passage = snap.passages[int(scored.docs[pos])]
            text, spans = excerpt(passage, weights, max_chars)
            detail = self._explain(snap, plan, scored, pos, float(final[pos])) if explain else None
            quotes.append(self._quote(snap, passage, text, float(final[pos]), spans, detail))
        return Results(query=query, quotes=tuple(quotes), total=int(scored.docs.size), offset=offset)

    @staticmethod
    def _unknown_word(snap: Snapshot, plan: QueryPlan) -> bool:
        """Whether the word index knows none of the content words (a name jieba cuts its own way)."""
        return all(all(v.term not in snap.words.postings for v in w.variants) for w in plan.words)

    def _by_grams(self, snap: Snapshot, plan: QueryPlan, who: str | None) -> Scored:
        """The character-bigram fallback for words jieba cuts differently or does not know."""
        grams = Tokenizer.query_grams(" ".join(w.word for w in plan.words))
        docs, scores, _ = self._match(snap.grams, grams, _coverage_needed(grams), who, snap)
        assert snap.layout is not None
        from quotecore.ranking import priors

        prior = priors(docs, snap.layout, who or plan.intent)
        zeros = np.zeros(docs.size)
        return Scored(docs, scores * prior, scores, zeros, np.ones(docs.size), prior, 0.0)

    @staticmethod
    def _by_speaker(snap: Snapshot, speaker_id: str) -> Scored:
        """A query that only names a person ("奥特曼"): that person's quotable passages, in corpus order."""
        docs = np.asarray([snap.by_id[i] for i in snap.eligible], dtype=np.int32)
        docs = docs[np.fromiter((snap.passages[d].speaker_id == speaker_id for d in docs), bool, docs.size)]
        ones = np.ones(docs.size)
        final = 1.0 - np.arange(docs.size) / max(docs.size, 1) / 2  # earlier first, all positive
        return Scored(docs, final, ones, np.zeros(docs.size), ones, ones, 0.0)

    @staticmethod
    def _highlight_weights(snap: Snapshot, plan: QueryPlan) -> dict[str, float]:
        """Each matched term's idf: the excerpt centres on the sentence holding the most of it."""
        weights: dict[str, float] = {}
        for word in plan.words:
            for variant in word.variants:
                if snap.words.df(variant.term):
                    shown = variant.term.removeprefix(INSIDE)  # an inside part is found in the text as is
                    weight = max(snap.words.idf(variant.term), 0.01) * variant.factor
                    weights[shown] = max(weights.get(shown, 0.0), weight)
        return weights

    @staticmethod
    def _explain(snap: Snapshot, plan: QueryPlan, scored: Scored, pos: int, final: float) -> dict[str, object]:
        """Why one result ranked where it did: matched words, how the query was read, priors, score."""
        doc = int(scored.docs[pos])
        matched: dict[str, list[dict[str, str]]] = {}
        for word in plan.words:
            for variant in word.variants:
                posting = snap.words.postings.get(variant.term)
                if posting is None:
                    continue
                at = int(np.searchsorted(posting.docs, doc))
                if at < posting.docs.size and int(posting.docs[at]) == doc:
                    shown = variant.term.removeprefix(INSIDE)
                    matched.setdefault(word.word, []).append({"term": shown, "how": variant.how})
        passage = snap.passages[doc]
        detail: dict[str, object] = {
            **plan.explain(),
            "matched": matched,
            "kind": passage.kind,
            "priors": round(float(scored.prior[pos]), 4),
            "bm25": round(float(scored.bm25[pos]), 6),
            "carried": round(float(scored.carried[pos]), 6),
            "share": round(float(scored.share[pos]), 4),
            "score": round(final, 6),
        }
        if scored.carried[pos] > 0:
            layout = snap.layout
            assert layout is not None
            for back in range(1, 8):
                i = doc - back
                if i < 0:
                    break
                if doc in layout.follow_dst[layout.follow_start[i] : layout.follow_end[i]].tolist():
                    detail["carried_from"] = snap.passages[i].id
                    break
        return detail

    @staticmethod
    def _expand(snap: Snapshot, terms: list[str]) -> list[str]:
        """The query's terms plus each synonym group it touches (each added term counted once)."""
        out = list(terms)
        seen = set(terms)
        for term in terms:
            for group in snap.synonyms.get(term, ()):
                for extra in group:
                    if extra not in seen:
                        out.append(extra)
                        seen.add(extra)
        return out

    @staticmethod
    def _match(
        index: Index, terms: Sequence[str], need: int | None, who: str | None, snap: Snapshot
    ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        docs, scores = index.score(terms)
        keep = np.ones(docs.size, dtype=bool)
        if need is not None and docs.size:
            keep &= index.coverage(terms, docs) >= need
        if who is not None and docs.size:
            keep &= np.fromiter((snap.passages[d].speaker_id == who for d in docs), dtype=bool, count=docs.size)
        weights = {t: max(index.idf(t), 0.01) for t in set(terms) if index.df(t)}
        return docs[keep], scores[keep], weights

    def _quote(
        self,
        snap: Snapshot,
        passage: Passage,
        text: str,
        score: float | None = None,
        spans: tuple[tuple[int, int], ...] = (),
        explain: dict[str, object] | None = None,
    ) -> Quote:
        return Quote(
            passage=passage,
            document=snap.documents[passage.doc_id],
            speaker=snap.speakers.get(passage.speaker_id) if passage.speaker_id else None,
            text=text,
            score=score,
            highlights=spans,
            explain=explain,
        )

    def show(self, passage_id: str, terms: Iterable[str] = ()) -> Quote | None:
        """The whole passage (for "Context"), optionally with the query's words highlighted."""
        snap = self.snapshot
        index = snap.by_id.get(passage_id.strip())
        if index is None:
            return None
        passage = snap.passages[index]
        words = [search_form(t) for t in terms]
        return self._quote(snap, passage, passage.text, spans=highlight(passage.text, words))

    def random(self, speaker: str | None = None, rng: _random.Random | None = None) -> Quote | None:
        """A random quotable passage (someone's own words), optionally from one speaker."""
        snap = self.snapshot
        who = self.resolve_speaker(speaker).id if speaker else None
        pool = [snap.passages[snap.by_id[i]] for i in snap.eligible]
        if who:
            pool = [p for p in pool if p.speaker_id == who]
        if not pool:
            return None
        passage = (rng or _random).choice(pool)
        return self._quote(snap, passage, excerpt(passage)[0])

    def daily(self, date: dt.date, eligible: Sequence[str] | None = None) -> Quote | None:
        """The excerpt a post on `date` carries; `eligible` lets a persistent rotation pick among fewer."""
        snap = self.snapshot
        pool = [i for i in (eligible if eligible is not None else snap.eligible) if i in snap.by_id]
        chosen = daily_rotation.pick(pool, date)
        if chosen is None:
            return None
        passage = snap.passages[snap.by_id[chosen]]
        return self._quote(snap, passage, excerpt(passage)[0])

    def quote_for(self, passage_id: str) -> Quote | None:
        """The chat-sized excerpt (no query) of a passage by id: what a post of that passage shows."""
        snap = self.snapshot
        index = snap.by_id.get(passage_id)
        if index is None:
            return None
        passage = snap.passages[index]
        return self._quote(snap, passage, excerpt(passage)[0])

    def passages(self) -> list[Quote]:
        """Every passage, whole (`quotebot passages --json`)."""
        snap = self.snapshot
        return [self._quote(snap, p, p.text) for p in snap.passages]

    def stats(self) -> CorpusStats:
        """Counts by speaker and kind, and what cleaning dropped."""
        snap = self.snapshot
        by_speaker = Counter(
            snap.speakers[p.speaker_id].display if p.speaker_id else "(narration, nobody)" for p in snap.passages
        )
        by_kind = Counter(p.kind for p in snap.passages)
        return CorpusStats(
            documents=len(snap.documents),
            passages=len(snap.passages),
            by_speaker=dict(by_speaker.most_common()),
            by_kind={k: by_kind.get(k, 0) for k in KINDS},
            drops=snap.drops,
        )


def _nothing() -> Scored:
    empty = np.zeros(0)
    return Scored(np.zeros(0, dtype=np.int32), empty, empty, empty, empty, empty, 0.0)


def _coverage_needed(grams: Sequence[str]) -> int:
    distinct = len(set(grams))
    return distinct if distinct <= 2 else math.ceil(_GRAM_COVERAGE * distinct)


def _synonym_table(tokenizer: Tokenizer, config: CoreConfig) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Term → the term lists of every other member of its groups (speakers' aliases included).

    Only single-term members are keys, so a query term expands exactly when it is a group member.
    """
    groups: list[list[str]] = [list(g) for g in config.synonyms]
    for speaker in config.speakers:
        groups.append([a for a in (speaker.name, speaker.name_en, *speaker.aliases) if a])
    table: dict[str, list[tuple[str, ...]]] = {}
    for group in groups:
        members = [tuple(dict.fromkeys(w for w, _ in tokenizer.words(word))) for word in group]
        members = [m for m in members if m]
        for member in members:
            if len(member) != 1:
                continue
            others = tuple(t for m in members if m != member for t in m)
            table.setdefault(member[0], []).append(others)
    return {k: tuple(v) for k, v in table.items()}
