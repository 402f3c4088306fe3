"""Line-level cleaning: page furniture out, pinyin annotations out, garbled sentences found.

The seed files stay exactly as published; every rule that makes them quotable lives here, so the
next article an admin drops in is cleaned the same way. Each rule is a regular expression with a
reason string, because `quotebot stats` reports every dropped line with the rule that dropped it.
A garbled run is cut out of its sentence rather than losing the sentence (`repair_garbled`), and
quote residue (emoji tags, list punctuation) is tidied by rules named after the pattern they fix.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass

from quotecore.text import LEFT_TRADITIONAL, NAME_DOTS, to_simplified

#: Bump when a rule here changes what a line cleans to (the document cache key includes it).
CLEANING_VERSION = "5"

# --- page furniture -------------------------------------------------------------------------------

_PAGES, _COMMENTS, _CAPTION = "furniture: pagination", "furniture: comment box", "furniture: image caption"
_SHARE, _LINKS = "furniture: share widget", "furniture: related links"
END_MARK = "furniture: end mark"

_FURNITURE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^字号\s*[:：]"), "furniture: font-size widget"),
    (re.compile(r"^[•·]?\s*\|?\s*共\s*\d+\s*页"), "furniture: pagination"),
    (re.compile(r"^[•·]\s*\d{1,3}$"), "furniture: pagination"),
    (
        re.compile(r"^(上一页|下一页|上一篇|下一篇|首页|尾页|返回顶部|返回首页)(\s*[:：].{0,40})?$"),
        "furniture: pagination",
    ),
    (
        re.compile(r"^(还没有人评论|暂无评论|发表评论|我要评论|查看评论|网友评论|全部评论|写评论)"),
        "furniture: comment box",
    ),
    (re.compile(r"^还可输入\s*\d+\s*个?字"), "furniture: character counter"),
    (re.compile(r"^(©|\(c\)|copyright\b)|all rights reserved", re.I), "furniture: copyright footer"),
    (
        re.compile(
            r"^(版权所有|版权声明|免责声明|未经(授权|许可)|(本文)?(禁止|谢绝)转载|转载请(注明|联系))"
            r"|^本文(为|系).{0,20}原创.{0,20}$"
        ),
        "furniture: copyright footer",
    ),
    (re.compile(r"^\d+(\.\d+)?\s*(is\s*)?(seconds?|秒)$|^(页面执行时间|processed in)", re.I), "furniture: page timing"),
    (re.compile(r"^[△▲]"), "furniture: image caption"),
    (
        re.compile(
            r"^(图|图片|题图|配图|图源|图片来源)\s*[:：丨|｜/]\s*.{0,40}$|^[（(](图|图片|图源|图片来源)\s*[:：/｜|]"
        ),
        "furniture: image caption",
    ),
    # "责任编辑：王五", "(编辑 张三)", "作者 | 李四", "文/赵六": a label, a name, nothing quotable.
    (
        re.compile(
            r"^[(（\[【]?\s*(责任编辑|责编|编辑|作者|记者|撰文|文|校对|审核|审校|主编|编审|出品人?|策划|统筹|"
            r"来源|原标题|本文来源|翻译|编译|排版|实习生)\s*[:：|丨｜/]\s*[^。！？!?]{0,40}$"
        ),
        "furniture: byline",
    ),
    (re.compile(r"^[(（\[【]\s*(责任编辑|责编|编辑|作者|记者)\s*[^。！？!?]{1,30}[)）\]】]$"), "furniture: byline"),
    # "鱼羊 发自 凹非寺", "量子位 | 公众号 QbitAI", "新智元报道", "机器之心编辑部": who wrote it, where.
    (
        re.compile(
            # A length test first: content lines are long, and fail it at once.
            r"^(?=.{0,50}$)([^。，,！？!?\s]{1,12}(\s+[^。，,！？!?\s]{1,12}){0,2}\s+发自\s*\S{1,12}"
            r"|[^。，,！？!?]{1,20}\s*[|丨｜]\s*公众号\s*[\w-]{0,20}|[\w-]{2,8}(报道|编辑部))$"
        ),
        "furniture: byline",
    ),
    # Share widgets: "分享到：", "微信 微博 QQ空间", "点赞 12 收藏 转发".
    (
        re.compile(r"^(分享到|分享至|一键分享|转发到|扫一扫|扫码|长按识别|长按二维码|打开微信)"),
        "furniture: share widget",
    ),
    (re.compile(r"^(分享|点击分享|举报|反馈|收藏本文)\s*[:：]?\s*$|^(打开|下载|安装).{0,8}(APP|客户端)", re.I), _SHARE),
    (re.compile(r"^(点击|欢迎|长按)?关注(我们|公众号)|^更多精彩(内容)?|^返回.{0,6}查看更多"), _SHARE),
    # A newsletter's call to follow it: "点击关注新智元", "一键关注 点亮星标", "点个「在看」", short lines only.
    (
        re.compile(
            r"^(?=.{0,40}$)((点击|欢迎|长按|记得|一键|戳)(上方|下方|下面|这里)?(蓝字|卡片|名片)?\s*(关注|订阅|星标|置顶)"
            r"|点[个亮]\s*[「“\"]?(在看|赞|星标)|点[「“\"]在看|.*(点亮|设为|标为)星标|.*(分享|转发)给更多)"
        ),
        "furniture: follow prompt",
    ),
    # Republished from elsewhere: "本文来自微信公众号“量子位”（ID：QbitAI），作者：鱼羊，36氪经授权发布。"
    (
        re.compile(r"^[（(]?本文(来自|来源于|转载自|转自|经授权转载|由.{1,20}授权|首发于|首发自)"),
        "furniture: republication notice",
    ),
    (re.compile(r"^(欢迎)?(添加|加入).{0,10}(微信|社群|交流群|读者群)"), "furniture: follow prompt"),
    (re.compile(r"^(作者简介|关于作者)\s*[:：]"), "furniture: author box"),
    (re.compile(r"^(全文|本文)(约|共)?\s*[\d,]+\s*字"), "furniture: reading time"),
    (re.compile(r"^(广告|推广|赞助)$"), "furniture: advertisement"),
    # "阅读 1.2万", "点赞数：35": a counter alone on its line.
    (
        re.compile(r"^(阅读|浏览|播放|点赞|评论|收藏|转发|在看)(量|数)?\s*[:：]?\s*[\d.,]+\s*[万wkK+]?$"),
        "furniture: counter",
    ),
    (
        re.compile(
            r"^(特别|平台|免责)?声明\s*[:：].{0,80}(仅代表|不代表|仅提供|信息存储)|^notice:\s*the content above", re.I
        ),
        "furniture: disclaimer",
    ),
    # A WeChat page copied whole: its header ("原创 鱼羊 量子位 2025年10月21日 12:30 北京") and controls.
    (
        re.compile(
            r"^原创\s+.{0,40}\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|^收录于(合集|话题)"
            r"|^(预览时标签不可点|微信扫一扫|继续滑动看下一个|向上滑动看下一个|轻触阅读原文|知道了$)"
        ),
        "furniture: WeChat page",
    ),
    (re.compile("轻点两下取消"), "furniture: WeChat page"),  # apart: unanchored, it is searched along the line
    (re.compile(r"^[（(]\s*完\s*[)）]$|^[-—]*\s*(END|完)\s*[-—]*$", re.I), END_MARK),
    (
        re.compile(
            r"^((微信|微博|QQ空间|QQ|朋友圈|豆瓣|抖音|复制链接|更多|点赞|收藏|转发|在看|分享|评论|举报)"
            r"\s*\d*\s*[|/·、,，]?\s*){2,}$"
        ),
        "furniture: share widget",
    ),
    (
        re.compile(
            r"^(相关阅读|相关文章|相关新闻|推荐阅读|延伸阅读|热门推荐|热门文章|猜你喜欢|原文链接|阅读原文)"
            r"|^(参考资料|参考链接|参考文献|参考来源|references?)\s*[:：]?\s*$",
            re.I,
        ),
        "furniture: related links",
    ),
    # A bare link ("https://…", "[1] https://…"): an address is nobody's words.
    (re.compile(r"^(\[\d{1,3}\]|\d{1,3}[.、])?\s*(https?://|www\.)\S+$", re.I), "furniture: link"),
    (
        re.compile(
            r"^(当前位置|您的位置|你的位置)\s*[:：]|^[^。，,！？!?]{1,12}(\s*[>›»]\s*[^。，,！？!?]{1,12}){2,}$"
        ),
        "furniture: breadcrumb",
    ),
    # "首页 | 新闻 | 科技 | 财经": a site's menu, four short items or more.
    (
        re.compile(r"^(?=.{0,120}$)[^。，,！？!?|｜丨]{1,8}(\s*[|｜丨]\s*[^。，,！？!?|｜丨]{1,8}){3,}$"),
        "furniture: navigation",
    ),
    # A dateline: a date (and time, and a source or author) alone on its line.
    (
        re.compile(
            r"^\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(\s*\d{1,2}:\d{2}(:\d{2})?)?"
            r"(\s+[^。！？!?，,]{0,40})?$"
            # The outlet first: "腾讯科技 2025-11-02 08:30".
            r"|^[^。！？!?，,\d\s]{2,12}\s+\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(\s*\d{1,2}:\d{2}(:\d{2})?)?$"
        ),
        "furniture: dateline",
    ),
)

# A line with no letter, digit or Han character ("- ……", "——") carries nothing to quote.
_CONTENTLESS = re.compile(r"^[\W_]*$")


def furniture_reason(line: str) -> str | None:
    """Why this (already char-cleaned) line is page furniture, or None when it is content.

    The rules are written in simplified characters and also tried on the line's simplified form,
    so a traditional page's "（編輯：陳小明）" is a byline too.
    """
    forms = dict.fromkeys((line, to_simplified(line)))
    for pattern, reason in _FURNITURE:
        if any(pattern.search(form) for form in forms):
            return reason
    if _CONTENTLESS.match(line):
        return "furniture: no text"
    return None


# --- pinyin annotations ---------------------------------------------------------------------------

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_SYLLABLE = rf"[a-zü]{{0,5}}[{_TONED}][a-zü]{{0,5}}"
# A Han character immediately followed by "(toned-syllable)": 認(rèn) → 認. Real parentheses never
# hold a single toned Latin syllable, so "(入股AMD、獲得英偉達(dá)…)" and "(ambiently aware)" survive.
# Full-width parentheses and tone numbers ("認（ren4）") are the same annotation typed another way.
# A numbered syllable has an initial: "(o1)" and "(v1)" are model names, not pinyin.
_NUMBERED = r"[bcdfghjklmnpqrstwxyz]h?[iu]?[aeiouüv]{1,2}(?:n|ng|r)?[1-5]"
_PINYIN = re.compile(rf"(?<=[\u3400-\u9fff])[(（]({_SYLLABLE}|{_NUMBERED})[)）]")


def strip_pinyin(line: str) -> tuple[str, int]:
    """Remove pinyin annotations; return the line and how many were removed."""
    return _PINYIN.subn("", line)


# --- garbled runs ---------------------------------------------------------------------------------

_GARBLE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile("\ufffd"), "garbled: replacement character U+FFFD"),
    (
        re.compile(r"[\u3040-\u30ff](?=[\u3400-\u9fff])|(?<=[\u3400-\u9fff])[\u3040-\u30ff]"),
        "garbled: kana inside Chinese text",
    ),
    (re.compile(rf"\?{_SYLLABLE}\)?"), "garbled: '?' glued to pinyin"),
    (re.compile(rf"(?<![(\w]){_SYLLABLE}\)"), "garbled: broken pinyin annotation"),
    (re.compile(r"(?<=[\u3400-\u9fff])[a-z](?=[\u3400-\u9fff])"), "garbled: stray Latin letter"),
    (re.compile(r"[\ue000-\uf8ff]"), "garbled: private-use character"),
)


def garbled_spans(line: str) -> list[tuple[int, int, str]]:
    """(start, end, reason) of every garbled run in a line, in order."""
    spans = [(m.start(), m.end(), reason) for pattern, reason in _GARBLE_RULES for m in pattern.finditer(line)]
    return sorted(spans)


# --- sentences ------------------------------------------------------------------------------------

_TERMINATORS = "。!?！？;；…"
_CLOSERS = "”’\"')）」』】》"
#: The mark a repair leaves where it cut text out of a clause (an editor's omission mark).
OMISSION = "…"


def _ends_sentence(text: str, i: int) -> bool:
    """A terminator ends a sentence, except a lone '…' inside a clause (an omission, not a pause)."""
    if text[i] != "…":
        return True
    lone = (i == 0 or text[i - 1] != "…") and (i + 1 >= len(text) or text[i + 1] != "…")
    following = text[i + 1 : i + 2]
    return not (lone and following and following not in _TERMINATORS + _CLOSERS and not following.isspace())


def split_sentences(text: str, protected: list[tuple[int, int, str]] | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence: ends after 。!?; (and any closing quotes that follow).

    `protected` spans (garbled runs) never end a sentence: a '?' inside mojibake is not a question.
    """
    blocked = set()
    for start, end, _ in protected or ():
        blocked.update(range(start, end))
    bounds: list[tuple[int, int]] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        if text[i] in _TERMINATORS and i not in blocked and _ends_sentence(text, i):
            j = i + 1
            while j < n and j not in blocked and (text[j] in _TERMINATORS or text[j] in _CLOSERS):
                j += 1
            # A closing quote right after a terminator belongs to the sentence it closes.
            bounds.append((start, j))
            start = j
            i = j
            continue
        i += 1
    if start < n:
        bounds.append((start, n))
    return [(s, e) for s, e in _trim(text, bounds) if e > s]


def _trim(text: str, bounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for s, e in bounds:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        out.append((s, e))
    return out


def join_sentences(parts: list[str]) -> str:
    """Join sentences back together: no space between Chinese ones, one between Latin ones."""
    out = ""
    for part in parts:
        if out and out[-1] in ".!?;" and part[:1].isascii():
            out += " "
        out += part
    return out


# --- repairing garbled runs -----------------------------------------------------------------------

#: Marks that end a clause: a repair never reaches past them, and a broken clause goes up to them.
_CLAUSE_MARKS = set("，,、；;：:。！？!?“”「」『』（）()—")
#: Fewer content characters than this left in a clause (or a sentence) and it no longer reads.
_MIN_CLAUSE = 2
_MIN_SENTENCE = 4
_CONTENT = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")


def _is_suspect(char: str) -> bool:
    """A character mojibake produces and prose rarely uses.

    That is kana, or a Han character outside GB2312's 3,755 common characters (judged after t2s,
    so traditional text is measured by its simplified form).
    """
    if "\u3040" <= char <= "\u30ff":
        return True
    if not ("\u3400" <= char <= "\u9fff"):
        return False
    try:
        encoded = to_simplified(char).encode("gb2312")
    except UnicodeEncodeError:
        return True
    return encoded[0] >= 0xD8  # level 2: rare characters


def _garbled_runs(line: str) -> list[tuple[int, int, str]]:
    """Detected garbled spans merged into runs, widened over what mojibake leaves around them.

    Rare characters between and around the detected spans are mojibake too (one ordinary
    character may sit between two rare ones).
    """
    runs: list[list[int | str]] = []
    for start, end, reason in garbled_spans(line):
        if runs and start <= int(runs[-1][1]) + 3 and not _CLAUSE_MARKS & set(line[int(runs[-1][1]) : start]):
            runs[-1][1] = max(int(runs[-1][1]), end)
        else:
            runs.append([start, end, reason])
    out = []
    for start, end, reason in runs:
        s, e = int(start), int(end)
        while s > 0 and (
            _is_suspect(line[s - 1]) or (s > 1 and _is_suspect(line[s - 2]) and line[s - 1] not in _CLAUSE_MARKS)
        ):
            s -= 1
        while e < len(line) and (
            _is_suspect(line[e]) or (e + 1 < len(line) and _is_suspect(line[e + 1]) and line[e] not in _CLAUSE_MARKS)
        ):
            e += 1
        out.append((s, e, str(reason)))
    return out


#: First halves of two-character connectives (因为, 所以, 虽然, 尽管, 即使, …): left alone in front
#: of a cut, such a character is half a word, not a word.
_HALF_CONNECTIVES = frozenset("因所虽尽即假倘既况毕究")


def _widen_over_half_words(line: str, start: int, end: int) -> tuple[int, int]:
    """Widen a cut over the half-words it would leave behind.

    Latin letters glued to the cut are the rest of a broken word ("AGI" → "GI"), and the first
    half of a connective stranded between a clause mark and the cut goes with it ("因为" → "因").
    """
    while end < len(line) and line[end].isascii() and line[end].isalpha():
        end += 1
    while start > 0 and line[start - 1].isascii() and line[start - 1].isalpha():
        start -= 1
    stranded = start >= 1 and (start == 1 or line[start - 2] in _CLAUSE_MARKS)
    if stranded and line[start - 1] in _HALF_CONNECTIVES:
        start -= 1
    return start, end


def _clause_bounds(line: str, start: int, end: int) -> tuple[int, int]:
    """The clause around [start, end): from after the previous clause mark to after the next one."""
    lo = start
    while lo > 0 and line[lo - 1] not in _CLAUSE_MARKS:
        lo -= 1
    hi = end
    while hi < len(line) and line[hi] not in _CLAUSE_MARKS:
        hi += 1
    if hi < len(line) and line[hi] in "，,、；;：:":
        hi += 1  # the clause's own trailing comma goes with it
    return lo, hi


@dataclass(frozen=True, slots=True)
class Repair:
    """One garbled run taken out of a line: why, what was cut, and the sentence that survived."""

    reason: str
    cut: str
    result: str


def _cut_one(line: str, start: int, end: int) -> tuple[str, str]:
    """The line with one garbled run cut (an omission mark where words were lost), and what went."""
    start, end = _widen_over_half_words(line, start, end)
    lo, hi = _clause_bounds(line, start, end)
    left, right = line[lo:start], line[end:hi]
    if len(_CONTENT.findall(left + right)) < _MIN_CLAUSE:
        return line[:lo] + line[hi:], line[lo:hi]  # the broken clause goes whole
    return line[:start] + OMISSION + line[end:], line[start:end]


@dataclass(frozen=True, slots=True)
class CleanLine:
    """A content line after cleaning: the kept text, its sentences, and what was cut out."""

    text: str
    sentences: tuple[tuple[int, int], ...]
    dropped: tuple[tuple[str, str], ...]  # (reason, sentence text)
    repaired: tuple[Repair, ...] = ()


def repair_garbled(line: str) -> CleanLine:
    """Cut each garbled run out with the smallest span around it.

    A sentence survives when what is left of it still reads (a broken clause goes whole when too
    little of it is left), otherwise it is dropped; both are reported by `quotebot stats`.
    """
    runs = _garbled_runs(line)
    if not runs:
        return CleanLine(text=line, sentences=tuple(split_sentences(line)), dropped=())
    sentences = split_sentences(line, [(s, e, r) for s, e, r in runs])
    kept: list[str] = []
    dropped: list[tuple[str, str]] = []
    repaired: list[Repair] = []
    for s, e in sentences:
        inside = [(rs - s, re_ - s, reason) for rs, re_, reason in runs if rs < e and re_ > s]
        sentence = line[s:e]
        if not inside:
            kept.append(sentence)
            continue
        fixed, cuts = sentence, []
        for rs, re_, _ in reversed(inside):  # from the end, so earlier offsets stay valid
            fixed, cut = _cut_one(fixed, max(rs, 0), min(re_, len(fixed)))
            cuts.append(cut)
        fixed = _tidy_cut(fixed)
        if len(_CONTENT.findall(fixed)) < _MIN_SENTENCE or garbled_spans(fixed):
            dropped.append((inside[0][2], sentence))
            continue
        kept.append(fixed)
        repaired.append(Repair(reason=inside[0][2], cut=" / ".join(reversed(cuts)), result=fixed))
    text = join_sentences(kept)
    return CleanLine(
        text=text, sentences=tuple(split_sentences(text)), dropped=tuple(dropped), repaired=tuple(repaired)
    )


def _tidy_cut(text: str) -> str:
    """Punctuation a cut leaves doubled or dangling: ",," → ",", ",。" → "。", a leading comma."""
    text = re.sub(r"([，,、；;：:])\s*([，,、；;：:。！？!?])", r"\2", text)
    return re.sub(r"^[，,、；;：:\s]+", "", text)


# --- quote residue --------------------------------------------------------------------------------

#: Names of the emoji that Weibo, Bilibili and WeChat write as a bracketed tag ("(doge)", "[允悲]").
_EMOJI_NAMES = (
    "doge|dog|狗头|狗头保命|滑稽|捂脸|笑哭|允悲|二哈|吃瓜|摊手|微笑|偷笑|大笑|哭|泪|笑cry|憨笑|呲牙|斜眼笑|"
    "黑线|汗|无奈|思考|抱拳|旺柴|破涕为笑|苦笑|奸笑|doge脸|狗头笑|喵喵|阴险|白眼|机智|打脸|尴尬|可怜|"
    "哈哈|嘿嘿|呵呵|灵光一闪|翻白眼|抠鼻|doge保命"
)
#: An emoji tag: a bracketed emoji name, optionally "手动" (typed by hand), right after a word.
_EMOJI_TAG = re.compile(rf"\s?[(（\[【]\s*(?:手动)?(?:{_EMOJI_NAMES})\s*[)）\]】]", re.I)
#: Pictographic emoji characters (and their variation selector).
_EMOJI_CHAR = re.compile("[\U0001f300-\U0001faff\U00002600-\U000027bf\ufe0f]")
#: A list item's closing separator (";", "，", "、") where a sentence should end.
_LIST_END = re.compile(r"[;；,，、]+$")


def strip_emoji_tags(text: str) -> str:
    """Emoji tags and emoji characters out: they are the editor's wink, not anybody's words.

    Tags are found in the simplified form ("(手動狗頭)" is "(手动狗头)") and cut from the text as
    written; t2s maps character for character, so the offsets agree.
    """
    probe = to_simplified(text)
    if len(probe) != len(text):
        probe = text
    for match in reversed(list(_EMOJI_TAG.finditer(probe))):
        text = text[: match.start()] + text[match.end() :]
    return _EMOJI_CHAR.sub("", text)


#: What a transcript or a markdown copy puts before a paragraph: a timestamp ("[00:12:30]",
#: "(12:30)", "01:02:03 "), a blockquote's "> ". Unbracketed times need seconds: "10:30，发布会开始".
_MARKERS = re.compile(r"^(?:>\s*|[\[【(（]\d{1,2}:\d{2}(?::\d{2})?[\]】)）]\s*|\d{1,2}:\d{2}:\d{2}\s+)+")

#: At most this many lines after an end mark ("— 完 —") are the page's tail (follow prompts,
#: slogans, links) and dropped; more, and the file goes on with another piece, which is kept.
TAIL_LINES = 20


#: What a copy taken from a page's HTML keeps: inline tags ("<p>", "<br/>", "<strong>") and entities
#: ("&nbsp;", "&quot;", "&#8220;"), unescaped by `html.unescape`.
_TAGS = re.compile(
    r"</?(?:p|br|div|span|strong|b|em|i|u|section|blockquote|h[1-6]|li|ul|ol|font)\b[^<>\u3000-\u9fff]{0,200}>", re.I
)
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,7}|#x[0-9a-fA-F]{2,6});")


def strip_html(text: str) -> str:
    """A line without the inline HTML a page copy may keep; the line as it is when there is none."""
    if "<" in text:
        text = _TAGS.sub(" ", text)
    return html.unescape(text) if _ENTITY.search(text) else text


#: Markdown bold ("**一、关于算力**", "我们**绝不**做广告"): emphasis, not words.
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")


def strip_markers(text: str) -> str:
    """A paragraph without its leading timestamp or blockquote mark ("> [00:12:30] Altman: …"), nor bold marks."""
    return _BOLD.sub(r"\1", _MARKERS.sub("", text))


def close_list_item(text: str) -> str:
    """A bullet's trailing ';' (or ',' or '、') becomes '。': served alone, an item is a sentence."""
    return _LIST_END.sub("。", text) if _LIST_END.search(text) else text


def rules_fingerprint() -> str:
    """CLEANING_VERSION plus every rule's pattern: editing a rule changes the document cache key too."""
    patterns = [p.pattern for p, _ in (*_FURNITURE, *_GARBLE_RULES, *LEFT_TRADITIONAL)]
    patterns += [
        _EMOJI_TAG.pattern,
        _LIST_END.pattern,
        _MARKERS.pattern,
        _BOLD.pattern,
        _TAGS.pattern,
        _ENTITY.pattern,
        _PINYIN.pattern,
        NAME_DOTS.pattern,
        str(TAIL_LINES),
    ]
    digest = hashlib.blake2b(repr(patterns).encode(), digest_size=8).hexdigest()
    return f"{CLEANING_VERSION}-{digest}"
