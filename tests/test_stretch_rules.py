"""Each attribution rule on a few lines of its own: stretches, lead-ins, turns, doubtful labels.

The documents here are made up for the rule under test (no seed is named), with full-width and
half-width punctuation alike, because the next article an admin adds will use either.
"""

from __future__ import annotations

import pytest

from quotecore.cleaning import strip_markers
from quotecore.models import Document, Speaker
from quotecore.structure import Attributor, Block, Line

SPEAKERS = (
    Speaker("chen", "陈思远", "Chen Siyuan", ("陈思远", "陈", "Chen")),
    Speaker("he", "何雨", "He Yu", ("何雨", "何")),
    Speaker("song", "宋岚", "Song Lan", ("宋岚",)),
)
DOC = Document(id="t", path="t.txt", title="t", interviewees=("chen", "song"), interviewers=("he",))


def attribute(*texts: str, document: Document = DOC) -> list[Block]:
    lines = [Line(number=n, text=t) for n, t in enumerate(texts, 1)]
    blocks, _ = Attributor(document, SPEAKERS).blocks(lines)
    return blocks


def who(blocks: list[Block]) -> list[tuple[str, str | None]]:
    return [(b.kind, b.speaker_id) for b in blocks]


@pytest.mark.parametrize("colon", [":", "："])
def test_a_lead_in_hands_its_speaker_to_the_bullets_and_is_their_context(colon: str) -> None:
    blocks = attribute(f"陈思远还给出了三点建议{colon}", "- 先做小，再做大；", "- 不要迷信估值；", "公司今年营收翻倍。")
    assert who(blocks)[:3] == [("lead-in", None), ("reported", "chen"), ("reported", "chen")]
    assert blocks[1].context == f"陈思远还给出了三点建议{colon}" and blocks[1].text == "先做小，再做大。"


def test_a_stretch_continues_until_the_narrator_is_back() -> None:
    blocks = attribute(
        "陈思远坦言，公司曾经差点倒闭。",
        "那时候我们每天只睡四个小时。",  # continuation: his words
        "他们后来发现，问题出在供应链上。",  # 他们 is not 他
        "网友表示，这样的创业故事并不少见。",  # another voice
        "这种说法是否站得住？你怎么看？",  # a question to the reader
    )
    assert who(blocks) == [
        ("reported", "chen"),
        ("reported", "chen"),
        ("reported", "chen"),
        ("narration", None),
        ("narration", None),
    ]


def test_narration_about_a_person_is_narration_but_opens_his_stretch() -> None:
    blocks = attribute("节目后半段，陈思远还谈到了自己创业的低谷。", "那一年我们只剩三个人。")
    assert who(blocks) == [("narration", None), ("reported", "chen")]


def test_a_named_subject_without_a_speech_verb_ends_the_stretch() -> None:
    blocks = attribute("陈思远表示，明年会扩招。", "另外，陈思远上个月刚刚搬到了上海。")
    assert who(blocks) == [("reported", "chen"), ("narration", None)]


def test_a_quote_before_its_speaker() -> None:
    blocks = attribute("“我们不追风口，”陈思远说。")
    assert who(blocks) == [("reported", "chen")]


def test_pronouns_follow_the_name_in_the_same_paragraph() -> None:
    blocks = attribute("陈思远很少提起宋岚。她在一封信里写道：", "- 每个功能都要跑满一千小时。")
    assert who(blocks) == [("lead-in", None), ("reported", "song")]


def test_a_one_character_alias_labels_turns_but_is_no_mention() -> None:
    blocks = attribute("何：你们为什么不融资？", "陈：因为还不需要。", "下一周，团队去了森林公园团建。")
    assert who(blocks)[:2] == [("question", "he"), ("answer", "chen")]
    # "一周" and "森林" are not 何 or 陈: the turn continues (nothing says otherwise).
    assert blocks[2].speaker_id == "chen"


def test_a_closing_note_ends_the_last_turn() -> None:
    blocks = attribute("何：最后一个问题？", "陈：会。", "本文根据节目内容整理，有删节。")
    assert who(blocks)[-1] == ("narration", None)


def test_the_narrator_naming_the_speaker_ends_his_turn() -> None:
    blocks = attribute("何：还会继续做吗？", "陈：会。", "陈思远表示，公司明年将在深圳设立研发中心。")
    assert who(blocks)[-1] == ("reported", "chen")
    assert blocks[-1].attribution == "certain"


def test_a_turn_naming_its_own_speaker_is_doubtful() -> None:
    blocks = attribute(
        "何：你们怎么分工？",
        "陈：这些小事我自己定，不用和陈思远商量。",
        "陈：我太太总说“陈思远你太忙了”。",  # the name inside a quote is someone else talking to him
    )
    assert [b.attribution for b in blocks] == ["certain", "doubtful", "certain"]
    assert who(blocks)[1] == ("answer", "chen")  # kept as the source labels it


def test_generic_turn_labels_use_the_only_interviewer_and_interviewee() -> None:
    document = Document(id="t", path="t.txt", title="t", interviewees=("chen",), interviewers=("he",))
    blocks = attribute("问：为什么？", "答：因为。", document=document)
    assert who(blocks) == [("question", "he"), ("answer", "chen")]


def test_a_standalone_quoted_sentence_is_a_quote_and_a_quoted_phrase_a_heading() -> None:
    blocks = attribute("陈思远认为，硬件没有捷径。", "“慢就是快。”", "“硬件没有捷径”", "公司成立于2017年。")
    assert who(blocks) == [("reported", "chen"), ("reported", "chen"), ("narration", None)]
    assert blocks[-1].topic == "硬件没有捷径"


def test_a_question_lead_in_hands_over_a_question() -> None:
    blocks = attribute("主持人何雨随后追问：", "那估值呢？", "陈思远回应：估值不重要。")
    assert who(blocks) == [("lead-in", None), ("question", "he"), ("reported", "chen")]


def test_roles_are_inferred_from_who_asks() -> None:
    document = Document(id="t", path="t.txt", title="t")
    lines = [Line(1, "何：为什么？"), Line(2, "陈：因为。"), Line(3, "何：还有呢？"), Line(4, "宋岚指出，没有了。")]
    interviewees, interviewers = Attributor(document, SPEAKERS).infer_roles(lines)
    assert interviewers == ("he",) and set(interviewees) == {"chen", "song"}


def test_a_turn_label_may_carry_a_role() -> None:
    blocks = attribute("何雨（主持人）：为什么？", "陈思远(创始人):因为。")
    assert who(blocks) == [("question", "he"), ("answer", "chen")]


def test_with_numbered_sections_a_bare_quoted_line_is_a_quote() -> None:
    blocks = attribute("一、创业", "陈思远认为，硬件没有捷径。", "“慢就是快”", "值得一提的是，公司成立于2017年。")
    assert who(blocks) == [("reported", "chen"), ("reported", "chen"), ("narration", None)]


def test_mentioning_a_person_is_narration() -> None:
    blocks = attribute("采访中，陈思远多次提到CTO宋岚。", "据他介绍，宋岚是公司第一位员工。")
    assert who(blocks) == [("narration", None), ("reported", "chen")]


def test_after_the_interview_the_narrator_is_back() -> None:
    blocks = attribute(
        "何：最难的是什么？",
        "陈：节奏。",
        "采访结束后，陈思远还带我们参观了机房。",
        "他说，每台服务器他都亲手调试过。",
        "“机器不会骗人。”",
        "这句话后来被贴在了机房门口。",
        "有同事告诉我们，他每天最早到公司。",
    )
    assert who(blocks)[2:] == [
        ("narration", None),
        ("reported", "chen"),
        ("reported", "chen"),
        ("narration", None),
        ("narration", None),
    ]


def test_a_continuation_naming_its_speaker_as_an_object_stays_in_the_turn_doubtful() -> None:
    blocks = attribute("何：怎么分工？", "陈：我管产品。", "小事我自己定，不用和陈思远商量。")
    assert who(blocks)[-1] == ("answer", "chen") and blocks[-1].attribution == "doubtful"


def test_another_speaker_without_a_name_ends_the_stretch() -> None:
    blocks = attribute("陈思远认为，泡沫还没有到来。", "论坛上，另一位讲者则持相反意见，指市场已经过热。")
    assert who(blocks) == [("reported", "chen"), ("narration", None)]


def test_a_question_to_the_reader_is_not_a_heading() -> None:
    blocks = attribute("陈思远认为，泡沫还没有到来。", "你同意他的看法吗？", "公司成立于2017年。")
    assert who(blocks)[1] == ("narration", None)


def test_an_interviewee_asking_back_is_still_reported() -> None:
    blocks = attribute("陈思远反问道：“如果不做，谁来做？”")
    assert who(blocks) == [("reported", "chen")]


def test_the_host_asking_a_named_person_is_not_his_words() -> None:
    blocks = attribute(
        "陈思远认为，开源模型会越来越强。",
        "在节目中，主持人问陈思远是否担心被巨头抄袭。",
        "主持人随后追问：“那技术就不重要了吗？”",
        "“当然重要，但技术会过时，信任不会。”陈思远说。",
        "他举了一个例子：",
        "一家做法律AI的公司，光是清洗数据就花了八个月。",
    )
    assert who(blocks) == [
        ("reported", "chen"),
        ("narration", None),
        ("question", None),
        ("reported", "chen"),
        ("lead-in", None),
        ("reported", "chen"),
    ]


def test_numbered_generic_labels() -> None:
    document = Document(id="t", path="t.txt", title="t", interviewees=("chen",), interviewers=("he",))
    blocks = attribute("Q1：为什么？", "陈思远：因为。", "Q2：还有呢？", "A2：没有了。", document=document)
    assert who(blocks) == [("question", "he"), ("answer", "chen"), ("question", "he"), ("answer", "chen")]


def test_wrapped_turn_labels() -> None:
    blocks = attribute("【何雨】：为什么？", "**陈思远**：因为。")
    assert who(blocks) == [("question", "he"), ("answer", "chen")]


@pytest.mark.parametrize(
    "other",
    [
        "黄仁勋此前也表示，AI工厂将成为新的基础设施。",
        "埃隆·马斯克则在X上发帖称，这家公司已经偏离了初衷。",
        "对此，Jensen Huang曾表示，算力是新的石油。",
        "据The Information报道，公司正在筹备新一轮融资。",
    ],
)
def test_somebody_the_corpus_does_not_know_ends_the_stretch(other: str) -> None:
    blocks = attribute("陈思远坦言，公司曾经差点倒闭。", other, "那一年我们只剩三个人。")
    assert who(blocks) == [("reported", "chen"), ("narration", None), ("narration", None)]


@pytest.mark.parametrize(
    "own",
    ["就像人们认为的那样，硬件很难。", "就是说，我们没有退路。", "我们认为这会改变一切。", "AI会说话，也会写代码。"],
)
def test_his_own_words_that_mention_saying_stay_his(own: str) -> None:
    blocks = attribute("陈思远坦言，公司曾经差点倒闭。", own)
    assert who(blocks) == [("reported", "chen"), ("reported", "chen")]


@pytest.mark.parametrize(
    "label",
    ["深澜CEO 陈思远：", "**陈思远：**", "[00:12:30] 陈思远：", "主持人（何雨）：", "创始人陈思远（Chen Siyuan）："],
)
def test_turn_labels_in_other_shapes(label: str) -> None:
    # The ingest removes a timestamp (strip_markers) before structure sees the line.
    blocks = attribute("何雨：你们怎么活下来的？", strip_markers(label) + "靠调度软件。")
    expected = ("question", "he") if "何雨" in label else ("answer", "chen")
    assert who(blocks)[1] == expected and blocks[1].text == "靠调度软件。"


def test_he_after_somebody_unknown_is_not_the_last_known_person() -> None:
    blocks = attribute(
        "陈思远坦言，公司曾经差点倒闭。",
        "黄仁勋此前也表示，他认为AI工厂将成为新的基础设施。",
        "他说，这是新的工业革命。",  # 他 is 黄仁勋, whom the corpus does not know
        "“我们会一直买下去。”",
    )
    assert who(blocks) == [("reported", "chen"), ("narration", None), ("narration", None), ("narration", None)]


def test_items_of_a_list_nobody_announced_are_whoever_each_item_says() -> None:
    blocks = attribute(
        "划重点：",
        "1. 陈思远认为，算力是未来十年最重要的资源。",
        "2. 黄仁勋表示，AI工厂是新的基础设施。",
        "3. 他还透露，产能已经排到了明年。",
        "4. 宋岚提到，企业客户增长很快。",
        "5. 她还说，明年收入会翻倍。",
    )
    assert who(blocks) == [
        ("narration", None),
        ("reported", "chen"),
        ("narration", None),
        ("narration", None),
        ("reported", "song"),
        ("reported", "song"),
    ]


def test_both_of_them_is_nobody_in_particular() -> None:
    blocks = attribute("宋岚透露，客户数翻了三倍。", "两人都提到了能源问题。")
    assert who(blocks) == [("reported", "song"), ("narration", None)]


def test_the_end_of_the_interview_is_the_narrator_even_inside_a_turn() -> None:
    blocks = attribute("何雨：最后一个问题？", "陈思远：没有了。", "访谈的最后，陈思远还谈起了自己的育儿经历。")
    assert who(blocks)[-1] == ("narration", None)


def test_an_answer_that_ends_by_quoting_a_question_does_not_make_an_interviewer() -> None:
    texts = [
        "宋岚透露，企业客户的数量翻了三倍。",
        "问：企业客户最担心什么？",
        "宋岚：数据安全。每个大客户问的第一个问题都是：我们的数据会不会被拿去训练？",
    ]
    lines = [Line(number=n, text=t) for n, t in enumerate(texts, 1)]
    undescribed = Document(id="u", path="u.txt", title="u")
    interviewees, interviewers = Attributor(undescribed, SPEAKERS).infer_roles(lines)
    assert "song" in interviewees and "song" not in interviewers


def test_an_outlet_that_asks_is_a_turn_of_its_own_not_the_last_answer() -> None:
    blocks = attribute(
        "36氪：你们今年最重要的目标是什么？",
        "陈思远：把产能翻一倍。",
        "36氪：那安全呢？",  # not 陈思远's answer going on
        "陈思远：安全和产能是一起进步的。",
    )
    assert who(blocks) == [("question", None), ("answer", "chen")] * 2
    assert blocks[2].text == "那安全呢？"


def test_a_speech_verb_before_a_colon_is_no_outsiders_label() -> None:
    blocks = attribute("陈思远：把产能翻一倍。", "他表示：我们会继续。", "他表示：明年会更好。")
    assert who(blocks) == [("answer", "chen")] * 3


def test_this_ceo_is_the_person_just_spoken_of() -> None:
    blocks = attribute(
        "陈思远坦言，公司曾经差点倒闭。",
        "这位深澜掌门人还透露，明年会开放调度系统。",
        "黄仁勋也表示，需求很旺。",
        "这位英伟达CEO认为，AI工厂是未来。",  # 黄仁勋, whom the corpus does not know
    )
    assert who(blocks) == [("reported", "chen"), ("reported", "chen"), ("narration", None), ("narration", None)]


def test_a_colon_after_what_somebody_thinks_hands_him_the_list() -> None:
    blocks = attribute(
        "陈思远坦言，公司曾经差点倒闭。", "对于广告，他的态度也发生了变化：", "- 广告不是不能做；", "- 但必须非常小心。"
    )
    assert who(blocks) == [("reported", "chen"), ("lead-in", None), ("reported", "chen"), ("reported", "chen")]


def test_a_colon_the_article_speaks_hands_nobody_anything() -> None:
    blocks = attribute("陈思远坦言，公司曾经差点倒闭。", "值得一提的是，陈思远的履历如下：", "- 2015年创业；")
    assert who(blocks)[1:] == [("lead-in", None), ("narration", None)]


def test_a_colon_before_the_articles_story_about_him_is_no_lead_in() -> None:
    blocks = attribute("陈思远坦言，公司曾经差点倒闭。", "陈思远的创业故事要从2015年说起：", "那一年，他在车间当学徒。")
    assert who(blocks)[1:] == [("narration", None), ("narration", None)]
