"""The vocabulary of the core: Speaker, Document, Passage, Quote, and what a load dropped.

Everything here is frozen: a corpus snapshot is shared between threads and event loops, so it
must never change once built (reload builds a new one and swaps it whole).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["answer", "question", "reported", "narration", "lead-in"]
KINDS: tuple[Kind, ...] = ("answer", "reported", "question", "narration", "lead-in")
#: `certain`, or `doubtful` when the text contradicts the speaker its source labels it with.
Attribution = Literal["certain", "doubtful"]
#: Kinds whose text is a person's own words: they make good quotes and rank first on ties.
QUOTABLE_KINDS: frozenset[str] = frozenset({"answer", "reported"})


@dataclass(frozen=True, slots=True)
class Speaker:
    """A person, named once in config/speakers.toml and referred to by id everywhere else."""

    id: str
    name: str
    name_en: str | None = None
    aliases: tuple[str, ...] = ()
    role: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The design doc's Speaker JSON shape."""
        return {"id": self.id, "name": self.name, "name_en": self.name_en}

    @property
    def display(self) -> str:
        """Chinese and English name together, as every adapter shows them."""
        if self.name_en and self.name_en != self.name:
            return f"{self.name} ({self.name_en})"
        return self.name


@dataclass(frozen=True, slots=True)
class Document:
    """One source file and its metadata (from seeds/sources.toml, or guessed for a new file)."""

    id: str
    path: str
    title: str
    outlet: str | None = None
    interviewer: str | None = None
    date: str | None = None
    script: Literal["simplified", "traditional"] = "simplified"
    url: str | None = None
    interviewees: tuple[str, ...] = ()
    interviewers: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The design doc's source JSON shape."""
        return {"id": self.id, "title": self.title, "outlet": self.outlet, "date": self.date}


@dataclass(frozen=True, slots=True)
class Passage:
    """One paragraph or turn, cleaned and in simplified script.

    `sentences` are (start, end) offsets into `text`, so excerpts are always whole sentences.
    `original` keeps the cleaned text in the document's own script (traditional documents only)
    so an adapter can show a quote the way it was published.
    """

    id: str
    doc_id: str
    position: int
    line: int
    text: str
    kind: Kind
    speaker_id: str | None = None
    topic: str | None = None
    sentences: tuple[tuple[int, int], ...] = ()
    original: str | None = None
    attribution: Attribution = "certain"
    #: The lead-in that announced this passage ("奥特曼还提到了…的话题:"): shown with it as context.
    context: str | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """What a user is shown: an excerpt of a passage, with everything needed to attribute it.

    `highlights` are (start, end) offsets into `text` of the words that matched the query, so
    each adapter can mark them in its own syntax (bold in Discord and Slack, ANSI in a terminal).
    """

    passage: Passage
    document: Document
    speaker: Speaker | None
    text: str
    score: float | None = None
    highlights: tuple[tuple[int, int], ...] = ()
    #: Why this quote ranked where it did (`search --explain`); None unless asked for.
    explain: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        """The passage id: stable across reloads, so buttons and links keep working."""
        return self.passage.id

    def to_json(self) -> dict[str, Any]:
        """The design doc's Result JSON shape."""
        data: dict[str, Any] = {
            "id": self.passage.id,
            "text": self.text,
            "passage": self.passage.text,
            "speaker": self.speaker.to_json() if self.speaker else None,
            "kind": self.passage.kind,
            "attribution": self.passage.attribution,
            "topic": self.passage.topic,
            "source": self.document.to_json(),
        }
        if self.score is not None:
            data["score"] = round(self.score, 6)
        if self.explain is not None:
            data["explain"] = self.explain
        return data


@dataclass(frozen=True, slots=True)
class Drop:
    """A line (or sentence) the cleaner kept out of the corpus or repaired, and why: shown by `stats`."""

    path: str
    line: int
    reason: str
    text: str
    #: "dropped": the text is gone; "repaired": a garbled run was cut and `text` is what survived.
    action: Literal["dropped", "repaired"] = "dropped"


@dataclass(frozen=True, slots=True)
class CorpusStats:
    """Counts a reload reports and `quotebot stats` prints."""

    documents: int
    passages: int
    by_speaker: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    drops: tuple[Drop, ...] = ()
