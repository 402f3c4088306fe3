"""A warm-cache `quotebot search` (and `stats`, `show`) imports only what answering needs.

Each command runs in a fresh interpreter with `-X importtime`, which names every module imported;
the chat SDKs, the scheduler, the database layer, asyncio and pydantic must not be among them.
jieba itself is imported (every command's snapshot build cuts the config's synonyms, a search its
query too), but its whole dictionary is never loaded: the cold search reads a few buckets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NEVER = ("asyncio", "pydantic", "pydantic_core", "discord", "slack_bolt", "slack_sdk", "aiohttp", "apscheduler",
         "sqlalchemy")  # fmt: skip


def _run(cache_dir: Path, *args: str) -> tuple[str, set[str]]:
    env = {**os.environ, "QUOTEBOT_CORPUS_CACHE_DIR": str(cache_dir)}
    command = [sys.executable, "-X", "importtime", "-m", "bots.cli", "--seeds", str(ROOT / "seeds")]
    done = subprocess.run(
        [*command, "--config-dir", str(ROOT / "config"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    modules = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return done.stdout, {m.split(".")[0] for m in modules}


@pytest.fixture(scope="module")
def warm(service, cache_dir: Path) -> Path:
    """The session's cache, warmed by the service fixture and one command (the dictionary file)."""
    _run(cache_dir, "search", "预热")
    return cache_dir


@pytest.mark.parametrize("args", [("search", "计算资源", "--json"), ("stats",), ("search", "奥特曼 计算资源")])
def test_a_command_on_a_warm_cache_imports_nothing_it_does_not_use(warm: Path, args: tuple[str, ...]) -> None:
    out, modules = _run(warm, *args)
    assert out.strip()
    assert "quotecore" in modules  # the import list is really there
    assert sorted(modules.intersection(NEVER)) == []


def test_the_cold_search_answers_like_the_loaded_service(warm: Path, service) -> None:
    out, _ = _run(warm, "search", "计算资源", "--json")
    results = json.loads(out)["results"]
    expected = service.search("计算资源").quotes
    assert [r["id"] for r in results] == [q.id for q in expected]
    assert "计算资源" in results[0]["text"]


def test_show_on_a_warm_cache_imports_nothing_it_does_not_use(warm: Path, service) -> None:
    passage_id = service.search("计算资源").quotes[0].id
    out, modules = _run(warm, "show", passage_id)
    assert passage_id in out
    assert sorted(modules.intersection(NEVER)) == []
