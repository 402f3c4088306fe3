"""The corpus at 1k, 10k and 100k passages: build, reload, start-up, query latency, memory.

Run: python bench/scale.py [--sizes 1000,10000,100000] [--seed 1] [--reps 5]
Writes docs/benchmarks.md and docs/benchmarks.png (latency against corpus size, log-log).

Baselines run in the same process on the same jieba tokens: naive rank-bm25 (`get_scores` over
every passage, then the top 10) and bm25s (sparse precomputed scores). Ratios are the headline:
absolute times move with the machine, ratios within one run do not. The run also checks that our
top 10 equals naive rank-bm25's for every query, scores included.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from generate import VERSION, generate  # noqa: E402
from memory import peak_mib, reset_peak  # noqa: E402

from quotecore.index import Index  # noqa: E402
from quotecore.service import QuoteService  # noqa: E402
from quotecore.tokenize import INSIDE, SEP  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
#: Topic words (one to four words, some with synonyms or English forms).
TOPICS = [
    "计算资源",
    "GPT-5",
    "scaling law",
    "Sora",
    "能源",
    "AGI",
    "基础设施",
    "研究",
    "管理公司",
    "垂直整合",
    "图灵测试",
    "深度学习",
    "投资",
    "显卡",
    "OpenAI",
    "世界模型",
    "用户需求",
    "产品",
    "芯片",
    "融资",
    "科学家",
    "创业",
    "人工智能",
    "研究文化",
    "计算能力",
    "商业模式",
    "视频模型",
    "社会",
    "未来",
]
#: The hard cases of issue 15: stopwords, single characters (the commonest postings), speaker names
#: (a name alone lists that person's passages: tens of thousands at 100k), a name with a topic,
#: and a 30-word query.
STOPWORDS = ["的", "了", "我们", "是"]
SINGLE_CHARACTERS = ["核", "我", "会", "说"]
SPEAKERS = ["奥特曼", "Altman", "莱特卡普", "Sam", "斯特宾斯", "奥特曼怎么看开源", "莱特卡普 融资"]
LONG = (
    "我们 正在 扩大 数据中心 的 规模 以 满足 全世界 的 计算 需求 人工智能 未来 会 怎样 改变 社会 和 经济 "
    "开源 模型 与 闭源 模型 之间 的 竞争 研究 文化"
)
QUERIES = TOPICS + STOPWORDS + SINGLE_CHARACTERS + SPEAKERS + [LONG]
#: Figures of the same benchmark before issue 15 (commit d3546ef's docs/benchmarks.md: the older
#: generator without the dictionary vocabulary, 30 topic queries), kept for comparison.
BEFORE = {
    1_000: {"search_ms": 0.13, "search_p99_ms": 0.43, "bm25s_ms": 0.078, "ours_ms": 0.024},
    10_000: {"search_ms": 0.42, "search_p99_ms": 1.93, "bm25s_ms": 0.255, "ours_ms": 0.054},
    100_000: {"search_ms": 4.96, "search_p99_ms": 25.29, "bm25s_ms": 2.589, "ours_ms": 0.249},
}
TOP = 10


def top10(docs: np.ndarray, scores: np.ndarray) -> list[tuple[int, float]]:
    """Best ten as (passage index, score), ties broken by index so two methods compare exactly."""
    if scores.size > TOP:
        kth = np.partition(scores, scores.size - TOP)[scores.size - TOP]
        keep = np.flatnonzero(scores >= kth)  # the ten best and anything tied with the tenth
        docs, scores = docs[keep], scores[keep]
    order = np.lexsort((docs, -scores))[:TOP]
    return [(int(docs[i]), round(float(scores[i]), 9)) for i in order if scores[i] > 0]


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def p99_ms(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def timed(fn: object) -> float:
    """CPU seconds of one call: on a shared machine wall time measures the neighbours' load too."""
    started = time.process_time()
    fn()  # type: ignore[operator]
    return time.process_time() - started


PROBE = """
import json, sys, time
sys.path[:0] = [{src!r}, {bench!r}]
from memory import peak_mib
from quotecore.service import QuoteService
started = time.perf_counter()
service = QuoteService({seeds!r}, {config!r}, {cache!r})
loading = time.perf_counter()
service.load()
loaded = time.perf_counter()
service.search("能源")
print(json.dumps({{"load": loaded - loading, "ready": time.perf_counter() - started, "peak": peak_mib()}}))
"""


def probe(seeds: Path, cache: Path) -> dict[str, float]:
    """A new process loads the corpus and answers once: load and ready seconds, its peak RSS."""
    code = PROBE.format(
        src=str(ROOT / "src"),
        bench=str(ROOT / "bench"),
        seeds=str(seeds),
        config=str(ROOT / "config"),
        cache=str(cache),
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(size: int, seed: int, reps: int) -> dict[str, float]:
    import bm25s

    corpus = generate(CACHE / f"corpus-{size}-s{seed}-{VERSION}", size, seed, CACHE / "seeds-cache")
    work = Path(tempfile.mkdtemp(prefix=f"quotebot-scale-{size}-"))
    seeds = work / "seeds"
    shutil.copytree(corpus, seeds)
    cache = work / "cache"
    text_mib = sum(p.stat().st_size for p in seeds.glob("*.txt")) / 2**20
    row: dict[str, float] = {"size": size, "text_mib": text_mib}
    print(f"[{size}] cold build in a new process", flush=True)
    cold = probe(seeds, cache)
    row["build_s"], row["build_rss_mib"] = cold["load"], cold["peak"]
    print(f"[{size}] start-up from the caches in a new process", flush=True)
    warm = probe(seeds, cache)
    row["startup_s"], row["rss_mib"] = warm["ready"], warm["peak"]
    service = QuoteService(seeds, ROOT / "config", cache)
    service.load()
    snap = service.snapshot
    row["passages"] = len(snap.passages)
    row["vocabulary"] = sum(1 for t in snap.words.terms() if not t.startswith(INSIDE))
    print(f"[{size}] reload after one document changes", flush=True)
    changed = sorted(seeds.glob("*.txt"))[len(list(seeds.glob("*.txt"))) // 2]
    with changed.open("a", encoding="utf-8") as extra:
        extra.write("\n奥特曼:我们正在扩大数据中心的规模,以满足全世界的计算需求。\n")
    measured = reset_peak()
    started = time.perf_counter()
    service.reload()
    row["reload_s"] = time.perf_counter() - started
    row["reload_rss_mib"] = peak_mib() if measured else float("nan")
    snap = service.snapshot
    row["reload_segmented"] = service.reload().tokenized  # an unchanged reload: nothing to segment
    tokens = [snap.tokenizer.terms(q) for q in QUERIES]
    corpus_tokens = bag_of_words(snap.words)
    print(f"[{size}] baselines: naive rank-bm25 and bm25s on the same tokens", flush=True)
    started = time.perf_counter()
    bm25 = BM25Okapi(corpus_tokens)
    row["naive_index_s"] = time.perf_counter() - started
    print(f"[{size}] queries", flush=True)
    ours, naive, full, theirs = [], [], [], []
    per_query: dict[str, list[float]] = {q: [] for q in QUERIES}
    mismatches = 0
    service.search("预热")  # jieba's segmenter made (once per process, whatever the query), not measured
    first = []  # once, measured apart: a query's first asking reads and merges what it has not before
    for query in QUERIES:  # its reading is cached, and its words' merges kept, as in a running bot
        first.append(timed(lambda q=query: service.search(q)))
    for _ in range(reps):
        for terms in tokens:
            started = time.process_time()
            docs, scores = snap.words.score(terms)
            mine = top10(docs, scores)
            ours.append(time.process_time() - started)
            started = time.process_time()
            all_scores = bm25.get_scores(terms)
            reference = top10(np.arange(len(all_scores)), all_scores)
            naive.append(time.process_time() - started)
            mismatches += mine != reference
        for query in QUERIES:
            full.append(timed(lambda q=query: service.search(q)))
            per_query[query].append(full[-1])
    from bm25s.tokenization import Tokenized

    vocab: dict[str, int] = {"": 0}
    corpus_ids = [[vocab.setdefault(t, len(vocab)) for t in terms] for terms in corpus_tokens]
    del bm25
    retriever = bm25s.BM25(method="robertson")
    started = time.perf_counter()
    retriever.index(Tokenized(ids=corpus_ids, vocab=vocab), show_progress=False)
    row["bm25s_index_s"] = time.perf_counter() - started
    queries = [Tokenized(ids=[[vocab[t] for t in terms if t in vocab] or [0]], vocab=vocab) for terms in tokens]
    for _ in range(reps):
        for query in queries:
            theirs.append(timed(lambda q=query: retriever.retrieve(q, k=TOP, show_progress=False)))
    row.update(
        ours_ms=median_ms(ours),
        ours_p99_ms=p99_ms(ours),
        naive_ms=median_ms(naive),
        naive_p99_ms=p99_ms(naive),
        bm25s_ms=median_ms(theirs),
        bm25s_p99_ms=p99_ms(theirs),
        search_ms=median_ms(full),
        search_p99_ms=p99_ms(full),
        first_ms=median_ms(first),
        first_max_ms=max(first) * 1000,
        mismatches=mismatches / reps,
    )
    worst = max(QUERIES, key=lambda q: statistics.median(per_query[q]))
    row["worst_query"] = worst  # type: ignore[assignment]
    row["worst_ms"] = median_ms(per_query[worst])
    shutil.rmtree(work, ignore_errors=True)
    return row


def bag_of_words(index: Index) -> list[list[str]]:
    """Each passage's terms as the word index counted them (order does not matter to BM25).

    Read from the index's own arrays rather than a cache file, so the baselines see exactly the
    tokens our index scores, however the snapshot stores them.
    """
    arrays = index.to_arrays()
    raw = arrays["terms"].tobytes().decode()
    terms = raw.split(SEP) if raw else []
    documents: list[list[str]] = [[] for _ in range(index.size)]
    for row, term in enumerate(terms):
        a, b = int(arrays["starts"][row]), int(arrays["ends"][row])
        for doc, tf in zip(arrays["docs"][a:b].tolist(), arrays["tfs"][a:b].tolist(), strict=True):
            documents[doc].extend([term] * tf)
    assert [len(d) for d in documents] == [int(n) for n in arrays["doc_len"]], "index arrays changed shape"
    return documents


def write_report(rows: list[dict[str, float]], out: Path) -> None:
    lines = [
        "# Benchmarks",
        "",
        "Produced by `python bench/scale.py` (synthetic corpora from `bench/generate.py`, seed 1, built",
        "from the seeds' own sentences). Ratios compare methods within one run on the same jieba tokens;",
        f"query figures are over {len(QUERIES)} fixed queries. Machine: 2 cores, shared.",
        "",
        "| passages | text | build (cold) | start-up from the caches | reload, 1 doc changed |",
        "|---:|---:|---:|---:|---:|",
    ]

    def mem(mib: float, text: float) -> str:
        return "n/a" if mib != mib else f"{mib:.0f} MiB ({mib / max(text, 0.01):.0f}× text)"

    for r in rows:
        lines.append(
            f"| {int(r['passages']):,} | {r['text_mib']:.1f} MiB "
            f"| {r['build_s']:.1f} s, peak {mem(r['build_rss_mib'], r['text_mib'])} "
            f"| {r['startup_s']:.1f} s, peak {mem(r['rss_mib'], r['text_mib'])} "
            f"| {r['reload_s']:.1f} s, peak {mem(r['reload_rss_mib'], r['text_mib'])} |"
        )
    lines += [
        "",
        "| passages | vocabulary | ours: candidates + BM25 (median / p99) | naive rank-bm25 | bm25s "
        "| naive ÷ ours | ours ÷ bm25s | BM25 top-10 ≠ naive |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {int(r['passages']):,} | {int(r['vocabulary']):,} words "
            f"| {r['ours_ms']:.3f} / {r['ours_p99_ms']:.3f} ms "
            f"| {r['naive_ms']:.2f} / {r['naive_p99_ms']:.2f} ms | {r['bm25s_ms']:.3f} / {r['bm25s_p99_ms']:.3f} ms "
            f"| **{r['naive_ms'] / r['ours_ms']:.0f}×** | **{r['ours_ms'] / r['bm25s_ms']:.2f}×** "
            f"| {int(r['mismatches'])} |"
        )
    lines += [
        "",
        f"The whole `search()` a user gets, over {len(QUERIES)} queries: {len(TOPICS)} topics, the stopwords "
        f"{'、'.join(STOPWORDS)}, the single characters {'、'.join(SINGLE_CHARACTERS)}, the speaker queries "
        f"{'、'.join(SPEAKERS)}, and one query of 30 words (all listed in `bench/scale.py`). *Before*: the",
        "same table before issue 15 (commit d3546ef: older corpus generator without the dictionary vocabulary,",
        "the 30 topic queries only).",
        "",
        "| passages | before: median / p99 | now: median / p99 | now: p99 ÷ median | now: median ÷ bm25s "
        "| slowest query (median) |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        before = min(BEFORE.items(), key=lambda kv: abs(kv[0] - r["passages"]))[1]
        lines.append(
            f"| {int(r['passages']):,} | {before['search_ms']:.2f} / {before['search_p99_ms']:.2f} ms "
            f"| {r['search_ms']:.2f} / {r['search_p99_ms']:.2f} ms "
            f"| **{r['search_p99_ms'] / r['search_ms']:.2f}×** | **{r['search_ms'] / r['bm25s_ms']:.2f}×** "
            f"| {_short(str(r['worst_query']))}: {r['worst_ms']:.2f} ms |"
        )
    lines += [
        "",
        "- *build (cold)*: a new process's first load with empty caches (every file cleaned, jieba segments",
        "  every passage); *start-up from the caches*: a new process until its first answer, with the caches",
        "  that build left (cleaned documents, tokens, the saved index); *reload*: `/quote-reload` in that",
        "  process after one document gained a paragraph (only that document is cleaned and segmented).",
        "- *peak*: the process's peak resident memory (Linux VmHWM) during that step; for the reload it is",
        "  the whole process, old snapshot included, since the old corpus keeps serving while the new one",
        "  is built. *text*: the size of the corpus files.",
        "- *ours*: the inverted index picks the passages that share a term, and only those are scored",
        "  with BM25Okapi's formula (`quotecore/bm25.py`). The last column checks that BM25 part against",
        "  naive rank-bm25 (0: every query's top 10 by BM25 equals rank-bm25's, scores included); the",
        "  final order of *full search()* multiplies in the priors (kind, speaker intent, doubt), adds what a",
        "  question hands its answer, reads the query (fillers, alternatives) and builds the excerpts.",
        "- bm25s is indexed with the same tokens (method robertson); its index build is not included.",
        "- *vocabulary*: distinct words in the word index. The generator mixes words of jieba's dictionary,",
        "  drawn with its frequencies, into the seeds' sentences, so postings thin out as in real text.",
        "- Query times are CPU time of the process (`time.process_time`): the machine is shared, and wall",
        "  time would count the neighbours' work; build, start-up and reload are wall time.",
        "- *full search()*: every query once first (its reading is cached, and each word's merged",
        "  alternatives kept, as in a running bot that has seen the words before), then each query in turn,",
        "  `--reps` times; p99 is over all those timings. That first asking, measured apart (the query read",
        "  by jieba, its words' postings weighted and their alternatives merged for the first time):",
        "",
        "| passages | first asking: median | first asking: slowest |",
        "|---:|---:|---:|",
        *[f"| {int(r['passages']):,} | {r['first_ms']:.2f} ms | {r['first_max_ms']:.2f} ms |" for r in rows],
        "",
        "![Query latency against corpus size](benchmarks.png)",
        "",
    ]
    big = max(rows, key=lambda r: r["passages"])
    small = min(rows, key=lambda r: r["passages"])

    def above(key: str) -> float:
        """Memory above the fixed cost (the smallest corpus's start-up), in multiples of the text."""
        return (big[key] - small["rss_mib"]) / big["text_mib"]

    lines += [
        f"## Against the targets (largest corpus: {int(big['passages']):,} passages)",
        "",
        f"- Query: {big['naive_ms'] / big['ours_ms']:.0f}× faster than naive rank-bm25 (target ≥100×), "
        f"{int(big['mismatches'])} top-10 mismatches, {big['ours_ms'] / big['bm25s_ms']:.2f}× bm25s's time "
        "(target ≤2×).",
        f"- Full `search()`: median {big['search_ms']:.2f} ms, p99 {big['search_p99_ms']:.2f} ms: p99 "
        f"{big['search_p99_ms'] / big['search_ms']:.2f}× the median (target ≤2×), median "
        f"{big['search_ms'] / big['bm25s_ms']:.2f}× bm25s's (target ≤2×).",
        f"- Reload after one document changed: {big['reload_s']:.1f} s (a full jieba pass: {big['build_s']:.0f} s).",
        f"- Start-up from the caches: {big['startup_s']:.1f} s (cleaned documents, token cache and the saved",
        "  index of an unchanged corpus).",
        f"- Peak RSS at {int(big['passages']):,} passages ({big['text_mib']:.1f} MiB of text): start-up "
        f"{big['rss_mib']:.0f} MiB, reload {big['reload_rss_mib']:.0f} MiB, cold build "
        f"{big['build_rss_mib']:.0f} MiB. About {small['rss_mib']:.0f} MiB of it does not grow with the",
        f"  corpus (Python, jieba's dictionary, the libraries: the {int(small['passages']):,}-passage start-up).",
        f"  Above that, a running bot costs {above('rss_mib'):.1f}× the text. A reload peaks at "
        f"{above('reload_rss_mib'):.1f}× (the old snapshot",
        "  keeps serving while the new one is built: the build itself adds "
        f"{(big['reload_rss_mib'] - big['rss_mib']) / big['text_mib']:.1f}× the text, for every passage's tokens",
        "  and the posting arrays being filled), a cold build "
        f"{above('build_rss_mib'):.1f}× (jieba's working memory besides).",
        "",
    ]
    kept = ""  # bench/startup.py's section, written by that script
    if out.exists():
        previous = out.read_text(encoding="utf-8")
        begin, end = "<!-- bench/startup.py -->", "<!-- /bench/startup.py -->"
        if begin in previous and end in previous:
            kept = previous[previous.index(begin) : previous.index(end) + len(end)] + "\n"
    out.write_text("\n".join(lines) + ("\n" + kept if kept else ""), encoding="utf-8")


def _short(query: str) -> str:
    words = query.split()
    return f"the {len(words)}-word query" if len(words) > 5 else f"`{query}`"


def plot(rows: list[dict[str, float]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["passages"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (
        ("naive_ms", "naive rank-bm25"),
        ("ours_ms", "quotebot (inverted index + BM25Okapi)"),
        ("bm25s_ms", "bm25s"),
        ("search_ms", "quotebot full search()"),
    ):
        ax.plot(sizes, [r[key] for r in rows], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages")
    ax.set_ylabel("median query latency (ms)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    rows = [measure(int(size), args.seed, args.reps) for size in args.sizes.split(",")]
    for row in rows:
        print(json.dumps(row))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_report(rows, args.out)
    plot(rows, args.out.with_suffix(".png"))
    print(args.out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
