"""jieba's prefix dictionary in one compact file, read as little as a text needs.

jieba unmarshals its whole prefix dictionary (about 500k words and word prefixes, one Python dict)
before it cuts a single character: over half of a cold `quotebot search` and about 53 MiB of
every process, though a query needs the entries of a handful of characters.

The file holds the same entries twice. For light use, grouped by what a lookup starts from: the
single characters in one small table, and every longer entry in a bucket of the two characters it
starts with (about 180k buckets, three entries each on average). Segmenting position k looks up
sentence[k] and then only words starting with sentence[k:k+2], so a query reads the single
characters and a few buckets; the config's synonyms at start-up read about 300 buckets (2.7k
entries) where slices by first character would read 74k. For heavy use (a whole corpus to index),
after FULL_AFTER buckets the dictionary switches to the whole table read at once, one dict as
jieba has it, so a bulk build costs and weighs what jieba's did.

It is made once per jieba dictionary, from jieba's own parse of it (the entries and the total are
jieba's, so the segmentation is too), together with jieba's HMM tables for words the dictionary
does not know. It is a cache: missing, stale or unreadable, it is rebuilt; where the cache
directory cannot be written, the dictionary is built in memory.
"""

from __future__ import annotations

import importlib.util
import itertools
import logging
import marshal
import mmap
import os
import struct
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import blake2b
from pathlib import Path

log = logging.getLogger(__name__)

#: Bumped whenever the layout changes: a file of another version is rebuilt, never misread.
_MAGIC = b"QBDICT5\n"
_LENGTH = struct.Struct("<Q")
#: Read at an index of a list of starts: that start and the next one (its end).
_SPAN = struct.Struct(">QQ")
#: Buckets read before the whole table is loaded instead. A query reads a handful, the config's
#: synonyms about 300, one changed document of a large corpus a few thousand; indexing a corpus
#: from scratch crosses it early, and from then on the lookups are jieba's own single dict.
FULL_AFTER = 20_000
#: Entries per chunk of the whole table: each chunk is read in a few milliseconds.
_CHUNK = 8192


@dataclass(frozen=True)
class HmmTables:
    """jieba's character HMM (states B, M, E, S): log start, transition and emission probabilities."""

    start: dict[str, float]
    trans: dict[str, dict[str, float]]
    emit: dict[str, dict[str, float]]


def jieba_dictionary_file() -> Path:
    """The dictionary jieba loads by default, found without importing jieba (that is the slow part)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("jieba is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "dict.txt"


def _source_key(source: Path) -> str:
    """What the file was built from: a different jieba dictionary (path, size, time) means a rebuild."""
    stat = source.stat()
    return f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


class PrefixDictionary:
    """jieba's FREQ (word or prefix → frequency, 0 for a bare prefix) and total, read on demand.

    Lookups go through `singles` (one-character entries) and `after(pair)` (entries starting with
    those two characters); both are plain dicts, and once the whole table is loaded both are it.
    Each instance owns what it has read: `add` (a user dictionary) changes it and is replayed on
    whatever is read later, so two tokenizer configurations never see each other's words, while
    sharing one mapped file.
    """

    def __init__(
        self,
        total: int,
        full: dict[str, int] | None = None,
        data: mmap.mmap | None = None,
        spans: dict[str, tuple[int, int]] | None = None,
        firsts: str = "",
        tables: HmmTables | None = None,
    ) -> None:
        self.total = total
        self._full = full
        self._singles: dict[str, int] | None = None
        self._buckets: dict[str, dict[str, int]] = {}
        self._data = data
        #: Where each part lies in `data`: singles, starts, seconds, offsets, buckets, full_starts, full, hmm.
        self._spans = spans or {}
        #: The first characters of the buckets, sorted; bucket indexes [starts[i], starts[i + 1])
        #: are firsts[i]'s, and the second characters of those buckets are seconds[that range].
        self._firsts = firsts
        #: What every `add` so far did, by part ("" for the singles, else the bucket's pair): key →
        #: the frequency it was last given, or None when it was only made a prefix (0 if absent).
        #: A key's final value depends only on its own operations, so applying this to a part read
        #: later gives the values jieba's add_word calls would have left in the whole table.
        self._added: dict[str, dict[str, int | None]] = {}
        self._hmm = tables
        self._lock = threading.RLock()

    # -- lookups: the segmenter's hot path, plain dicts once read --------------------------------

    def singles(self) -> dict[str, int]:
        """The one-character entries (the whole table once it is loaded)."""
        found = self._full if self._full is not None else self._singles
        return found if found is not None else self._read_singles()

    def after(self, pair: str) -> dict[str, int]:
        """The entries that start with the two characters `pair` (the whole table once it is loaded)."""
        if self._full is not None:
            return self._full
        found = self._buckets.get(pair)
        return found if found is not None else self._read_bucket(pair)

    def get(self, word: str, default: int | None = None) -> int | None:
        """What jieba's `FREQ.get(word, default)` gives."""
        if not word:
            return default
        return (self.singles() if len(word) == 1 else self.after(word[:2])).get(word, default)

    def add(self, word: str, freq: int) -> None:
        """What jieba's `add_word` does to the table: the word's frequency, its prefixes at least 0."""
        with self._lock:
            _apply(word, freq, self._part_of)  # on the parts it touches, read (and replayed) first
            self._added.setdefault(_part(word), {})[word] = freq
            for end in range(1, len(word)):
                self._added.setdefault(_part(word[:end]), {}).setdefault(word[:end], None)
            self.total += freq

    @property
    def loaded(self) -> int:
        """How many buckets are in memory, -1 once the whole table is (tests check a query reads few)."""
        return -1 if self._full is not None else len(self._buckets)

    def hmm(self) -> HmmTables:
        """The HMM tables, read on first need (only runs of characters the dictionary lacks use them)."""
        if self._hmm is None:
            self._hmm = HmmTables(*self._read("hmm"))
        return self._hmm

    # -- reading ------------------------------------------------------------------------------

    def _part_of(self, key: str) -> dict[str, int]:
        return self.singles() if len(key) == 1 else self.after(key[:2])

    def _read(self, part: str) -> object:
        assert self._data is not None  # only a mapped dictionary has parts left to read
        start, end = self._spans[part]
        return marshal.loads(self._data[start:end])

    def _read_singles(self) -> dict[str, int]:
        with self._lock:
            if self._full is not None:
                return self._full
            if self._singles is None:
                singles: dict[str, int] = self._read("singles")  # type: ignore[assignment]
                self._replay(singles, "")
                self._singles = singles
            return self._singles

    def _read_bucket(self, pair: str) -> dict[str, int]:
        # Under the lock: two threads reading one bucket would make two dicts, and an `add` made
        # through one would be lost from the other.
        with self._lock:
            if self._full is not None:
                return self._full
            found = self._buckets.get(pair)
            if found is not None:
                return found
            if len(self._buckets) >= FULL_AFTER:
                return self._read_full()
            found = {}  # no entry starts with `pair` (yet: `add` may put one here)
            at = self._find(pair)
            if at >= 0 and self._data is not None:
                start, end = _SPAN.unpack_from(self._data, self._spans["offsets"][0] + 8 * at)
                base = self._spans["buckets"][0]
                found = marshal.loads(self._data[base + start : base + end])
            self._replay(found, pair)
            self._buckets[pair] = found
            return found

    def _find(self, pair: str) -> int:
        """The index of `pair`'s bucket, or -1: found in the mapped file, no index of it in memory."""
        first = self._firsts.find(pair[0]) if self._data is not None and len(pair) == 2 else -1
        if first < 0 or self._data is None:
            return -1
        low, high = _SPAN.unpack_from(self._data, self._spans["starts"][0] + 8 * first)
        at = self._spans["seconds"][0]
        seconds = self._data[at + 4 * low : at + 4 * high].decode("utf-32-be", "surrogatepass")
        second = seconds.find(pair[1])
        return low + second if second >= 0 else -1

    def _read_full(self) -> dict[str, int]:
        # In chunks: one marshal.loads of the whole table would hold the interpreter lock for a
        # third of a second, and a bot's queries in other threads would wait that long.
        assert self._data is not None
        first, last = self._spans["full_starts"]
        starts = struct.unpack_from(f">{(last - first) // 8}Q", self._data, first)
        base = self._spans["full"][0]
        full: dict[str, int] = {}
        for start, end in itertools.pairwise(starts):
            full.update(marshal.loads(self._data[base + start : base + end]))
        for part in self._added:
            self._replay(full, part)
        self._full = full
        self._singles, self._buckets = None, {}  # what was read is in `full` too
        log.info("dictionary: whole table loaded after %d buckets", FULL_AFTER)
        return full

    def _replay(self, entries: dict[str, int], part: str) -> None:
        for key, freq in self._added.get(part, {}).items():
            if freq is not None:
                entries[key] = freq
            elif key not in entries:
                entries[key] = 0


def _part(key: str) -> str:
    return "" if len(key) == 1 else key[:2]


def _apply(word: str, freq: int, part_of: Callable[[str], dict[str, int]]) -> None:
    """Apply jieba's add_word to the entries: FREQ[word] = freq, then each missing prefix at 0, in order."""
    part_of(word)[word] = freq
    for end in range(1, len(word)):
        prefix = word[:end]
        entries = part_of(prefix)
        if prefix not in entries:
            entries[prefix] = 0


def _from_jieba(source: Path) -> tuple[dict[str, int], int, HmmTables]:
    """The dictionary as jieba itself parses it, and its HMM tables: the one slow step, done once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jieba 0.42.1 imports the deprecated pkg_resources
        import jieba
        from jieba import finalseg

    with source.open("rb") as handle:
        freq, total = jieba.Tokenizer.gen_pfdict(handle)
    return freq, total, HmmTables(dict(finalseg.start_P), dict(finalseg.trans_P), dict(finalseg.emit_P))


def _write(path: Path, key: str, freq: dict[str, int], total: int, tables: HmmTables) -> None:
    singles = {w: f for w, f in freq.items() if len(w) == 1}
    buckets: dict[str, dict[str, int]] = {}
    for word, count in freq.items():
        if len(word) > 1:
            buckets.setdefault(word[:2], {})[word] = count
    pairs = sorted(buckets)
    firsts = "".join(sorted({p[0] for p in pairs}))
    starts = [0]
    for char in firsts[:-1]:
        count = 0
        while starts[-1] + count < len(pairs) and pairs[starts[-1] + count][0] == char:
            count += 1
        starts.append(starts[-1] + count)
    starts.append(len(pairs))
    blobs = [marshal.dumps(buckets[p]) for p in pairs]
    offsets = [0]
    for blob in blobs:
        offsets.append(offsets[-1] + len(blob))
    items = list(freq.items())
    full_chunks = [marshal.dumps(dict(items[i : i + _CHUNK])) for i in range(0, len(items), _CHUNK)]
    full_starts = [0]
    for blob in full_chunks:
        full_starts.append(full_starts[-1] + len(blob))
    parts = {
        "singles": marshal.dumps(singles),
        "starts": struct.pack(f">{len(starts)}Q", *starts),
        "seconds": "".join(p[1] for p in pairs).encode("utf-32-be", "surrogatepass"),
        "offsets": struct.pack(f">{len(offsets)}Q", *offsets),  # bucket i: offsets[i] to offsets[i + 1]
        "buckets": b"".join(blobs),
        "full_starts": struct.pack(f">{len(full_starts)}Q", *full_starts),
        "full": b"".join(full_chunks),
        "hmm": marshal.dumps((tables.start, tables.trans, tables.emit)),
    }
    spans: dict[str, tuple[int, int]] = {}
    at = 0
    for name, blob in parts.items():
        spans[name] = (at, at + len(blob))
        at += len(blob)
    header = marshal.dumps({"key": key, "total": total, "firsts": firsts, "spans": spans})
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # only here: a build is rare, and tempfile's imports are not free

    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(_MAGIC + _LENGTH.pack(len(header)) + header)
            for blob in parts.values():
                out.write(blob)
        os.replace(temp, path)  # readers see the old file or the whole new one
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _open(path: Path, key: str) -> PrefixDictionary | None:
    """The dictionary in `path`, or None when it is missing, of another version or another source."""
    try:
        with path.open("rb") as handle:
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
        return None
    try:
        if data[: len(_MAGIC)] != _MAGIC:
            return None
        start = len(_MAGIC) + _LENGTH.size
        (length,) = _LENGTH.unpack(data[len(_MAGIC) : start])
        header = marshal.loads(data[start : start + length])
        if header.get("key") != key:
            return None
        base = start + length
        spans = {name: (base + a, base + b) for name, (a, b) in header["spans"].items()}
        if spans["hmm"][1] != len(data):  # a truncated file
            return None
    except (ValueError, EOFError, TypeError, KeyError, struct.error):
        return None
    return PrefixDictionary(header["total"], data=data, spans=spans, firsts=header["firsts"])


def _stale(path: Path) -> bool:
    """A file no process will read again: an older layout, or built from a jieba since removed.

    Files of other jieba installs that still exist are kept: virtual environments sharing one
    cache directory would otherwise delete each other's file and rebuild it on every start.
    """
    try:
        with path.open("rb") as handle:
            if handle.read(len(_MAGIC)) != _MAGIC:
                return True
            (length,) = _LENGTH.unpack(handle.read(_LENGTH.size))
            key = marshal.loads(handle.read(length))["key"]
        return not Path(key.split("|", 1)[0]).exists()
    except (OSError, ValueError, EOFError, TypeError, KeyError, struct.error):
        return True


def load(cache_dir: Path | None, source: Path | None = None) -> PrefixDictionary:
    """The jieba dictionary `source` (default: jieba's own), from its compact file in `cache_dir`.

    The first call for a dictionary builds the file (about as long as jieba's own first start);
    later ones only map it. Without a usable cache directory the dictionary is built in memory.
    """
    source = source or jieba_dictionary_file()
    key = _source_key(source)
    path = None
    if cache_dir is not None:
        path = cache_dir / f"dictionary-{blake2b(key.encode(), digest_size=8).hexdigest()}.bin"
        found = _open(path, key)
        if found is not None:
            return found
    log.info("building the compact dictionary from %s", source)
    freq, total, tables = _from_jieba(source)
    if path is not None and cache_dir is not None:
        try:
            _write(path, key, freq, total, tables)
            for other in cache_dir.glob("dictionary-*.bin"):
                if other != path and _stale(other):
                    other.unlink(missing_ok=True)
            found = _open(path, key)
            if found is not None:
                return found
        except OSError as exc:  # read-only cache: serve from memory, build again next time
            log.warning("cannot write the dictionary cache %s: %s", path, exc)
    return PrefixDictionary(total, full=freq, tables=tables)
