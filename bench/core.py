"""Speed of the bundled corpus: cold CLI, index build, query latency, peak memory.

Run: python bench/core.py [--runs 7] [--baseline DIR] [--write-readme]

Machines are noisy, so every figure is a median, and each comes with a baseline measured in the
same run: the cold CLI against a bare `python -c pass` and against importing jieba and loading its
dictionary (what a cold search paid before the compact dictionary, issue 15), and our query path
against naive rank-bm25 (`BM25Okapi.get_scores` over every passage with the same tokens).

Cold runs are fresh interpreters, taken in turns (pass, jieba, ours, the baseline tree) so that a
burst of load on the machine hits all of them alike; each reports its own peak resident memory
(VmHWM) as it exits. `--baseline DIR` also times another source tree with this same interpreter,
for before/after figures in one run, e.g. the main branch:
    mkdir /tmp/main-src && git archive main | tar -x -C /tmp/main-src
    python bench/core.py --baseline /tmp/main-src
"""

from __future__ import annotations

import argparse
import os
import shutil
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

#: Appended to every cold command: the process's own peak RSS in KiB, on stderr, as it ends.
_PEAK = """
import atexit, sys
def _peak():
    try:
        with open("/proc/self/status") as status:
            kib = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
    except OSError:
        import resource
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sys.stderr.write(f"\\nPEAK-KIB {kib}\\n")
atexit.register(_peak)
"""
#: The console script's own body (`quotebot` = bots.cli:main), argv as a user would type it.
_SEARCH = "import sys; sys.argv = ['quotebot', 'search', '计算资源']\nfrom bots.cli import main\nsys.exit(main())\n"


def _jieba_load(cache: Path) -> str:
    return (
        "import jieba\n"
        f"t = jieba.Tokenizer(); t.tmp_dir = {str(cache)!r}; t.initialize()\n"  # its cache file, warm
    )


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


def cold(commands: dict[str, tuple[str, dict[str, str]]], runs: int) -> dict[str, tuple[float, float]]:
    """Median wall time (s) and median peak RSS (MiB) of each Python snippet, in fresh processes.

    One untimed run each first (caches warm, as a user's second command finds them), then the
    commands in turns.
    """
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(runs + 1):
        for name, (code, env) in commands.items():
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", _PEAK + code], capture_output=True, text=True, env={**os.environ, **env}
            )
            elapsed = time.perf_counter() - started
            if done.returncode != 0:
                raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
            if round_:
                times[name].append(elapsed)
                peaks[name].append(int(done.stderr.rsplit("PEAK-KIB", 1)[1]) / 1024)
    return {name: (statistics.median(times[name]), statistics.median(peaks[name])) for name in commands}


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
    parser.add_argument("--baseline", metavar="DIR", help="also time the cold search of this source tree (before)")
    parser.add_argument("--write-readme", action="store_true", help="replace the table in README.md")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    cache = Path(tempfile.mkdtemp(prefix="quotebot-bench-"))
    ours_env = {"QUOTEBOT_CORPUS_CACHE_DIR": str(cache / "cli"), "PYTHONPATH": ""}
    commands = {
        "pass": ("pass", {}),
        "jieba": (_jieba_load(cache / "jieba"), {}),
        "ours": (_SEARCH, ours_env),
    }
    if args.baseline:
        tree = Path(args.baseline).resolve()
        commands["baseline"] = (
            _SEARCH,
            {"QUOTEBOT_CORPUS_CACHE_DIR": str(cache / "baseline"), "PYTHONPATH": f"{tree / 'src'}:{tree}"},
        )
    # Bytecode as an installed package has it (pip compiles at install), for every tree timed:
    # without it each cold run would compile our modules from source (PYTHONDONTWRITEBYTECODE).
    trees = [ROOT] + ([Path(args.baseline)] if args.baseline else [])
    for tree in trees:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "src"), str(tree / "bots")], check=True)
    measured = cold(commands, args.runs)
    (base, _), (jieba_s, jieba_mib), (cli, cli_mib) = measured["pass"], measured["jieba"], measured["ours"]
    rows.append(
        (
            "cold `quotebot search 计算资源`, caches warm (wall)",
            f"{cli * 1000:.0f} ms",
            f"{cli / jieba_s:.2f}× importing jieba + loading its dictionary ({jieba_s * 1000:.0f} ms);"
            f" {cli / base:.1f}× `python -c pass` ({base * 1000:.0f} ms)",
        )
    )
    rows.append(
        (
            "peak RSS (VmHWM) of that search",
            f"{cli_mib:.0f} MiB",
            f"jieba import + dictionary alone: {jieba_mib:.0f} MiB",
        )
    )
    if args.baseline:
        old, old_mib = measured["baseline"]
        rows.append(
            (
                f"the same search from `{args.baseline}` (before)",
                f"{old * 1000:.0f} ms, {old_mib:.0f} MiB",
                f"now {cli / old:.2f}× its time, {cli_mib / old_mib:.2f}× its peak;"
                f" it was {old / jieba_s:.2f}× jieba's load",
            )
        )
    service = QuoteService(ROOT / "seeds", ROOT / "config", cache)
    service.load()
    builds = timed(lambda: QuoteService(ROOT / "seeds", ROOT / "config", cache).load(), args.runs)
    rows.append(
        (
            "corpus load in a new QuoteService (warm caches; segmenter made on first need)",
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
    for query in QUERIES:  # untimed: a character's dictionary slice is read on its first query only
        service.search(query)
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
    shutil.rmtree(cache, ignore_errors=True)  # two corpora's caches and dictionary files, ~70 MiB
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
