"""When is one process enough? Queries per second of one process, and what each shared piece costs.

Run: python bench/replicas.py [--corpus-100k DIR] [--seconds 10] [--reps 200]

1. Queries per second one process answers through the command layer (`Commands.quote`: parsing,
   search, excerpt, the metrics and the JSON event; no chat transport), one query at a time as
   the event loop runs them, on the bundled corpus and on a 100k-passage synthetic corpus
   (bench/generate.py, generated into bench/.cache when missing).
2. The database round trips a replica adds, on SQLite and on a PostgreSQL started for the run
   (tests/fakes/postgres.py; skipped where none can be had): a shared cooldown check (one per
   /quote), the generation poll and the heartbeat (each every few seconds), a bump.
3. The content fingerprint a reload computes, at both sizes.

Prints a table and writes bench/out/replicas.json. Medians; absolute numbers move with the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from generate import VERSION, generate  # noqa: E402
from scale import QUERIES  # noqa: E402

from bots.commands import Commands, QuoteRequest, local_admin  # noqa: E402
from bots.generation import GenerationStore, fingerprint  # noqa: E402
from bots.metrics import Metrics  # noqa: E402
from quotecore.service import QuoteService  # noqa: E402

CACHE = ROOT / "bench" / ".cache"


def load(seeds: Path) -> tuple[QuoteService, float]:
    service = QuoteService(seeds, ROOT / "config", CACHE / "seeds-cache")
    started = time.perf_counter()
    service.load()
    return service, time.perf_counter() - started


async def queries_per_second(service: QuoteService, seconds: float) -> dict[str, float]:
    """Answer the query list round and round for `seconds`: queries/s, and the median and p95 latency."""
    commands = Commands(service, "console", metrics=Metrics())
    caller = local_admin()
    latencies: list[float] = []
    for query in QUERIES:  # warm the caches a first query fills
        await commands.quote(caller, QuoteRequest(query))
    started = time.perf_counter()
    for query in itertools.cycle(QUERIES):
        before = time.perf_counter()
        await commands.quote(caller, QuoteRequest(query))
        latencies.append(time.perf_counter() - before)
        if time.perf_counter() - started >= seconds:
            break
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "qps": len(latencies) / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000,
        "queries": len(latencies),
    }


def median_ms(work: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def database_costs(url: str, reps: int) -> dict[str, float]:
    store = GenerationStore(url)
    store.open()
    store.first("x" * 16, "bench")
    store.report("bench", 1, "x" * 16, 1, None)
    users = itertools.count()
    costs = {
        "cooldown_new_user_ms": median_ms(lambda: store.take_turn(f"u{next(users)}", 5.0), reps),
        "cooldown_same_user_ms": median_ms(lambda: store.take_turn("same", 5.0), reps),
        "generation_poll_ms": median_ms(store.current, reps),
        "heartbeat_ms": median_ms(lambda: store.heartbeat("bench"), reps),
        "bump_ms": median_ms(lambda: store.bump("y" * 16, "bench"), max(10, reps // 10)),
    }
    store.close()
    return costs


async def notify_latency(url: str, reps: int) -> float:
    """Median ms from asking for a bump to its NOTIFY reaching a LISTEN (as bots.replicas listens: always iterating)."""
    import psycopg
    from sqlalchemy.engine import make_url

    from bots.generation import CHANNEL

    store = GenerationStore(url)
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    arrived: asyncio.Queue[float] = asyncio.Queue()
    listening = asyncio.Event()

    async def listen() -> None:
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            listening.set()
            async for _ in conn.notifies():
                arrived.put_nowait(time.perf_counter())

    listener = asyncio.create_task(listen())
    await listening.wait()
    await asyncio.sleep(0.2)
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        await asyncio.to_thread(store.bump, "z" * 16, "bench")
        times.append(await asyncio.wait_for(arrived.get(), 10) - started)
    listener.cancel()
    store.close()
    return statistics.median(times) * 1000


def postgres_url() -> tuple[str | None, Any]:
    from tests.fakes.postgres import PostgresServer

    server = PostgresServer()
    reason = server.why_not()
    if reason is not None:
        print(f"PostgreSQL skipped: {reason}")
        return None, None
    server.start()
    return server.create_database("bench"), server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus-100k", type=Path, default=CACHE / f"corpus-100000-s1-{VERSION}")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--reps", type=int, default=200)
    args = parser.parse_args()
    if not args.corpus_100k.exists():
        print(f"generating {args.corpus_100k} …")
        generate(args.corpus_100k, 100_000, 1)

    results: dict[str, Any] = {"corpora": {}, "databases": {}}
    for label, seeds in (("bundled", ROOT / "seeds"), ("100k", args.corpus_100k)):
        service, load_seconds = load(seeds)
        passages = len(service.snapshot.passages)
        speed = asyncio.run(queries_per_second(service, args.seconds))
        fp_ms = median_ms(lambda s=service: fingerprint(s), 5)
        results["corpora"][label] = {"passages": passages, "load_s": load_seconds, "fingerprint_ms": fp_ms, **speed}
        print(
            f"{label:>8}: {passages:>7} passages  {speed['qps']:8.1f} queries/s  median {speed['median_ms']:.2f} ms"
            f"  p95 {speed['p95_ms']:.2f} ms  fingerprint {fp_ms:.1f} ms  (load {load_seconds:.1f} s)"
        )
        del service

    with tempfile.TemporaryDirectory() as tmp:
        results["databases"]["sqlite"] = database_costs(f"sqlite:///{tmp}/bench.sqlite3", args.reps)
    url, server = postgres_url()
    try:
        if url is not None:
            results["databases"]["postgresql"] = database_costs(url, args.reps)
            results["databases"]["postgresql"]["bump_to_notify_ms"] = asyncio.run(notify_latency(url, 50))
    finally:
        if server is not None:
            server.stop()
    for name, costs in results["databases"].items():
        print(f"{name:>10}: " + "  ".join(f"{k} {v:.3f}" for k, v in costs.items()))

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "replicas.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
