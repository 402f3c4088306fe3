"""Read seed files into Documents and Passages, recording every line that was kept out and why.

Reading is strict: a file that is not UTF-8, holds NUL bytes or yields nothing quotable is an
error naming the file and line, so that a reload fails loudly and the old corpus keeps serving.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from quotecore.cleaning import (
    END_MARK,
    TAIL_LINES,
    Repair,
    close_list_item,
    furniture_reason,
    repair_garbled,
    split_sentences,
    strip_emoji_tags,
    strip_html,
    strip_markers,
    strip_pinyin,
)
from quotecore.config import CoreConfig, SourceEntry, load_sources
from quotecore.errors import CorpusError
from quotecore.models import Document, Drop, Passage
from quotecore.structure import Attributor, Block, Line
from quotecore.text import clean_chars, search_form, to_simplified, traditional_ratio

log = logging.getLogger(__name__)

SEED_SUFFIX = ".txt"
SOURCES_FILE = "sources.toml"
#: Above this share of characters changed by t2s, an undescribed file is taken as traditional.
_TRADITIONAL_THRESHOLD = 0.05


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """One seed file after cleaning: its document, passages and what was dropped."""

    document: Document
    passages: tuple[Passage, ...]
    drops: tuple[Drop, ...]
    topics: tuple[str, ...]


#: Size limits a load enforces unless told otherwise (`QuoteService(max_file_bytes=…)`): an interview
#: is tens of kilobytes; a file of many megabytes is a mistake, and would hold a reload for minutes.
MAX_FILE_BYTES = 8 << 20
MAX_CORPUS_BYTES = 512 << 20


@dataclass(frozen=True, slots=True)
class Skipped:
    """A name in the corpus folder that was not read, and why (`stats` and `check` list them)."""

    name: str
    reason: str


def seed_files(seeds_dir: Path) -> list[Path]:
    """The seed files a load reads, in a stable order (file name)."""
    return listing(seeds_dir)[0]


def listing(seeds_dir: Path) -> tuple[list[Path], list[Skipped]]:
    """The regular `.txt` files inside the folder, and what was skipped.

    Only regular files whose real path is inside the folder are read: a symbolic link (to
    /etc/passwd, or to another corpus) is skipped, never followed, so a reload can only ever
    serve what an admin put in the corpus folder itself.
    """
    if not seeds_dir.is_dir():
        raise CorpusError(str(seeds_dir), None, "seeds directory not found")
    files: list[Path] = []
    skipped: list[Skipped] = []
    # One directory read: each entry's type comes with it (no stat or realpath per file at 1,000 files).
    with os.scandir(seeds_dir) as entries:
        found = sorted((e for e in entries if e.name.endswith(SEED_SUFFIX)), key=lambda e: e.name)
    for entry in found:
        path = seeds_dir / entry.name
        if path.suffix != SEED_SUFFIX:
            continue
        if entry.is_symlink():
            skipped.append(Skipped(path.name, "a symbolic link: only files inside the corpus folder are read"))
        elif not entry.is_file(follow_symlinks=False):
            skipped.append(Skipped(path.name, "not a regular file"))
        else:  # neither a link nor anything but a file of the folder itself: its real path is inside
            files.append(path)
    for skip in skipped:
        log.warning("skipping %s in %s: %s", skip.name, seeds_dir, skip.reason)
    return files, skipped


def read_seed(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """A seed file's bytes, or a CorpusError naming it (vanished, unreadable, too big)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise CorpusError(str(path), None, "disappeared while the corpus was being read; reload again") from None
    except OSError as exc:
        raise CorpusError(str(path), None, f"cannot be read: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:
        raise CorpusError(
            str(path),
            None,
            f"larger than the {max_bytes / 2**20:g} MiB a seed file may be; split it or raise the limit",
        )
    return raw


def decode(path: Path, raw: bytes) -> str:
    """UTF-8 (with or without BOM) or a CorpusError that points at the offending line."""
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise CorpusError(str(path), line, "contains NUL bytes: not a text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CorpusError(
            str(path), line, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        ) from None


def passage_id(doc_id: str, text: str) -> str:
    """Content-derived, so ids survive reloads (and other files changing) while the text is unchanged."""
    digest = hashlib.blake2b(f"{doc_id}\n{text}".encode(), digest_size=5).hexdigest()
    return digest


def _describe(path: Path, entry: SourceEntry | None, first_line: str, sample: str) -> Document:
    if entry is None:
        script = "traditional" if traditional_ratio(sample) > _TRADITIONAL_THRESHOLD else "simplified"
        return Document(id=path.stem, path=path.name, title=to_simplified(first_line), script=script)
    script = entry.script or ("traditional" if traditional_ratio(sample) > _TRADITIONAL_THRESHOLD else "simplified")
    return Document(
        id=entry.id,
        path=path.name,
        title=entry.title,
        outlet=entry.outlet,
        interviewer=entry.interviewer,
        date=entry.date,
        script=script,
        url=entry.url,
        interviewees=tuple(entry.interviewees),
        interviewers=tuple(entry.interviewers),
    )


def load_document(
    path: Path, entry: SourceEntry | None, config: CoreConfig, raw: bytes | None = None
) -> LoadedDocument:
    """Clean one file, decide its structure, and build its passages."""
    raw_text = decode(path, path.read_bytes() if raw is None else raw)
    drops: list[Drop] = []
    kept: list[tuple[int, str]] = []
    ended: int | None = None  # how many lines were kept when the last end mark ("— 完 —") came
    for number, raw_line in enumerate(raw_text.splitlines(), 1):
        line = strip_markers(clean_chars(strip_html(raw_line)))
        if not line:
            continue
        reason = furniture_reason(line)
        if reason:
            drops.append(Drop(path.name, number, reason, line))
            ended = len(kept) if reason == END_MARK else ended
            continue
        kept.append((number, line))
    if ended is not None and 0 < len(kept) - ended <= TAIL_LINES:
        drops += [Drop(path.name, number, "furniture: after the end mark", line) for number, line in kept[ended:]]
        del kept[ended:]
    if not kept:
        raise CorpusError(str(path), None, "no text left after cleaning (empty file, or only page furniture)")

    first = strip_pinyin(kept[0][1])[0]  # a title says 操作系统, not 操作系统(tǒng)
    document = _describe(path, entry, first, "".join(t for _, t in kept[:40]))
    known = {s.id for s in config.speakers}
    for sid in (*document.interviewees, *document.interviewers):
        if sid not in known:
            raise CorpusError(SOURCES_FILE, None, f"{path.name}: unknown speaker id {sid!r} (see speakers.toml)")

    lines: list[Line] = []
    title_form = search_form(document.title)
    for number, line in kept:
        line, _ = strip_pinyin(line)
        cleaned = repair_garbled(strip_emoji_tags(line))
        for reason, sentence in cleaned.dropped:
            drops.append(Drop(path.name, number, reason, sentence))
        for repair in cleaned.repaired:
            drops.append(Drop(path.name, number, reason=repair.reason, text=_shown(repair), action="repaired"))
        if not cleaned.text:
            continue
        simplified = to_simplified(cleaned.text) if document.script == "traditional" else cleaned.text
        if not lines and search_form(simplified) in (title_form, search_form(first)):
            drops.append(Drop(path.name, number, "title (kept as document metadata)", simplified))
            continue
        original = cleaned.text if document.script == "traditional" else None
        lines.append(Line(number=number, text=simplified, original=original))

    attributor = Attributor(document, config.speakers)
    if not document.interviewees and not document.interviewers:
        interviewees, interviewers = attributor.infer_roles(lines)
        document = dataclasses.replace(document, interviewees=interviewees, interviewers=interviewers)
        attributor = Attributor(document, config.speakers)
    blocks, headings = attributor.blocks(lines)
    passages: list[Passage] = []
    seen: dict[str, int] = {}
    for position, block in enumerate(blocks):
        base = passage_id(document.id, block.text)
        seen[base] = seen.get(base, 0) + 1
        pid = base if seen[base] == 1 else f"{base}-{seen[base]}"
        original = _original_of(block)
        passages.append(
            Passage(
                id=pid,
                doc_id=document.id,
                position=position,
                line=block.line.number,
                text=block.text,
                kind=block.kind,
                speaker_id=block.speaker_id,
                topic=block.topic,
                sentences=tuple(split_sentences(block.text)),
                original=original,
                attribution=block.attribution,
                context=block.context,
            )
        )
    if not passages:
        raise CorpusError(str(path), None, "no passages found (only headings or dropped lines)")
    log.debug("%s: %d passages, %d lines dropped", path.name, len(passages), len(drops))
    return LoadedDocument(document, tuple(passages), tuple(drops), tuple(h.text for h in headings))


def _original_of(block: Block) -> str | None:
    """The block's text in the document's own script (traditional documents only).

    t2s keeps lengths, so the label or bullet marker cut from the front is cut the same, and a
    list item is closed the same way.
    """
    original = block.line.original
    if original is None or block.text == block.line.text:
        return original
    if len(original) != len(block.line.text):
        return None
    start = block.line.text.find(block.text[: max(1, min(8, len(block.text) - 1))])
    return close_list_item(original[start:]) if start >= 0 else None


def _shown(repair: Repair) -> str:
    """What `quotebot stats` lists for a repair: the surviving sentence and what was cut from it."""
    return f"[cut: {repair.cut}] {to_simplified(repair.result)}"


class DocumentStore(Protocol):
    """Where loaded documents are kept between processes (`quotecore.cache.DocumentCache`)."""

    def load(self, key: tuple[str, bytes, str]) -> LoadedDocument | None:
        """The document saved under `key`, or None."""
        ...

    def save(self, key: tuple[str, bytes, str], loaded: LoadedDocument) -> None:
        """Keep `loaded` under `key`."""
        ...

    def prune(self, live: Iterable[tuple[str, bytes, str]]) -> None:
        """Forget every key but these."""
        ...


#: A seed file's identity for every cache: its name, content hash and sources.toml entry.
DocumentKey = tuple[str, bytes, str]


def key_digest(key: DocumentKey) -> str:
    """A document key as a short hex string (file names and a generation's saved keys)."""
    name, content, entry = key
    return hashlib.blake2b(f"{name}\n{content.hex()}\n{entry}".encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class SeedFile:
    """A seed file as a scan found it: enough to tell whether it changed, and to load it if so."""

    path: Path
    key: DocumentKey
    entry: SourceEntry | None


@dataclass(frozen=True, slots=True)
class Scan:
    """Every seed file of a folder with its key, in load order, and what was skipped."""

    files: tuple[SeedFile, ...]
    skipped: tuple[Skipped, ...] = ()


def scan_corpus(
    seeds_dir: Path,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_corpus_bytes: int = MAX_CORPUS_BYTES,
    memo: SourcesMemo | None = None,
) -> Scan:
    """Read and hash every seed file (limits enforced), without cleaning any: a reload first asks what changed.

    `memo` keeps sources.toml's entries between scans while its content stays the same.
    """
    sources = _sources(seeds_dir / SOURCES_FILE, memo)
    files, skipped = listing(seeds_dir)
    for name in sorted(set(sources) - {p.name for p in files}):
        log.warning("%s describes %s, which is not in %s", SOURCES_FILE, name, seeds_dir)
    total = 0
    found = []
    for path in files:
        raw = read_seed(path, max_file_bytes)
        total += len(raw)
        if total > max_corpus_bytes:
            raise CorpusError(
                str(path), None, f"the corpus passes {max_corpus_bytes / 2**20:g} MiB with this file; raise the limit"
            )
        entry = sources.get(path.name)
        described = _described(path.name, entry, memo)
        found.append(SeedFile(path, (path.name, hashlib.blake2b(raw, digest_size=16).digest(), described), entry))
    return Scan(tuple(found), tuple(skipped))


@dataclass(slots=True)
class SourcesMemo:
    """sources.toml as a scan last parsed it, kept between scans while its bytes stay the same.

    Validating a thousand entries, and the `repr` of each that goes into its document's key,
    were a fifth of a one-document reload at 100k passages.
    """

    digest: bytes = b""
    entries: dict[str, SourceEntry] = field(default_factory=dict)
    described: dict[str, str] = field(default_factory=dict)  # file name -> repr of its entry


def _described(name: str, entry: SourceEntry | None, memo: SourcesMemo | None) -> str:
    if memo is None or entry is None:
        return repr(entry)
    known = memo.described.get(name)
    if known is None:
        known = memo.described[name] = repr(entry)
    return known


def _sources(path: Path, memo: SourcesMemo | None) -> dict[str, SourceEntry]:
    if memo is None:
        return load_sources(path)
    try:
        digest = hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
    except OSError:
        return load_sources(path)  # missing: nothing described; unreadable: its own error
    if digest != memo.digest:
        memo.entries = load_sources(path)
        memo.digest, memo.described = digest, {}
    return memo.entries


def load_seed(seed: SeedFile, config: CoreConfig, disk: DocumentStore | None, max_file_bytes: int) -> LoadedDocument:
    """One file of a scan, from the document cache or cleaned afresh (and then cached).

    The file is read again: a scan keeps only hashes, and a file changed since is an error the
    next reload sees, never a document attributed to the wrong content.
    """
    loaded = disk.load(seed.key) if disk is not None else None
    if loaded is None:
        raw = read_seed(seed.path, max_file_bytes)
        if hashlib.blake2b(raw, digest_size=16).digest() != seed.key[1]:
            raise CorpusError(str(seed.path), None, "changed while the corpus was being read; reload again")
        loaded = load_document(seed.path, seed.entry, config, raw)
        if disk is not None:
            disk.save(seed.key, loaded)
    return loaded
