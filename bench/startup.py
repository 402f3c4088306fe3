"""Start-up from the caches and a one-document reload at 100k passages, and queries while it runs.

Run: python bench/startup.py [--passages 100000] [--seed 1] [--reps 5] [--src PATH] [--baseline PATH] [--write-doc]

`--baseline` measures another checkout's `src/` first (the old design: `git worktree add /tmp/old
<commit>`, then `--baseline /tmp/old/src`) on the same corpus, so old and new figures come from one
run; `--write-doc` puts both rows in docs/benchmarks.md (bench/scale.py keeps that section).
Every figure is measured in a new process (`python -c`), as a restart or a reload would run:

- start-up: CPU seconds (`time.process_time`) of `QuoteService.load()` with the caches a first
  build left, and of the whole process until its first answer; the share of it spent loading
  jieba's dictionary; peak RSS (VmHWM);
- reload: CPU seconds of `QuoteService.reload()` after one document in the middle of the corpus
  gained a paragraph (then lost it again: two one-document reloads per repetition), this
  process's and any worker process's, with nothing else running;
- queries: a thread asks the query set over and over; p50 and p99 latency of the queries asked
  in 3-second quiet stretches, and of those asked while a one-document reload runs in the main
  thread (quiet stretches and reloads take turns, so both see the same machine load).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
sys.path.insert(0, str(ROOT / "bench"))

from generate import VERSION, generate  # noqa: E402

#: The query set: the scale benchmark's words plus stopwords, single characters, speaker names and
#: a 30-word query (each one a worst case of the full search at some point).
QUERIES = [
    "计算资源",
    "GPT-5",
    "scaling law",
    "Sora",
    "能源",
    "核",
    "AGI",
    "基础设施",
    "研究",
    "管理公司",
    "垂直整合",
    "深度学习",
    "投资",
    "芯片",
    "人工智能",
    "商业模式",
    "的",
    "了",
    "我们",
    "奥特曼",
    "莱特卡普",
    "Sam Altman",
    "我们认为计算资源和能源是未来人工智能研究最重要的基础设施因此公司会继续投资芯片数据中心以及核聚变并且和合作伙伴一起建设更好的产品服务全世界的用户",
]

PREAMBLE = """
import json, resource, sys, threading, time
sys.path.insert(0, {src!r})
import jieba
spent = [0.0]
_initialize = jieba.Tokenizer.initialize
def initialize(self, *args, **kwargs):
    started = time.process_time()
    try:
        return _initialize(self, *args, **kwargs)
    finally:
        spent[0] += time.process_time() - started
jieba.Tokenizer.initialize = initialize
def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
def cpu():
    return time.process_time() + resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime \\
        + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime
from quotecore.service import QuoteService
service = QuoteService({seeds!r}, {config!r}, {cache!r})
"""

STARTUP = """
started = cpu()
service.load()
loaded = cpu()
service.search("能源")
print(json.dumps({{"load_cpu": loaded - started, "jieba_cpu": spent[0], "process_cpu": cpu(),
                  "ready_cpu": cpu() - started, "peak_mib": peak_mib(), "passages": len(service.snapshot.passages)}}))
"""

RELOAD = """
from pathlib import Path
service.load()
queries = {queries!r}
changed = sorted(Path({seeds!r}).glob("*.txt"))
changed = changed[len(changed) // 2]
original = changed.read_bytes()
extra = "\\n奥特曼:我们正在扩大数据中心的规模,以满足全世界的计算需求。\\n".encode()
for q in queries:
    service.search(q)  # warm: the first asking of a word fills caches that a running bot has filled
reloads = []
for rep in range({reps}):  # the reload's own CPU, nothing else running
    for content in (original + extra, original):
        changed.write_bytes(content)
        started = cpu()
        service.reload()
        reloads.append(cpu() - started)
during, quiet = [], []
window = [None]
stop = threading.Event()
def ask():
    while not stop.is_set():
        for q in queries:
            began = time.perf_counter()
            inside = window[0]
            service.search(q)
            took = time.perf_counter() - began
            if inside is not None and window[0] is inside:
                inside.append(took)
asker = threading.Thread(target=ask, daemon=True)
asker.start()
for rep in range({reps}):  # queries in a thread: a quiet stretch, then a reload, in turn
    for content in (original + extra, original):
        window[0] = []
        time.sleep(3.0)
        quiet.extend(window[0])
        changed.write_bytes(content)
        window[0] = []
        service.reload()
        during.extend(window[0])
window[0] = None
stop.set()
asker.join()
changed.write_bytes(original)
service.reload()
print(json.dumps({{"reload_cpu": reloads, "during": during, "quiet": quiet}}))
"""


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000 if ordered else float("nan")


def measure(src: Path, corpus: Path, passages: int, seed: int, reps: int) -> dict[str, Any]:
    """Every figure of one checkout's `src/`, each from new processes."""
    # One corpus folder at a fixed path, one cache folder per checkout measured: the caches survive
    # between runs, and jieba's tokens (keyed by the folder's path) are segmented once for all.
    work = CACHE / f"startup-{passages}-s{seed}-{VERSION}"
    label = hashlib.blake2b(str(src).encode(), digest_size=4).hexdigest()
    seeds, cache = work / "seeds", work / f"cache-{label}"
    if not (work / ".complete").exists():
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(corpus, seeds, ignore=shutil.ignore_patterns(".complete"))
        (work / ".complete").write_text(f"{passages} {seed}\n")
    if not cache.exists():
        for other in work.glob("cache-*/terms"):
            shutil.copytree(other, cache / "terms")
            break
    fill = {"src": str(src), "seeds": str(seeds), "config": str(ROOT / "config"), "cache": str(cache)}
    print(f"checkout {src}; corpus {seeds}", flush=True)
    if not (cache / "index").exists():
        print("first build (fills the caches)", flush=True)
        first = run(PREAMBLE.format(**fill) + STARTUP.format())
        print(f"  first build: {first['load_cpu']:.1f} s CPU, peak {first['peak_mib']:.0f} MiB", flush=True)
    startups = [run(PREAMBLE.format(**fill) + STARTUP.format()) for _ in range(reps)]
    print(f"reload ×{2 * reps} with queries in a thread", flush=True)
    reload = run(PREAMBLE.format(**fill) + RELOAD.format(queries=QUERIES, seeds=str(seeds), reps=reps))

    def med(key: str) -> float:
        return statistics.median(s[key] for s in startups)

    row = {
        "src": str(src),
        "passages": startups[0]["passages"],
        "startup_load_cpu_s": med("load_cpu"),
        "startup_jieba_cpu_s": med("jieba_cpu"),
        "startup_ready_cpu_s": med("ready_cpu"),
        "process_cpu_s": med("process_cpu"),
        "startup_peak_mib": med("peak_mib"),
        "reload_cpu_s": statistics.median(reload["reload_cpu"]),
        "reload_cpu_max_s": max(reload["reload_cpu"]),
        "quiet_p50_ms": percentile(reload["quiet"], 0.5),
        "quiet_p99_ms": percentile(reload["quiet"], 0.99),
        "quiet_queries": len(reload["quiet"]),
        "during_p50_ms": percentile(reload["during"], 0.5),
        "during_p99_ms": percentile(reload["during"], 0.99),
        "during_queries": len(reload["during"]),
    }
    row["p99_ratio"] = row["during_p99_ms"] / row["quiet_p99_ms"]
    print(json.dumps(row))
    print(
        f"start-up from the caches: {row['startup_load_cpu_s']:.2f} s CPU in load() "
        f"(jieba's dictionary {row['startup_jieba_cpu_s']:.2f} s of it), {row['startup_ready_cpu_s']:.2f} s to the "
        f"first answer, whole process {row['process_cpu_s']:.2f} s; peak {row['startup_peak_mib']:.0f} MiB\n"
        f"one-document reload: {row['reload_cpu_s']:.2f} s CPU (median of {len(reload['reload_cpu'])}, "
        f"worst {row['reload_cpu_max_s']:.2f} s)\n"
        f"queries: p50 {row['quiet_p50_ms']:.2f} ms / p99 {row['quiet_p99_ms']:.2f} ms "
        f"({row['quiet_queries']} queries); during a reload p50 {row['during_p50_ms']:.2f} ms / p99 "
        f"{row['during_p99_ms']:.2f} ms ({row['during_queries']} queries): p99 ×{row['p99_ratio']:.2f}",
        flush=True,
    )
    return row


#: docs/benchmarks.md keeps what this script writes between these lines (bench/scale.py leaves it).
BEGIN, END = "<!-- bench/startup.py -->", "<!-- /bench/startup.py -->"


def section(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """The start-up and reload table, one row per checkout measured."""
    lines = [
        BEGIN,
        f"## Start-up and reload at {int(rows[-1][1]['passages']):,} passages",
        "",
        "Produced by `python bench/startup.py --baseline OLD/src --write-doc` (every figure from new processes;",
        "CPU time of the process and its children, a forked reload worker included). Queries run in a thread,",
        "over and over, in 3-second quiet stretches and during one-document reloads, in turn.",
        "",
        "| checkout | start-up CPU (load) | to the first answer | peak | 1-doc reload CPU (median / worst) "
        "| query p99 quiet | p99 during a reload | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['startup_load_cpu_s']:.2f} s | {r['startup_ready_cpu_s']:.2f} s | "
            f"{r['startup_peak_mib']:.0f} MiB | {r['reload_cpu_s']:.2f} / {r['reload_cpu_max_s']:.2f} s | "
            f"{r['quiet_p99_ms']:.1f} ms | {r['during_p99_ms']:.1f} ms | **{r['p99_ratio']:.2f}×** |"
        )
    lines += ["", END]
    return "\n".join(lines)


def write_doc(text: str, out: Path) -> None:
    """Put the section in `out`, replacing the one a previous run wrote."""
    doc = out.read_text(encoding="utf-8") if out.exists() else "# Benchmarks\n"
    if BEGIN in doc and END in doc:
        doc = doc[: doc.index(BEGIN)] + text + doc[doc.index(END) + len(END) :]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    out.write_text(doc, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    parser.add_argument("--baseline", type=Path, help="another checkout's src/, measured first (the old design)")
    parser.add_argument("--write-doc", action="store_true", help="write the table into docs/benchmarks.md")
    args = parser.parse_args()
    corpus = generate(
        CACHE / f"corpus-{args.passages}-s{args.seed}-{VERSION}", args.passages, args.seed, CACHE / "seeds-cache"
    )
    rows = []
    if args.baseline is not None:
        rows.append(
            (
                f"before ({_commit(args.baseline)})",
                measure(args.baseline.resolve(), corpus, args.passages, args.seed, args.reps),
            )
        )
    rows.append(
        (f"now ({_commit(args.src)})", measure(args.src.resolve(), corpus, args.passages, args.seed, args.reps))
    )
    text = section(rows)
    print(text)
    if args.write_doc:
        write_doc(text, ROOT / "docs" / "benchmarks.md")


def _commit(src: Path) -> str:
    """The checkout's commit, short (or its path when it is not a git checkout)."""
    try:
        out = subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    except OSError:
        return str(src)
    return out.stdout.strip() or str(src)


if __name__ == "__main__":
    main()
