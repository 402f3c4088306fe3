"""Every sentence a user reads, and the labels under every quote: written once, for every surface.

Discord, Slack and the console differ in markup only. The words (hints, refusals, the line under a
quote) live here, as plain text; each renderer escapes them for its platform. A new surface reuses
them as they are.

Each sentence exists in English and Chinese. The surface says who is reading (`reading(locale)`,
at the start of handling a command: the value lives in the command's own asyncio task), and every
sentence and label after that is in the reader's language: Chinese for a `zh-*` locale, in
traditional characters for Taiwan and Hong Kong, English otherwise. The sentence constants
(`NO_MORE`, `HELP`, …) are looked up when read (module `__getattr__`), so the command layer keeps
writing `wording.NO_MORE` and gets the reader's words.
"""

from __future__ import annotations

import contextvars
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quotecore import (
    QueryError,
    Quote,
    QuoteError,
    ReloadReport,
    Script,
    UnknownSpeakerError,
    clean_chars,
    convert,
    mark,
    script_for,
    truncate,
)

#: Who is reading: ("en" or "zh", and the script Chinese is shown in). English, simplified, by default.
_READER: contextvars.ContextVar[tuple[str, Script]] = contextvars.ContextVar("reader", default=("en", "simplified"))


def reading(locale: str | None, script: Script | None = None) -> None:
    """From here on in this task, sentences are in the language (and script) of a `locale` reader.

    Each command runs in its own asyncio task (discord.py, bolt and the console all start one), so
    setting the reader there never leaks into another user's reply.
    """
    tag = (locale or "").lower()
    _READER.set(("zh" if tag.startswith("zh") else "en", script or script_for(locale)))


def language() -> str:
    """The reader's language in this task: "en" or "zh"."""
    return _READER.get()[0]


def say(english: str, chinese: str) -> str:
    """The sentence in the reader's language (Chinese in the reader's script)."""
    lang, script = _READER.get()
    return convert(chinese, script) if lang == "zh" else english


if TYPE_CHECKING:
    from bots.generation import Spread

#: What kind of text a passage is, as users read it (the core's `Passage.kind` values).
KIND_LABELS = {
    "answer": "访谈回答",
    "reported": "转述",
    "question": "提问",
    "narration": "文章叙述",
    "lead-in": "引子",
}

#: The sentences read as constants (`wording.NO_MORE`): English, Chinese (simplified; converted for the reader).
_SENTENCES: dict[str, tuple[str, str]] = {
    "NARRATION": ("文章叙述 (narration)", "文章叙述"),
    #: Shown next to a quote whose text contradicts the speaker its source labels it with.
    "DOUBTFUL": ("标注存疑 / attribution uncertain", "标注存疑"),
    "HELP": (
        "/quote <words> — the best-matching quotes (Chinese, traditional or simplified, or English names)\n"
        "/quote <words> speaker:<name> — only that speaker (奥特曼, Altman, 莱特卡普, …)\n"
        "/quote — a random quote\n"
        "/quote-reload — admins: reload the corpus from disk\n"
        "/quote-daily <channel> <HH:MM> <timezone> | off — admins: the daily excerpt\n"
        "/quote-script auto | simplified | traditional | hk — admins: this channel's script",
        "/quote <词语> — 最相符的语录(中文简体或繁体,或英文名)\n"
        "/quote <词语> speaker:<名字> — 只看此人(奥特曼、Altman、莱特卡普……)\n"
        "/quote — 随机一条语录\n"
        "/quote-reload — 管理员:从磁盘重新载入语料\n"
        "/quote-daily <channel> <HH:MM> <timezone> | off — 管理员:每日摘录\n"
        "/quote-script auto | simplified | traditional | hk — 管理员:本频道的字体",
    ),
    "DAILY_USAGE": (
        "Usage: /quote-daily <channel> <HH:MM> <timezone> (e.g. /quote-daily #general 09:00 Asia/Shanghai),"
        " or /quote-daily off [channel]",
        "用法:/quote-daily <频道> <HH:MM> <时区>(例如 /quote-daily #general 09:00 Asia/Shanghai),"
        "或 /quote-daily off [频道]",
    ),
    "NO_MORE": ("No more matches.", "没有更多结果了。"),
    "BAD_BUTTON": ("This button no longer works: search again with /quote.", "这个按钮已失效:请用 /quote 重新搜索。"),
    "NOTHING_TO_CONTINUE": ("Nothing more to show: search with /quote first.", "没有可继续的内容:请先用 /quote 搜索。"),
    "EMPTY_CORPUS": ("There are no quotes to show yet: the corpus is empty.", "还没有可显示的语录:语料是空的。"),
    "ADMINS_ONLY_RELOAD": ("Only quotebot admins can reload the corpus.", "只有 quotebot 管理员可以重新载入语料。"),
    "ADMINS_ONLY_DAILY": (
        "Only quotebot admins can change the daily excerpt.",
        "只有 quotebot 管理员可以设置每日摘录。",
    ),
    "DAILY_DISABLED": (
        "The daily excerpt is not enabled on this bot ([daily] enabled = false, or its database did not open).",
        "这个机器人没有启用每日摘录([daily] enabled = false,或数据库没有打开)。",
    ),
    "ADMINS_ONLY_SCRIPT": (
        "Only quotebot admins can choose this channel's script.",
        "只有 quotebot 管理员可以设置本频道的字体。",
    ),
    "SOMETHING_WRONG": ("Sorry, something went wrong with that command.", "抱歉,这个命令出错了。"),
    "LOGGED": ("It has been logged; please try again.", "错误已记录,请再试一次。"),
    "LOST_QUERY": (
        "Sorry, I can't tell what this message searched for: try /quote again.",
        "抱歉,看不出这条消息搜索的是什么:请重新用 /quote 搜索。",
    ),
}


def sentence(name: str) -> str:
    """One of `_SENTENCES`, in the reader's language."""
    return say(*_SENTENCES[name])


def __getattr__(name: str) -> Any:
    """A sentence constant, in the reader's language."""
    if name in _SENTENCES:
        return sentence(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, slots=True)
class CommandText:
    """How a command presents itself in a surface's command list: what it does, and each option."""

    description: str
    options: dict[str, str] = field(default_factory=dict)


#: Every command as the surfaces list it (Discord's command picker, Slack's manifest, the console's help).
COMMANDS = {
    "quote": CommandText(
        "Find the quote that best matches your words (empty: a random one)",
        {
            "query": "Words to look for: Chinese (simplified or traditional) or English names, e.g. 计算资源, Sora",
            "speaker": "Only quotes by this person",
            "count": "How many quotes (1-5)",
        },
    ),
    "quote-reload": CommandText("Admins: reload the corpus from disk"),
    "quote-script": CommandText(
        "Admins: quotes in this channel in one script for everyone (auto: each reader's own)",
        {"script": "auto, simplified, traditional (Taiwan) or hk (Hong Kong)"},
    ),
    "quote-daily": CommandText(
        "Admins: post a daily excerpt in a channel (time: off to stop)",
        {
            "time": "Local time HH:MM, e.g. 09:00, or off",
            "timezone": "IANA timezone, e.g. Asia/Shanghai",
            "channel": "The channel (default: this one)",
        },
    ),
}


#: The same commands in Chinese, for surfaces that list commands in the reader's language (Discord);
#: traditional-script readers get these words converted (`command_words`).
COMMANDS_ZH = {
    "quote": CommandText(
        "找出与你的话最相符的语录(留空:随机一条)",
        {
            "query": "要找的词:中文(简体或繁体)或英文名,例如 计算资源、Sora",
            "speaker": "只看此人的语录",
            "count": "几条(1-5)",
        },
    ),
    "quote-reload": CommandText("管理员:从磁盘重新载入语料"),
    "quote-script": CommandText(
        "管理员:本频道的语录统一用一种字体(auto:按每位读者自己的)",
        {"script": "auto、simplified(简体)、traditional(台湾繁体)或 hk(香港繁体)"},
    ),
    "quote-daily": CommandText(
        "管理员:每天在频道里发一段摘录(时间填 off 即停止)",
        {
            "time": "当地时间 HH:MM,例如 09:00,或 off",
            "timezone": "IANA 时区,例如 Asia/Shanghai",
            "channel": "频道(默认:本频道)",
        },
    ),
}
#: Command and option names in Chinese (Discord allows letters of any script in names).
NAMES_ZH = {"quote": "语录", "quote-reload": "语录-重载", "quote-daily": "语录-每日", "quote-script": "语录-字体",
            "script": "字体", "query": "关键词",
            "speaker": "说话人", "count": "条数", "time": "时间", "timezone": "时区", "channel": "频道"}  # fmt: skip


def command_words(english: str, locale: str) -> str | None:
    """A command's name, description or option text for a reader's `locale` (None: keep the English)."""
    if not locale.lower().startswith("zh"):
        return None
    found = NAMES_ZH.get(english)
    for name, text in COMMANDS.items():
        if found is None and text.description == english:
            found = COMMANDS_ZH[name].description
        for option, words in text.options.items():
            if found is None and words == english:
                found = COMMANDS_ZH[name].options[option]
    return None if found is None else convert(found, script_for(locale))


def topic_label() -> str:
    """The label in front of a passage's topic."""
    return say("话题 Topic", "话题")


def source_label() -> str:
    """The label in front of a quote's source."""
    return say("来源 Source", "来源")


def kind_label(kind: str) -> str:
    """访谈回答, 转述, …: the one label for a passage kind (unknown kinds as they are)."""
    label = KIND_LABELS.get(kind, kind)
    return say(label, label)  # Chinese for everyone; traditional characters for those who read them


def speaker_name(quote: Quote) -> str:
    """Who said it: Chinese and English name, or the article itself."""
    return quote.speaker.display if quote.speaker else sentence("NARRATION")


def doubt(quote: Quote) -> list[str]:
    """The doubt marker when the text contradicts its speaker label, else nothing."""
    return [sentence("DOUBTFUL")] if quote.passage.attribution == "doubtful" else []


def source_line(quote: Quote) -> str:
    """《title》 · outlet · date: where a quote comes from, without the speaker."""
    return " · ".join(p for p in (f"《{quote.document.title}》", quote.document.outlet, quote.document.date) if p)


def attribution(quote: Quote) -> str:
    """Speaker, source title, outlet and date, and the doubt marker: the line under every quote."""
    return " · ".join([speaker_name(quote), source_line(quote), *doubt(quote)])


def footer(quote: Quote) -> str:
    """Passage id, kind label and the doubt marker: the small print that identifies a quote."""
    return " · ".join([quote.id, kind_label(quote.passage.kind), *doubt(quote)])


def within(quote: Quote, limit: int) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The excerpt cut to `limit` characters at a sentence, with the highlights that still fit."""
    if len(quote.text) <= limit:
        return quote.text, quote.highlights
    text = truncate(quote.text, limit)
    return text, tuple((s, e) for s, e in quote.highlights if e <= len(text) - 1)


def fitted(text: str, limit: int, escape: Callable[[str], str], cut: Callable[[str, int], str] = truncate) -> str:
    """`text` cut (at a sentence by default), then escaped for a platform, and at most `limit` long.

    Cut first, escape after: an escape (`&amp;`, an escaped `*`) is never split, and its `;` never taken for
    a sentence end. Escaping lengthens text, so the cut shrinks until the escaped text fits.
    """
    room = limit
    while True:
        out = escape(cut(text, room))
        if len(out) <= limit or room <= 1:
            return out[:limit]
        room = max(1, min(room - 1, room * limit // len(out)))


def marked(
    quote: Quote, limit: int, tags: tuple[str, str], escape: Callable[[str], str], room: int | None = None
) -> str:
    """The excerpt (first `room` characters, at a sentence) with its matches between `tags`, escaped, ≤ `limit`."""
    room = limit if room is None else room
    while True:
        text, spans = within(quote, room)
        out = mark(text, spans, *tags, escape=escape)
        if len(out) <= limit:
            return out
        if room <= 1:
            return fitted(quote.text, limit, escape)
        room = max(1, min(room - 1, room * limit // len(out)))


def strip_controls(text: str, keep: str = "\n\t") -> str:
    """Text without control, format (bidi overrides, zero-width) or unassigned characters.

    Typed or quoted text is echoed on every surface; these characters could garble a terminal,
    reverse what a message appears to say, or hide text. `keep` lists what may stay.
    """
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in keep)


def one_line(text: str) -> str:
    """A query as searched and echoed: no terminal escapes or control characters, whitespace folded."""
    return strip_controls(" ".join(clean_chars(text).split()), keep="")


def cut(text: str, limit: int) -> str:
    """One line of at most `limit` characters, with an ellipsis when cut."""
    flat = one_line(text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


#: How much of a query a reply echoes (the results header, the no-match hint): a query may be 500.
QUERY_ECHO = 100


def results_header(query: str, first: int, last: int, total: int) -> str:
    """`🔎 “query” · 1–3 / 13` (or `· 2 / 13` for one quote); `query` already escaped by the caller.

    The last page says so: no "Another" is offered under it.
    """
    where = f"{first}" if first == last else f"{first}–{last}"
    return f"🔎 “{query}” · {where} / {total}" + (f" · {sentence('NO_MORE')}" if last >= total else "")


RANDOM_HEADER = "🎲"


def no_match(query: str, speaker: str | None, names: list[str]) -> str:
    """A friendly no-result reply that suggests something to try next."""
    if speaker:
        return say(
            f"No quote by {speaker} matches “{query}”. Try a broader word, or drop the speaker filter.",
            f"{speaker}没有与“{query}”相符的语录。试试更宽泛的词,或去掉说话人筛选。",
        )
    return say(
        f"No quote matches “{query}”. Try a broader word (能源, 研究, AGI) or a speaker ({', '.join(names)}).",
        f"没有与“{query}”相符的语录。试试更宽泛的词(能源、研究、AGI)或说话人({'、'.join(names)})。",
    )


def refusal(exc: QuoteError) -> str:
    """The short reply for a refusal from the core (never a traceback)."""
    if isinstance(exc, UnknownSpeakerError):
        return say(
            f"I don't know the speaker “{exc.name}”. Known speakers: {', '.join(exc.known)}.",
            f"不认识说话人“{exc.name}”。已知的说话人:{'、'.join(exc.known)}。",
        )
    if isinstance(exc, QueryError):
        return say(f"Sorry: {exc}.", f"抱歉:{exc}。")
    return say("Sorry, that did not work.", "抱歉,没有成功。")


def cooldown(wait: float) -> str:
    """The cooldown reply, in whole seconds (never 'try again in 0 s')."""
    seconds = max(1, round(wait))
    return say(f"Slow down a little: try again in {seconds} s.", f"慢一点:{seconds} 秒后再试。")


def reloaded(report: ReloadReport) -> str:
    """What a reload changed."""
    return say(f"Corpus reloaded: {report.summary()}.", f"语料已重新载入:{report.summary()}。")


def reload_spread(spread: Spread) -> str:
    """Where a reload reached, when several processes share the database (see bots.replicas)."""
    if spread.problem is not None:
        problem = cut(spread.problem, 120)
        return say(
            f"Only this process reloaded: the database did not answer ({problem}).",
            f"只有这个进程重新载入了:数据库没有回应({problem})。",
        )
    total, serving = spread.total, len(spread.serving)
    lines = [
        say(
            f"Generation {spread.generation} is served by {serving} of {total} process{'es' if total != 1 else ''}.",
            f"第 {spread.generation} 代语料已由 {total} 个进程中的 {serving} 个提供。",
        )
    ]
    for name, reason in spread.failed:
        why = cut(reason, 200)
        lines.append(
            say(
                f"Failed on {name}: {why} (it keeps serving the previous corpus).",
                f"{name} 载入失败:{why}(它继续使用之前的语料)。",
            )
        )
    if spread.waiting:
        names = ", ".join(spread.waiting)
        lines.append(
            say(
                f"No answer yet from {names} (still serving the previous corpus).",
                f"{names} 尚未回应(仍在使用之前的语料)。",
            )
        )
    if spread.differing:
        names = ", ".join(spread.differing)
        lines.append(
            say(
                f"Other corpus files on {names}: their content differs from this process's.",
                f"{names} 上的语料文件与这个进程的内容不同。",
            )
        )
    return "\n".join(lines)


def reload_failed(reason: str | None) -> str:
    """A reload that did not happen: the old corpus keeps serving."""
    if reason is None:
        return say(
            "Reload failed unexpectedly, still serving the previous corpus (see the logs).",
            "重新载入意外失败,仍在使用之前的语料(详见日志)。",
        )
    return say(
        f"Reload failed, still serving the previous corpus.\n{reason}", f"重新载入失败,仍在使用之前的语料。\n{reason}"
    )


def passage_gone(passage_id: str) -> str:
    """Context for a passage id the corpus no longer has."""
    shown = cut(passage_id, 40)
    return say(
        f"No passage with id “{shown}”: it is no longer in the corpus (it changed in a reload).",
        f"找不到编号为“{shown}”的段落:它已不在语料中(重新载入时变了)。",
    )


def bad_option(problem: str) -> str:
    """A `/quote` option the parser refused, before the syntax is shown."""
    return say(f"Sorry: {problem}.", f"抱歉:{problem}。")


def not_a_time(text: str) -> str:
    """A `/quote-daily` time that is not HH:MM."""
    shown = cut(text, 40)
    return say(
        f"“{shown}” is not a time of day: use HH:MM, for example 09:00", f"“{shown}”不是时间:请用 HH:MM,例如 09:00"
    )


def not_a_zone(text: str) -> str:
    """A `/quote-daily` timezone that is not an IANA name."""
    shown = cut(text, 60)
    return say(
        f"“{shown}” is not a timezone: use an IANA name such as Asia/Shanghai, Europe/Paris or UTC",
        f"“{shown}”不是时区:请用 IANA 名称,例如 Asia/Shanghai、Europe/Paris 或 UTC",
    )


def not_a_channel(text: str) -> str:
    """A `/quote-daily` channel this surface does not have."""
    shown = cut(text, 60)
    return say(
        f"“{shown}” is not a channel here: name one of this server's channels, or leave it out for this one.",
        f"“{shown}”不是这里的频道:请写本服务器的频道,或留空表示本频道。",
    )


#: What `/quote-script` accepts, and the script each word means (None: each reader's own).
SCRIPT_WORDS: dict[str, Script | None] = {
    "auto": None, "simplified": "simplified", "简体": "simplified", "簡體": "simplified", "traditional": "zh-TW",
    "tw": "zh-TW", "zh-tw": "zh-TW", "繁体": "zh-TW", "繁體": "zh-TW", "hk": "zh-HK", "zh-hk": "zh-HK", "香港": "zh-HK",
}  # fmt: skip
_SCRIPT_NAMES: dict[Script | None, tuple[str, str]] = {
    None: ("each reader's own", "每位读者自己的字体"),
    "simplified": ("simplified", "简体"),
    "zh-TW": ("traditional (Taiwan)", "台湾繁体"),
    "zh-HK": ("traditional (Hong Kong)", "香港繁体"),
}


def not_a_script(text: str) -> str:
    """A `/quote-script` value it does not know."""
    shown = cut(text, 40)
    return say(
        f"“{shown}” is not a script: use auto, simplified, traditional or hk",
        f"“{shown}”不是字体:请用 auto、simplified、traditional 或 hk",
    )


def script_set(script: Script | None) -> str:
    """What `/quote-script` changed."""
    english, chinese = _SCRIPT_NAMES[script]
    return say(f"Quotes in this channel: {english}.", f"本频道的语录:{chinese}。")


def unknown_command(command: str) -> str:
    """A command a text surface does not know (chat platforms only offer the ones that exist)."""
    shown = cut(command, 40)
    return say(f"Unknown command {shown}. Type /help for the commands.", f"未知命令 {shown}。输入 /help 查看命令。")


def failed(what: str) -> str:
    """The apology for a command (`/quote`) or a button that raised: never a traceback."""
    sorry = (
        sentence("SOMETHING_WRONG")
        if what.startswith("/")
        else say(f"Sorry, the {what} did not work.", "抱歉,这个按钮出错了。")
    )
    return f"{sorry} {sentence('LOGGED')}"


def notice_line(notice: str) -> str:
    """A problem the daily scheduler wants an admin to hear about (a broken target)."""
    return f"⚠️ {notice}"
