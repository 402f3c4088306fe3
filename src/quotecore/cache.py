"""Passage terms on disk, keyed by content hash, so a restart or a reload re-tokenizes only what changed.

jieba is the slow part of building an index (about a minute per 100k passages); the terms of a
passage depend only on its text and on the tokenizer's configuration. The file name carries a
hash of that configuration (user dictionary, stopwords, and TERMS_VERSION for the tokenizer code),
so a changed dictionary simply starts a new file. The format is plain text (one passage per line,
fields split by tab, terms by U+001F) because it loads with a few `str.split` calls, and a file that
cannot be parsed is ignored with a log line: the cache may be lost, never trusted when wrong.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

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
