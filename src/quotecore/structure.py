"""From clean lines to attributed passages: headings, Q&A turns, reported speech, narration.

Two document shapes meet here. A transcript labels each turn ("奥特曼:…") and unlabelled
paragraphs continue the last speaker. An article tells the interview in prose; a paragraph is
`reported` only when it says who said it ("奥特曼表示…", "他坦承…"), and an intro that ends with a
colon hands its speaker to the paragraph or bullet list that follows. Anything else is the
article's own `narration` and is attributed to nobody: a line of the editor's cannot become a quote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from quotecore.models import Document, Kind, Speaker
from quotecore.text import to_simplified

# Verbs that make a sentence report speech or a stated view. Kept deliberately to speech and
# stance verbs: "奥特曼为主角" must stay narration.
_SPEECH_VERBS = (
    "表示|说道|解释说|补充说|开玩笑说|说|坦承|坦言|承认|指出|强调|解释|回应|回复|透露|预测|补充|认为|提到|谈到|"
    "谈及|自言|阐述|引用|直言|感叹|回忆|自曝|以为|意识到|看来|澄清|坦白|相信|断言|警告|批评|提醒|建议|称"
)
_QUESTION_VERBS = "问到|问及|问道|提问|追问|发问|疑惑|问"
_MAX_GAP = 8  # characters allowed between subject and verb ("奥特曼还零零碎碎提到")

_BULLET = re.compile(r"^(?:[-•·*▪◦]|\d{1,2}[.、)])\s*")
_NUMBERED_HEADING = re.compile(r"^(?:0\d|第[一二三四五六七八九十\d]+[章节部分]|[一二三四五六七八九十]{1,3}、)\s*(.+)$")
_QUOTED_LINE = re.compile(r"^[“\"「『](.+)[”\"」』]$")
_CLAUSE_PUNCT = re.compile(r"[,，。;；:：!！]")
_MAX_HEADING = 40


@dataclass(frozen=True, slots=True)
class Line:
    """A cleaned content line, ready for structure: simplified text plus where it came from."""

    number: int
    text: str
    original: str | None = None


@dataclass(frozen=True, slots=True)
class Block:
    """One future passage: text with its kind, speaker and topic decided."""

    line: Line
    text: str
    kind: Kind
    speaker_id: str | None
    topic: str | None


class Attributor:
    """Decides the structure of one document; built per document because roles differ per interview."""

    def __init__(self, document: Document, speakers: Iterable[Speaker]) -> None:
        self.document = document
        self._by_alias: dict[str, str] = {}
        for speaker in speakers:
            for alias in (speaker.name, speaker.name_en, *speaker.aliases):
                if alias:
                    self._by_alias[to_simplified(alias).casefold()] = speaker.id
        names = sorted(self._by_alias, key=len, reverse=True)
        alias_re = "|".join(re.escape(n) for n in names) or r"(?!x)x"
        self._label = re.compile(rf"^({alias_re})\s*[:：]\s*", re.I)
        who = rf"{alias_re}|他(?!们)|她(?!们)"
        self._reported = re.compile(rf"({who})([^。!?！？;；“”\"]{{0,{_MAX_GAP}}}?)(?:{_SPEECH_VERBS})", re.I)
        self._asking = re.compile(rf"({who})([^。!?！？;；“”\"]{{0,{_MAX_GAP}}}?)(?:{_QUESTION_VERBS})", re.I)
        self._other_alias = re.compile(alias_re, re.I)

    # -- helpers -------------------------------------------------------------------------------

    def _speaker_of(self, alias: str, last_named: str | None) -> str | None:
        if alias in ("他", "她"):
            if len(self.document.interviewees) == 1:
                return self.document.interviewees[0]
            return last_named
        return self._by_alias.get(alias.casefold())

    def _kind_of_turn(self, speaker_id: str) -> Kind:
        return "question" if speaker_id in self.document.interviewers else "answer"

    def _match_speakers(self, pattern: re.Pattern[str], text: str, last_named: str | None) -> list[str]:
        found = []
        for match in pattern.finditer(text):
            if self._other_alias.search(match.group(2)):
                continue  # "奥特曼和莱特卡普谈到": two people, nobody's words in particular
            speaker = self._speaker_of(match.group(1), last_named)
            if speaker:
                found.append(speaker)
        return found

    def _heading(self, text: str, next_text: str | None, in_turn: bool) -> str | None:
        """The topic a heading line names, or None when the line is not a heading."""
        if len(text) > _MAX_HEADING or self._label.match(text):
            return None
        numbered = _NUMBERED_HEADING.match(text)
        if numbered and "。" not in text:
            return numbered.group(1).strip()
        quoted = _QUOTED_LINE.match(text)
        if quoted and not re.search(r"[“”\"]", quoted.group(1)):
            return quoted.group(1).strip()
        # A short line with no clause punctuation that ends in a question mark or nothing, with
        # content after it ("为什么把宝贵的GPU投入到Sora上?"). The last line of an article is never
        # a heading: a heading with nothing under it is the editor asking the reader something.
        if (
            not in_turn
            and next_text is not None
            and not _BULLET.match(text)
            and not _CLAUSE_PUNCT.search(text)
            and not text.endswith(("——", "…", "-"))
            and self._heading(next_text, None, in_turn) is None
        ):
            return text
        return None

    # -- the walk ------------------------------------------------------------------------------

    def blocks(self, lines: list[Line]) -> tuple[list[Block], list[Line]]:
        """Blocks in order, plus the heading lines (topics, never quotes)."""
        blocks: list[Block] = []
        headings: list[Line] = []
        topic: str | None = None
        turn: tuple[str, Kind] | None = None  # the labelled speaker whose turn continues
        handoff: tuple[str | None, Kind] | None = None  # what an intro ending in ':' hands on
        bullets: tuple[str | None, Kind] | None = None  # what a bullet list after a paragraph inherits
        previous: Block | None = None
        last_named: str | None = None

        for index, line in enumerate(lines):
            text = line.text
            next_text = lines[index + 1].text if index + 1 < len(lines) else None
            heading = self._heading(text, next_text, turn is not None)
            if heading is not None:
                topic = heading
                headings.append(line)
                turn = handoff = bullets = None
                previous = None
                continue

            label = self._label.match(text)
            bullet = _BULLET.match(text)
            kind: Kind
            speaker: str | None
            if label:
                speaker = self._by_alias[label.group(1).casefold()]
                kind = self._kind_of_turn(speaker)
                turn = (speaker, kind)
                text = text[label.end() :]
                handoff = bullets = None
            elif bullet:
                text = text[bullet.end() :]
                speaker, kind = bullets or handoff or turn or (None, "narration")
                bullets = (speaker, kind)
                handoff = None
            elif turn is not None:
                speaker, kind = turn
            elif handoff is not None:
                speaker, kind = handoff
                handoff = None
            else:
                speaker, kind = self._prose(text, previous, last_named)
            if not text.strip():
                continue

            if not bullet:
                bullets = (speaker, kind) if kind in ("reported", "answer") else None
                intro = self._intro(text, speaker, kind, last_named)
                if intro is not None:
                    handoff = bullets = intro
            if speaker in self.document.interviewees:
                last_named = speaker
            block = Block(line=line, text=text, kind=kind, speaker_id=speaker, topic=topic)
            blocks.append(block)
            previous = block
        return blocks, headings

    def _prose(self, text: str, previous: Block | None, last_named: str | None) -> tuple[str | None, Kind]:
        interviewees = self.document.interviewees
        said = [s for s in self._match_speakers(self._reported, text, last_named) if s in interviewees]
        if said:
            return said[0], "reported"
        # First-person words right after a reported paragraph continue the same person's words
        # ("所以我们将与很多人合作…" after "他也意识到…").
        if previous is not None and previous.kind == "reported" and re.search(r"我", text):
            return previous.speaker_id, "reported"
        return None, "narration"

    def _intro(
        self, text: str, speaker: str | None, kind: Kind, last_named: str | None
    ) -> tuple[str | None, Kind] | None:
        """What a paragraph ending in ':' hands to the next one, if anything."""
        if not text.rstrip().endswith((":", "：")):
            return None
        if kind == "reported" and speaker:
            return speaker, "reported"
        askers = [s for s in self._match_speakers(self._asking, text, last_named) if s in self.document.interviewers]
        if askers:
            return askers[0], "question"
        return None
