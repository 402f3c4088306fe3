"""Turning text into search terms: jieba's segmentation for Chinese, our own rules for Latin words and phrases.

The Chinese words are jieba's accurate mode, cut by a jieba.Tokenizer whose dictionary is read
from a compact file a few entries at a time (`quotecore.dictionary`): jieba's own words, without
loading its whole dictionary, and jieba is imported only when something is segmented.

Passages and queries go through the same `Tokenizer.terms`, so whatever a passage is indexed
under, a query written in another script, width or case reaches it.

Latin runs never go through jieba: its user dictionary is case-sensitive and it splits `gpt-5`
into `gpt`, `-`, `5`. We keep hyphenated names whole (and also index their parts, so `GPT` finds
`GPT-5`), and join dictionary phrases with a space (`scaling law`) into one term as well.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from quotecore.text import search_form

if TYPE_CHECKING:
    import jieba

    from quotecore.config import DictEntry

log = logging.getLogger(__name__)

#: Marks a part of a longer word in the index ("~投资" for 投资 inside 投资人): never in a search form.
INSIDE = "~"

#: The one separator of joined terms and runs (token cache, gram forms, saved term lists): U+001F,
#: which cleaning and `search_form` remove from every text, so no term can hold it.
SEP = "\x1f"

_RUNS = re.compile(r"[a-z0-9]+(?:[-+._'][a-z0-9]+)*\+*|[\u3400-\u4dbf\u4e00-\u9fff]+")
_LATIN_PART = re.compile(r"[a-z0-9]+")
#: English inflections, so "ambient" reaches "ambiently" (as a part: scored below the word itself).
_STEM = re.compile(r"(?:ly|ing|ed|es|s)$")


def default_cache_dir() -> Path:
    """Where derived files (jieba's dictionary cache, token caches) live unless config says otherwise."""
    env = os.environ.get("QUOTEBOT_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "quotebot"


class Tokenizer:
    """Search terms for any text; one instance per (user dictionary, stopwords) configuration."""

    def __init__(
        self,
        userdict: Iterable[DictEntry] = (),
        stopwords: Iterable[str] = (),
        cache_dir: Path | None = None,
    ) -> None:
        self._cache_dir = cache_dir
        self._segmenter: jieba.Tokenizer | None = None
        self._lock = threading.Lock()
        phrases: list[str] = []
        #: Words for the segmenter, added in order when it is first needed (order matters to jieba).
        self._words: list[tuple[str, int | None, str | None]] = []
        for entry in userdict:
            word = search_form(entry.word)
            if " " in word:
                phrases.append(word)
            elif _RUNS.fullmatch(word) and not word.isascii():
                self._words.append((word, entry.freq, entry.tag))
        self._stopwords = frozenset(search_form(w) for w in stopwords)
        self._phrases = (
            re.compile(
                r"(?<![a-z0-9])(" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases) + r")(?![a-z0-9])"
            )
            if phrases
            else None
        )

    def __getstate__(self) -> dict[str, object]:
        """Pickled as its configuration (a worker process builds its own segmenter on first need)."""
        state = self.__dict__.copy()
        state["_segmenter"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def segmenter(self) -> jieba.Tokenizer:
        """The jieba.Tokenizer, made on first need: a start that only reads its index never imports jieba.

        Its dictionary is read a few entries at a time (`quotecore.dictionary`), so even a cold
        query costs a few buckets, not jieba's whole dictionary.
        """
        segmenter = self._segmenter
        if segmenter is None:
            with self._lock:
                if self._segmenter is None:
                    from quotecore import dictionary

                    cache_dir = self._cache_dir if self._cache_dir is not None else default_cache_dir() / "jieba"
                    made = dictionary.segmenter(dictionary.load(cache_dir))
                    for word, freq, tag in self._words:
                        made.add_word(word, freq, tag)
                    self._segmenter = made
                segmenter = self._segmenter
        return segmenter

    def terms(self, text: str) -> list[str]:
        """Word-level search terms of `text`, in order (duplicates kept: they are term frequency).

        Each word is followed by its parts (see `words`), marked with INSIDE: a passage is found
        through a word inside a longer one, and a query can score that below the word itself.
        """
        out: list[str] = []
        for word, parts in self.words(text):
            out.append(word)
            out.extend(INSIDE + part for part in parts)
        return out

    def words(self, text: str) -> list[tuple[str, tuple[str, ...]]]:
        """Each search word of `text`, with the dictionary words inside it.

        jieba cuts the same characters differently next to different neighbours, so indexing
        whole words only would make recall depend on the sentence around a word. The parts (2-
        and 3-character dictionary words inside a longer word, as jieba's own search mode finds
        them; the pieces of a hyphenated Latin name) are indexed too. Queries keep the pairing,
        so a word and its parts count as one query word.
        """
        return self.words_of_form(search_form(text))

    def words_of_form(self, form: str) -> list[tuple[str, tuple[str, ...]]]:
        """`words` of text already in its search form (a query is normalized once, not twice)."""
        out: list[tuple[str, tuple[str, ...]]] = []
        for match in _RUNS.finditer(form):
            run = match.group()
            if run[0].isascii():
                self._latin(run, out)
            else:
                out.extend((w, self._parts(w)) for w in self.segmenter.cut(run, HMM=True) if w not in self._stopwords)
        if self._phrases is not None:
            out.extend((" ".join(m.group(1).split()), ()) for m in self._phrases.finditer(form))
        return out

    def _parts(self, word: str) -> tuple[str, ...]:
        if len(word) < 3:
            return ()
        freq = self.segmenter.FREQ
        found = [
            word[i : i + n]
            for n in (2, 3)
            if len(word) > n
            for i in range(len(word) - n + 1)
            if freq.get(word[i : i + n]) and word[i : i + n] not in self._stopwords
        ]
        return tuple(dict.fromkeys(found))

    def _latin(self, run: str, out: list[tuple[str, tuple[str, ...]]]) -> None:
        pieces = _LATIN_PART.findall(run)
        parts = tuple(p for p in pieces if len(p) > 1 and not p.isdigit() and p not in self._stopwords)
        if len(pieces) < 2:
            stem = _STEM.sub("", run) if run.isalpha() else run
            parts = (stem,) if len(stem) >= 4 and stem != run else ()
        if run not in self._stopwords:
            out.append((run, parts))
        elif parts:
            out.append((parts[0], parts[1:]))

    @staticmethod
    def grams(text: str) -> list[str]:
        """Character unigrams and bigrams of the Chinese runs: the fallback for words jieba does not know."""
        return grams_of_form(Tokenizer.gram_form(text))

    @staticmethod
    def gram_form(text: str) -> str:
        """The Chinese runs of the search form, joined by SEP: everything `grams` is made of.

        The token cache keeps this instead of the grams themselves: five times shorter, and turning
        it back into grams needs no script conversion, so a rebuild stays cheap.
        """
        return SEP.join(m.group() for m in _RUNS.finditer(search_form(text)) if not m.group()[0].isascii())

    @staticmethod
    def query_grams(text: str) -> list[str]:
        """The grams a query needs: bigrams of each Chinese run, or the character of a one-character run.

        Unigrams of a longer query would match nearly every passage (天, 气, 预, 报 are all common),
        which is exactly the least-bad match we must not return.
        """
        form = search_form(text)
        out: list[str] = []
        for match in _RUNS.finditer(form):
            run = match.group()
            if run[0].isascii():
                continue
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(run[i : i + 2] for i in range(len(run) - 1))
        return out


def grams_of_form(form: str) -> list[str]:
    """Each run's characters, then its adjacent pairs: the grams of `Tokenizer.gram_form`'s output."""
    out: list[str] = []
    for run in form.split(SEP) if form else ():
        out.extend(run)
        out.extend([run[i : i + 2] for i in range(len(run) - 1)])
    return out
