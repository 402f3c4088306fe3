"""Building a corpus snapshot: config, cleaned documents, tokens, indexes, and the caches behind them.

A Snapshot is immutable: passages, their attribution, the word and gram indexes, the query
reader and the ranking's arrays. `SnapshotBuilder` makes a new one from disk for every load and
reload, and keeps what does not change between two builds, so a reload costs what changed:

- a corpus generation (every passage as columns, both indexes) is one memory-mapped file named
  by its seed files' keys: an unchanged corpus starts from it and makes nothing per passage;
- a changed corpus copies the unchanged documents' columns from the previous generation, cleans
  and segments only the changed files, and merges their postings into the previous indexes
  (`quotecore.merge`): equal to a rebuild, at the cost of a few passes over flat arrays.

It does no swapping and serves nothing: that is `QuoteService`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from quotecore import worker
from quotecore.cache import TERMS_VERSION, DocumentCache, IndexCache, TermsCache
from quotecore.columns import Columns, EligibleIds, PassageIds, Passages, passages_digest
from quotecore.config import CoreConfig
from quotecore.errors import CorpusError
from quotecore.index import B, Index, Tokens
from quotecore.ingest import (
    MAX_CORPUS_BYTES,
    MAX_FILE_BYTES,
    Scan,
    Skipped,
    SourcesMemo,
    key_digest,
    load_seed,
    scan_corpus,
)
from quotecore.merge import merge
from quotecore.models import Document, Drop, Passage, Quote, Speaker
from quotecore.query import QueryReader
from quotecore.ranking import Layout
from quotecore.sounds import Sounds
from quotecore.text import search_form
from quotecore.tokenize import SEP, Tokenizer, grams_of_form

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """An immutable corpus: passages, their attribution, and the indexes over them."""

    documents: dict[str, Document]
    passages: Sequence[Passage]
    speakers: dict[str, Speaker]
    tokenizer: Tokenizer
    words: Index
    grams: Index
    synonyms: Mapping[str, tuple[tuple[str, ...], ...]]
    drops: tuple[Drop, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    topics: tuple[str, ...] = ()
    seconds: float = 0.0
    #: Passage id → row (`columns.PassageIds`: a binary search, not a dict of every id).
    by_id: Mapping[str, int] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    eligible: Sequence[str] = ()
    layout: Layout | None = None
    reader: QueryReader | None = None
    #: The passages as arrays (`passages` reads its Passage objects from these).
    columns: Columns | None = None
    #: The homophone table the query reader asks (kept for the next reload to extend).
    sounds: Sounds | None = None

    def text(self, row: int) -> str:
        """Passage `row`'s text, read off the columns: ranking reads the leading twenty, no Passage made."""
        if self.columns is not None:
            return self.columns.string("text", row) or ""
        return self.passages[row].text

    def digest(self) -> str:
        """A digest of what this snapshot serves (every passage's id and text): equal corpora, equal digests.

        Processes sharing a database compare it to find one whose disk copy differs; read off the
        columns, it costs a pass over the text in C (a loop over Passage objects took 2 s at 100k).
        """
        if self.columns is not None:
            return self.columns.digest()
        return passages_digest(self.passages)

    @property
    def empty(self) -> bool:
        """A corpus with no passages (nothing to search, nothing to post)."""
        return not self.passages

    def quote(
        self,
        passage: Passage,
        text: str,
        score: float | None = None,
        spans: tuple[tuple[int, int], ...] = (),
        explain: dict[str, object] | None = None,
    ) -> Quote:
        """What a user is shown of `passage`: `text` (an excerpt or the whole), attributed."""
        return Quote(
            passage=passage,
            document=self.documents[passage.doc_id],
            speaker=self.speakers.get(passage.speaker_id) if passage.speaker_id else None,
            text=text,
            score=score,
            highlights=spans,
            explain=explain,
        )


#: A reload merges changed documents into the previous index up to this many passages (or a tenth
#: of the corpus); beyond that a rebuild from the token cache is as cheap.
MERGE_AT_MOST = 2000


@dataclass(frozen=True, slots=True)
class _Wanted:
    """The generation a build asks for: the files seen, their keys, and what its name is made of."""

    scan: Scan
    keys: list[str]
    config: CoreConfig
    tokenizer: Tokenizer
    key: str  # the generation's name in the index cache
    signature: bytes  # what every passage and token depends on besides the files


@dataclass(frozen=True, slots=True)
class _Generation:
    """What a build keeps of the generation it made, for the next one to start from."""

    signature: bytes
    columns: Columns
    words: Index
    grams: Index
    sounds: Sounds | None = None


class SnapshotBuilder:
    """Builds snapshots of one corpus directory, reusing what is unchanged since the last build."""

    def __init__(
        self,
        seeds_dir: Path,
        config_dir: Path,
        cache_dir: Path,
        max_file_bytes: int = MAX_FILE_BYTES,
        max_corpus_bytes: int = MAX_CORPUS_BYTES,
    ) -> None:
        self.max_file_bytes = max_file_bytes
        self.max_corpus_bytes = max_corpus_bytes
        self.seeds_dir = seeds_dir
        self.config_dir = config_dir
        self.cache_dir = cache_dir
        self._tokenizer: tuple[str, Tokenizer] | None = None
        self._terms_cache: dict[bytes, tuple[str, str]] = {}
        self._disk_cache: TermsCache | None = None
        self._terms_loaded = False
        #: The last generation built or loaded: a reload copies its unchanged documents and merges the rest in.
        self._generation: _Generation | None = None
        self._config_seen = ""
        self._sources = SourcesMemo()
        self._document_cache: DocumentCache | None = None
        #: Passages the last build had to segment (the rest came from the token cache).
        self.tokenized = 0

    @property
    def token_cache(self) -> TermsCache | None:
        """The on-disk token cache of the current tokenizer configuration (benchmarks read it)."""
        return self._disk_cache

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
        key = _text_key(text)
        cached = self._terms_cache.get(key)
        if cached is None:
            words = _words(tokenizer, text)
            cached = (SEP.join(words), tokenizer.gram_form(text))
            self._terms_cache[key] = cached
            self.tokenized += 1
        return cached

    def build(self) -> Snapshot:
        """A new snapshot from disk (CorpusError names the broken file); reuses whatever did not change."""
        started = time.perf_counter()
        config = CoreConfig.load(self.config_dir)
        tokenizer = self._tokenizer_for(config)
        seen = self._config_fingerprint()
        if seen != self._config_seen:  # cleaning and attribution depend on the config
            self._generation = None
            self._config_seen = seen
            self._document_cache = DocumentCache(
                self.cache_dir / "documents", f"{self.seeds_dir.resolve()}\n{self._config_seen}"
            )
        assert self._document_cache is not None
        scan = (
            scan_corpus(self.seeds_dir, self.max_file_bytes, self.max_corpus_bytes, self._sources)
            if self._has_seeds()
            else Scan(())
        )
        self.tokenized = 0
        # The generation's name: every file's key and everything its passages and tokens depend on.
        signature = f"{self._document_cache.directory.name}\n{TERMS_VERSION}\nb={B}\n".encode()
        signature += self._tokenizer_signature()
        keys = [key_digest(f.key) for f in scan.files]
        generation_key = hashlib.blake2b(
            b"\0".join([signature, *(k.encode() for k in keys)]), digest_size=16
        ).hexdigest()
        cache = self._index_cache()
        stored = cache.load(generation_key)
        wanted = _Wanted(scan, keys, config, tokenizer, generation_key, signature)
        if stored is None or not {"sounds", "passages"} <= stored.keys():
            # A reload in a serving process builds in a forked child (`quotecore.worker`), which
            # leaves the interpreter lock to the queries; a first load builds here.
            stored = self._built_by_worker(wanted)
        if stored is not None and {"sounds", "passages"} <= stored.keys():
            columns = Columns.from_arrays(stored["passages"])
        else:
            columns, stored = self._new_generation(wanted)
        words, grams = Index.from_arrays(stored["words"]), Index.from_arrays(stored["grams"])
        sounds = Sounds.from_arrays(stored["sounds"], words.terms)
        self._generation = _Generation(signature, columns, words, grams, sounds)
        speakers = {s.id: s for s in config.speakers}
        aliases: dict[str, str] = {}
        for speaker in config.speakers:
            for alias in (speaker.id, speaker.name, speaker.name_en, *speaker.aliases):
                if alias:
                    aliases[search_form(alias)] = speaker.id
        synonyms = _Synonyms(tokenizer, config)
        vocabulary = words.postings
        reader = QueryReader(
            tokenizer,
            aliases,
            config.fillers,
            synonyms,
            lambda word: () if word in vocabulary else sounds.like(word),
            vocabulary.__contains__,
        )
        layout = Layout.of(columns, tuple(speakers))
        return Snapshot(
            documents={d.document.id: d.document for d in columns.documents},
            passages=Passages(columns),
            speakers=speakers,
            tokenizer=tokenizer,
            words=words,
            grams=grams,
            synonyms=synonyms,
            drops=tuple(d for doc in columns.documents for d in doc.drops),
            skipped=scan.skipped,
            topics=tuple(t for doc in columns.documents for t in doc.topics),
            seconds=time.perf_counter() - started,
            by_id=columns.ids or PassageIds(columns),
            aliases=aliases,
            eligible=EligibleIds(columns),
            layout=layout,
            reader=reader,
            columns=columns,
            sounds=sounds,
        )

    def _new_generation(self, wanted: _Wanted) -> tuple[Columns, dict[str, dict[str, np.ndarray]]]:
        """Columns and indexes of a corpus that changed: unchanged documents' rows are copied, not reloaded.

        Raises CorpusError (a broken or duplicate file) before anything is saved: the previous
        generation stays on disk and in service.
        """
        scan, config, tokenizer = wanted.scan, wanted.config, wanted.tokenizer
        previous = self._previous(wanted.signature)
        old = previous.columns if previous is not None else None
        slots = {d.key: i for i, d in enumerate(old.documents)} if old is not None else {}
        by_name = {d.document.path: i for i, d in enumerate(old.documents)} if old is not None else {}
        parts: list[Columns] = []
        owners: dict[str, str] = {}
        remap = np.full(old.size if old is not None else 0, -1, dtype=np.int64)
        added: list[int] = []  # new rows whose passages the old index does not hold
        rows = last = 0
        run: list[int] = []  # consecutive unchanged documents, copied as one part

        def copy_run() -> None:
            if run and old is not None:
                parts.append(old.take(run[0], run[-1] + 1))
                run.clear()

        for seed, key in zip(scan.files, wanted.keys, strict=True):
            slot = slots.get(key, -1)
            if old is not None and slot >= last:  # kept rows stay in order (a renamed file is new)
                if run and slot != run[-1] + 1:
                    copy_run()
                run.append(slot)
                a, b = (int(x) for x in old.bounds[slot])
                remap[a:b] = np.arange(rows, rows + b - a)
                last = slot + 1
                meta = old.documents[slot]
            else:
                copy_run()
                part = Columns.of([load_seed(seed, config, self._document_cache, self.max_file_bytes)], [key])
                before = by_name.get(seed.path.name, -1)
                if old is not None and before >= last:  # the same file, edited: keep its unchanged passages
                    added.extend(_match_passages(old, before, part, rows, remap))
                    last = before + 1
                else:
                    added.extend(range(rows, rows + part.size))
                parts.append(part)
                meta = part.documents[0]
            rows += meta.passages
            doc_id = meta.document.id
            if doc_id in owners:
                raise CorpusError(str(seed.path), None, f"document id {doc_id!r} is already used by {owners[doc_id]}")
            owners[doc_id] = seed.path.name
        copy_run()
        if self._document_cache is not None:
            self._document_cache.prune(f.key for f in scan.files)
        columns = Columns.concat(parts)
        parts.clear()
        if previous is not None and columns.size and len(added) <= max(MERGE_AT_MOST, columns.size // 10):
            built = self._merged_index(previous, columns, remap, added, tokenizer)
        else:
            built = self._build_index(columns, tokenizer)
        built["passages"] = columns.to_arrays()
        built["generation"] = {"signature": np.frombuffer(wanted.signature, dtype=np.uint8)}
        cache = self._index_cache()
        scratch = built.pop("_scratch", None)
        try:
            if cache.save(wanted.key, built, scratch):  # type: ignore[arg-type]
                # Serve from the saved file, as a restart would: mapped read-only, the postings
                # and passages live in the page cache and a query brings in only what it reads.
                loaded = cache.load(wanted.key, verify=False)  # just written: its sums were computed
                if loaded is not None:
                    return Columns.from_arrays(loaded["passages"]), loaded
        finally:
            if scratch is not None:
                scratch.close()  # type: ignore[union-attr]
        return columns, built

    def _built_by_worker(self, wanted: _Wanted) -> dict[str, dict[str, np.ndarray]] | None:
        """The new generation, built and saved by a forked child; None to build it here instead.

        Only for a reload (a previous generation in memory, so the child has what it merges into);
        a CorpusError in the child is raised here, as a build in this process would raise it.
        """
        if self._generation is None or not worker.available():
            return None

        def task() -> int:
            self._new_generation(wanted)
            if not self._index_cache().has(wanted.key):
                raise OSError("the new generation could not be saved")
            return self.tokenized

        try:
            self.tokenized = int(worker.run(task, (CorpusError,)))
        except worker.ChildError as exc:
            raise CorpusError(exc.attrs.get("path", ""), exc.attrs.get("line"), exc.attrs.get("reason", "")) from None
        except worker.WorkerFailed as exc:
            log.warning("building the new corpus in this process: the build process failed: %s", exc)
            return None
        # The child just wrote it and computed its checksums: mapped without reading it all again.
        return self._index_cache().load(wanted.key, verify=False)

    def _merged_index(
        self, previous: _Generation, columns: Columns, remap: np.ndarray, added: list[int], tokenizer: Tokenizer
    ) -> dict[str, Any]:
        """The previous generation's indexes with the changed documents merged in (`quotecore.merge`).

        Only the added passages are segmented (and a passage that newly holds a term's first
        occurrence, to find where): the token cache on disk is not read, and gains the new ones.
        """
        words_of: dict[int, list[str]] = {}
        fresh: dict[bytes, tuple[str, str]] = {}

        def words(row: int) -> list[str]:
            if row not in words_of:
                text = columns.string("text", row) or ""
                found = words_of[row] = _words(tokenizer, text)
                fresh[_text_key(text)] = (SEP.join(found), tokenizer.gram_form(text))
                self.tokenized += 1
            return words_of[row]

        def grams(row: int) -> list[str]:
            return grams_of_form(tokenizer.gram_form(columns.string("text", row) or ""))

        def analysed(tokens: Callable[[int], list[str]]) -> Callable[[int], tuple[list[str], np.ndarray]]:
            def read(row: int) -> tuple[list[str], np.ndarray]:
                found = tokens(row)
                return found, np.arange(len(found))

            return read

        built: dict[str, Any] = {}
        terms: list[str] = []
        for name, tokens, index in (("words", words, previous.words), ("grams", grams, previous.grams)):
            read = analysed(tokens)
            merged = merge(index, remap, columns.size, {row: read(row) for row in added}, read)
            built[name] = merged.to_arrays()
            terms = terms or merged.terms()
        built["sounds"] = Sounds.build(terms, previous.sounds).to_arrays()
        if fresh and self._disk_cache is not None:
            self._disk_cache.append(fresh)
        return built

    def _previous(self, signature: bytes) -> _Generation | None:
        """The last generation of this configuration: this process's, or the one saved on disk.

        After a restart with a changed file, the saved generation is still the best start: its
        unchanged documents are copied from it instead of read back from the document cache.
        """
        if self._generation is not None:
            return self._generation if self._generation.signature == signature else None
        saved = self._index_cache().latest()
        if saved is None or not {"passages", "generation", "words", "grams"} <= saved.keys():
            return None
        if saved["generation"]["signature"].tobytes() != signature:
            return None
        words = Index.from_arrays(saved["words"])
        return _Generation(
            signature,
            Columns.from_arrays(saved["passages"]),
            words,
            Index.from_arrays(saved["grams"]),
            Sounds.from_arrays(saved["sounds"], words.terms) if "sounds" in saved else None,
        )

    def _build_index(self, columns: Columns, tokenizer: Tokenizer) -> dict[str, Any]:
        """The word and gram indexes and the homophone table, built from every passage's tokens."""
        texts = list(columns.texts())
        keys = [_text_key(t) for t in texts]
        terms = [self._terms(tokenizer, t) for t in texts]
        del texts
        live = set(keys)
        stale = set(self._terms_cache) - live
        for key in stale:
            del self._terms_cache[key]
        on_disk = self._disk_cache is not None
        if (self.tokenized or stale) and self._disk_cache is not None:
            on_disk = self._disk_cache.save(self._terms_cache)
        if on_disk:
            # Every passage's tokens are on disk until the next changed build reads them again:
            # between reloads the bot holds its index, not the tokens it was built from.
            self._terms_cache, self._terms_loaded = {}, False
        # One index at a time, each kept only as its arrays once built, the largest of them in
        # scratch files: a build's peak is one index's counting, not every array at once.
        scratch = self._index_cache().scratch()
        joined = [t for t, _ in terms]
        built: dict[str, Any] = {"words": Index(Tokens(joined, SEP), scratch).to_arrays()}
        joined = [g for _, g in terms]
        del terms
        built["grams"] = Index.of_grams(joined, scratch).to_arrays()
        del joined
        built["sounds"] = Sounds.build(Index.from_arrays(built["words"]).terms()).to_arrays()
        built["_scratch"] = scratch
        return built

    def _tokenizer_signature(self) -> bytes:
        return (self._tokenizer[0] if self._tokenizer else "").encode()

    def _index_cache(self) -> IndexCache:
        """One directory per corpus, holding only its latest index."""
        corpus = hashlib.blake2b(str(self.seeds_dir.resolve()).encode(), digest_size=8).hexdigest()
        return IndexCache(self.cache_dir / "index" / corpus)

    def _config_fingerprint(self) -> str:
        """The config files' names and bytes: stable across processes (a set's repr is not)."""
        digest = hashlib.blake2b(digest_size=16)
        try:
            for path in sorted(p for p in self.config_dir.iterdir() if p.is_file()):
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        except OSError as exc:
            raise CorpusError(str(self.config_dir), None, f"cannot be read: {exc.strerror or exc}") from None
        return digest.hexdigest()

    def _has_seeds(self) -> bool:
        return self.seeds_dir.is_dir() and any(self.seeds_dir.glob("*.txt"))


def _text_key(text: str) -> bytes:
    """A passage text's key in the token cache (the same text has the same tokens, in any file)."""
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _words(tokenizer: Tokenizer, text: str) -> list[str]:
    """The passage's word terms, none holding the separator the token cache joins them with."""
    words = tokenizer.terms(text)
    if any(SEP in t for t in words):  # cannot happen after cleaning; never mis-split
        words = [t.replace(SEP, "") for t in words]
    return words


def _match_passages(old: Columns, slot: int, part: Columns, first_row: int, remap: np.ndarray) -> list[int]:
    """An edited file's passages: those whose text it still holds keep their postings (`remap`), in order.

    Returns the new rows left over (new or changed text): only those are segmented and added.
    """
    a, b = (int(x) for x in old.bounds[slot])
    waiting: dict[str, list[int]] = {}
    for row in range(a, b):
        waiting.setdefault(old.string("text", row) or "", []).append(row)
    added: list[int] = []
    last = a - 1
    for i in range(part.size):
        rows = waiting.get(part.string("text", i) or "", [])
        while rows and rows[0] <= last:  # matched rows stay in order: an earlier one cannot be used
            rows.pop(0)
        if rows:
            last = rows.pop(0)
            remap[last] = first_row + i
        else:
            added.append(first_row + i)
    return added


def joined_form(words: tuple[str, ...] | list[str]) -> str:
    """Words that stand side by side as one key: Latin words with a space, Chinese ones without."""
    return " ".join(words) if all(w.isascii() for w in words) else "".join(words)


class _Synonyms(Mapping[str, tuple[tuple[str, ...], ...]]):
    """`_synonym_table`, made on the first query that asks for it.

    It segments every synonym with jieba: a start-up that needs no segmentation yet (the caches
    are warm, jieba's dictionary read on demand) should not load the dictionary for it.
    """

    def __init__(self, tokenizer: Tokenizer, config: CoreConfig) -> None:
        self._tokenizer, self._config = tokenizer, config
        self._table: dict[str, tuple[tuple[str, ...], ...]] | None = None
        self._lock = threading.Lock()

    def _made(self) -> dict[str, tuple[tuple[str, ...], ...]]:
        table = self._table
        if table is None:
            with self._lock:
                if self._table is None:
                    self._table = _synonym_table(self._tokenizer, self._config)
                table = self._table
        return table

    def __getitem__(self, key: str) -> tuple[tuple[str, ...], ...]:
        return self._made()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._made()

    def __iter__(self) -> Iterator[str]:
        return iter(self._made())

    def __len__(self) -> int:
        return len(self._made())


def _synonym_table(tokenizer: Tokenizer, config: CoreConfig) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Term → the term lists of every other member of its groups (speakers' aliases included).

    A member the tokenizer cuts into several words is keyed by its joined form (`joined_form`).
    """
    groups: list[list[str]] = [list(g) for g in config.synonyms]
    for speaker in config.speakers:
        groups.append([a for a in (speaker.name, speaker.name_en, *speaker.aliases) if a])
    table: dict[str, list[tuple[str, ...]]] = {}
    for group in groups:
        members = [tuple(dict.fromkeys(w for w, _ in tokenizer.words(word))) for word in group]
        members = [m for m in members if m]
        for member in members:
            others = tuple(t for m in members if m != member for t in m)
            # A member cut into several words is found by the query reader as those words side by
            # side, joined ("open source", "大模型"): keyed by that joined form.
            key = member[0] if len(member) == 1 else joined_form(member)
            table.setdefault(key, []).append(others)
    return {k: tuple(v) for k, v in table.items()}
