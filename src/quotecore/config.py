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
from typing import Any, Literal

from quotecore.errors import CorpusError
from quotecore.models import Speaker

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SourceEntry:
    """One document's metadata in seeds/sources.toml (the text itself does not carry it reliably)."""

    file: str
    id: str
    title: str
    outlet: str | None = None
    interviewer: str | None = None
    date: str | None = None
    url: str | None = None
    script: Literal["simplified", "traditional"] | None = None
    interviewees: tuple[str, ...] = ()
    interviewers: tuple[str, ...] = ()


# -- the plain check ----------------------------------------------------------------------------
# Well-formed files are read without pydantic: importing it and building the models costs a fifth
# of a cold `quotebot search`. The check below accepts only data of exactly the expected types and
# shapes, a subset of what the schemas in `quotecore.config_schema` accept (its patterns are
# ASCII-only and never match a newline); anything else goes to those schemas, so what is accepted
# and every error message stay pydantic's (tests/test_cold_config.py loads each case both ways).

_SPEAKER_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_SOURCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_DATE = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")


def _text(value: object, pattern: re.Pattern[str] | None = None, min_length: int = 0) -> bool:
    return type(value) is str and len(value) >= min_length and (pattern is None or bool(pattern.fullmatch(value)))


def _optional_text(entry: dict[str, Any], key: str, pattern: re.Pattern[str] | None = None) -> bool:
    return key not in entry or _text(entry[key], pattern)


def _texts(entry: dict[str, Any], key: str, min_length: int = 0) -> bool:
    value = entry.get(key, [])
    return type(value) is list and len(value) >= min_length and all(type(v) is str for v in value)


def _table_list(data: object, key: str, fields: frozenset[str]) -> list[dict[str, Any]] | None:
    """data[key] when data has no other key and it is a list of tables with no unknown field."""
    if type(data) is not dict or set(data) - {key}:
        return None
    entries = data.get(key, [])
    if type(entries) is not list or any(type(e) is not dict or set(e) - fields for e in entries):
        return None
    return entries


def _plain_speakers(data: object) -> bool:
    entries = _table_list(data, "speaker", frozenset({"id", "name", "name_en", "aliases", "role"}))
    if entries is None:
        return False
    well_typed = all(
        _text(e.get("id"), _SPEAKER_ID)
        and _text(e.get("name"), min_length=1)
        and _optional_text(e, "name_en")
        and _optional_text(e, "role")
        and _texts(e, "aliases")
        for e in entries
    )
    return well_typed and len({e["id"] for e in entries}) == len(entries)  # ids checked as strings first


_SOURCE_FIELDS = frozenset(SourceEntry.__dataclass_fields__)


def _plain_sources(data: object) -> bool:
    entries = _table_list(data, "document", _SOURCE_FIELDS)
    return entries is not None and all(
        _text(e.get("file"), min_length=1)
        and _text(e.get("id"), _SOURCE_ID)
        and _text(e.get("title"), min_length=1)
        and all(_optional_text(e, k) for k in ("outlet", "interviewer", "url"))
        and _optional_text(e, "date", _DATE)
        and e.get("script", "simplified") in ("simplified", "traditional")
        and _texts(e, "interviewees")
        and _texts(e, "interviewers")
        for e in entries
    )


def _plain_synonyms(data: object) -> bool:
    entries = _table_list(data, "group", frozenset({"words"}))
    return entries is not None and all("words" in e and _texts(e, "words", min_length=2) for e in entries)


_PLAIN = {"speakers": _plain_speakers, "sources": _plain_sources, "synonyms": _plain_synonyms}


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


def _validated(schema: str, data: dict[str, Any], path: Path) -> dict[str, Any]:
    """`data` when the plain check accepts it, else as pydantic reads it (or its error)."""
    if _PLAIN[schema](data):
        return data
    from quotecore.config_schema import validated

    return validated(schema, data, path)


def load_speakers(path: Path) -> tuple[Speaker, ...]:
    """Speakers from config/speakers.toml; a malformed entry names the file and the line."""
    data = _validated("speakers", read_toml(path), path)
    return tuple(
        Speaker(
            id=s["id"],
            name=s["name"],
            name_en=s.get("name_en"),
            aliases=tuple(s.get("aliases", ())),
            role=s.get("role"),
        )
        for s in data.get("speaker", ())
    )


def load_sources(path: Path) -> dict[str, SourceEntry]:
    """Entries by file name; a missing sources.toml just means every file is described by guessing."""
    if not path.exists():
        return {}
    data = _validated("sources", read_toml(path), path)
    by_file: dict[str, SourceEntry] = {}
    for fields in data.get("document", ()):
        entry = SourceEntry(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items() if v is not None})
        if entry.file in by_file:
            raise CorpusError(str(path), None, f"file {entry.file!r} is described twice")
        by_file[entry.file] = entry
    return by_file


def load_synonyms(path: Path) -> tuple[tuple[str, ...], ...]:
    """Synonym groups, normalised like queries so that lookups match search forms."""
    if not path.exists():
        return ()
    data = _validated("synonyms", read_toml(path), path)
    return tuple(tuple(g["words"]) for g in data.get("group", ()))


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
