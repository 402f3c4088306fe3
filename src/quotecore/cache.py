"""Passage terms on disk, keyed by content hash, so a restart or a reload re-tokenizes only what changed.

jieba is the slow part of building an index (about a minute per 100k passages); the terms of a
passage depend only on its text and on the tokenizer's configuration. The file name carries a
hash of that configuration (user dictionary, stopwords, and TERMS_VERSION for the tokenizer code),
so a changed dictionary simply starts a new file. The format is plain text (one passage per line,
fields split by tab, terms by U+001F) because it loads with a few `str.split` calls, and a file that
cannot be parsed is ignored with a log line: the cache may be lost, never trusted when wrong.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import mmap
import os
import shutil
import struct
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np

from quotecore import cleaning, structure
from quotecore.ingest import LoadedDocument
from quotecore.models import Document, Drop, Passage

log = logging.getLogger(__name__)

#: Bump when Tokenizer.terms or Tokenizer.gram_form change what they return for the same text
#: (2: the gram form replaced the grams themselves).
TERMS_VERSION = "5"
HEADER = f"quotebot-terms {TERMS_VERSION}"

#: (word terms joined by SEP, gram form: Chinese runs joined by SEP): one string each per passage.
Terms = tuple[str, str]


class TermsCache:
    """One file of (content hash → word terms, gram form) for one tokenizer configuration."""

    def __init__(self, directory: Path, signature: str) -> None:
        digest = hashlib.blake2b(f"{TERMS_VERSION}\n{signature}".encode(), digest_size=8).hexdigest()
        self.path = directory / f"terms-{digest}.tsv"

    def load(self) -> dict[bytes, Terms]:
        """Every cached entry; an absent, unreadable or malformed file gives an empty cache.

        Read line by line: at 100k passages the file is tens of megabytes, and holding it whole
        next to its split lines would triple what a reload needs on top of the serving snapshot.
        """
        entries: dict[bytes, Terms] = {}
        try:
            with self.path.open(encoding="utf-8", newline="\n") as lines:
                header = lines.readline().rstrip("\n")
                if header != HEADER:
                    log.warning("ignoring the token cache %s: unknown header %r", self.path, header[:40])
                    return {}
                for number, line in enumerate(lines, 2):
                    if line == "\n":
                        continue
                    fields = line.rstrip("\n").split("\t")
                    try:
                        key = bytes.fromhex(fields[0])
                        terms, grams = fields[1], fields[2]
                    except (ValueError, IndexError):
                        log.warning("ignoring the token cache %s: line %d is malformed", self.path, number)
                        return {}
                    entries[key] = (terms, grams)
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("ignoring the token cache %s: %s", self.path, exc)
            return {}
        return entries

    def append(self, entries: dict[bytes, Terms]) -> bool:
        """Add entries at the end (a reload's few new passages), without rewriting the file.

        A key written twice loads as its last line; the next full save writes each once.
        """
        try:
            if not self.path.exists():
                return self.save(entries)
            with self.path.open("a", encoding="utf-8", newline="\n") as out:
                for key, (terms, grams) in entries.items():
                    if not any(bad in field for field in (terms, grams) for bad in ("\t", "\n")):
                        out.write(f"{key.hex()}\t{terms}\t{grams}\n")
        except OSError as exc:
            log.warning("could not add to the token cache %s: %s", self.path, exc)
            return False
        return True

    def save(self, entries: dict[bytes, Terms]) -> bool:
        """Write atomically (a crash leaves the old file); False (logged) when it could not be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".terms-", dir=self.path.parent)
            # Line by line: one joined string of every passage's tokens would double a rebuild's peak.
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(HEADER + "\n")
                for key, (terms, grams) in entries.items():
                    if any(bad in field for field in (terms, grams) for bad in ("\t", "\n")):
                        continue  # cannot be stored in this format: it will be tokenized again next time
                    out.write(f"{key.hex()}\t{terms}\t{grams}\n")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("could not write the token cache %s: %s", self.path, exc)
            return False
        return True


#: Bump when the passage model changes what a file loads as. Cleaning and attribution rules carry
#: their own versions and word lists (`cleaning.rules_fingerprint`, `structure.rules_fingerprint`),
#: which are part of the key as well.
DOCUMENTS_VERSION = "3"


def _passage(data: dict[str, Any], spans: dict[tuple[int, int], tuple[int, int]]) -> Passage:
    """A passage from its JSON, sharing repeated values with the passages loaded before it.

    JSON gives every passage its own copy of its document id, kind, speaker and topic strings and
    of each (start, end) sentence span: at 100k passages that is tens of megabytes for a few
    thousand distinct values. `spans` maps each span to its one shared tuple.
    """
    shared = {
        k: sys.intern(v)
        for k in ("doc_id", "kind", "speaker_id", "topic", "attribution")
        if isinstance(v := data.get(k), str)
    }
    sentences = tuple(spans.setdefault(pair, pair) for pair in (tuple(s) for s in data["sentences"]))
    return Passage(**{**data, **shared, "sentences": sentences})


class DocumentCache:
    """Cleaned and attributed documents on disk, so a restart does not clean every file again.

    A file's entry is keyed by its name, content hash and metadata, under a directory per corpus
    and configuration (speakers, dictionary, ...), so any change to either misses the cache. JSON,
    not pickle: a cache directory must never be a way to run code.
    """

    def __init__(self, directory: Path, signature: str) -> None:
        versions = f"{DOCUMENTS_VERSION}\n{cleaning.rules_fingerprint()}\n{structure.rules_fingerprint()}"
        digest = hashlib.blake2b(f"{versions}\n{signature}".encode(), digest_size=8).hexdigest()
        self.directory = directory / digest
        self._spans: dict[tuple[int, int], tuple[int, int]] = {}

    def _path(self, key: tuple[str, bytes, str]) -> Path:
        name, content, entry = key
        digest = hashlib.blake2b(f"{name}\n{content.hex()}\n{entry}".encode(), digest_size=16).hexdigest()
        return self.directory / f"{digest}.json"

    def load(self, key: tuple[str, bytes, str]) -> LoadedDocument | None:
        """The cached document, or None (absent, or unreadable: logged, then loaded afresh)."""
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return LoadedDocument(
                document=Document(
                    **{**data["document"], **{k: tuple(v) for k, v in data["document"].items() if isinstance(v, list)}}
                ),
                passages=tuple(_passage(p, self._spans) for p in data["passages"]),
                drops=tuple(Drop(**d) for d in data["drops"]),
                topics=tuple(data["topics"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring the cached document %s: %s", path, exc)
            return None

    def save(self, key: tuple[str, bytes, str], loaded: LoadedDocument) -> None:
        """Write atomically; failing to write only costs the next start some time."""
        data = {
            "document": dataclasses.asdict(loaded.document),
            "passages": [dataclasses.asdict(p) for p in loaded.passages],
            "drops": [dataclasses.asdict(d) for d in loaded.drops],
            "topics": list(loaded.topics),
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".doc-", dir=self.directory)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, self._path(key))
        except OSError as exc:
            log.warning("could not write the document cache in %s: %s", self.directory, exc)

    def prune(self, live: Iterable[tuple[str, bytes, str]]) -> None:
        """Forget files that are no longer in the corpus (or changed)."""
        keep = {self._path(key).name for key in live}
        with contextlib.suppress(OSError):
            for path in self.directory.glob("*.json"):
                if path.name not in keep:
                    path.unlink(missing_ok=True)


#: Bump when the arrays an index saves change (names, types or meaning).
INDEX_VERSION = "5"
#: The member holding each array's CRC-32: a cache file is only ever trusted whole.
_CHECKSUMS = "checksums"


def _crc(array: np.ndarray) -> int:
    return zlib.crc32(memoryview(np.ascontiguousarray(array)).cast("B"))


def _read_sums(array: np.ndarray) -> dict[str, int]:
    lines = array.tobytes().decode().split("\n")
    return {name: int(value) for name, _, value in (line.partition(" ") for line in lines if line)}


def _verify(indexes: dict[str, dict[str, np.ndarray]], sums: dict[str, int]) -> None:
    """ValueError unless every array is there with the checksum it was saved with.

    A wrong value written into a saved posting array would otherwise make every search for a
    word fail, across restarts; reading the file once more at start-up is the price (about
    30 ms per 100 MiB).
    """
    names = {f"{w}__{f}" for w, arrays in indexes.items() for f in arrays}
    if not sums or names != set(sums):
        raise ValueError("the checksums do not list the arrays saved")
    for which, arrays in indexes.items():
        for field, array in arrays.items():
            if _crc(array) != sums[f"{which}__{field}"]:
                raise ValueError(f"{which}__{field}: checksum mismatch (the file was changed or damaged)")


class IndexCache:
    """One corpus generation in one file: its passages (`quotecore.columns`), word and gram indexes.

    An unchanged corpus starts from this file alone: nothing is made per passage. The key names
    every seed file's content and metadata, the configuration and the tokenizer (`SnapshotBuilder`):
    any change misses, and the new generation is built from this one (`quotecore.merge`) and saved.

    The file is an uncompressed `.npz` (numpy's own format, never pickled objects) whose arrays are
    memory-mapped, not read: the posting lists of a 100k-passage corpus stay in the page cache,
    where the kernel can share or drop them, and a query brings in only its own terms' postings.
    Files are only ever replaced whole (write, then rename), so a mapped file never changes under
    a running snapshot; an old one is unlinked and lives on until that snapshot is gone.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / f"index-{INDEX_VERSION}-{key}.npz"

    def load(self, key: str, verify: bool = True) -> dict[str, dict[str, np.ndarray]] | None:
        """{"words": arrays, "grams": arrays, ...}, mapped read-only, or None when absent or unreadable (logged).

        `verify=False` skips the checksums: only for the file this process has just written.
        """
        path = self._path(key)
        try:
            out: dict[str, dict[str, np.ndarray]] = {"words": {}, "grams": {}}
            sums: dict[str, int] = {}
            for name, array in _mapped_npz(path):
                if name == _CHECKSUMS:
                    sums = _read_sums(array)
                    continue
                which, _, field = name.partition("__")
                out.setdefault(which, {})[field] = array
            if verify:
                _verify(out, sums)
            return out
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, struct.error, zipfile.BadZipFile) as exc:
            log.warning("ignoring the cached index %s: %s", path, exc)
            return None

    def has(self, key: str) -> bool:
        """Whether the file of `key` is there (not whether it is sound: `load` checks that)."""
        return self._path(key).is_file()

    def latest(self) -> dict[str, dict[str, np.ndarray]] | None:
        """Whatever generation this directory holds (the previous one, when the corpus changed), or None."""
        for path in sorted(self.directory.glob(f"index-{INDEX_VERSION}-*.npz")):
            return self.load(path.stem.split("-", 2)[2])
        return None

    def save(self, key: str, indexes: dict[str, dict[str, np.ndarray]], scratch: ScratchArrays | None = None) -> bool:
        """Write atomically and keep only this corpus's latest index; False (logged) when it failed.

        Arrays that live in `scratch` files are copied file to file, never through this process's
        memory; the others are written as `np.savez` writes them (`.npy` members, stored).
        """
        tmp: str | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".npz", dir=self.directory)
            with os.fdopen(fd, "wb") as out, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                sums = "\n".join(f"{w}__{f} {_crc(a)}" for w, arrays in indexes.items() for f, a in arrays.items())
                with archive.open(f"{_CHECKSUMS}.npy", "w") as member:
                    np.lib.format.write_array(member, np.frombuffer(sums.encode(), dtype=np.uint8))
                for which, arrays in indexes.items():
                    for field, array in arrays.items():
                        with archive.open(f"{which}__{field}.npy", "w", force_zip64=True) as member:
                            source = scratch.file_of(array) if scratch is not None else None
                            if source is None:
                                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
                            else:
                                source.seek(0)
                                shutil.copyfileobj(source, member, 1 << 20)
            os.replace(tmp, self._path(key))
            for old in self.directory.glob("index-*.npz"):
                if old.name != self._path(key).name:
                    with contextlib.suppress(OSError):  # still mapped elsewhere (Windows): next time
                        old.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not write the index cache in %s: %s", self.directory, exc)
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            return False
        return True

    def scratch(self) -> ScratchArrays:
        """Where a build of this corpus keeps its largest arrays until `save` copies them."""
        return ScratchArrays(self.directory)


class ScratchArrays:
    """The posting arrays a build fills, in unlinked files under the cache directory.

    A rebuild runs while the old snapshot keeps serving, and builds the word index, then the gram
    index, then saves both. Each index's two largest arrays (every posting's document and term
    frequency) are written all over while it is built; `release()`, every few slices and at the
    end, hands the pages written so far to the kernel's page cache (written back and dropped
    under memory pressure, like the saved index), so the process holds only the pages it is
    writing now, and none of a finished index's while the next is built and `IndexCache.save`
    copies them file to file. Measured at 100k passages, that took a reload's peak from 336 to
    302 MiB. Each file is allocated in full before it is mapped, so a full disk is an error here,
    never a SIGBUS later; when no file can be made, the array is an ordinary one in memory.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files: list[tuple[IO[bytes], mmap.mmap, np.ndarray]] = []

    def empty(self, size: int, dtype: np.dtype) -> np.ndarray:
        """A writable array of `size` elements, file-backed when the cache directory allows it."""
        dtype = np.dtype(dtype)
        header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (size,)}
        file: IO[bytes] | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            file = tempfile.TemporaryFile(dir=self.directory)  # noqa: SIM115 (kept open: it backs the map)
            np.lib.format.write_array_header_1_0(file, header)
            file.flush()
            offset = file.tell()
            total = offset + size * dtype.itemsize
            os.posix_fallocate(file.fileno(), 0, total)
            mapped = mmap.mmap(file.fileno(), total)
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("building the index in memory: no scratch file in %s: %s", self.directory, exc)
            if file is not None:
                file.close()
            return np.empty(size, dtype=dtype)
        array = np.frombuffer(mapped, dtype=dtype, count=size, offset=offset)
        self._files.append((file, mapped, array))
        return array

    def release(self) -> None:
        """Let the kernel take back the pages written so far (their contents stay in the file)."""
        for _, mapped, _ in self._files:
            with contextlib.suppress(OSError, AttributeError):  # MADV_DONTNEED is Linux's
                mapped.madvise(mmap.MADV_DONTNEED)

    def file_of(self, array: np.ndarray) -> IO[bytes] | None:
        """The `.npy` file behind an array this made, or None."""
        return next((file for file, _, made in self._files if made is array), None)

    def close(self) -> None:
        """Close the files; arrays still in use keep their maps (and the data) until they are freed."""
        for file, _, _ in self._files:
            file.close()
        self._files.clear()


def _mapped_npz(path: Path) -> Iterable[tuple[str, np.ndarray]]:
    """Each array of an uncompressed `.npz` as a read-only memory map into the file.

    `np.load` reads `.npz` members into memory (`mmap_mode` applies to `.npy` files only); the
    members of an uncompressed archive are plain `.npy` files at known offsets, so each can be
    mapped where it lies. Object arrays are refused: they would need pickle.
    """
    size = path.stat().st_size
    with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                raise ValueError(f"{info.filename}: not an uncompressed array")
            raw.seek(info.header_offset)
            local = raw.read(30)
            if local[:4] != b"PK\x03\x04":
                raise ValueError(f"{info.filename}: bad local header")
            name_length, extra_length = struct.unpack("<HH", local[26:30])
            raw.seek(info.header_offset + 30 + name_length + extra_length)
            version = np.lib.format.read_magic(raw)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(raw)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(raw)
            if dtype.hasobject:
                raise ValueError(f"{info.filename}: object arrays are not accepted")
            offset = raw.tell()
            count = int(np.prod(shape))
            if offset + count * dtype.itemsize > size:
                raise ValueError(f"{info.filename}: the file is truncated")
            order = "F" if fortran else "C"
            if count == 0:
                array = np.zeros(shape, dtype=dtype, order=order)
            else:
                mapped = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order=order)
                array = mapped.view(np.ndarray)  # a plain array (results are never memmaps) on the map
            yield info.filename.removesuffix(".npy"), array
