"""The config files' schemas as pydantic models: what decides, and words, every config error.

`quotecore.config` reads well-formed files without them (importing pydantic and building these
models is a fifth of a cold `quotebot search`); anything its plain check does not accept, down to
a type it does not expect, comes here, so what passes and every error message are pydantic's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from quotecore.errors import CorpusError


class _Strict(BaseModel):
    """Unknown keys are errors: a typo must not be silently ignored."""

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


#: The file schemas by the name `quotecore.config` asks for.
SCHEMAS: dict[str, type[BaseModel]] = {"speakers": SpeakersFile, "sources": SourcesFile, "synonyms": SynonymsFile}


def validated(schema: str, data: dict[str, Any], path: Path) -> dict[str, Any]:
    """`data` as the schema reads it (defaults filled in), or CorpusError naming the first bad key."""
    try:
        return SCHEMAS[schema].model_validate(data).model_dump()
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise CorpusError(str(path), None, f"key {key}: {first['msg']}{more}") from None
    except RecursionError:
        raise CorpusError(str(path), None, "nested too deeply to be a config file") from None
