"""jieba's prefix dictionary in one compact file, read as little as a text needs.

jieba's `Tokenizer.initialize` unmarshals its whole prefix dictionary (about 500k words and word
prefixes, one Python dict) before it cuts a single character: over half of a cold `quotebot
search` and about 53 MiB of every process, though a query needs the entries of a handful of
characters. The cutting itself stays jieba's: `segmenter` gives a jieba.Tokenizer a
`PrefixDictionary` as its FREQ, and jieba's own code asks it only for the entries it looks up.

The file holds the same entries twice. For light use, grouped by what a lookup starts from: the
single characters in one small table, and every longer entry in a bucket of the two characters it
starts with (about 180k buckets, three entries each on average). jieba's DAG at position k looks
up sentence[k] and then only fragments starting with sentence[k:k+2], so a query reads the single
characters and a few buckets; the config's synonyms at start-up read about 300 buckets (2.7k
entries) where slices by first character would read 74k. For heavy use (a whole corpus to index),
after FULL_AFTER buckets the dictionary switches to the whole table read at once, one dict as
jieba has it, so a bulk build costs and weighs what jieba's did.

It is made once per jieba dictionary, from jieba's own parse of it (`Tokenizer.gen_pfdict`: the
entries and the total are jieba's, so the segmentation is too). It is a cache: missing, stale or
unreadable, it is rebuilt; where the cache directory cannot be written, the dictionary is built
in memory.
"""

from __future__ import annotations

import itertools
import logging
import marshal
import mmap
import os
import struct
import threading
import warnings
from collections.abc import Callable
from hashlib import blake2b
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

log = logging.getLogger(__name__)

#: Bumped whenever the layout changes: a file of another version is rebuilt, never misread.
_MAGIC = b"QBDICT6\n"
_LENGTH = struct.Struct("<Q")
#: Read at an index of a list of starts: that start and the next one (its end).
_SPAN = struct.Struct(">QQ")
#: Buckets read before the whole table is loaded instead. A query reads a handful, the config's
#: synonyms about 300, one changed document of a large corpus a few thousand; indexing a corpus
#: from scratch crosses it early, and from then on the lookups are jieba's own single dict.
FULL_AFTER = 20_000
#: Entries per chunk of the whole table: each chunk is read in a few milliseconds.
_CHUNK = 8192


def _jieba() -> ModuleType:
    """jieba, imported on first need: `import quotecore` and commands that cut nothing skip it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jieba 0.42.1 imports the deprecated pkg_resources
        import jieba

    return jieba


def jieba_dictionary_file() -> Path:
    """The dictionary a jieba.Tokenizer made without arguments loads (`DEFAULT_DICT_NAME` in its package)."""
    jieba = _jieba()
    return Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME


def _source_key(source: Path) -> str:
    """What the file was built from: a different jieba dictionary (path, size, time) means a rebuild."""
    stat = source.stat()
    return f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


class PrefixDictionary:
    """jieba's FREQ (word or prefix → frequency, 0 for a bare prefix), read from the file on demand.

    A jieba.Tokenizer is given one as its `FREQ` (see `segmenter`), so jieba's own code does
    the cutting; this class only has to answer what that code asks of FREQ: `in`, `[]`, `get`
    and `[] =` (add_word). A key lives in the single characters' table or in the bucket of its
    first two characters; once the whole table is loaded, that one dict answers everything.

    Each instance owns what it has read: words set through it (a user dictionary) are kept per
    bucket and replayed on whatever is read later, so two configurations never see each other's
    words, while sharing one mapped file.
    """

    def __init__(
        self,
        total: int,
        full: dict[str, int] | None = None,
        data: mmap.mmap | None = None,
        spans: dict[str, tuple[int, int]] | None = None,
        firsts: str = "",
    ) -> None:
        #: jieba's dictionary total, for the Tokenizer's own `total` (which add_word then raises).
        self.total = total
        self._full = full
        self._singles: dict[str, int] | None = None
        self._buckets: dict[str, dict[str, int]] = {}
        self._data = data
        #: Where each part lies in `data`: singles, starts, seconds, offsets, buckets, full_starts, full.
        self._spans = spans or {}
        #: The first characters of the buckets, sorted; bucket indexes [starts[i], starts[i + 1])
        #: are firsts[i]'s, and the second characters of those buckets are seconds[that range].
        self._firsts = firsts
        #: Every key set so far, by part ("" for the single characters, else the bucket's pair), with
        #: its last value. jieba decides each write after reading the part it goes to (add_word sets
        #: a prefix to 0 only if it is absent), so replaying the last values on a part read later
        #: gives exactly what jieba's writes would have left in its one dict.
        self._added: dict[str, dict[str, int]] = {}
        #: Called with the whole table once it is loaded (a tokenizer then uses that dict directly).
        self._on_whole: list[Callable[[dict[str, int]], None]] = []
        self._lock = threading.RLock()

    # -- what jieba's Tokenizer reads and writes: its hot path, one dict lookup after the first -----

    def __contains__(self, key: str) -> bool:
        return key in self._part(key)

    def __getitem__(self, key: str) -> int:
        return self._part(key)[key]

    def get(self, key: str, default: int | None = None) -> int | None:
        """What `dict.get` gives (jieba's calc, suggest_freq and the HMM fallback use it)."""
        return self._part(key).get(key, default)

    def __setitem__(self, key: str, value: int) -> None:
        with self._lock:
            self._part(key)[key] = value  # the part is read (and replayed) first, then changed
            self._added.setdefault(_part_name(key), {})[key] = value

    # -- for our own code ------------------------------------------------------------------------

    def when_whole(self, callback: Callable[[dict[str, int]], None]) -> None:
        """Call `callback(table)` once the whole table is loaded (now, if it already is)."""
        with self._lock:
            if self._full is not None:
                callback(self._full)
            else:
                self._on_whole.append(callback)

    @property
    def loaded(self) -> int:
        """How many buckets are in memory, -1 once the whole table is (tests check a query reads few)."""
        return -1 if self._full is not None else len(self._buckets)

    # -- reading ------------------------------------------------------------------------------

    def _part(self, key: str) -> dict[str, int]:
        if self._full is not None:
            return self._full
        if len(key) < 2:
            found = self._singles
            return found if found is not None else self._read_singles()
        found = self._buckets.get(key[:2])
        return found if found is not None else self._read_bucket(key[:2])

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
                singles.update(self._added.get("", {}))
                self._singles = singles
            return self._singles

    def _read_bucket(self, pair: str) -> dict[str, int]:
        # Under the lock: two threads reading one bucket would make two dicts, and a word set
        # through one would be lost from the other.
        with self._lock:
            if self._full is not None:
                return self._full
            found = self._buckets.get(pair)
            if found is not None:
                return found
            if len(self._buckets) >= FULL_AFTER:
                return self._read_full()
            found = {}  # no entry starts with `pair` (yet: a user word may go here)
            at = self._find(pair)
            if at >= 0 and self._data is not None:
                start, end = _SPAN.unpack_from(self._data, self._spans["offsets"][0] + 8 * at)
                base = self._spans["buckets"][0]
                found = marshal.loads(self._data[base + start : base + end])
            found.update(self._added.get(pair, {}))
            self._buckets[pair] = found
            return found

    def _find(self, pair: str) -> int:
        """The index of `pair`'s bucket, or -1: found in the mapped file, no index of it in memory."""
        first = self._firsts.find(pair[0]) if self._data is not None else -1
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
        for added in self._added.values():
            full.update(added)
        self._full = full
        self._singles, self._buckets = None, {}  # what was read is in `full` too
        log.info("dictionary: whole table loaded after %d buckets", FULL_AFTER)
        for callback in self._on_whole:
            callback(full)
        self._on_whole.clear()
        return full


def _part_name(key: str) -> str:
    return key[:2] if len(key) >= 2 else ""


def segmenter(prefix: PrefixDictionary) -> jieba.Tokenizer:
    """A jieba.Tokenizer that cuts with `prefix` as its dictionary, never loading jieba's own.

    jieba's `initialize()` would unmarshal the whole prefix dictionary; instead the tokenizer is
    given what initialize leaves behind, in the public attributes initialize itself sets: `FREQ`
    (here the lazy mapping), `total`, and `initialized = True` (so `check_initialized` never
    loads anything). Everything else (the DAG, the route, the HMM in jieba.finalseg, add_word,
    suggest_freq) is jieba's own code; should a jieba release use FREQ in another way, the
    comparison with plain jieba in tests/test_dictionary.py fails. Once the whole table is
    loaded, `FREQ` becomes that plain dict, so a bulk build runs at jieba's own speed.
    """
    made = _jieba().Tokenizer()
    made.FREQ = prefix
    made.total = prefix.total
    made.initialized = True
    prefix.when_whole(lambda table: setattr(made, "FREQ", table))
    return made


def _from_jieba(source: Path) -> tuple[dict[str, int], int]:
    """The dictionary as jieba itself parses it: the one slow step, done once."""
    with source.open("rb") as handle:
        return _jieba().Tokenizer.gen_pfdict(handle)


def _write(path: Path, key: str, freq: dict[str, int], total: int) -> None:
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
        if spans["full"][1] != len(data):  # a truncated file
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
    freq, total = _from_jieba(source)
    if path is not None and cache_dir is not None:
        try:
            _write(path, key, freq, total)
            for other in cache_dir.glob("dictionary-*.bin"):
                if other != path and _stale(other):
                    other.unlink(missing_ok=True)
            found = _open(path, key)
            if found is not None:
                return found
        except OSError as exc:  # read-only cache: serve from memory, build again next time
            log.warning("cannot write the dictionary cache %s: %s", path, exc)
    return PrefixDictionary(total, full=freq)
