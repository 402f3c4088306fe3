"""Shared fixtures: one loaded service over the bundled corpus, a writable copy of it, a real PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from quotecore.models import Document
from quotecore.service import QuoteService
from tests.fakes.postgres import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CONFIG = ROOT / "config"


ARTICLES = Path(__file__).resolve().parent / "articles"


def with_article(root: Path, article: str, speakers: str) -> QuoteService:
    """The bundled corpus plus one test article, its people appended to speakers.toml, loaded.

    That is what the README tells an admin to do with a new article: drop it in seeds/, name its
    people once.
    """
    seeds, config = root / "seeds", root / "config"
    shutil.copytree(SEEDS, seeds)
    shutil.copytree(CONFIG, config)
    shutil.copy(ARTICLES / article, seeds / article)
    people = config / "speakers.toml"
    added = (ARTICLES / speakers).read_text(encoding="utf-8")
    people.write_text(people.read_text(encoding="utf-8") + "\n" + added, encoding="utf-8")
    svc = QuoteService(seeds, config, root / "cache")
    svc.load()
    return svc


def document_of(service: QuoteService, path: str) -> Document:
    """The loaded document of a seed file."""
    return next(d for d in service.snapshot.documents.values() if d.path == path)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One jieba dictionary cache for the whole run: building it costs about a second."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def service(cache_dir: Path) -> QuoteService:
    """The bundled corpus, loaded once; tests must not reload it (use `corpus_copy` for that)."""
    svc = QuoteService(SEEDS, CONFIG, cache_dir)
    svc.load()
    return svc


@pytest.fixture
def corpus_copy(tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of seeds/ and config/ that a test may edit or break."""
    seeds = tmp_path / "seeds"
    config = tmp_path / "config"
    shutil.copytree(SEEDS, seeds)
    shutil.copytree(CONFIG, config)
    return seeds, config


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL (Debian's package) in a temporary directory, for the multi-process tests."""
    server = PostgresServer()
    reason = server.why_not()
    if reason is not None:
        pytest.skip(reason)
    try:
        server.start()
    except Exception as exc:  # pragma: no cover - depends on the machine
        server.stop()
        pytest.skip(f"PostgreSQL did not start: {exc}")
    yield server
    server.stop()
