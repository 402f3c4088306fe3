"""Reading a chat question: who it is about, which words are only how it is asked, what is left.

People type "奥特曼怎么看开源", not "开源". Searched word for word, the name pulls up every passage
that mentions the man (the intro names everyone) and 怎么看 matches the host's questions. So a
query is read before it is searched:

- a speaker named in it (any alias, any case or script) is intent: quotes by that person rank
  first. Only the first person named is the subject; a later one is what the query is about
  ("a16z 的 Erik 都问了奥特曼些啥": Erik's questions, about 奥特曼), and stays a search word;
- question and filler words (`config/fillers.txt`) are dropped;
- every other word is content, with the alternatives it may be found under: its synonyms
  (`config/synonyms.toml`), the dictionary words inside it, and words that sound the same
  (a homophone typo such as 垂直整和 for 垂直整合), each worth less than the word itself.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from quotecore.text import search_form
from quotecore.tokenize import INSIDE, Tokenizer

#: How much a match through an alternative is worth, next to the word itself.
SYNONYM = 0.9
INSIDE_WORD = 0.7
PART = 0.7
SOUND = 0.6
JOIN = 1.0
#: Query words whose alternatives a reader remembers (a few hundred kilobytes at most).
_MEMO = 4096

#: Chat mention syntax (@everyone, <!channel>, <@U123>, <#C1>): how a message pings, never what it asks.
_MENTION = re.compile(r"<[@!#][^>]*>|@[a-z0-9_.-]+")

#: Sentence-final particles jieba sometimes glues to the word before them.
_PARTICLES = frozenset("吗呢吧啊呀嘛了")
#: A one-character Chinese word is most often a function word (最, 到, 里) or a piece of a phrase
#: jieba did not join: it weighs this much of a word's idf in the query.
SINGLE = 0.5


@dataclass(frozen=True, slots=True)
class Variant:
    """A term a query word may be found under, how it relates to the word, and its worth."""

    term: str
    how: str  # "word", "synonym", "part" or "sound"
    factor: float


@dataclass(frozen=True, slots=True)
class QueryWord:
    """One content word of a query and every term that counts as finding it."""

    word: str
    variants: tuple[Variant, ...]
    #: How much of its idf the word carries in the query (SINGLE for a lone Chinese character).
    scale: float = 1.0


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """What a query asks for: content words, the speaker it is about, and what was set aside."""

    text: str
    words: tuple[QueryWord, ...]
    intent: str | None = None  # speaker id read from the query
    named: tuple[str, ...] = ()  # every alias found in the query, in order
    fillers: tuple[str, ...] = ()
    adjacent: tuple[tuple[str, str], ...] = field(default=())  # consecutive content words

    def explain(self) -> dict[str, object]:
        """How the query was read, for `--explain`."""
        return {
            "content": [w.word for w in self.words],
            "speaker_intent": self.intent,
            "names": list(self.named),
            "fillers": list(self.fillers),
        }


class QueryReader:
    """Reads queries against one snapshot's speakers, fillers, synonyms and homophones."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        aliases: Mapping[str, str],
        fillers: Iterable[str],
        synonyms: Mapping[str, tuple[tuple[str, ...], ...]],
        sounds: Callable[[str], Iterable[str]],
        known: Callable[[str], bool] = lambda term: False,
    ) -> None:
        self._tokenizer = tokenizer
        self._aliases = dict(aliases)
        self._fillers = frozenset(fillers)
        self._synonyms = synonyms
        self._sounds = sounds
        self._known = known
        self._memo: dict[str, QueryWord] = {}
        self._plans: dict[str, QueryPlan] = {}
        names = sorted((a for a in self._aliases if a), key=len, reverse=True)
        # Latin names only as whole words: "sam" must not fire inside "samsung".
        pattern = "|".join(rf"(?<![a-z0-9]){re.escape(n)}(?![a-z0-9])" if n.isascii() else re.escape(n) for n in names)
        self._names = re.compile(pattern) if pattern else None

    def read(self, query: str) -> QueryPlan:
        """The plan for one (already validated) query; the recent ones are kept ("Another" asks again)."""
        plan = self._plans.get(query)
        if plan is None:
            plan = self._read(query)
            if len(self._plans) >= _MEMO // 16:
                self._plans.clear()
            self._plans[query] = plan
        return plan

    def _read(self, query: str) -> QueryPlan:
        form = _MENTION.sub(" ", search_form(query))
        named: list[str] = []
        intent: str | None = None
        topic_names: list[str] = []
        rest = form
        if self._names is not None:
            pieces: list[str] = []
            last = 0
            for match in self._names.finditer(form):
                speaker = self._aliases[match.group()]
                named.append(match.group())
                if intent is None:
                    intent = speaker
                    pieces.append(form[last : match.start()] + " ")
                    last = match.end()
                elif speaker != intent:
                    topic_names.append(match.group())
            pieces.append(form[last:])
            rest = "".join(pieces)
        fillers: list[str] = []
        words: list[QueryWord] = []
        order: list[str] = []
        for word, parts in self._tokenizer.words_of_form(rest):
            word = self._unparticled(word)
            if not word or word in self._fillers:
                fillers.append(word)
                continue
            if word in self._aliases and self._aliases[word] == intent:
                continue  # the same person named twice ("Sam Altman" after "sam")
            order.append(word)
            if any(w.word == word for w in words):
                continue
            words.append(self._word(word, parts))
        words = self._joined(words, order)
        adjacent = tuple(itertools.pairwise(order))
        return QueryPlan(
            text=query,
            words=tuple(words),
            intent=intent,
            named=tuple(named),
            fillers=tuple(dict.fromkeys(fillers)),
            adjacent=adjacent,
        )

    def _unparticled(self, word: str) -> str:
        """A word without the sentence-final particles jieba glued to it (好了吗 → 好)."""
        if word in self._fillers:
            return word
        while len(word) > 1 and word[-1] in _PARTICLES:
            word = word[:-1]
        return word

    def _joined(self, words: list[QueryWord], order: list[str]) -> list[QueryWord]:
        """Words jieba cut apart in the query that the corpus holds as one (走 多 远 → 走多远).

        The same characters are cut differently with different neighbours; a run of two or three
        query words that the corpus (or the synonym table) knows as one word is a variant of each.
        """
        extra: dict[str, list[Variant]] = {}
        for size in (3, 2):
            for i in range(len(order) - size + 1):
                run = order[i : i + size]
                latin = all(w.isascii() for w in run)
                if not latin and not all(w and not w.isascii() for w in run):
                    continue  # Latin and Chinese side by side are two things, not one word
                joined = " ".join(run) if latin else "".join(run)
                if joined in order:
                    continue
                if self._known(joined) or joined in self._synonyms:
                    found = [Variant(joined, "join", JOIN)]
                    found += [Variant(t, "synonym", SYNONYM) for g in self._synonyms.get(joined, ()) for t in g]
                    for w in run:
                        extra.setdefault(w, []).extend(found)
        if not extra:
            return words
        out = []
        for word in words:
            more = [v for v in extra.get(word.word, ()) if all(v.term != u.term for u in word.variants)]
            out.append(QueryWord(word.word, word.variants + tuple(dict.fromkeys(more)), word.scale))
        return out

    def _word(self, word: str, parts: tuple[str, ...]) -> QueryWord:
        """The word with its alternatives; remembered per reader (a snapshot's), since words recur."""
        known = self._memo.get(word)
        if known is None:
            scale = SINGLE if len(word) == 1 and not word.isascii() else 1.0
            known = QueryWord(word, self._variants(word, parts), scale)
            if len(self._memo) >= _MEMO:
                self._memo.clear()
            self._memo[word] = known
        return known

    def _variants(self, word: str, parts: tuple[str, ...]) -> tuple[Variant, ...]:
        out = [Variant(word, "word", 1.0), Variant(INSIDE + word, "inside", INSIDE_WORD)]
        seen = {word, INSIDE + word}
        for group in self._synonyms.get(word, ()):
            for term in group:
                if term not in seen:
                    seen.update((term, INSIDE + term))
                    out.append(Variant(term, "synonym", SYNONYM))
                    out.append(Variant(INSIDE + term, "synonym", SYNONYM * INSIDE_WORD))
        for part in parts:
            if part not in seen and part not in self._fillers:
                seen.add(part)
                out.append(Variant(part, "part", PART))
        for term in self._sounds(word):
            if term not in seen:
                seen.update((term, INSIDE + term))
                out.append(Variant(term, "sound", SOUND))
                out.append(Variant(INSIDE + term, "sound", SOUND * INSIDE_WORD))
        return tuple(out)
