"""A fourth article: a podcast transcript as a newsletter republishes it, attributed line by line.

tests/articles/changye_chen.txt is written for these tests, in shapes the first three articles do
not have: a newsletter's byline and account line, a republication notice, timestamps before the
turns ("[00:01:12] 主持人（方楠）："), a title before a name and the host named in parentheses, a
blockquote, names alone on the line above their words, and after "— 完 —" the page's tail
(follow prompts, a slogan, references and a link), none of which is anybody's quote.
"""

from __future__ import annotations

import pytest

from quotecore.models import Document, Speaker
from quotecore.service import QuoteService
from quotecore.structure import Attributor, Line
from tests.conftest import ARTICLES, document_of, with_article
from tests.test_gold import disagreements, read_gold

ARTICLE = "changye_chen.txt"
GOLD = ARTICLES / "changye_chen_gold.tsv"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> QuoteService:
    """The bundled seeds plus the transcript; its two people appended to speakers.toml."""
    return with_article(tmp_path_factory.mktemp("transcript"), ARTICLE, "changye_speakers.toml")


def test_every_passage_is_attributed_as_its_author_reads_it(service: QuoteService) -> None:
    assert disagreements(service, read_gold(GOLD)) == []


def test_nothing_else_of_the_page_is_a_passage(service: QuoteService) -> None:
    doc = document_of(service, ARTICLE)
    lines = {row.line for row in read_gold(GOLD)}
    extra = [(p.line, p.text[:20]) for p in service.snapshot.passages if p.doc_id == doc.id and p.line not in lines]
    assert extra == []


def test_the_page_furniture_is_dropped_with_its_reason(service: QuoteService) -> None:
    drops = {d.line: d.reason for d in service.stats().drops if d.path == ARTICLE}
    assert drops[1] == drops[2] == "furniture: byline"
    assert drops[6] == "furniture: republication notice"
    assert drops[50] == "furniture: after the end mark"  # the newsletter's slogan, no rule of its own
    assert {drops[48], drops[52]} == {"furniture: follow prompt"}
    assert drops[56] == "furniture: link"
    assert document_of(service, ARTICLE).title == "星桥能源陈墨：储能的下半场是软件"


def test_the_first_quote_is_the_guests_answer_without_label_or_timestamp(service: QuoteService) -> None:
    top = service.search("储能价格战", limit=1).quotes[0]
    assert top.speaker is not None and top.speaker.id == "chen-mo"
    assert top.passage.kind == "answer"
    assert not any(mark in top.passage.text for mark in ("[00:", "陈墨（", "CEO", ">"))


def _attributed(texts: list[str]) -> list[tuple[str | None, str]]:
    people = [
        Speaker(id="altman", name="山姆·奥特曼", name_en="Sam Altman", aliases=("奥特曼", "Sam Altman"), role=""),
        Speaker(id="host", name="方楠", name_en="Fang Nan", aliases=("方楠",), role=""),
    ]
    lines = [Line(number, text) for number, text in enumerate(texts, 1)]
    interviewees, interviewers = Attributor(Document("x", "x.txt", "t"), people).infer_roles(lines)
    document = Document("x", "x.txt", "t", interviewees=interviewees, interviewers=interviewers)
    blocks, _ = Attributor(document, people).blocks(lines)
    return [(b.speaker_id, b.kind) for b in blocks]


def test_a_name_alone_under_a_photo_starts_no_turn() -> None:
    # One name alone is a caption: the narration under it stays narration.
    texts = ["发布会现场人头攒动。", "Sam Altman", "他在台上展示了新的模型，现场响起掌声。", "发布会持续了一个小时。"]
    assert _attributed(texts) == [(None, "narration")] * 3


def test_names_alone_above_their_words_label_the_turns() -> None:
    texts = [
        "方楠",
        "你怎么看开源？",
        "Sam Altman",
        "开源权重的模型对生态是好事。",
        "方楠",
        "那安全呢？",
        "奥特曼",
        "我们会更谨慎。",
    ]
    assert _attributed(texts) == [("host", "question"), ("altman", "answer")] * 2
