"""Full `search()` over bench/scale.py's query set on one corpus: median, p99, the slowest queries.

Run: python bench/speed_search.py CORPUS_DIR CACHE_DIR [--src OTHER_TREE/src] [--reps 5]

With `--src` the search comes from another checkout (say the commit before a change), so a before
and an after are measured on the same corpus, tokens and machine. Times are CPU time, as in
scale.py. The corpus is any directory `bench/generate.py` wrote (scale.py keeps its corpora in
bench/.cache).
"""

from __future__ import annotations

import argparse
import ast
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def scale_queries() -> list[str]:
    """QUERIES as bench/scale.py defines them, read without importing scale.py (it imports our src)."""
    names = {"TOPICS", "STOPWORDS", "SINGLE_CHARACTERS", "SPEAKERS", "LONG", "QUERIES"}
    space: dict[str, object] = {}
    for node in ast.parse((ROOT / "bench" / "scale.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id in names:
            exec(compile(ast.Module([node], []), "scale.py", "exec"), space)  # our own constants
    return list(space["QUERIES"])  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("cache", type=Path)
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(args.src))
    from quotecore.service import QuoteService

    service = QuoteService(args.corpus, ROOT / "config", args.cache)
    service.load()
    queries = scale_queries()
    for query in queries:  # once unmeasured, as in scale.py
        service.search(query)
    times: dict[str, list[float]] = {q: [] for q in queries}
    for _ in range(args.reps):
        for query in queries:
            started = time.process_time()
            service.search(query)
            times[query].append(time.process_time() - started)
    every = sorted(t for ts in times.values() for t in ts)
    median = statistics.median(every) * 1000
    p99 = every[min(len(every) - 1, int(len(every) * 0.99))] * 1000
    print(f"{args.src}: median {median:.2f} ms, p99 {p99:.2f} ms, p99/median {p99 / median:.2f}")
    for query in sorted(queries, key=lambda q: -statistics.median(times[q]))[:5]:
        print(f"  {statistics.median(times[query]) * 1000:6.2f} ms  {query[:30]}")


if __name__ == "__main__":
    main()
