"""The process's Prometheus metrics (served at /metrics by bots.web).

One registry per `quotebot run` (not prometheus-client's global one), so tests that run several
apps in one interpreter never collide. Gauges that describe the present (corpus size, generation,
platform connections) are read when scraped, from the objects that know them.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

#: Latency buckets for a chat answer: a few ms (cached) to seconds (a cold, large corpus).
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Counters the commands, the scheduler and the replica sync increment; gauges read at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.queries = Counter(
            "quotebot_queries", "User queries by surface and outcome", ["surface", "outcome"], registry=self.registry
        )
        self.latency = Histogram(
            "quotebot_query_seconds", "Time to answer a query", ["surface"], buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )  # fmt: skip
        self.reloads = Counter(
            "quotebot_reloads", "Corpus reloads by outcome and origin", ["outcome", "origin"], registry=self.registry
        )
        self.daily_posts = Counter(
            "quotebot_daily_posts", "Daily posts by outcome", ["outcome"], registry=self.registry
        )
        self.generation = Gauge("quotebot_corpus_generation", "Corpus generation served", registry=self.registry)
        self.passages = Gauge("quotebot_corpus_passages", "Passages in the served corpus", registry=self.registry)
        self.connected = Gauge(
            "quotebot_platform_connected", "1 when the platform is connected", ["platform"], registry=self.registry
        )

    def query(self, surface: str, outcome: str, seconds: float) -> None:
        """One answered (or refused, or failed) query."""
        self.queries.labels(surface, outcome).inc()
        self.latency.labels(surface).observe(seconds)

    def reload(self, outcome: str, origin: str) -> None:
        """A reload: `origin` command (an admin here) or follow (another process's)."""
        self.reloads.labels(outcome, origin).inc()

    def daily_post(self, outcome: str) -> None:
        """A daily post's outcome: sent or failed."""
        self.daily_posts.labels(outcome).inc()

    def watch(self, generation: Callable[[], float], passages: Callable[[], float]) -> None:
        """Read the generation and the corpus size whenever scraped."""
        self.generation.set_function(generation)
        self.passages.set_function(passages)

    def set_connected(self, platform: str, connected: bool) -> None:
        """A platform connected or lost."""
        self.connected.labels(platform).set(1 if connected else 0)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
