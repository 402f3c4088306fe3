"""Synthetic corpora in the seeds' format: the seeds' own sentences recombined, with a real vocabulary.

Run: python bench/generate.py --passages 10000 --seed 1 --out bench/.cache/corpus-10000

Each document looks like a published article: page furniture (font-size widget, image captions, a
copyright footer), a title, an intro, numbered section headings, Q&A turns with continuations,
reported speech and narration; every fifth document is in traditional script. The same seed always
gives the same files, so benchmark runs compare like with like.

The seeds hold a few thousand distinct words: recombined alone, every word's posting list would
grow with the corpus and postings at 100k passages would be far denser than in real text. So most
sentences also carry a clause of words drawn from jieba's own dictionary with its frequencies (a
Zipf-like curve: 的 and 是 everywhere, most words rare), which gives a 100k corpus tens of
thousands of distinct words; the benchmark reports how many the index holds.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from quotecore.service import QuoteService  # noqa: E402
from quotecore.text import to_traditional  # noqa: E402

PASSAGES_PER_DOCUMENT = 100
#: Part of a corpus directory's name: a corpus made by an older generator is never reused.
VERSION = "v2"
SPEAKERS = ["奥特曼", "莱特卡普"]
INTERVIEWER = "斯特宾斯"
#: The share of sentences that get a clause of dictionary words, and how many words it holds.
MIXED = 0.6
CLAUSE_WORDS = (2, 6)
#: Dictionary words used (the most frequent ones; the tail of jieba's list is mostly rare names).
VOCABULARY = 60_000
_PUNCTUATION = "。！？!?；;"


class Vocabulary:
    """Words of jieba's dictionary drawn with their dictionary frequencies (Zipf-like)."""

    def __init__(self, size: int = VOCABULARY) -> None:
        import jieba

        rows = []
        with (Path(jieba.__file__).parent / "dict.txt").open(encoding="utf-8") as lines:
            for line in lines:
                word, freq, *_ = line.split()
                # Chinese words only: Latin tokens and digits would collide with the seeds' names.
                if len(word) > 1 and all("\u4e00" <= ch <= "\u9fff" for ch in word):
                    rows.append((int(freq), word))
        rows.sort(reverse=True)
        self.words = [w for _, w in rows[:size]]
        self._cumulative = list(itertools.accumulate(f for f, _ in rows[:size]))

    def draw(self, rng: random.Random, count: int) -> list[str]:
        """`count` words, each as likely as its frequency in the dictionary's source text."""
        top = self._cumulative[-1]
        return [self.words[bisect.bisect_right(self._cumulative, rng.random() * top)] for _ in range(count)]

    def mix(self, rng: random.Random, sentence: str) -> str:
        """The sentence, most of the time with a clause of dictionary words before its final mark."""
        if rng.random() >= MIXED:
            return sentence
        clause = "".join(self.draw(rng, rng.randint(*CLAUSE_WORDS)))
        body = sentence.rstrip(_PUNCTUATION)
        return f"{body}，{clause}{sentence[len(body) :]}"


def seed_sentences(cache_dir: Path | None = None) -> dict[str, list[str]]:
    """The bundled corpus's sentences, by the kind of passage they come from."""
    service = QuoteService(ROOT / "seeds", ROOT / "config", cache_dir)
    service.load()
    by_kind: dict[str, list[str]] = {"answer": [], "question": [], "reported": [], "narration": []}
    for passage in service.snapshot.passages:
        for start, end in passage.sentences or [(0, len(passage.text))]:
            sentence = passage.text[start:end].strip()
            if len(sentence) >= 8 and not sentence.endswith((":", "：")) and passage.kind in by_kind:
                by_kind[passage.kind].append(sentence)  # a lead-in only announces: never recombined
    by_kind["topics"] = list(service.snapshot.topics) or ["访谈"]
    return by_kind


def document(
    rng: random.Random, number: int, parts: dict[str, list[str]], size: int, vocabulary: Vocabulary | None = None
) -> str:
    """One article of about `size` passages."""

    def some(kind: str, low: int, high: int) -> str:
        sentences = (rng.choice(parts[kind]) for _ in range(rng.randint(low, high)))
        return "".join(vocabulary.mix(rng, s) if vocabulary else s for s in sentences)

    lines = ["字号:TTT", "", f"访谈第{number}篇:{rng.choice(parts['topics'])}", "", some("narration", 2, 4), ""]
    written = 1
    section = 0
    while written < size:
        if written % 12 == 1:
            section += 1
            lines += [f"{section:02d}{rng.choice(parts['topics'])}", ""]
        roll = rng.random()
        speaker = rng.choice(SPEAKERS)
        if roll < 0.2:
            lines.append(f"{INTERVIEWER}:{some('question', 1, 2)}")
        elif roll < 0.55:
            lines.append(f"{speaker}:{some('answer', 2, 5)}")
            if rng.random() < 0.3 and written + 1 < size:
                lines += ["", some("answer", 1, 3)]  # a continuation paragraph of the same speaker
                written += 1
        elif roll < 0.8:
            lines.append(f"{speaker}表示,{some('reported', 1, 3)}")
        else:
            lines.append(some("narration", 1, 3))
        lines.append("")
        if rng.random() < 0.05:
            lines += ["△图为访谈现场", ""]
        written += 1
    lines += ["还没有人评论", "©2023 example.net,all rights reserved"]
    text = "\n".join(lines) + "\n"
    return to_traditional(text) if number % 5 == 4 else text


def generate(out: Path, passages: int, seed: int, cache_dir: Path | None = None) -> Path:
    """Write a corpus of about `passages` passages into `out` (skipped when already there)."""
    marker = out / ".complete"
    if marker.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    parts = seed_sentences(cache_dir)
    vocabulary = Vocabulary()
    rng = random.Random(seed)
    documents = max(1, passages // PASSAGES_PER_DOCUMENT)
    sources = ["# generated by bench/generate.py"]
    for number in range(documents):
        size = min(PASSAGES_PER_DOCUMENT, passages - number * PASSAGES_PER_DOCUMENT) or PASSAGES_PER_DOCUMENT
        name = f"{number:05d}.txt"
        (out / name).write_text(document(rng, number, parts, size, vocabulary), encoding="utf-8")
        script = "traditional" if number % 5 == 4 else "simplified"
        sources += [
            "[[document]]",
            f'file = "{name}"',
            f'id = "synthetic-{number:05d}"',
            f'title = "访谈第{number}篇"',
            f'script = "{script}"',
            'interviewees = ["altman", "lightcap"]',
            'interviewers = ["stebbings"]',
            "",
        ]
    (out / "sources.toml").write_text("\n".join(sources), encoding="utf-8")
    marker.write_text(f"{passages} {seed}\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(generate(args.out, args.passages, args.seed))


if __name__ == "__main__":
    main()
