"""Shared fixtures: one loaded service over the bundled corpus, and a writable copy of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from quotecore.service import QuoteService

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CONFIG = ROOT / "config"


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
