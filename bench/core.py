"""Speed of the bundled corpus: cold CLI, index build, query latency, peak memory.

Run: python bench/core.py [--runs 7] [--write-readme]

Machines are noisy, so every figure is a median, and each comes with a baseline measured in the
same run: the cold CLI against a bare `python -c pass`, the jieba dictionary load (what a cold
search cannot avoid), and our query path against naive rank-bm25 (`BM25Okapi.get_scores` over every
passage with the same tokens).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from rank_bm25 import BM25Okapi  # noqa: E402

from quotecore.service import QuoteService  # noqa: E402

QUERIES = [
    "计算资源",
    "計算資源",
    "GPT-5",
    "gpt-5",
    "scaling law",
    "Sora",
    "能源",
    "核",
    "美",
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
    "天气预报",
    "asdfghjkl",
    "奥特曼 计算",
    "世界模型",
    "用户需求",
    "产品",
    "芯片",
    "融资",
    "科学家",
    "创业",
    "人工智能",
]


def wall(cmd: list[str], runs: int) -> tuple[float, int]:
    """Median wall time of a command, and the largest peak RSS (KiB) of its runs."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return statistics.median(times), peak


def timed(fn: object, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - started)
    return out


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--write-readme", action="store_true", help="replace the table in README.md")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    cache = Path(tempfile.mkdtemp(prefix="quotebot-bench-"))
    quotebot = str(Path(sys.executable).with_name("quotebot"))
    env_cmd = [sys.executable, "-c", "pass"]
    subprocess.run([quotebot, "search", "计算资源"], check=True, capture_output=True)  # warm jieba's cache file
    base, _ = wall(env_cmd, args.runs)
    cli, peak = wall([quotebot, "search", "计算资源"], args.runs)
    jieba_cold, _ = wall(
        [
            sys.executable,
            "-c",
            f"import jieba; t = jieba.Tokenizer(); t.tmp_dir = {str(cache / 'jieba')!r}; t.initialize()",
        ],
        args.runs,
    )
    rows.append(
        (
            "cold `quotebot search 计算资源` (wall)",
            f"{cli * 1000:.0f} ms",
            f"{cli / base:.1f}× `python -c pass` ({base * 1000:.0f} ms)",
        )
    )
    rows.append(
        (
            "cold import + dictionary load of jieba alone (wall)",
            f"{jieba_cold * 1000:.0f} ms",
            f"{jieba_cold / cli:.0%} of the cold search",
        )
    )
    service = QuoteService(ROOT / "seeds", ROOT / "config", cache)
    service.load()
    builds = timed(lambda: QuoteService(ROOT / "seeds", ROOT / "config", cache).load(), args.runs)
    rows.append(
        (
            "corpus load in a new QuoteService (its jieba load included)",
            f"{statistics.median(builds) * 1000:.0f} ms",
            f"{len(service.snapshot.passages)} passages",
        )
    )
    reloads = timed(service.reload, args.runs)
    rows.append(
        (
            "reload with nothing changed (unchanged files and tokens are reused)",
            f"{statistics.median(reloads) * 1000:.0f} ms",
            "what /quote-reload costs",
        )
    )
    ours = []
    for _ in range(20):
        for query in QUERIES:
            started = time.perf_counter()
            service.search(query)
            ours.append(time.perf_counter() - started)
    snap = service.snapshot
    tokens = [snap.tokenizer.terms(q) for q in QUERIES]
    reference = BM25Okapi([snap.tokenizer.terms(p.text) for p in snap.passages])  # same tokens, every passage
    naive = []
    for _ in range(20):
        for terms in tokens:
            started = time.perf_counter()
            scores = reference.get_scores(terms)
            sorted(range(len(scores)), key=lambda i: -scores[i])[:5]
            naive.append(time.perf_counter() - started)
    med, naive_med = statistics.median(ours), statistics.median(naive)
    rows.append(
        (
            "query, full `search()` (median / p99)",
            f"{med * 1e6:.0f} µs / {p99(ours) * 1e6:.0f} µs",
            f"{med / naive_med:.2f}× naive rank-bm25 get_scores ({naive_med * 1e6:.0f} µs, scoring only)",
        )
    )
    rows.append(("peak RSS, cold CLI search", f"{peak / 1024:.0f} MiB", "max over the runs"))
    table = ["| what | median | baseline (same run) |", "|---|---|---|"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    text = "\n".join(table)
    print(text)
    if args.write_readme:
        readme = ROOT / "README.md"
        content = readme.read_text(encoding="utf-8")
        start, end = "<!-- bench:core -->", "<!-- /bench:core -->"
        head, rest = content.split(start, 1)
        _, tail = rest.split(end, 1)
        readme.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
