"""Passages and attribution: turns, continuations, reported speech, headings, stable ids."""

from __future__ import annotations

import pytest

from quotecore.errors import UnknownSpeakerError
from quotecore.service import QuoteService


def passage_with(service: QuoteService, needle: str):
    found = [p for p in service.snapshot.passages if needle in p.text]
    assert len(found) == 1, (needle, [p.text[:30] for p in found])
    return found[0]


@pytest.mark.parametrize(
    ("needle", "kind", "speaker"),
    [
        ("我认为有两点非常关键", "answer", "altman"),  # a labelled turn
        ("我们最初并没有直接去做大语言模型", "answer", "altman"),  # continues the turn above
        ("第一点就是他的适应性", "answer", "altman"),
        ("我要说的第二点是,山姆对未来有着极其清晰的远见", "answer", "lightcap"),
        ("伙计们,这次采访真的让我激动不已", "question", "stebbings"),
        ("他坦承自己", "reported", "altman"),  # 他 is the interviewee
        ("奥特曼表示,曾经自己一直反对垂直整合", "reported", "altman"),
        ("他还引用了iPhone的例子", "reported", "altman"),
        ("能源是AI最大的瓶颈之一", "reported", "altman"),  # a bullet under "奥特曼还提到了…:"
        ("研究使OpenAI能够做出出色的产品", "reported", "altman"),  # after "他再一次强调了…:"
        ("OpenA作为四家公司的组合", "question", "torenberg"),  # after "Erik Torenberg发出同款疑惑:"
        ("你在(指奥特曼)8月份曾说", "question", "torenberg"),
        ("4月16日消息", "narration", None),
        ("OpenAI最近的动作属实让人眼花缭乱了", "narration", None),
    ],
)
def test_kind_and_speaker(service: QuoteService, needle: str, kind: str, speaker: str | None) -> None:
    passage = passage_with(service, needle)
    assert (passage.kind, passage.speaker_id) == (kind, speaker)


def test_the_editors_own_line_is_never_attributed_to_altman(service: QuoteService) -> None:
    passage = passage_with(service, "你怎么看奥特曼的这些观点")
    assert passage.kind == "narration" and passage.speaker_id is None


def test_labels_are_cut_from_the_quote(service: QuoteService) -> None:
    assert not any(p.text.startswith(("奥特曼:", "斯特宾斯:", "莱特卡普:")) for p in service.snapshot.passages)


def test_headings_are_topics_not_quotes(service: QuoteService) -> None:
    texts = {p.text for p in service.snapshot.passages}
    topics = {p.topic for p in service.snapshot.passages}
    for heading in (
        "七年前创建OpenAI",
        "工作中有分歧,但要分轻重缓急",
        "我一直反对垂直整合,但现在认为我错了",
        "为什么把宝贵的GPU投入到Sora上?",
        "我天生就不是一个适合管理公司的人",
    ):
        assert heading in topics
        assert heading not in texts and f"“{heading}”" not in texts
    assert passage_with(service, "我认为有两点非常关键").topic == "七年前创建OpenAI"


def test_titles_are_metadata_not_passages(service: QuoteService) -> None:
    assert not any(p.text.startswith("OpenAI首次联合访谈") for p in service.snapshot.passages)
    assert {d.script for d in service.snapshot.documents.values()} == {"simplified", "traditional"}


@pytest.mark.parametrize(
    "alias", ["奥特曼", "奧特曼", "山姆·奥特曼", "SamAltman", "Sam Altman", "altman", "ALTMAN", "山姆"]
)
def test_speaker_filter_accepts_any_alias(service: QuoteService, alias: str) -> None:
    assert service.resolve_speaker(alias).id == "altman"


def test_unknown_speaker_lists_the_known_ones(service: QuoteService) -> None:
    with pytest.raises(UnknownSpeakerError) as info:
        service.resolve_speaker("马斯克")
    assert any("Sam Altman" in k for k in info.value.known)


def test_passage_ids_are_stable_across_reloads(corpus_copy, cache_dir) -> None:
    seeds, config = corpus_copy
    svc = QuoteService(seeds, config, cache_dir)
    svc.load()
    before = {p.id: p.text for p in svc.snapshot.passages}
    svc.reload()
    assert {p.id: p.text for p in svc.snapshot.passages} == before
    # Editing one document changes only the ids of the passages whose text changed.
    path = seeds / "000_db0142c2bbde2aab.txt"
    path.write_text(
        path.read_text(encoding="utf-8").replace("我认为有两点非常关键。", "我认为有三点非常关键。"), encoding="utf-8"
    )
    report = svc.reload()
    after = {p.id: p.text for p in svc.snapshot.passages}
    assert (report.added, report.removed) == (1, 1)
    assert len(set(before) & set(after)) == len(before) - 1
