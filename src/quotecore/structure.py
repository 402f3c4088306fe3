"""From clean lines to attributed passages: headings, Q&A turns, reported speech, narration.

Two document shapes meet here. A transcript labels each turn ("奥特曼:…") and unlabelled
paragraphs continue the last speaker. An article tells the interview in prose, and reported speech
there is a *stretch*, not a sentence: once a paragraph says whose words follow ("X表示…", "在他看来",
"X谈到了…", a lead-in ending in a colon), the paragraphs and bullets after it stay that person's
until the text turns back to the narrator (a heading, another named subject, an editorial line, a
question to the reader). Sentences that only describe what a person did ("他详细阐述了三大战略") are
narration, and a sentence that only announces what follows is a `lead-in`: the context of the quote
it introduces, never a quote itself. A labelled turn whose text names its own speaker in the third
person keeps its label but is marked `doubtful`.

Every rule is written for the genre, not for one article: the word lists below are Chinese speech
and stance verbs, connectives and editorial phrases, and every rule accepts half- and full-width
punctuation alike.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from quotecore.cleaning import close_list_item
from quotecore.models import Attribution, Document, Kind, Speaker
from quotecore.text import to_simplified

#: Bump when a rule here changes what a document's passages are (the document cache key includes it).
STRUCTURE_VERSION = "5"

# -- word lists --------------------------------------------------------------------------------

#: Verbs that report speech or a stated view. Stance verbs (认为, 相信, 担心) count: "他认为…" gives
#: his view. Verbs of doing ("发了一条帖子", "为主角") do not, so such sentences stay narration.
SPEECH_VERBS: tuple[str, ...] = (
    "表示",
    "说道",
    "解释说",
    "补充说",
    "开玩笑说",
    "笑称",
    "笑言",
    "坦言",
    "坦承",
    "坦诚",
    "承认",
    "指出",
    "强调",
    "解释",
    "回应",
    "回复",
    "回答",
    "答道",
    "透露",
    "预测",
    "预计",
    "预言",
    "补充",
    "认为",
    "觉得",
    "提到",
    "谈到",
    "谈及",
    "聊到",
    "谈起",
    "聊起",
    "说起",
    "提及",
    "自言",
    "阐述",
    "阐释",
    "引用",
    "直言",
    "感叹",
    "感慨",
    "回忆",
    "回想",
    "自曝",
    "以为",
    "意识到",
    "澄清",
    "坦白",
    "相信",
    "断言",
    "警告",
    "批评",
    "提醒",
    "建议",
    "称",
    "说",
    "表态",
    "宣称",
    "声称",
    "主张",
    "分享",
    "介绍",
    "描述",
    "形容",
    "总结",
    "给出",
    "提出",
    "重申",
    "呼吁",
    "展望",
    "判断",
    "估计",
    "评价",
    "反驳",
    "否认",
    "担心",
    "担忧",
    "希望",
    "坚信",
    "深信",
    "告诉",
    "写道",
    "提醒道",
    "举例",
    "举了一个例子",
    "举了个例子",
    "打了一个比方",
    "打了个比方",
    "打比方",
    "比喻",
    "观察到",
    "发现",
    "反思",
    "表达",
)
#: Verbs that ask: an interviewer's words announced this way are a `question`.
QUESTION_VERBS: tuple[str, ...] = ("问到", "问及", "问道", "提问", "追问", "发问", "疑惑", "反问", "好奇", "质疑", "问")
#: "在他看来", "在她的设想中", "据他介绍", "用她的话说": the view that follows is that person's.
_STANCE_FRAMES = (
    r"在({who})(?:的)?(?:看来|设想中|设想里|眼中|眼里|心中|心里|印象中|记忆中|理解中|构想中|判断中)",
    r"据({who})(?:介绍|所说|透露|回忆|解释|估计|判断|观察)",
    r"用({who})(?:自己)?的话(?:来)?说",
    r"({who})的(?:原话|说法|回答|观点|看法|解释|判断)是",
)
#: Nouns that make "X谈到了…的话题" a description of the conversation rather than X's words.
_TOPIC_NOUNS = (
    "话题|问题|议题|战略|策略|关系|转变|合作|看法|观点|想法|内容|故事|经历|趣事|细节|方面|领域|计划|愿景|事情|"
    "趋势|变化|挑战|机会|原因|理由|原则|心得|感受|体会|经验|历程|过往|近况|方向|布局|规划|目标|安排|角色|作用|"
    "地位|影响|意义|处境|困境|低谷|转折|往事|过程|情况|现状|进展|话|事"
)
#: Phrases with which the article speaks in its own voice: the stretch of reported speech ends.
_EDITORIAL = re.compile(
    r"导读|编者按|编者注|这(?:句|番)话|此话|值得一提|值得注意|该说不说|据悉|据了解|据报道|据介绍|资料显示|公开资料|不难看出|可以看出|由此可见|总的来说|"
    r"总而言之|笔者|小编|编者|有意思的是|有趣的是|众所周知|网友|热评|评论区|本文|本期|本次(?:节目|采访|对话)|"
    r"(?:根据|据).{0,40}整理|话题(?:转|回)到|话锋一转|让我们|我们来看|一起来看|下面(?:详细)?来看|节目(?:前|后|中|最后)|"
    r"(?:前|后)半段|(?:采访|访谈|对话)的?(?:最后|结束|结尾|尾声)|据[^，,。]{1,20}?(?:报道|消息|披露|援引|爆料)"
)
#: Narrator lines that only announce what follows ("以下为对话全文:", "下面详细来看——").
_ANNOUNCEMENT = re.compile(r"^(?:以下|下面|如下|接下来|全文如下|对话全文|访谈全文|采访全文|实录)")
#: Unknown people who speak: "网友…表示", "主持人…问到", "某分析师指出". Not anyone's quote here.
_OTHER_VOICES = (
    "网友|主持人|记者|笔者|小编|编者|分析师|专家|业内人士|知情人士|发言人|官方|评论员|研究员|投资人|观众|"
    "CEO|创始人|总裁|董事长|负责人|教授|媒体|外媒|同事|员工|朋友|高管|消息人士|合伙人|讲者|嘉宾|学者|"
    "经济学家|另一位|有人|不少人|两人|二人|三人|双方|两位"
)
#: Labels a transcript may use instead of names.
_ASKER_LABELS = r"(?:问|Q|提问|问题)\d{0,2}|记者|主持人"
_ANSWER_LABELS = r"(?:答|A|回答)\d{0,2}"
#: Second-person words that make a closing question one put to the reader.
_READER = re.compile(r"你|您|大家|各位|读者")

_MAX_GAP = 8  # characters allowed between subject and verb ("奥特曼还零零碎碎提到")
_BULLET = re.compile(r"^(?:[-•·▪◦●]|\*(?!\*)|\d{1,2}[.、)）]|[（(]\d{1,2}[)）])\s*")
_NUMBERED_HEADING = re.compile(
    r"^(?:0\d|第[一二三四五六七八九十\d]+[章节部分]|[一二三四五六七八九十]{1,3}[、.．])\s*(.+)$"
)
_MARKED_HEADING = re.compile(r"^(?:[▍■□◆▌#|｜]+\s*|【)([^】]+?)】?$")
_QUOTED_LINE = re.compile(r"^[“\"「『](.+)[”\"」』]$")
_CLAUSE_PUNCT = re.compile(r"[,，。;；:：!！]")
_SENTENCE_END = re.compile(r"[。！？!?；;]")
_QUOTES = re.compile(r"“[^”]*”|「[^」]*」|『[^』]*』|\"[^\"]*\"")
_ASIDES = re.compile(r"\([^()]*\)|（[^（）]*）")
#: A verb or preposition right before a name makes the name its object ("问张伟", "对他说", "向她").
_OBJECT_BEFORE = re.compile(r"(?:问|告诉|追问|提醒|向|对|给|跟|让|请|被|把|替)$")
#: The interviewer asking, unnamed: "主持人随后追问：“…？”".
_HOST_ASKS = re.compile(r"(?:主持人|记者|提问者|观众)[^。！？!?]{0,8}?(?:追问|问道|问到|提问|发问|问)[^。]*[?？]")
_COLON_END = re.compile(r"[:：]\s*$|——\s*$")
#: A turn that ends with a question (its closing quote after it, if any).
_ENDS_ASKING = re.compile(r"[?？][”」』\"]?\s*$")
#: What may open a paragraph before its subject, and stand between a subject and its verb.
_CONNECTIVES = "对此|此外|同时|另外|而|不过|但|然而|与此同时|另一方面"
_ADVERBS = "此前|之前|早前|曾经|曾|也|则|还|随后|同样|更是|就|都|亦|近日|日前|公开|一直"
#: Characters no name holds: punctuation, pronouns and demonstratives, 人 ("就像人们认为"), 是
#: ("就是说"), modal verbs ("AI会说话").
_NOT_A_NAME = "我你您他她它这那其人是会能要将可应"
#: A name: capitalised Latin words ("Jensen Huang"), or two to six Han characters ("埃隆·马斯克").
_NAME_LIKE = rf"[A-Z][A-Za-z.\-]+(?: [A-Z][A-Za-z.\-]+)*|(?:[^\W\d_A-Za-z{_NOT_A_NAME}]|·){{2,7}}?"
#: What a person has that a colon can announce: "他的态度也发生了变化：".
_VIEWS = re.compile(
    "态度|看法|观点|立场|回答|说法|原话|判断|建议|答案|解释|回应|表态|想法|理由|意见|推文|帖子|声明|结论|预测|解读|比喻"
)
#: Titles that may stand before a name in a turn label ("OpenAI CEO 奥特曼：", "a16z合伙人Erik：").
_TITLES = r"CEO|COO|CTO|CFO|总裁|创始人|主持人|合伙人|首席\w{1,4}官|董事长|负责人|主编|记者|研究员|科学家|嘉宾|主席"
_NOT_IN_TITLE = r"，,。：:！？!?“”\"（）()"
#: Any short label before a colon: "36氪：", "《财富》：", "【晚点】：". One the corpus does not know
#: is a turn only when the document repeats it (a transcript's interviewer is often the outlet).
_ANY_LABEL = re.compile(
    r"^(?:【|\*\*)?([^\s，,。：:；;！？!?“”\"（）()【】*]{1,10}?)(?:】|\*\*)?\s*[:：]\s*(?:\*\*\s*)?(?=\S)"
)
#: A transcript whose names stand alone on their lines has two at least (of two people).
_MIN_NAME_LINES = 2
_MAX_HEADING = 40


#: Nouns that begin with a one-character verb: "问题" is not "问", "说法" is not "说".
_NOT_A_VERB = {"问": "题卷", "说": "法服", "称": "号赞呼职"}


def _alternation(words: Iterable[str]) -> str:
    """Longest first, so "解释说" wins over "解释" and "说"."""
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        guard = _NOT_A_VERB.get(word)
        parts.append(f"{re.escape(word)}(?![{guard}])" if guard else re.escape(word))
    return "|".join(parts)


_SPEECH = _alternation(SPEECH_VERBS)
#: Verbs that can name a topic rather than say something ("谈到…的转变", "回应…的合作").
_TOPIC_VERBS = "谈到|谈起|谈及|聊到|聊起|说起|提到|提及|回应|阐述|介绍|分享|回忆"
_ASK = _alternation(QUESTION_VERBS)
_PRONOUN = r"(?<![其吉利排无])[他她](?![们們俩倆人国乡者方用日])"
#: "这位CEO", "这位OpenAI掌门人": the person just spoken of, as 他 is.
_THIS_ONE = r"这位[^，,。！？!?“”\s]{0,12}?(?:CEO|COO|CTO|创始人|掌门人|负责人|总裁|董事长|高管|老板|企业家)"


def rules_fingerprint() -> str:
    """STRUCTURE_VERSION plus the word lists: editing a list changes the document cache key too."""
    lists = (SPEECH_VERBS, QUESTION_VERBS, _STANCE_FRAMES, _TOPIC_NOUNS, _EDITORIAL.pattern, _OTHER_VOICES, _TITLES)
    lists += (
        _NOT_IN_TITLE,
        _MIN_NAME_LINES,
        _CONNECTIVES,
        _ADVERBS,
        _NAME_LIKE,
        _ANY_LABEL.pattern,
        _THIS_ONE,
        _BULLET.pattern,
        _VIEWS.pattern,
    )
    digest = hashlib.blake2b(repr(lists).encode(), digest_size=8).hexdigest()
    return f"{STRUCTURE_VERSION}-{digest}"


@dataclass(frozen=True, slots=True)
class Line:
    """A cleaned content line, ready for structure: simplified text plus where it came from."""

    number: int
    text: str
    original: str | None = None


@dataclass(frozen=True, slots=True)
class Block:
    """One future passage: text with its kind, speaker and topic decided."""

    line: Line
    text: str
    kind: Kind
    speaker_id: str | None
    topic: str | None
    attribution: Attribution = "certain"
    #: The lead-in that announced this passage (shown with it as context), if any.
    context: str | None = None


@dataclass(frozen=True, slots=True)
class Said:
    """One "X + verb" found in a sentence: who, how (content, framing, question), and where."""

    speaker: str
    mode: str  # "content": X's words follow; "framing": X did something with words; "question"
    end: int


@dataclass
class _State:
    """What the walk carries from one paragraph to the next."""

    topic: str | None = None
    turn: tuple[str, Kind] | None = None  # the labelled speaker whose turn continues
    stretch: tuple[str, Kind] | None = None  # the person whose reported words continue
    handoff: tuple[str | None, Kind, str] | None = None  # what a lead-in hands to what follows
    bullets: tuple[str | None, Kind, str | None] | None = None  # what a bullet list inherits
    last_named: str | None = None  # "" once somebody the corpus does not know spoke: 他 is nobody known


def _unquoted(text: str) -> str:
    """The text with quoted words and asides blanked out, keeping its length.

    A name inside quotes or parentheses ("(这是奥特曼提出的说法)", "(指奥特曼)") is not the
    subject of the sentence.
    """

    def blank(match: re.Match[str]) -> str:
        return match.group(0)[0] + "＿" * (len(match.group(0)) - 2) + match.group(0)[-1]

    return _ASIDES.sub(blank, _QUOTES.sub(blank, text))


def _sentences(text: str) -> list[str]:
    """Sentences of a paragraph, ending after 。!?; (quotes kept whole)."""
    out, start = [], 0
    masked = _unquoted(text)
    for match in _SENTENCE_END.finditer(masked):
        out.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        out.append(text[start:])
    return [s for s in out if s.strip()]


class Attributor:
    """Decides the structure of one document; built per document because roles differ per interview."""

    def __init__(self, document: Document, speakers: Iterable[Speaker]) -> None:
        self.document = document
        self._by_alias: dict[str, str] = {}
        for speaker in speakers:
            for alias in (speaker.name, speaker.name_en, *speaker.aliases):
                if alias:
                    self._by_alias[to_simplified(alias).casefold()] = speaker.id
        names = sorted(self._by_alias, key=len, reverse=True)
        label_re = "|".join(_bounded(n) for n in names) or r"(?!x)x"
        # A one-character alias ("林", "周") labels a turn but is never a mention in prose, where it
        # is part of other words ("森林", "一周").
        alias_re = "|".join(_bounded(n) for n in names if len(n) >= 2) or r"(?!x)x"
        self._alias = re.compile(alias_re, re.I)
        # "林知远:", "林：", "林知远（深澜CEO）：", "OpenAI CEO 山姆·奥特曼（Sam Altman）：", "主持人（Harry）：":
        # a name, perhaps its title before it and a role or a name in parentheses after it, a colon.
        role = r"(?:\s*[（(]([^（）()]{1,30})[)）])?"
        # "【林知远】：", "**林知远**：", "**林知远：**"
        wrap_open, wrap_close = r"(?:【|\[|\*\*)?", r"(?:】|\]|\*\*)?"
        title = rf"(?:(?:[^\s{_NOT_IN_TITLE}][^{_NOT_IN_TITLE}]{{0,20}}?)?(?:{_TITLES})\s*)?"
        self._label = re.compile(
            rf"^{wrap_open}{title}({label_re}|{_ASKER_LABELS}|{_ANSWER_LABELS}){wrap_close}{role}\s*[:：]\s*(?:\*\*\s*)?",
            re.I,
        )
        # A transcript may put the name alone on the line above the words ("Sam Altman" ⏎ "…").
        name_re = "|".join(_bounded(n) for n in names if len(n) >= 2) or r"(?!x)x"
        self._name_line = re.compile(rf"^{wrap_open}{title}({name_re}){wrap_close}{role}\s*$", re.I)
        who = rf"{alias_re}|{_PRONOUN}|{_THIS_ONE}"
        gap = rf"[^。!?！？;；“”\"「」]{{0,{_MAX_GAP}}}?"
        self._said = re.compile(rf"(?P<who>{who})(?P<gap>{gap})(?P<verb>{_ASK}|{_SPEECH})", re.I)
        self._stance = re.compile("|".join(f"(?:{f.format(who=who)})" for f in _STANCE_FRAMES), re.I)
        self._implicit = re.compile(
            rf"[，,](?:并且|并|还|也|又|同时|而且|随后|接着|甚至还|甚至)?(?:{_SPEECH})(?![了过])"
        )
        self._other_voice = re.compile(rf"(?:{_OTHER_VOICES}){gap}(?:{_ASK}|{_SPEECH}|持.{{0,4}}意见|指)", re.I)
        # "黄仁勋此前也表示，…", "马斯克则在X上发帖称…": somebody the corpus does not know opens the
        # paragraph and speaks. Not the person of the stretch (他/她 would be), nor the speaker (我).
        self._unknown_voice = re.compile(
            rf"^(?:(?:{_CONNECTIVES})[，,]?)?(?P<who>{_NAME_LIKE})(?:{_ADVERBS})*"
            rf"(?:在[^，,。]{{1,12}}?[上中时])?(?:发帖|撰文|发文)?(?:{_SPEECH})"
        )
        self.interviewees = tuple(document.interviewees)
        self.interviewers = tuple(document.interviewers)
        self._quoted_titles = True
        self._outsiders: dict[str, Kind] = {}

    # -- roles ---------------------------------------------------------------------------------

    def infer_roles(self, lines: list[Line]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Interviewees and interviewers for a document sources.toml does not describe.

        A labelled speaker most of whose turns ask something is an interviewer; everyone else who
        speaks in a turn, or is named as saying something, is an interviewee. One turn that ends
        with a question is weak evidence: someone the article also reports as speaking
        ("莱特卡普透露…") is an interviewee who answered with a question.
        """
        asks: dict[str, list[bool]] = {}
        name_lines = self._name_lines(lines)
        labels = [self._label.match(line.text) for line in lines]
        for index, line in enumerate(lines):
            label, words = labels[index], line.text
            if index in name_lines and index + 1 < len(lines):
                label, words = name_lines[index], lines[index + 1].text
            if label and (sid := self._labelled(label)):
                # A turn asks when it ends with a question; an answer may quote one on the way.
                asks.setdefault(sid, []).append(bool(_ENDS_ASKING.search(words)))
        said = [self._find_said(line.text, None) for line in lines]
        reported = {
            s.speaker
            for label, found in zip(labels, said, strict=True)
            if not label
            for s in found
            if s.mode == "content"
        }
        interviewers = tuple(s for s, a in asks.items() if sum(a) * 2 > len(a) and (len(a) > 1 or s not in reported))
        interviewees = [s for s in asks if s not in interviewers]
        for speaker in (s.speaker for found in said for s in found):
            if speaker not in interviewers and speaker not in interviewees:
                interviewees.append(speaker)
        return tuple(interviewees), interviewers

    def _name_lines(self, lines: list[Line]) -> dict[int, re.Match[str]]:
        """The lines that are a name alone, by index, when the document is such a transcript."""
        found = {i: m for i, ln in enumerate(lines[:-1]) if (m := self._name_line.match(ln.text))}
        people = {self._labelled(m) for m in found.values()}
        asked = any(re.search(r"[?？]\s*$", lines[i + 1].text) for i in found)
        # A name alone may be a photo's caption or a heading; a transcript names two people or more,
        # and one of them asks.
        return found if len(found) >= _MIN_NAME_LINES and len(people) >= 2 and asked else {}

    def _unknown_labels(self, lines: list[Line]) -> dict[str, Kind]:
        """Labels of people the corpus does not know ("36氪：", "《财富》："), in a transcript, and what they do.

        A label counts when it opens two lines or more, says nothing itself (no speech verb: "他表示："
        is a lead-in), and the document has turns of people it knows. Whoever mostly ends a turn with a
        question asks (`question`, by nobody known); anyone else's words are `narration`: never
        served as somebody's quote, never the answer turn of whoever spoke before.
        """
        turns: dict[str, list[bool]] = {}
        known = 0
        for line in lines:
            if self._label.match(line.text):
                known += 1
            elif (label := _ANY_LABEL.match(line.text)) and not self._said.search(label.group(1)):
                turns.setdefault(label.group(1), []).append(bool(_ENDS_ASKING.search(line.text)))
        if not known:
            return {}
        return {label: "question" if sum(a) * 2 >= len(a) else "narration" for label, a in turns.items() if len(a) > 1}

    def _labelled(self, label: re.Match[str]) -> str | None:
        """The speaker a label names: the name, or for "主持人（Harry）：" the name in parentheses."""
        sid = self._by_alias.get(label.group(1).casefold())
        if sid is None and label.group(2):
            named = self._alias.search(label.group(2))
            sid = self._by_alias.get(named.group(0).casefold()) if named else None
        return sid

    def _turn_speaker(self, label: re.Match[str]) -> tuple[str | None, Kind]:
        """Who a turn label names, and whether the turn asks or answers."""
        sid = self._labelled(label)
        asks = re.fullmatch(_ASKER_LABELS, label.group(1), re.I) is not None
        if sid is None:  # "问:" / "答:": the only interviewer or interviewee, when there is one
            pool = self.interviewers if asks else self.interviewees
            return (pool[0] if len(pool) == 1 else None), ("question" if asks else "answer")
        return sid, ("question" if asks or sid in self.interviewers else "answer")

    # -- who says what ---------------------------------------------------------------------------

    def _resolve(self, who: str, stretch: tuple[str, Kind] | None, last_named: str | None) -> str | None:
        """A name's speaker id; 他/她 (or 这位CEO) is the person of the stretch, else the last one named."""
        if who in ("他", "她") or who.startswith("这位"):
            if stretch is not None:
                return stretch[0]
            if last_named is not None:
                return last_named or None
            return self.interviewees[0] if len(self.interviewees) == 1 else None
        return self._by_alias.get(who.casefold())

    def _find_said(self, text: str, stretch: tuple[str, Kind] | None, last_named: str | None = None) -> list[Said]:
        """Every "X + speech verb" of a paragraph, sentence by sentence, in order."""
        found: list[Said] = []
        offset = 0
        named_here: str | None = None  # a name earlier in the paragraph is what 他 refers to first
        for sentence in _sentences(text):
            context = (named_here, "reported") if named_here else stretch
            found.extend(self._said_in(sentence, offset, context, last_named))
            offset += len(sentence)
            for match in self._alias.finditer(_unquoted(sentence)):
                named_here = self._by_alias.get(match.group(0).casefold(), named_here)
        return found

    def _said_in(
        self, sentence: str, offset: int, stretch: tuple[str, Kind] | None, last_named: str | None
    ) -> list[Said]:
        masked = _unquoted(sentence)
        found: list[Said] = []
        for match in self._stance.finditer(masked):
            who = next(g for g in match.groups() if g)
            if speaker := self._resolve(who, stretch, last_named):
                found.append(Said(speaker, "content", offset + match.end()))
        framing_sentence = False
        for match in self._said.finditer(masked):
            if self._alias.search(match.group("gap")):
                continue  # "奥特曼和莱特卡普谈到": two people, nobody's words in particular
            if _OBJECT_BEFORE.search(masked, 0, match.start()):
                continue  # "主持人问张伟是否担心…": the name is who was asked, not who speaks
            speaker = self._resolve(match.group("who"), stretch, last_named)
            if speaker is None:
                continue
            mode, topical = self._mode(masked, match)
            if mode == "framing" and not found and topical:
                framing_sentence = True  # "他不仅阐述了…战略,而且…": a summary of the conversation
            found.append(Said(speaker, mode, offset + match.end()))
        if found and not framing_sentence and found[0].mode == "framing":
            # "他还引用了iPhone的例子,称其…": a verb after a comma shares the subject before it.
            for match in self._implicit.finditer(masked, found[0].end - offset):
                found.append(Said(found[0].speaker, "content", offset + match.end()))
        return found

    def _mode(self, masked: str, match: re.Match[str]) -> tuple[str, bool]:
        """How a "X + verb" reports: content, framing or question; and whether its object is a topic.

        Content: X's words follow. Framing: X did something with words ("回应了…的合作"), and a
        topic object ("…的话题", "…的关系") makes the whole sentence a summary of the conversation.
        """
        verb = match.group("verb")
        rest = masked[match.end() :]
        if rest.startswith(("道", "说")) and not rest.startswith("说法"):
            rest = rest[1:]  # "反问道", "补充说": the verb's own tail
        asks = re.fullmatch(_ASK, verb) is not None
        if rest[:1] in ("了", "过") and not rest.startswith("了解"):
            obj = re.split(r"[，,。；;：:！!？?—]", rest[1:], maxsplit=1)[0]
            return "framing", bool(re.search(rf"(?:{_TOPIC_NOUNS})$", obj.strip()))
        if not rest.strip() or rest[:1] in "。！!":
            # "“…,”林知远说。": the quote before the name is what was said.
            quoted_before = re.search(r"[“「\"]", masked[: match.start()]) is not None
            return ("content", False) if quoted_before else ("framing", True)
        if re.fullmatch(_TOPIC_VERBS, verb):
            # "他还谈到联合创始人的角色。": a topic named, then the sentence or clause ends.
            # "张伟多次提到CTO李娜。": a person named is a topic too.
            obj = re.split(r"[，,。；;：:！!？?—]", rest, maxsplit=1)[0]
            topical = re.search(rf"(?:{_TOPIC_NOUNS})$", obj.strip()) or self._alias.search(obj)
            if topical and not re.search(r"[“「\"]", obj):
                return "framing", True
        if asks:
            direct = rest[:1] in '，,：:“"「' or bool(re.search(r"[?？]", rest))
            return ("question" if direct else "framing"), not direct
        return "content", False

    # -- headings --------------------------------------------------------------------------------

    def _heading(self, text: str, next_text: str | None, in_turn: bool) -> str | None:
        """The topic a heading line names, or None when the line is not a heading."""
        if len(text) > _MAX_HEADING or self._label.match(text):
            return None
        numbered = _NUMBERED_HEADING.match(text)
        if numbered and "。" not in text:
            return numbered.group(1).strip()
        marked = _MARKED_HEADING.match(text)
        if marked and not _SENTENCE_END.search(marked.group(1)[:-1]):
            return marked.group(1).strip()
        quoted = _QUOTED_LINE.match(text)
        if quoted and not self._quoted_titles:
            return None
        if quoted and not re.search(r"[“”\"]", quoted.group(1)):
            # A quoted line that ends its sentence ("“…。”") is somebody's words, not a title.
            return None if re.search(r"[。！？!?…]$", quoted.group(1)) else quoted.group(1).strip()
        # A short line with no clause punctuation that ends in a question mark or nothing, with
        # content after it ("为什么把宝贵的GPU投入到Sora上?"). The last line of an article is never
        # a heading: a heading with nothing under it is the editor asking the reader something.
        if (
            not in_turn
            and next_text is not None
            and not self._asks_reader(text)
            and not _BULLET.match(text)
            and not _CLAUSE_PUNCT.search(text)
            and not text.endswith(("——", "…", "-"))
            and self._heading(next_text, None, in_turn) is None
        ):
            return text
        return None

    # -- the walk ------------------------------------------------------------------------------

    def blocks(self, lines: list[Line]) -> tuple[list[Block], list[Line]]:
        """Blocks in order, plus the heading lines (topics, never quotes)."""
        # An article whose sections are numbered or marked ("一、…", "【…】") does not also title
        # them with bare quotes: there, a quoted line on its own is somebody's words.
        self._quoted_titles = not any(
            _NUMBERED_HEADING.match(ln.text) or _MARKED_HEADING.match(ln.text)
            for ln in lines
            if len(ln.text) <= _MAX_HEADING
        )
        blocks: list[Block] = []
        headings: list[Line] = []
        st = _State()
        name_lines = self._name_lines(lines)
        self._outsiders = self._unknown_labels(lines)
        for index, line in enumerate(lines):
            if index in name_lines:
                continue
            if index - 1 in name_lines:  # the name above a turn: this paragraph is its first
                blocks.append(self._turn_block(line, line.text, name_lines[index - 1], st))
                continue
            next_text = lines[index + 1].text if index + 1 < len(lines) else None
            # What a lead-in announces is never a heading, however short ("那估值呢？").
            heading = self._heading(line.text, next_text, st.turn is not None or st.handoff is not None)
            if heading is not None:
                st.topic = heading
                headings.append(line)
                st.turn = st.stretch = st.handoff = st.bullets = None
                continue
            block = self._block(line, st)
            if block is not None and block.text.strip():
                blocks.append(block)
        return blocks, headings

    def _block(self, line: Line, st: _State) -> Block | None:
        """Decide one paragraph, updating the walk's state."""
        text = line.text
        label = self._label.match(text)
        bullet = _BULLET.match(text)
        if label:
            return self._turn_block(line, text[label.end() :], label, st)
        if (other := _ANY_LABEL.match(text)) and other.group(1) in self._outsiders:
            st.turn = st.stretch = st.handoff = st.bullets = None
            return Block(line, text[other.end() :], self._outsiders[other.group(1)], None, st.topic)
        if bullet:
            return self._bullet_block(line, text[bullet.end() :], st)
        if st.turn is not None and not self._leaves_turn(text, st.turn[0]):
            speaker, kind = st.turn
            doubt = self._doubtful(text, speaker)
            return Block(line, close_list_item(text), kind, speaker, st.topic, doubt)
        st.turn = None
        return self._prose_block(line, text, st)

    def _turn_block(self, line: Line, text: str, label: re.Match[str], st: _State) -> Block:
        speaker, kind = self._turn_speaker(label)
        st.turn = (speaker, kind) if speaker else None
        st.stretch = st.handoff = st.bullets = None
        doubt = self._doubtful(text, speaker) if speaker else "certain"
        return Block(line, close_list_item(text), kind, speaker, st.topic, doubt)

    def _bullet_block(self, line: Line, text: str, st: _State) -> Block:
        if st.bullets is None:
            if st.handoff is not None:
                st.bullets = st.handoff
            elif st.stretch is not None:
                st.bullets = (st.stretch[0], st.stretch[1], None)
            elif st.turn is not None:
                st.bullets = (st.turn[0], st.turn[1], None)
            else:
                st.bullets = (None, "narration", None)
        st.handoff = None
        speaker, kind, context = st.bullets
        if speaker is None and (own := self._own_words(text, st)) is not None:
            # "划重点：" ⏎ "1. 奥特曼认为，…": an item that says whose words it gives is theirs.
            kind = "question" if self._asks(own, text) else "reported"
            return Block(line, close_list_item(text), kind, own.speaker, st.topic, context=context)
        return Block(line, close_list_item(text), kind, speaker, st.topic, context=context)

    def _own_words(self, text: str, st: _State) -> Said | None:
        """The first person an item (or paragraph) gives the words of; None if nobody we know."""
        if self._somebody_unknown(text, st):
            return None
        said = [s for s in self._find_said(text, None, st.last_named) if s.mode in ("content", "question")]
        for match in self._alias.finditer(_unquoted(text)):
            st.last_named = self._by_alias.get(match.group(0).casefold(), st.last_named)
        return said[0] if said else None

    def _somebody_unknown(self, text: str, st: _State) -> bool:
        """Somebody the corpus does not know opens the paragraph and speaks: 他 after it is them."""
        if not self._unknown_speaks(_unquoted(text)):
            return False
        st.stretch, st.last_named = None, ""
        return True

    def _unknown_speaks(self, masked: str) -> bool:
        """The paragraph opens with a name we do not know and a verb of saying ("黄仁勋也表示")."""
        voice = self._unknown_voice.match(masked)
        return voice is not None and not self._alias.search(voice.group("who"))

    def _prose_block(self, line: Line, text: str, st: _State) -> Block:
        st.bullets = None
        kind: Kind
        self._somebody_unknown(text, st)
        said = self._find_said(text, st.stretch, st.last_named)
        handoff, st.handoff = st.handoff, None
        for match in self._alias.finditer(_unquoted(text)):
            st.last_named = self._by_alias.get(match.group(0).casefold(), st.last_named)

        if _COLON_END.search(text):
            return self._colon_block(line, text, said, st)
        if handoff is not None:  # what a lead-in announced: its words, whoever else they mention
            speaker, kind, context = handoff
            st.stretch = (speaker, kind) if speaker and kind == "reported" else None
            return Block(line, close_list_item(text), kind, speaker, st.topic, context=context)
        if not said and _HOST_ASKS.search(text):
            st.stretch = None  # the unnamed host's question: a question, by nobody we know
            return Block(line, text, "question", None, st.topic)
        content = [s for s in said if s.mode in ("content", "question")]
        if content:
            first = content[0]
            kind = "question" if self._asks(first, text) else "reported"
            st.stretch = (first.speaker, kind) if kind == "reported" else None
            return Block(line, close_list_item(text), kind, first.speaker, st.topic)
        framing = [s for s in said if s.mode == "framing"]
        if framing:
            # "X还谈到了…的转变。": narration, but what follows is X's until the narrator is back
            # (unless the narrator is plainly speaking: "值得一提的是,…他并没有正面回应。").
            editorial = _EDITORIAL.search(_unquoted(text)) and not re.match(r"^\S{0,8}(?:节目|采访|对话)", text)
            st.stretch = None if editorial else (framing[0].speaker, "reported")
            return Block(line, text, "narration", None, st.topic)
        if st.stretch is not None and not self._narrator_is_back(text):
            speaker, kind = st.stretch
            return Block(line, close_list_item(text), kind, speaker, st.topic)
        st.stretch = None
        if _QUOTED_LINE.match(text) and (speaker := self._lone_quote_speaker(st)):
            return Block(line, text, "reported", speaker, st.topic)  # "“我们从不追风口。”" on its own line
        return Block(line, text, "narration", None, st.topic)

    def _colon_block(self, line: Line, text: str, said: list[Said], st: _State) -> Block:
        """A paragraph ending in ':' (or '——'): a lead-in when it announces someone's words."""
        last = _sentences(text)[-1]
        in_last = [s for s in said if s.end > len(text) - len(last)]
        if in_last:
            first = in_last[0]
            kind: Kind = "question" if self._asks(first, text) or first.speaker in self.interviewers else "reported"
            st.handoff = (first.speaker, kind, text)
            st.stretch = None
            return Block(line, text, "lead-in", None, st.topic)
        if _ANNOUNCEMENT.match(text) or re.search(r"(?:如下|全文|实录)\s*[:：]?\s*$", text):
            st.stretch = None
            return Block(line, text, "lead-in", None, st.topic)
        whose = self._whose(last, st)
        st.stretch = None
        if whose is not None:  # "对于广告，他的态度也发生了变化：": what follows is his
            st.handoff = (whose, "reported", text)
            return Block(line, text, "lead-in", None, st.topic)
        return Block(line, text, "narration", None, st.topic)

    def _whose(self, sentence: str, st: _State) -> str | None:
        """The one person whose view a sentence announces (a name, or 他/她 resolved), unless the article speaks.

        The sentence must name a view ("他的态度…：", "奥特曼的回答很直接："): "奥特曼和马斯克的恩怨要从
        2015年说起：" is about him, and what follows is the article's story, not his words.
        """
        masked = _unquoted(sentence)
        if not _VIEWS.search(masked):
            return None
        if _EDITORIAL.search(masked) or self._other_voice.search(masked) or self._unknown_speaks(masked):
            return None
        people = {self._by_alias.get(m.group(0).casefold()) for m in self._alias.finditer(masked)}
        if not people and re.search(_PRONOUN, masked):
            people = {self._resolve("他", st.stretch, st.last_named)}
        return people.pop() if len(people) == 1 else None

    def _asks(self, said: Said, text: str) -> bool:
        """An interviewer's words, or words announced with a verb of asking, are a question.

        An interviewee who asks back ("他反问道…") is still giving his answer: reported.
        """
        if said.speaker in self.interviewees:
            return False
        return said.mode == "question" or (said.speaker in self.interviewers and bool(re.search(r"[?？]", text)))

    def _lone_quote_speaker(self, st: _State) -> str | None:
        if st.last_named == "":  # somebody the corpus does not know spoke last
            return None
        if st.last_named in self.interviewees:
            return st.last_named
        return self.interviewees[0] if len(self.interviewees) == 1 else None

    # -- where a stretch or a turn ends ------------------------------------------------------------

    def _narrator_is_back(self, text: str) -> bool:
        """The article speaks in its own voice again.

        Signs: a named subject, an editorial phrase, another voice ("网友…表示"), or a question put
        to the reader. Somebody the corpus does not know speaking ("黄仁勋也表示") has already ended
        the stretch (`_somebody_unknown`, first thing in the walk's prose step).
        """
        masked = _unquoted(text)
        if self._alias.search(masked) or _EDITORIAL.search(masked) or self._other_voice.search(masked):
            return True
        return self._asks_reader(masked)

    def _leaves_turn(self, text: str, speaker: str | None) -> bool:
        """Whether an unlabelled paragraph after a turn is plainly the editor's, not the turn's.

        "本文根据…整理" and "你怎么看?" end a turn; anything else continues it.
        """
        masked = _unquoted(text)
        editorial = re.search(
            r"本文|编者|笔者|小编|(?:根据|据).{0,40}整理|(?:责任)?编辑\s*[:：]"
            r"|(?:采访|访谈|对话|节目)的?(?:结束|之后|之外|最后|结尾|尾声)",
            masked,
        )
        if editorial or (self._asks_reader(masked) and len(masked) < 40):
            return True
        # "采访结束后，李娜还带我们…", "林知远表示,…" after their own turn: the narrator is back. The
        # name must open a clause (be its subject); "…无需与山姆商讨" stays in the turn, doubtful.
        return any(
            self._by_alias.get(m.group(0).casefold()) == speaker
            and (m.start() == 0 or masked[m.start() - 1] in "，,。；;：:")
            for m in self._alias.finditer(masked)
        )

    @staticmethod
    def _asks_reader(masked: str) -> bool:
        """A closing question with "你/大家": the editor asking the reader."""
        return bool(re.search(r"[?？]\s*$", masked)) and bool(_READER.search(masked)) and len(masked) < 60

    def _doubtful(self, text: str, speaker: str | None) -> Attribution:
        """A turn that names its own speaker in the third person contradicts its label."""
        if speaker is None:
            return "certain"
        for match in self._alias.finditer(_unquoted(text)):
            if self._by_alias.get(match.group(0).casefold()) == speaker:
                return "doubtful"
        return "certain"


def _bounded(alias: str) -> str:
    """An alias as a pattern; Latin ones must not be part of a longer word ("Sam" in "Samsung")."""
    escaped = re.escape(alias)
    if alias[:1].isascii() and alias[:1].isalnum():
        escaped = rf"(?<![A-Za-z]){escaped}"
    if alias[-1:].isascii() and alias[-1:].isalnum():
        escaped = rf"{escaped}(?![A-Za-z])"
    return escaped
