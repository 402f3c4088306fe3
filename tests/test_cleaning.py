"""Each cleaning rule, on real lines of the seeds."""

from __future__ import annotations

import pytest

from quotecore.cleaning import (
    OMISSION,
    close_list_item,
    furniture_reason,
    garbled_spans,
    repair_garbled,
    strip_emoji_tags,
    strip_html,
    strip_markers,
    strip_pinyin,
)
from quotecore.config import CoreConfig
from quotecore.ingest import load_document
from quotecore.text import clean_chars, search_form, to_simplified
from tests.conftest import CONFIG, SEEDS

SEED0 = (SEEDS / "000_db0142c2bbde2aab.txt").read_text(encoding="utf-8").splitlines()
SEED1 = (SEEDS / "001_0d9c3300cbf463b9.txt").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (SEED0[0], "font-size widget"),
        (SEED0[101], "pagination"),
        (SEED0[102], "pagination"),
        (SEED0[106], "comment box"),
        (SEED0[110], "character counter"),
        (SEED0[111], "copyright footer"),
        (SEED0[112], "page timing"),
        (SEED1[13], "image caption"),
        (SEED1[12], "no text"),
    ],
)
def test_page_furniture_is_recognised(line: str, reason: str) -> None:
    found = furniture_reason(clean_chars(line))
    assert found is not None and reason in found, (line, found)


def test_content_lines_are_not_furniture() -> None:
    content = [clean_chars(ln) for ln in SEED0[5:100] if ln.strip()]
    assert content and all(furniture_reason(ln) is None for ln in content)


def test_pinyin_annotations_are_removed() -> None:
    title, removed = strip_pinyin(SEED1[0])
    assert title == "OpenAI奧特曼認錯:我天生不適合管理公司"
    assert removed == 2


def test_real_parentheses_survive_pinyin_removal() -> None:
    line, _ = strip_pinyin(SEED1[2])
    assert "(入股AMD、獲得英偉達千億美元投資等等)" in line
    ambient, _ = strip_pinyin(next(ln for ln in SEED1 if "ambiently" in ln))
    assert "(ambiently aware)" in ambient
    doge, _ = strip_pinyin(SEED1[5])
    assert "(doge)" in doge and "(" not in doge.replace("(doge)", "")


def test_no_pinyin_is_left_anywhere(service) -> None:
    for passage in service.snapshot.passages:
        assert not any(c in passage.text for c in "āáǎàēéěèīíǐìōóǒòūúǔù"), passage.text


@pytest.mark.parametrize("needle", ["?cè)偃フ務揂GI", "因?yàn)橐曨l", "?yàn)樗麑", "們?cè)僖膊粫"])
def test_garbled_runs_are_detected_and_cut(needle: str) -> None:
    line = next(strip_pinyin(ln)[0] for ln in SEED1 if needle in strip_pinyin(ln)[0])
    assert garbled_spans(line)
    cleaned = repair_garbled(line)
    assert cleaned.repaired and not cleaned.dropped
    assert needle not in cleaned.text and not garbled_spans(cleaned.text)


def test_garbled_sentences_never_reach_a_passage(service) -> None:
    for passage in service.snapshot.passages:
        assert not garbled_spans(passage.text), passage.text
        assert "\ufffd" not in passage.text


def test_clean_sentences_around_garbage_are_kept() -> None:
    mixed = "他说得很好。因?yàn)橐曨l比文本有更多的情感共鸣。最后一句。"
    cleaned = repair_garbled(mixed)
    # "因" is half of the broken "因为": it goes with the run, and an omission mark shows the cut.
    assert cleaned.text == f"他说得很好。{OMISSION}比文本有更多的情感共鸣。最后一句。"
    assert cleaned.repaired[0].reason.startswith("garbled")
    assert len(cleaned.sentences) == 3  # the omission mark does not end a sentence


def test_a_clause_with_too_little_left_goes_whole() -> None:
    cleaned = repair_garbled("我们讨论了很多,?cè)偃フ,然后结束了。")
    assert cleaned.text == "我们讨论了很多,然后结束了。"


def test_a_sentence_with_nothing_readable_left_is_dropped() -> None:
    cleaned = repair_garbled("好的。?cè)偃フ務揂。")
    assert cleaned.text == "好的。" and cleaned.dropped and not cleaned.repaired


def _passage_of_line(service, doc_path: str, line: int):
    doc = next(d for d in service.snapshot.documents.values() if d.path == doc_path)
    found = [p for p in service.snapshot.passages if p.doc_id == doc.id and p.line == line]
    assert len(found) == 1, found
    return found[0]


SEED1_PATH = "001_0d9c3300cbf463b9.txt"


def test_line_33_the_chatgpt_sentence_is_repaired(service) -> None:
    text = _passage_of_line(service, SEED1_PATH, 33).text
    assert text.startswith("就像人们认为ChatGPT与AGI关联不大一样")
    assert f"当人们{OMISSION}时,不会直接说“这不会发生”" in text and text.endswith("它对启迪心智非常重要。")


def test_line_39_the_video_bullet_is_repaired(service) -> None:
    text = _passage_of_line(service, SEED1_PATH, 39).text
    assert text == f"让世界迅速了解视频发展方向非常重要,{OMISSION}比文本有更多的情感共鸣。"


def test_line_58_the_only_quote_about_reasoning_models_is_back(service) -> None:
    passage = _passage_of_line(service, SEED1_PATH, 58)
    assert passage.text.startswith(f"当我们获得推理模型的突破时,我当时也认为我们{OMISSION}有那样的突破了。")
    assert (passage.kind, passage.speaker_id) == ("reported", "altman")


def test_line_65_never_so_confident_is_back(service) -> None:
    passage = _passage_of_line(service, SEED1_PATH, 65)
    assert passage.text.endswith(f"。{OMISSION}摆在其面前的研究路线图,以及使用这些模型将带来的经济价值“从未如此自信”。")
    assert (passage.kind, passage.speaker_id) == ("reported", "altman")


def test_stats_list_every_repair_with_its_line(service) -> None:
    repairs = [d for d in service.stats().drops if d.action == "repaired"]
    assert sorted((d.path, d.line) for d in repairs) == [(SEED1_PATH, n) for n in (33, 39, 58, 65)]
    assert all(d.reason.startswith("garbled") and "[cut:" in d.text for d in repairs)


def test_stats_list_what_was_dropped_and_why(service) -> None:
    reasons = {d.reason for d in service.stats().drops}
    assert any(r.startswith("garbled") for r in reasons)
    assert any("copyright" in r for r in reasons)
    assert all(d.line > 0 and d.path.endswith(".txt") for d in service.stats().drops)


def test_nfc_and_invisible_characters() -> None:
    assert clean_chars("cafe\u0301") == "café"
    assert clean_chars("a\u202eb\u200bc\x07d\ufeff") == "abcd"
    assert clean_chars("  two   spaces\u3000here ") == "two spaces here"


def test_traditional_becomes_simplified_and_original_is_kept(service) -> None:
    passage = next(p for p in service.snapshot.passages if "英伟达千亿美元投资" in p.text)
    assert passage.original is not None and "英偉達千億美元投資" in passage.original
    assert to_simplified("計算資源") == "计算资源"
    assert search_form("ＧＰＴ－５ Sora") == "gpt-5 sora"


def test_page_furniture_never_becomes_a_passage(service) -> None:
    texts = [p.text for p in service.snapshot.passages]
    for junk in ("字号", "共3 页", "还没有人评论", "还可输入", "all rights reserved", "is seconds", "△"):
        assert not any(junk in t for t in texts), junk


# -- quote residue ------------------------------------------------------------------------------


def test_no_served_quote_carries_residue(service) -> None:
    """Every passage: no emoji tag, no list separator at its end, no character t2s left traditional."""
    for passage in service.snapshot.passages:
        assert strip_emoji_tags(passage.text) == passage.text, passage.text
        assert not passage.text.endswith((";", "；", ",", "，", "、")), passage.text
        assert to_simplified(passage.text) == passage.text, passage.text
        assert "紧接著" not in passage.text


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("甚至还自言“我天生不适合”(doge)。", "甚至还自言“我天生不适合”。"),
        ("言语之中不乏苦笑无奈(手动狗头)。", "言语之中不乏苦笑无奈。"),
        ("太难了[允悲]", "太难了"),
        ("真的吗（滑稽）？", "真的吗？"),
        ("好消息🎉!", "好消息!"),
        ("环境感知(ambiently aware)硬件", "环境感知(ambiently aware)硬件"),  # a real parenthesis stays
        ("AGI(通用人工智能)。", "AGI(通用人工智能)。"),
    ],
)
def test_emoji_tags_are_removed_by_pattern(text: str, clean: str) -> None:
    assert strip_emoji_tags(text) == clean


@pytest.mark.parametrize(
    ("item", "closed"),
    [
        ("人们喜欢Sora;", "人们喜欢Sora。"),
        ("第一，", "第一。"),
        ("已经结束。", "已经结束。"),
        ("说法如下:", "说法如下:"),
    ],
)
def test_list_items_end_as_sentences(item: str, closed: str) -> None:
    assert close_list_item(item) == closed


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("緊接著", "紧接着"),
        ("隨著時間", "随着时间"),
        ("看著他", "看着他"),
        ("著名", "著名"),
        ("顯著", "显著"),
        ("乾淨", "干净"),
        ("甚麼", "什么"),
        ("祇有", "只有"),
        ("神祇", "神祇"),
    ],
)
def test_characters_t2s_leaves_traditional(traditional: str, simplified: str) -> None:
    assert to_simplified(traditional) == simplified


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("责任编辑：王晓明", "byline"),
        ("（编辑 张三）", "byline"),
        ("作者 | 李四", "byline"),
        ("分享到：", "share widget"),
        ("微信 微博 QQ空间", "share widget"),
        ("点赞 12 收藏 转发", "share widget"),
        ("2025-03-18 09:12 来源：新智周刊", "dateline"),
        ("首页 > 科技 > 正文", "breadcrumb"),
        ("未经授权，禁止转载", "copyright"),
        ("相关阅读", "related links"),
        ("分享：", "share widget"),
        ("打开APP阅读全文", "share widget"),
        ("声明：该文观点仅代表作者本人", "disclaimer"),
        ("（完）", "end mark"),
        ("本文为36氪原创，转载请联系授权。", "copyright"),
        ("（編輯：陳小明）", "byline"),
        ("鱼羊 发自 凹非寺", "byline"),
        ("量子位 | 公众号 QbitAI", "byline"),
        ("新智元报道", "byline"),
        ("点击关注新智元，获取更多AI前沿资讯", "follow prompt"),
        ("一键关注 👇 点亮星标", "follow prompt"),
        ("点个「在看」，分享给更多朋友吧", "follow prompt"),
        ("本文来自微信公众号“量子位”（ID：QbitAI），作者：鱼羊，36氪经授权发布。", "republication"),
        ("参考资料：", "related links"),
        ("References", "related links"),
        ("[1] https://example.com/a", "link"),
        ("https://example.com/a?b=c", "link"),
        ("▲ 图片来源：视觉中国", "image caption"),
        ("图｜OpenAI官网", "image caption"),
        ("（图源：网络）", "image caption"),
        ("文｜张三", "byline"),
        ("平台声明：该文观点仅代表作者本人，搜狐号系信息发布平台，搜狐仅提供信息存储空间服务。", "disclaimer"),
        (
            "特别声明：以上内容(如有图片或视频亦包括在内)为自媒体平台“网易号”用户上传并发布，本平台仅提供信息存储服务。",
            "disclaimer",
        ),
        ("原创 鱼羊 量子位 2025年10月21日 12:30 北京", "WeChat"),
        ("收录于合集 #AI 12个", "WeChat"),
        ("（本文首发于钛媒体APP）", "republication"),
        ("欢迎添加小助手微信，加入读者群", "follow prompt"),
        ("作者简介：张三，资深科技记者，关注人工智能。", "author box"),
        ("全文约3200字，建议阅读8分钟", "reading time"),
        ("广告", "advertisement"),
        ("阅读 1.2万", "counter"),
        ("首页 | 新闻 | 科技 | 财经", "navigation"),
        ("腾讯科技 2025-11-02 08:30", "dateline"),
        ("新智周刊 2025年3月18日", "dateline"),
        ("微信扫一扫关注该公众号", "WeChat"),
        ("：，。视频小程序赞，轻点两下取消赞在看，轻点两下取消在看分享留言收藏", "WeChat"),
    ],
)
def test_more_page_furniture(line: str, reason: str) -> None:
    found = furniture_reason(clean_chars(line))
    assert found is not None and reason in found, (line, found)


@pytest.mark.parametrize(
    "line",
    [
        "本文根据节目内容整理，有删节。",
        "作者认为这是一个转折点，原因有三。",
        "微信支付的负责人表示，明年会更好。",
        "关注用户的需求是我们的首要任务。",
        "点赞最多的评论是一句玩笑。",
        "他把这个故事分享给了朋友。",
        "报道称，OpenAI 正在筹备新一轮融资。",
        "参考资料很多，但我们只信自己的数据。",
        "他发来一个链接 https://example.com，说这就是答案。",
        "原创内容是我们的核心，2025年我们会加倍投入。",
        "知道了这些，你就明白我们为什么这么做。",
        "声明发布后，股价上涨了10%。",
        "加入OpenAI之前，我在Stripe工作。",
        "广告是我们不会轻易碰的商业模式。",
        "阅读让我学会了提问。",
        "AI | 奥特曼 | 专访",
    ],
)
def test_content_that_looks_like_furniture_is_kept(line: str) -> None:
    assert furniture_reason(clean_chars(line)) is None


@pytest.mark.parametrize(
    ("line", "clean"),
    [
        ("[00:12:30] Altman: 我认为", "Altman: 我认为"),
        ("（12:30）主持人：你好", "主持人：你好"),
        ("01:02:03 陈墨：是的", "陈墨：是的"),
        ("> 储能不是卖电池，是卖调度。", "储能不是卖电池，是卖调度。"),
        ("**一、关于算力**", "一、关于算力"),
        ("**Sam Altman：**短期内不会。", "Sam Altman：短期内不会。"),
        ("我们**绝不**做广告", "我们绝不做广告"),
        ("2**3 = 8", "2**3 = 8"),
        ("10:30，发布会开始。", "10:30，发布会开始。"),
        ("2:1 的比分", "2:1 的比分"),
    ],
)
def test_transcript_marks_before_a_paragraph_are_removed(line: str, clean: str) -> None:
    assert strip_markers(line) == clean


@pytest.mark.parametrize(
    ("line", "clean"),
    [("我認（rèn）為", "我認為"), ("認(ren4)為", "認為"), ("聯(lian2)合", "聯合")],
)
def test_pinyin_in_full_width_parentheses_or_with_tone_numbers_is_removed(line: str, clean: str) -> None:
    assert strip_pinyin(line)[0] == clean


@pytest.mark.parametrize("line", ["推理模型(o1)很贵", "模型(v1)", "版本(gpt4)", "公司（a）"])
def test_model_names_in_parentheses_are_not_pinyin(line: str) -> None:
    assert strip_pinyin(line) == (line, 0)


@pytest.mark.parametrize("dot", ["・", "•", "‧", "･"])
def test_a_name_dot_typed_another_way_is_the_alias_dot(dot: str) -> None:
    assert clean_chars(f"萨姆{dot}奥尔特曼：你好") == "萨姆·奥尔特曼：你好"
    assert clean_chars(f"{dot} 要点") == f"{dot} 要点"  # a bullet stays a bullet


def test_the_title_of_a_traditional_page_has_no_pinyin_and_is_no_passage(tmp_path) -> None:
    page = tmp_path / "mirror.txt"
    page.write_text("奧特曼專訪：ChatGPT要做成操作系統(tǒng)\n\n他表示，GPT-6會(huì)在明年推出。\n", encoding="utf-8")
    loaded = load_document(page, None, CoreConfig.load(CONFIG))
    assert loaded.document.title == "奥特曼专访：ChatGPT要做成操作系统"
    assert [p.text for p in loaded.passages] == ["他表示，GPT-6会在明年推出。"]


@pytest.mark.parametrize(
    ("line", "clean"),
    [
        ("<p>奥特曼表示，算力是瓶颈。</p>", "奥特曼表示，算力是瓶颈。"),
        ('<span style="color:red">重点</span><br/>', "重点"),
        ("&#8220;我们不会做广告&#8221;", "“我们不会做广告”"),
        ("AT&T 和 OpenAI", "AT&T 和 OpenAI"),
        ("a<b 且 c>d", "a<b 且 c>d"),
    ],
)
def test_html_a_page_copy_keeps_is_taken_out(line: str, clean: str) -> None:
    assert clean_chars(strip_html(line)) == clean
