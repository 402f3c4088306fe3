"""Speed of reading articles: cleaning and attribution of seed files, before and after a change.

Run: python bench/ingest.py [CORPUS_DIR] [--baseline OTHER_TREE] [--files 400] [--runs 5]

What a cold build or a reload pays per file before any indexing: decoding, furniture rules,
pinyin and garbled runs, then who said what (`quotecore.ingest.load_document`). CPU time of
`--files` files of CORPUS_DIR (default: the 10k-passage corpus bench/scale.py generates in
bench/.cache), the median of `--runs`. With `--baseline` (a checkout's root, e.g.
`git worktree add /tmp/before main`) the same files go through that tree too, runs taken in turns,
each tree in its own interpreter (both are the package `quotecore`), and the ratio is reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "bench" / ".cache" / "corpus-10000-s1-v2"

# One run in a fresh interpreter: prints the CPU seconds and the passage count.
_RUN = """
import sys, time
from pathlib import Path
from quotecore.config import CoreConfig
from quotecore.ingest import load_document
files = sorted(Path(sys.argv[1]).glob("*.txt"))[: int(sys.argv[2])]
raw = [(f, f.read_bytes()) for f in files]
config = CoreConfig.load(Path(sys.argv[3]))
start = time.process_time()
passages = sum(len(load_document(f, None, config, r).passages) for f, r in raw)
print(time.process_time() - start, passages)
"""


def run(src: Path, corpus: Path, files: int) -> tuple[float, int]:
    """One timed pass of `files` files through the tree whose package lives in `src`."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    config = ROOT / "config"
    out = subprocess.run(
        [sys.executable, "-c", _RUN, str(corpus), str(files), str(config)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, nargs="?", default=DEFAULT_CORPUS)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not any(args.corpus.glob("*.txt")):
        sys.exit(f"{args.corpus}: no .txt files (python bench/scale.py writes the default corpus)")
    trees = {"this tree": ROOT / "src"}
    if args.baseline is not None:
        trees["baseline"] = args.baseline / "src"
    times: dict[str, list[float]] = {name: [] for name in trees}
    passages = 0
    for _ in range(args.runs):  # in turns, so a burst of load hits both alike
        for name, src in trees.items():
            seconds, passages = run(src, args.corpus, args.files)
            times[name].append(seconds)
    ours = statistics.median(times["this tree"])
    each = ours / passages * 1e3
    line = f"{args.files} files, {passages} passages: median {ours:.2f} s CPU ({each:.3f} ms a passage)"
    if "baseline" in times:
        base = statistics.median(times["baseline"])
        line += f"; baseline {base:.2f} s, ratio {ours / base:.2f}×"
    print(line)


if __name__ == "__main__":
    main()
