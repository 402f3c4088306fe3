"""jieba's prefix dictionary in one compact file, read a slice at a time.

jieba unmarshals its whole prefix dictionary (about 500k words and word prefixes, one Python dict)
before it cuts a single character: over half of a cold `quotebot search` and about 53 MiB of
every process, though a query needs the entries of a handful of characters. Here the same entries
are grouped by their first character into slices of one memory-mapped file (about 12k slices,
each a marshalled dict). Every prefix of a word starts with the word's first character, so a
lookup needs exactly one slice: a cold query reads a few of them, and a full index build ends up
holding the same entries jieba would, at about the same cost.

The file is made once per jieba dictionary, from jieba's own parse of it (the entries and the
total are jieba's, so the segmentation is too), together with jieba's HMM tables for words the
dictionary does not know. It is a cache: when it is missing, stale or unreadable it is rebuilt,
and where the cache directory cannot be written the dictionary is built in memory.
"""

from __future__ import annotations

import importlib.util
import logging
import marshal
import mmap
import os
import struct
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import blake2b
from pathlib import Path

log = logging.getLogger(__name__)

#: Bumped whenever the layout changes: a file of another version is rebuilt, never misread.
_MAGIC = b"QBDICT2\n"
_LENGTH = struct.Struct("<Q")


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
    """jieba's FREQ (word or prefix → frequency, 0 for a bare prefix) and total, one slice at a time.

    Each instance owns its slices once loaded: `add` changes them (a user dictionary), so two
    tokenizer configurations never see each other's words. They may share one mapped file.
    """

    def __init__(
        self,
        total: int,
        shards: dict[str, dict[str, int]],
        data: mmap.mmap | None = None,
        chars: str = "",
        offsets: Sequence[int] = (),
        base: int = 0,
        hmm: tuple[int, int] = (0, 0),
        tables: HmmTables | None = None,
    ) -> None:
        self.total = total
        self._shards = shards
        self._data = data
        #: The first characters that have a slice, sorted, and where each slice starts after `base`
        #: in `data` (one more offset: where the last ends). Searched per slice read, never turned
        #: into a dict: that would cost more than the few slices a query reads.
        self._chars = chars
        self._offsets = offsets
        self._base = base
        self._hmm_span = hmm
        self._hmm = tables
        self._lock = threading.Lock()

    # -- lookups (the segmenter's hot path: `shard` once per position, then plain dict access) --

    def shard(self, char: str) -> dict[str, int]:
        """The entries whose first character is `char`."""
        found = self._shards.get(char)
        return found if found is not None else self._load(char)

    def get(self, word: str, default: int | None = None) -> int | None:
        """What jieba's `FREQ.get(word, default)` gives."""
        return self.shard(word[0]).get(word, default) if word else default

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and bool(word) and word in self.shard(word[0])

    def add(self, word: str, freq: int) -> None:
        """What jieba's `add_word` does to the entries: the word's frequency, its prefixes at least 0."""
        entries = self.shard(word[0])
        entries[word] = freq
        self.total += freq
        for end in range(1, len(word) + 1):
            entries.setdefault(word[:end], 0)

    @property
    def loaded(self) -> int:
        """How many slices are in memory (tests and benchmarks check that a query reads few)."""
        return len(self._shards)

    def hmm(self) -> HmmTables:
        """The HMM tables, read on first need (only runs of characters the dictionary lacks use them)."""
        if self._hmm is None:
            assert self._data is not None
            start, end = self._hmm_span
            tables = marshal.loads(self._data[start:end])
            self._hmm = HmmTables(*tables)
        return self._hmm

    def _load(self, char: str) -> dict[str, int]:
        # Two threads may race to read one slice: the lock makes the first one's dict the only one,
        # so an `add` made through it is never lost to a second copy.
        with self._lock:
            found = self._shards.get(char)
            if found is None:
                found = {}  # no word starts with `char` (yet: `add` may put one here)
                at = self._chars.find(char) if self._data is not None else -1
                if at >= 0 and self._data is not None:
                    start, end = self._base + self._offsets[at], self._base + self._offsets[at + 1]
                    found = marshal.loads(self._data[start:end])
                self._shards[char] = found
            return found


def _from_jieba(source: Path) -> tuple[dict[str, int], int, HmmTables]:
    """The dictionary as jieba itself parses it, and its HMM tables: the one slow step, done once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jieba 0.42.1 imports the deprecated pkg_resources
        import jieba
        from jieba import finalseg

    with source.open("rb") as handle:
        freq, total = jieba.Tokenizer.gen_pfdict(handle)
    return freq, total, HmmTables(dict(finalseg.start_P), dict(finalseg.trans_P), dict(finalseg.emit_P))


def _split(freq: dict[str, int]) -> dict[str, dict[str, int]]:
    shards: dict[str, dict[str, int]] = {}
    for word, count in freq.items():
        shards.setdefault(word[0], {})[word] = count
    return shards


def _write(path: Path, key: str, freq: dict[str, int], total: int, tables: HmmTables) -> None:
    shards = _split(freq)
    chars = "".join(sorted(shards))
    blobs = [marshal.dumps(shards[c]) for c in chars]
    hmm = marshal.dumps((tables.start, tables.trans, tables.emit))
    offsets = [0]
    for blob in blobs:
        offsets.append(offsets[-1] + len(blob))
    end = offsets[-1]
    header = marshal.dumps(
        {"key": key, "total": total, "chars": chars, "offsets": offsets, "hmm": (end, end + len(hmm))}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # only here: a build is rare, and tempfile's imports are not free

    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(_MAGIC + _LENGTH.pack(len(header)) + header)
            for blob in blobs:
                out.write(blob)
            out.write(hmm)
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
        chars, offsets = header["chars"], header["offsets"]
        if header.get("key") != key or len(offsets) != len(chars) + 1:
            return None
        base = start + length
        hmm = (base + header["hmm"][0], base + header["hmm"][1])
        if hmm[1] != len(data):  # a truncated file
            return None
    except (ValueError, EOFError, TypeError, KeyError, struct.error):
        return None
    return PrefixDictionary(header["total"], {}, data, chars, offsets, base, hmm)


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
    if path is not None:
        try:
            _write(path, key, freq, total, tables)
            for stale in cache_dir.glob("dictionary-*.bin"):  # type: ignore[union-attr]
                if stale != path:  # another jieba dictionary or an older layout: never read again
                    stale.unlink(missing_ok=True)
            found = _open(path, key)
            if found is not None:
                return found
        except OSError as exc:  # read-only cache: serve from memory, build again next time
            log.warning("cannot write the dictionary cache %s: %s", path, exc)
    return PrefixDictionary(total, _split(freq), tables=tables)
