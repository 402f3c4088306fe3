"""Every row of the development queries (tests/dev_queries.tsv, copied from shared/eval)."""

from __future__ import annotations

from pathlib import Path

import pytest

from quotecore.service import QuoteService

ROWS = [
    line.rstrip("\n").split("\t")
    for line in (Path(__file__).parent / "dev_queries.tsv").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r[0]}:{r[1]}:{r[2] if len(r) > 2 else ''}" for r in ROWS])
def test_dev_query(service: QuoteService, row: list[str]) -> None:
    tier, query, speaker, expected = [*row, "", ""][:4]
    results = service.search(query, speaker=speaker or None, limit=3).quotes
    if tier == "none":
        assert results == ()
        return
    wanted = expected.split("|")
    assert any(w in q.text for q in results for w in wanted), [q.text[:40] for q in results]
