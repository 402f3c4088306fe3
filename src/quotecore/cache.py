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
import os
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from quotecore.ingest import LoadedDocument
from quotecore.models import Document, Drop, Passage

log = logging.getLogger(__name__)

#: Bump when Tokenizer.terms or Tokenizer.grams change what they return for the same text.
TERMS_VERSION = "1"
HEADER = f"quotebot-terms {TERMS_VERSION}"
SEP = "\x1f"

#: (word terms, character grams), each joined by SEP: one string per passage and kind.
Terms = tuple[str, str]


class TermsCache:
    """One file of (content hash → word terms, character grams) for one tokenizer configuration."""

    def __init__(self, directory: Path, signature: str) -> None:
        digest = hashlib.blake2b(f"{TERMS_VERSION}\n{signature}".encode(), digest_size=8).hexdigest()
        self.path = directory / f"terms-{digest}.tsv"

    def load(self) -> dict[bytes, Terms]:
        """Every cached entry; an absent, unreadable or malformed file gives an empty cache."""
        try:
            data = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("ignoring the token cache %s: %s", self.path, exc)
            return {}
        lines = data.split("\n")
        if lines[0] != HEADER:
            log.warning("ignoring the token cache %s: unknown header %r", self.path, lines[0][:40])
            return {}
        entries: dict[bytes, Terms] = {}
        for number, line in enumerate(lines[1:], 2):
            if not line:
                continue
            fields = line.split("\t")
            try:
                key = bytes.fromhex(fields[0])
                terms, grams = fields[1], fields[2]
            except (ValueError, IndexError):
                log.warning("ignoring the token cache %s: line %d is malformed", self.path, number)
                return {}
            entries[key] = (terms, grams)
        return entries

    def save(self, entries: dict[bytes, Terms]) -> None:
        """Write atomically (a crash leaves the old file); a read-only cache directory is not fatal."""
        lines = [HEADER]
        for key, (terms, grams) in entries.items():
            if any(bad in field for field in (terms, grams) for bad in ("\t", "\n")):
                continue  # cannot be stored in this format: it will be tokenized again next time
            lines.append(f"{key.hex()}\t{terms}\t{grams}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".terms-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("could not write the token cache %s: %s", self.path, exc)


#: Bump when cleaning, attribution or the passage model change what a file loads as.
DOCUMENTS_VERSION = "1"


class DocumentCache:
    """Cleaned and attributed documents on disk, so a restart does not clean every file again.

    A file's entry is keyed by its name, content hash and metadata, under a directory per corpus
    and configuration (speakers, dictionary, ...), so any change to either misses the cache. JSON,
    not pickle: a cache directory must never be a way to run code.
    """

    def __init__(self, directory: Path, signature: str) -> None:
        digest = hashlib.blake2b(f"{DOCUMENTS_VERSION}\n{signature}".encode(), digest_size=8).hexdigest()
        self.directory = directory / digest

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
                passages=tuple(
                    Passage(**{**p, "sentences": tuple(tuple(s) for s in p["sentences"])}) for p in data["passages"]
                ),
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


class IndexCache:
    """The built word and gram indexes of one exact corpus, so an unchanged corpus starts from arrays.

    The key is the passages' content (in order) and the tokenizer configuration: any change to a
    passage, its order or the dictionary misses, and the index is built (and saved) again. Arrays
    are stored with numpy's own format and loaded with `allow_pickle=False`.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / f"index-{key}.npz"

    def load(self, key: str) -> dict[str, dict[str, np.ndarray]] | None:
        """{"words": arrays, "grams": arrays}, or None when absent or unreadable (logged)."""
        path = self._path(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                out: dict[str, dict[str, np.ndarray]] = {"words": {}, "grams": {}}
                for name in data.files:
                    which, _, field = name.partition("__")
                    out[which][field] = data[name]
            return out
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            log.warning("ignoring the cached index %s: %s", path, exc)
            return None

    def save(self, key: str, indexes: dict[str, dict[str, np.ndarray]]) -> None:
        """Write atomically and keep only this corpus's latest index."""
        flat = {f"{which}__{field}": array for which, arrays in indexes.items() for field, array in arrays.items()}
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".npz", dir=self.directory)
            with os.fdopen(fd, "wb") as out:
                np.savez(out, **flat)
            os.replace(tmp, self._path(key))
            for old in self.directory.glob("index-*.npz"):
                if old.name != self._path(key).name:
                    old.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not write the index cache in %s: %s", self.directory, exc)
