"""A third article, added the way the README tells an admin to, attributed line by line.

tests/articles/shenlan_lin.txt is written for these tests: other people, another outlet, its own
page furniture, full-width punctuation, short turn labels ("林：", "周："), a multi-paragraph
answer, a reported-speech section with continuations and a bullet list, a standalone quoted
sentence, a closing "本文根据…整理" note, and no sources.toml entry (title and roles are inferred).
"""

from __future__ import annotations

import pytest

from quotecore.service import QuoteService
from tests.conftest import ARTICLES, document_of, with_article
from tests.test_gold import disagreements, passage_for, read_gold

ARTICLE = "shenlan_lin.txt"
GOLD = ARTICLES / "shenlan_lin_gold.tsv"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> QuoteService:
    """The bundled seeds plus the article; its people appended to speakers.toml."""
    return with_article(tmp_path_factory.mktemp("third"), ARTICLE, "speakers.toml")


def test_attribution_line_by_line(service: QuoteService) -> None:
    rows = read_gold(GOLD)
    wrong = disagreements(service, rows)
    assert len(rows) - len(wrong) >= 0.95 * len(rows), "\n".join(wrong)


def test_every_passage_of_the_article_has_a_gold_row(service: QuoteService) -> None:
    doc = document_of(service, ARTICLE)
    lines = {r.line for r in read_gold(GOLD)}
    extra = [(p.line, p.text[:20]) for p in service.snapshot.passages if p.doc_id == doc.id and p.line not in lines]
    assert not extra


def test_title_is_the_first_line_that_is_not_furniture(service: QuoteService) -> None:
    assert document_of(service, ARTICLE).title == "深澜机器人林知远：我们从来不追风口"


def test_roles_are_inferred_without_a_sources_entry(service: QuoteService) -> None:
    doc = document_of(service, ARTICLE)
    assert doc.interviewers == ("zhou-min",)
    assert "lin-zhiyuan" in doc.interviewees


@pytest.mark.parametrize(
    ("line", "reason"),
    [(1, "breadcrumb"), (5, "dateline"), (85, "byline"), (86, "share widget"), (87, "share widget")],
)
def test_page_furniture_is_dropped(service: QuoteService, line: int, reason: str) -> None:
    drops = [d for d in service.stats().drops if d.path == ARTICLE and d.line == line]
    assert drops and reason in drops[0].reason


def test_the_closing_note_is_narration_not_the_last_answer(service: QuoteService) -> None:
    row = next(r for r in read_gold(GOLD) if r.prefix.startswith("本文根据"))
    passage = passage_for(service, row)
    assert passage is not None and (passage.kind, passage.speaker_id) == ("narration", None)


def test_a_lead_in_is_the_context_of_what_it_announces(service: QuoteService) -> None:
    doc = document_of(service, ARTICLE)
    bullets = [p for p in service.snapshot.passages if p.doc_id == doc.id and p.line in (53, 54, 55)]
    assert {p.speaker_id for p in bullets} == {"xu-qing"}
    assert all(p.context == "许晴很少接受采访。她在公司内部信中写道：" for p in bullets)
    assert all(p.text.endswith("。") for p in bullets)  # the list's "；" closed as a sentence


def test_the_article_is_searchable_by_its_people(service: QuoteService) -> None:
    results = service.search("风口", speaker="林知远").quotes
    assert results and results[0].speaker and results[0].speaker.id == "lin-zhiyuan"
