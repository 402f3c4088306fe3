"""jieba's accurate mode (`cut(text, HMM=True)`) over a `PrefixDictionary`, with identical output.

Why not jieba itself: importing it pulls in pkg_resources, and its tokenizer unmarshals the whole
dictionary before the first cut (see `quotecore.dictionary`). The algorithm is small and has not
changed since jieba 0.42.1, the last release: a DAG of the dictionary words starting at each
character, the most probable path through it (log frequencies over the dictionary total), and
jieba's character HMM (Viterbi over B/M/E/S) for each run of single characters the dictionary
does not hold as a word. The float arithmetic follows jieba's order of operations, and ties break
the way Python's tuple `max` breaks them there, so every cut is the same: `tests/test_dictionary.py`
compares both on every passage and query the tests know.

One deliberate difference: a word added with frequency 0 (force-split) belongs to this segmenter,
where jieba keeps one set for the whole process.
"""

from __future__ import annotations

import re
from math import log

from quotecore.dictionary import HmmTables, PrefixDictionary

# jieba's block patterns: what goes through the DAG, and what is yielded as it is.
_HAN = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&._%\\-]+)")
_SKIP = re.compile("(\r\n|\\s)")
_ENG = re.compile("[a-zA-Z0-9]")
# The HMM's own split: only these characters are tagged; Latin and digit runs pass whole.
_HMM_HAN = re.compile("([\u4e00-\u9fd5]+)")
_HMM_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")

_MIN_FLOAT = -3.14e100
#: The states that may precede each state.
_PREVIOUS = {"B": "ES", "M": "MB", "S": "SE", "E": "BM"}


class Segmenter:
    """Words of a text, cut exactly as a jieba.Tokenizer with the same dictionary and added words."""

    def __init__(self, dictionary: PrefixDictionary) -> None:
        self.dictionary = dictionary
        self._force_split: set[str] = set()

    def add_word(self, word: str, freq: int | None = None) -> None:
        """Like jieba's `add_word`: no frequency means the least that keeps the word whole (`suggest_freq`)."""
        if freq is None:
            freq = self._suggest_freq(word)
        self.dictionary.add(word, freq)
        if freq == 0:
            self._force_split.add(word)

    def _suggest_freq(self, word: str) -> int:
        total = self.dictionary.total
        ftotal = float(total)
        freq: float = 1
        for seg in self.cut(word, hmm=False):
            freq *= self.dictionary.get(seg, 1) / ftotal  # type: ignore[operator]
        return max(int(freq * total) + 1, self.dictionary.get(word, 1))  # type: ignore[type-var]

    def cut(self, text: str, hmm: bool = True) -> list[str]:
        """The words of `text`, in order, concatenating back to it."""
        out: list[str] = []
        for block in _HAN.split(text):
            if not block:
                continue
            if _HAN.match(block):
                self._cut_block(block, out) if hmm else self._cut_block_no_hmm(block, out)
                continue
            for piece in _SKIP.split(block):
                if _SKIP.match(piece):
                    out.append(piece)
                else:
                    out.extend(piece)
        return out

    def _route(self, sentence: str) -> list[int]:
        """For each position, where the most probable word starting there ends (exclusive)."""
        singles = self.dictionary.singles()
        after = self.dictionary.after
        size = len(sentence)
        dag: list[list[int]] = []
        #: Per position, the entries of its longer words: all start with sentence[k : k + 2].
        longer: list[dict[str, int]] = []
        for k in range(size):
            # jieba's loop over ever longer fragments from k, in two steps: the character alone,
            # then the fragments of two characters and more, all in one bucket.
            char = sentence[k]
            ends = []
            entries: dict[str, int] = {}
            if char in singles:
                if singles[char]:
                    ends.append(k)
                if k + 1 < size:
                    frag = sentence[k : k + 2]
                    entries = after(frag)
                    i = k + 1
                    while i < size and frag in entries:
                        if entries[frag]:
                            ends.append(i)
                        i += 1
                        frag = sentence[k : i + 1]
            dag.append(ends or [k])
            longer.append(entries)
        logtotal = log(self.dictionary.total)
        best: list[tuple[float, int]] = [(0.0, 0)] * (size + 1)
        for idx in range(size - 1, -1, -1):
            entries = longer[idx]
            best[idx] = max(
                (log((entries if x > idx else singles).get(sentence[idx : x + 1]) or 1) - logtotal + best[x + 1][0], x)
                for x in dag[idx]
            )
        return [end + 1 for _, end in best[:size]]

    def _cut_block(self, sentence: str, out: list[str]) -> None:
        route = self._route(sentence)
        x = 0
        buf = ""
        size = len(sentence)
        while x < size:
            y = route[x]
            if y - x == 1:
                buf += sentence[x]
            else:
                if buf:
                    self._flush(buf, out)
                    buf = ""
                out.append(sentence[x:y])
            x = y
        if buf:
            self._flush(buf, out)

    def _flush(self, buf: str, out: list[str]) -> None:
        """Single characters in a row: one word if the dictionary has them as one, else the HMM's cut."""
        if len(buf) == 1:
            out.append(buf)
        elif not self.dictionary.get(buf):
            self._hmm_cut(buf, out)
        else:
            out.extend(buf)

    def _cut_block_no_hmm(self, sentence: str, out: list[str]) -> None:
        route = self._route(sentence)
        x = 0
        buf = ""
        size = len(sentence)
        while x < size:
            y = route[x]
            word = sentence[x:y]
            if len(word) == 1 and _ENG.match(word):
                buf += word
            else:
                if buf:
                    out.append(buf)
                    buf = ""
                out.append(word)
            x = y
        if buf:
            out.append(buf)

    def _hmm_cut(self, text: str, out: list[str]) -> None:
        for block in _HMM_HAN.split(text):
            if _HMM_HAN.match(block):
                for word in _viterbi_words(block, self.dictionary.hmm()):
                    if word in self._force_split:
                        out.extend(word)
                    else:
                        out.append(word)
            else:
                out.extend(piece for piece in _HMM_SKIP.split(block) if piece)


def _viterbi_words(sentence: str, tables: HmmTables) -> list[str]:
    """The words of the most probable B/M/E/S tagging of `sentence`."""
    start, trans, emit = tables.start, tables.trans, tables.emit
    scores = {y: start[y] + emit[y].get(sentence[0], _MIN_FLOAT) for y in "BMES"}
    paths = {y: [y] for y in "BMES"}
    for char in sentence[1:]:
        new_scores: dict[str, float] = {}
        new_paths: dict[str, list[str]] = {}
        for y in "BMES":
            em_p = emit[y].get(char, _MIN_FLOAT)
            prob, state = max([(scores[y0] + trans[y0].get(y, _MIN_FLOAT) + em_p, y0) for y0 in _PREVIOUS[y]])
            new_scores[y] = prob
            new_paths[y] = [*paths[state], y]
        scores, paths = new_scores, new_paths
    _, state = max((scores[y], y) for y in "ES")
    tags = paths[state]
    words: list[str] = []
    begin = after = 0
    for i, tag in enumerate(tags):
        if tag == "B":
            begin = i
        elif tag == "E":
            words.append(sentence[begin : i + 1])
            after = i + 1
        elif tag == "S":
            words.append(sentence[i])
            after = i + 1
    if after < len(sentence):
        words.append(sentence[after:])
    return words
