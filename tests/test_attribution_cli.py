"""What the command line shows of attribution: kind and attribution per passage, and the stats."""

from __future__ import annotations

import io
import json

import pytest

from quotecore.cli import build_parser, run
from quotecore.models import KINDS
from tests.conftest import CONFIG, SEEDS


@pytest.fixture
def cli(cache_dir, monkeypatch):
    monkeypatch.setenv("QUOTEBOT_CACHE_DIR", str(cache_dir))

    def call(*argv: str) -> str:
        out = io.StringIO()
        assert run(build_parser(), ["--seeds", str(SEEDS), "--config-dir", str(CONFIG), *argv], out) == 0
        return out.getvalue()

    return call


def test_every_passage_shows_kind_and_attribution(cli) -> None:
    passages = json.loads(cli("passages", "--json"))["passages"]
    assert passages
    assert all(p["kind"] in KINDS and p["attribution"] in ("certain", "doubtful") for p in passages)
    doubtful = [p for p in passages if p["attribution"] == "doubtful"]
    assert [(p["speaker"]["id"], p["kind"]) for p in doubtful] == [("altman", "answer")]
    assert "无需与山姆商讨" in doubtful[0]["passage"]


def test_stats_lists_doubtful_passages_repairs_and_drops_with_their_lines(cli) -> None:
    out = cli("stats")
    assert "Attribution doubtful (kept as labelled, the text contradicts the label): 1" in out
    assert "000_db0142c2bbde2aab.txt:64" in out
    assert "Repaired (garbled run cut, sentence kept): 4" in out
    for line in (33, 39, 58, 65):
        assert f"001_0d9c3300cbf463b9.txt:{line}" in out
    assert "Dropped:" in out and "furniture: pagination" in out
    data = json.loads(cli("stats", "--json"))
    assert [(d["file"], d["line"]) for d in data["doubtful"]] == [("000_db0142c2bbde2aab.txt", 64)]
    assert sorted(r["line"] for r in data["repaired"]) == [33, 39, 58, 65]
    assert data["by_kind"]["lead-in"] > 0
