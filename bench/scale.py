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

from generate import generate  # noqa: E402

from quotecore.service import QuoteService  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
QUERIES = [
    "计算资源", "GPT-5", "scaling law", "Sora", "能源", "核", "AGI", "基础设施", "研究", "管理公司",
    "垂直整合", "图灵测试", "深度学习", "投资", "显卡", "OpenAI", "世界模型", "用户需求", "产品", "芯片",
    "融资", "科学家", "创业", "人工智能", "研究文化", "计算能力", "商业模式", "视频模型", "社会", "未来",
]
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
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def rss_probe(seeds: Path, cache: Path) -> dict[str, float]:
    """Start-up from the token cache in a fresh process: seconds to ready, peak RSS."""
    code = (
        f"import resource, sys, time, json; sys.path.insert(0, {str(ROOT / 'src')!r})\n"
        "from quotecore.service import QuoteService\n"
        f"t = time.perf_counter(); s = QuoteService({str(seeds)!r}, {str(ROOT / 'config')!r}, {str(cache)!r})\n"
        "s.load(); s.search('能源')\n"
        "print(json.dumps({'ready': time.perf_counter() - t,"
        " 'rss_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(size: int, seed: int, reps: int) -> dict[str, float]:
    import bm25s

    corpus = generate(CACHE / f"corpus-{size}-s{seed}", size, seed, CACHE / "seeds-cache")
    work = Path(tempfile.mkdtemp(prefix=f"quotebot-scale-{size}-"))
    seeds = work / "seeds"
    shutil.copytree(corpus, seeds)
    cache = work / "cache"
    text_mib = sum(p.stat().st_size for p in seeds.glob("*.txt")) / 2**20
    row: dict[str, float] = {"size": size, "text_mib": text_mib}
    print(f"[{size}] cold build", flush=True)
    service = QuoteService(seeds, ROOT / "config", cache)
    row["build_s"] = timed(service.load)
    snap = service.snapshot
    row["passages"] = len(snap.passages)
    print(f"[{size}] start-up from cache, peak RSS", flush=True)
    probe = rss_probe(seeds, cache)
    row["startup_s"], row["rss_mib"] = probe["ready"], probe["rss_mib"]
    print(f"[{size}] reload after one document changes", flush=True)
    changed = sorted(seeds.glob("*.txt"))[len(list(seeds.glob("*.txt"))) // 2]
    with changed.open("a", encoding="utf-8") as extra:
        extra.write("\n奥特曼:我们正在扩大数据中心的规模,以满足全世界的计算需求。\n")
    row["reload_s"] = timed(service.reload)
    snap = service.snapshot
    row["reload_segmented"] = service.reload().tokenized  # an unchanged reload: nothing to segment
    tokens = [snap.tokenizer.terms(q) for q in QUERIES]
    corpus_tokens = [t.split("\x1f") if t else [] for t, _ in (service._terms_cache[k] for k in _keys(service))]
    print(f"[{size}] baselines: naive rank-bm25 and bm25s on the same tokens", flush=True)
    started = time.perf_counter()
    bm25 = BM25Okapi(corpus_tokens)
    row["naive_index_s"] = time.perf_counter() - started
    print(f"[{size}] queries", flush=True)
    ours, naive, full, theirs = [], [], [], []
    mismatches = 0
    for _ in range(reps):
        for terms in tokens:
            started = time.perf_counter()
            docs, scores = snap.words.score(terms)
            mine = top10(docs, scores)
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            all_scores = bm25.get_scores(terms)
            reference = top10(np.arange(len(all_scores)), all_scores)
            naive.append(time.perf_counter() - started)
            mismatches += mine != reference
        for query in QUERIES:
            full.append(timed(lambda q=query: service.search(q)))
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
        ours_ms=median_ms(ours), ours_p99_ms=p99_ms(ours), naive_ms=median_ms(naive), naive_p99_ms=p99_ms(naive),
        bm25s_ms=median_ms(theirs), bm25s_p99_ms=p99_ms(theirs), search_ms=median_ms(full),
        search_p99_ms=p99_ms(full), mismatches=mismatches / reps,
    )
    shutil.rmtree(work, ignore_errors=True)
    return row


def _keys(service: QuoteService) -> list[bytes]:
    import hashlib

    return [hashlib.blake2b(p.text.encode(), digest_size=16).digest() for p in service.snapshot.passages]


def write_report(rows: list[dict[str, float]], out: Path) -> None:
    lines = [
        "# Benchmarks",
        "",
        "Produced by `python bench/scale.py` (synthetic corpora from `bench/generate.py`, seed 1, built",
        "from the seeds' own sentences). Ratios compare methods within one run on the same jieba tokens;",
        f"query figures are over {len(QUERIES)} fixed queries. Machine: 2 cores, shared.",
        "",
        "| passages | text | build (cold) | start-up from cache | reload, 1 doc changed | peak RSS |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {int(r['passages']):,} | {r['text_mib']:.1f} MiB | {r['build_s']:.1f} s | {r['startup_s']:.1f} s "
            f"| {r['reload_s']:.1f} s | {r['rss_mib']:.0f} MiB ({r['rss_mib'] / max(r['text_mib'], 0.01):.0f}× text) |"
        )
    lines += [
        "",
        "| passages | ours: candidates + BM25 (median / p99) | naive rank-bm25 | bm25s | naive ÷ ours | ours ÷ bm25s "
        "| full `search()` median / p99 | top-10 ≠ naive |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {int(r['passages']):,} | {r['ours_ms']:.3f} / {r['ours_p99_ms']:.3f} ms "
            f"| {r['naive_ms']:.2f} / {r['naive_p99_ms']:.2f} ms | {r['bm25s_ms']:.3f} / {r['bm25s_p99_ms']:.3f} ms "
            f"| **{r['naive_ms'] / r['ours_ms']:.0f}×** | **{r['ours_ms'] / r['bm25s_ms']:.2f}×** "
            f"| {r['search_ms']:.2f} / {r['search_p99_ms']:.2f} ms | {int(r['mismatches'])} |"
        )
    lines += [
        "",
        "- *build (cold)*: a fresh process's first load with an empty token cache (jieba segments every",
        "  passage); *start-up from cache*: a new process until its first answer, with the disk token cache;",
        "  *reload*: `/quote-reload` after one document gained a paragraph (only that document is segmented).",
        "- *ours*: the inverted index picks the passages that share a term, and only those are scored",
        "  with rank-bm25's BM25Okapi formula (identical scores, checked in the last column: 0 means every",
        "  query's top 10 equals naive rank-bm25's, scores included). *full search()* adds synonym",
        "  expansion, the n-gram fallback, ranking by kind and excerpt building.",
        "- bm25s is indexed with the same tokens (method robertson); its index build is not included.",
        "",
        "![Query latency against corpus size](benchmarks.png)",
        "",
    ]
    out.write_text("\n".join(lines), encoding="utf-8")


def plot(rows: list[dict[str, float]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["passages"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("naive_ms", "naive rank-bm25"), ("ours_ms", "quotebot (inverted index + BM25Okapi)"),
                       ("bm25s_ms", "bm25s"), ("search_ms", "quotebot full search()")):
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
