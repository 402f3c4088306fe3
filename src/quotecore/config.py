"""The core's own config files (speakers, sources, dictionary, stopwords, synonyms), validated.

Each loader raises CorpusError naming the file and line (TOML syntax) or key (schema), because a
reload with a typo must tell the admin exactly what to fix while the old corpus keeps serving.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from quotecore.errors import CorpusError
from quotecore.models import Speaker

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpeakerEntry(_Strict):
    """One person, named once: every alias resolves to this id."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1)
    name_en: str | None = None
    aliases: list[str] = []
    role: str | None = None


class SpeakersFile(_Strict):
    """config/speakers.toml."""

    speaker: list[SpeakerEntry] = []

    @field_validator("speaker")
    @classmethod
    def _unique_ids(cls, value: list[SpeakerEntry]) -> list[SpeakerEntry]:
        seen: set[str] = set()
        for entry in value:
            if entry.id in seen:
                raise ValueError(f"speaker id {entry.id!r} is defined twice")
            seen.add(entry.id)
        return value


class SourceEntry(_Strict):
    """One document's metadata in seeds/sources.toml (the text itself does not carry it reliably)."""

    file: str = Field(min_length=1)
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str = Field(min_length=1)
    outlet: str | None = None
    interviewer: str | None = None
    date: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    url: str | None = None
    script: Literal["simplified", "traditional"] | None = None
    interviewees: list[str] = []
    interviewers: list[str] = []


class SourcesFile(_Strict):
    """seeds/sources.toml: metadata by document id."""

    document: list[SourceEntry] = []


class SynonymGroup(_Strict):
    """Words that should find each other (symmetric), e.g. GPU and 显卡."""

    words: list[str] = Field(min_length=2)


class SynonymsFile(_Strict):
    """config/synonyms.toml, extendable by admins."""

    group: list[SynonymGroup] = []


_TOML_LINE = re.compile(r"line (\d+)")


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; syntax errors become CorpusError with the line tomllib reported."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise CorpusError(str(path), None, "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        raise CorpusError(str(path), int(match.group(1)) if match else None, f"invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise CorpusError(str(path), None, f"not valid UTF-8: {exc.reason}") from None
    except RecursionError:
        raise CorpusError(str(path), None, "nested too deeply to be a config file") from None
    except OSError as exc:
        raise CorpusError(str(path), None, f"cannot be read: {exc.strerror or exc}") from None


def _validated(model: type[M], data: dict[str, Any], path: Path) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise CorpusError(str(path), None, f"key {key}: {first['msg']}{more}") from None
    except RecursionError:
        raise CorpusError(str(path), None, "nested too deeply to be a config file") from None


def load_speakers(path: Path) -> tuple[Speaker, ...]:
    """Speakers from config/speakers.toml; a malformed entry names the file and the line."""
    data = _validated(SpeakersFile, read_toml(path), path)
    return tuple(
        Speaker(id=s.id, name=s.name, name_en=s.name_en, aliases=tuple(s.aliases), role=s.role) for s in data.speaker
    )


def load_sources(path: Path) -> dict[str, SourceEntry]:
    """Entries by file name; a missing sources.toml just means every file is described by guessing."""
    if not path.exists():
        return {}
    data = _validated(SourcesFile, read_toml(path), path)
    by_file: dict[str, SourceEntry] = {}
    for entry in data.document:
        if entry.file in by_file:
            raise CorpusError(str(path), None, f"file {entry.file!r} is described twice")
        by_file[entry.file] = entry
    return by_file


def load_synonyms(path: Path) -> tuple[tuple[str, ...], ...]:
    """Synonym groups, normalised like queries so that lookups match search forms."""
    if not path.exists():
        return ()
    data = _validated(SynonymsFile, read_toml(path), path)
    return tuple(tuple(g.words) for g in data.group)


def _read_lines(path: Path) -> list[tuple[int, str]]:
    """Non-comment, non-blank lines with their numbers."""
    if not path.exists():
        return []
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(str(path), None, f"not valid UTF-8: {exc.reason}") from None
    except OSError as exc:
        raise CorpusError(str(path), None, f"cannot be read: {exc.strerror or exc}") from None
    out = []
    for number, line in enumerate(raw.splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            out.append((number, line))
    return out


@dataclass(frozen=True, slots=True)
class DictEntry:
    """A user-dictionary word for jieba (lower case: jieba's dictionary is case-sensitive)."""

    word: str
    freq: int | None
    tag: str | None


def load_userdict(path: Path) -> tuple[DictEntry, ...]:
    """config/userdict.txt: `word [freq] [tag]` per line; a phrase may contain spaces."""
    entries = []
    for number, line in _read_lines(path):
        # "scaling law" is a phrase (words separated by a space); "gpt-5 2000 nz" is word freq tag.
        parts = line.split()
        freq: int | None = None
        tag: str | None = None
        if len(parts) >= 2 and parts[1].isdigit():
            word = parts[0]
            freq = int(parts[1])
            tag = parts[2] if len(parts) > 2 else None
            if len(parts) > 3:
                raise CorpusError(str(path), number, "expected: word [frequency] [tag]")
        else:
            word = " ".join(parts)
        entries.append(DictEntry(word=word, freq=freq, tag=tag))
    return tuple(entries)


def load_stopwords(path: Path) -> frozenset[str]:
    """config/stopwords.txt: deliberately short, since common lists drop words that carry meaning."""
    return frozenset(line for _, line in _read_lines(path))


def load_fillers(path: Path) -> frozenset[str]:
    """config/fillers.txt: how people ask (怎么看, 为什么, 吗), dropped from queries, never from passages."""
    return frozenset(line.casefold() for _, line in _read_lines(path))


@dataclass(frozen=True, slots=True)
class CoreConfig:
    """Everything the core reads from config/: one object, rebuilt on every reload."""

    speakers: tuple[Speaker, ...]
    userdict: tuple[DictEntry, ...] = ()
    stopwords: frozenset[str] = frozenset()
    synonyms: tuple[tuple[str, ...], ...] = ()
    fillers: frozenset[str] = frozenset()
    files: tuple[Path, ...] = field(default=())

    @classmethod
    def load(cls, config_dir: Path) -> CoreConfig:
        """Read every core config file; the first problem raises CorpusError with file and line."""
        files = (
            config_dir / "speakers.toml",
            config_dir / "userdict.txt",
            config_dir / "stopwords.txt",
            config_dir / "synonyms.toml",
            config_dir / "fillers.txt",
        )
        return cls(
            speakers=load_speakers(files[0]),
            userdict=load_userdict(files[1]),
            stopwords=load_stopwords(files[2]),
            synonyms=load_synonyms(files[3]),
            fillers=load_fillers(files[4]),
            files=files,
        )
