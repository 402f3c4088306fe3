"""Words that sound alike: how a homophone typo (垂直整和 for 垂直整合) still finds its word.

Chinese is typed by pinyin, so the common typo is the right syllables with the wrong characters.
Each character of the corpus gets its toneless pinyin once, when an index is built (pypinyin is
imported only then: it costs a cold `quotebot search` about 0.3 s, and the reading is saved with
the index). A query word the corpus does not hold is spelled out with that table, and the
corpus's words with the same spelling are its homophones. The table of spellings is made on the
first query that needs it, not at start-up.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable

import numpy as np

from quotecore.tokenize import INSIDE

_CJK = ("\u3400", "\u9fff")
#: A word the table groups: two to six Chinese characters (a regex: the index holds ~10⁵ terms).
_GROUPED = re.compile("[\u3400-\u9fff]{2,6}")


def _is_chinese(word: str) -> bool:
    return bool(word) and all(_CJK[0] <= c <= _CJK[1] for c in word)


def _grouped(terms: Iterable[str]) -> list[str]:
    """The words of `terms` the table groups by spelling (parts inside longer words unmarked), once each."""
    return list(dict.fromkeys(w for w in (t.lstrip(INSIDE) for t in terms) if _GROUPED.fullmatch(w)))


class Sounds:
    """Toneless pinyin of the corpus's characters, and its words grouped by spelling."""

    def __init__(
        self, readings: dict[str, str], words: Iterable[str] | Callable[[], Iterable[str]] = (), aligned: bool = False
    ) -> None:
        self._readings = readings
        #: Whether every character got its own reading (a reload may then read only new ones).
        self.aligned = aligned
        # Words and the parts inside longer words (marked INSIDE in the index) alike, read when the
        # first query needs a homophone: start-up and reloads never pay for it (0.3 s at 100k).
        self._words = words
        self._by_spelling: dict[str, tuple[str, ...]] | None = None
        self._lock = threading.Lock()

    @classmethod
    def build(cls, words: Iterable[str], known: Sounds | None = None) -> Sounds:
        """Read every character of `words` (an index's terms) with pypinyin.

        With `known` (the previous generation's table), only characters it never read are read:
        a reload adds a few, and importing pypinyin alone costs 0.3 s. The table is the one a
        full read gives, as long as pypinyin had a reading for every character both times (a
        character without one shifts the readings after it in a full read: then read in full).
        """
        kept = _grouped(words)
        chars = sorted(set("".join(kept)))
        if known is not None and known.aligned:
            missing = [c for c in chars if c not in known._readings]
            read = _read(missing) if missing else []
            if len(read) == len(missing):
                fresh = dict(zip(missing, read, strict=True))
                readings = {c: fresh[c] if c in fresh else known._readings[c] for c in chars}
                return cls(readings, kept, aligned=True)
        read = _read(chars)
        return cls(dict(zip(chars, read, strict=False)), kept, aligned=len(read) == len(chars))

    def spell(self, word: str) -> str | None:
        """The word's toneless pinyin, or None when a character was never read."""
        out = []
        for char in word:
            reading = self._readings.get(char)
            if not reading:
                return None
            out.append(reading)
        return " ".join(out)

    def like(self, word: str) -> tuple[str, ...]:
        """The corpus's other words spelled like `word` (none for non-Chinese or one-character words)."""
        if len(word) < 2 or not _is_chinese(word):
            return ()
        spelling = self.spell(word)
        if spelling is None:
            return ()
        table = self._by_spelling
        if table is None:
            with self._lock:
                if self._by_spelling is None:
                    grouped: dict[str, list[str]] = {}
                    words = self._words() if callable(self._words) else self._words
                    for known in _grouped(words):
                        key = self.spell(known)
                        if key is not None:
                            grouped.setdefault(key, []).append(known)
                    self._by_spelling = {k: tuple(v) for k, v in grouped.items()}
                table = self._by_spelling
        return tuple(w for w in table.get(spelling, ()) if w != word)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The readings as UTF-8 bytes ("字 pinyin" lines), saved beside the index."""
        text = "\n".join(f"{c} {r}" for c, r in self._readings.items())
        return {
            "readings": np.frombuffer(text.encode(), dtype=np.uint8),
            "aligned": np.array([self.aligned], dtype=bool),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], words: Iterable[str] | Callable[[], Iterable[str]]) -> Sounds:
        """The table `to_arrays` saved, for a corpus whose terms are `words` (or what that function gives)."""
        raw = arrays["readings"].tobytes().decode() if "readings" in arrays else ""
        readings = dict(line.split(" ", 1) for line in raw.split("\n") if " " in line)
        aligned = bool(arrays["aligned"][0]) if "aligned" in arrays else False
        return cls(readings, words, aligned)


def _read(chars: list[str]) -> list[str]:
    """Toneless pinyin of each character (pypinyin imported only here: it is slow to import)."""
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(chars, style=Style.NORMAL, errors="ignore")
