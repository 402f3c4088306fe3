"""The command layer as pure functions: parsing, paging, cooldowns, admin checks, wording. No network."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from bots import wording
from bots.commands import (
    Caller,
    Commands,
    Context,
    Notice,
    PageState,
    QuoteRequest,
    Results,
    daily_options,
    parse_daily_text,
    parse_quote_text,
    timezone_choices,
)
from quotecore import QuoteService
from tests.fakes.daily import RecordingDaily


def caller(admin: bool, key: str = "u1") -> Caller:
    async def check() -> bool:
        return admin

    return Caller(key, check)


def test_quote_text_options() -> None:
    assert parse_quote_text("基础设施 speaker:奥特曼 count:3") == QuoteRequest("基础设施", "奥特曼", 3)
    assert parse_quote_text("能源 speaker: Altman") == QuoteRequest("能源", "Altman")
    assert parse_quote_text("能源 by：奥特曼") == QuoteRequest("能源", "奥特曼")
    assert parse_quote_text("help").help and not parse_quote_text("help").problem
    assert parse_quote_text("能源 colour:red").problem == "unknown option “colour:”"
    assert parse_quote_text("能源 count:9").problem == "count must be a number from 1 to 5"
    assert parse_quote_text("GPT-5:发布 能源").query == "GPT-5:发布 能源", "a colon inside a word is not an option"


def test_daily_options_and_text() -> None:
    assert daily_options("9:30", "Asia/Shanghai") == parse_daily_text("9:30 Asia/Shanghai")
    assert parse_daily_text("#general 0930 UTC").channel == "#general"
    assert parse_daily_text("#general 0930 UTC").time == dt.time(9, 30)
    assert parse_daily_text("off").off and parse_daily_text("off #x").channel == "#x"
    assert daily_options("off").off
    assert "not a time of day" in (daily_options("25:00").problem or "")
    assert "not a timezone" in (daily_options("09:00", "Mars/Olympus").problem or "")
    assert parse_daily_text("").problem == wording.DAILY_USAGE


async def test_paging_stops_at_the_last_match(service: QuoteService) -> None:
    """The one paging rule: Another while there is more; past the end, "No more matches."; never a wrap."""
    commands = Commands(service, "console")
    ids = [q.id for q in service.search("能源", limit=10).quotes]
    first = await commands.quote(caller(False), QuoteRequest("能源"))
    assert isinstance(first, Results) and [q.id for q in first.quotes] == ids[:1]
    seen, state = [first.quotes[0].id], first.next()
    while state is not None:
        page = commands.page(state)
        assert isinstance(page, Results)
        seen.append(page.quotes[0].id)
        state = page.next()
    assert seen == ids, "every match once, in order"
    past = commands.page(PageState("能源", None, 1, len(ids)))
    assert past == Notice(wording.NO_MORE, "no_more")


async def test_random_quotes_go_on_and_speaker_filters(service: QuoteService) -> None:
    commands = Commands(service, "slack")
    randomly = await commands.quote(caller(False), QuoteRequest(""))
    assert isinstance(randomly, Results) and randomly.random and randomly.next() == randomly.state
    by = await commands.quote(caller(False), QuoteRequest("计算", "Lightcap", 3))
    assert isinstance(by, Results) and all(q.speaker and q.speaker.id == "lightcap" for q in by.quotes)
    unknown = await commands.quote(caller(False), QuoteRequest("研究", "Musk"))
    assert isinstance(unknown, Notice) and "Known speakers" in unknown.text


async def test_refusals_and_hints(service: QuoteService) -> None:
    commands = Commands(service, "discord")
    nothing = await commands.quote(caller(False), QuoteRequest("天气预报"))
    assert isinstance(nothing, Notice) and nothing.kind == "no_match"
    assert nothing.text.startswith("No quote matches “天气预报”. Try a broader word") and "山姆·奥特曼" in nothing.text
    empty = await commands.quote(caller(False), QuoteRequest("\x00\x07 "))
    assert isinstance(empty, Notice) and "empty query" in empty.text
    helped = await commands.quote(caller(False), parse_quote_text("能源 colour:red"))
    assert isinstance(helped, Notice) and helped.text.startswith("Sorry: unknown option")
    assert wording.HELP in helped.text
    gone = commands.context("0000000000")
    assert isinstance(gone, Notice) and "no longer in the corpus" in gone.text
    whole = commands.context(service.search("能源").quotes[0].id, ["能源"])
    assert isinstance(whole, Context) and whole.quote.highlights


@pytest.mark.parametrize(
    ("locale", "no_more", "no_match", "cooldown"),
    [
        ("en-US", "No more matches.", "No quote matches “天气预报”", "Slow down a little"),
        ("zh-CN", "没有更多结果了。", "没有与“天气预报”相符的语录", "慢一点"),
        ("zh-TW", "沒有更多結果了。", "沒有與“天氣預報”相符的語錄", "慢一點"),
    ],
)
async def test_every_sentence_in_the_readers_language(
    service: QuoteService, locale: str, no_more: str, no_match: str, cooldown: str
) -> None:
    """Hints, refusals and labels in English or Chinese (traditional characters throughout for Taiwan)."""
    wording.reading(locale)
    commands = Commands(service, "discord", cooldown_seconds=60)
    nothing = await commands.quote(caller(False, "u9"), QuoteRequest("天气预报"))
    assert isinstance(nothing, Notice) and nothing.text.startswith(no_match)
    assert commands.page(PageState("能源", None, 1, 10_000)) == Notice(no_more, "no_more")
    again = await commands.quote(caller(False, "u9"), QuoteRequest("能源"))
    assert isinstance(again, Notice) and again.text.startswith(cooldown)
    helped = await commands.quote(caller(False), QuoteRequest("", help=True))
    assert helped.text == wording.HELP and ("admins" in helped.text) == locale.startswith("en")


async def test_admins_choose_a_channels_script_for_every_process(service: QuoteService, tmp_path: Path) -> None:
    from bots.preferences import ScriptChoices
    from bots.scheduler.store import create_db_engine

    url = f"sqlite:///{tmp_path / 'quotebot.sqlite3'}"
    here = Commands(service, "discord", scripts=ScriptChoices(create_db_engine(url)))
    refused = await here.set_script(caller(False), "traditional", "42")
    assert refused.kind == "refused" and await here.channel_script("42") is None
    assert (await here.set_script(caller(True), "klingon", "42")).kind == "invalid"
    assert (await here.set_script(caller(True), "繁體", "42")).text == "Quotes in this channel: traditional (Taiwan)."
    elsewhere = Commands(service, "discord", scripts=ScriptChoices(create_db_engine(url)))  # another process
    assert await elsewhere.channel_script("42") == "zh-TW" and await elsewhere.channel_script("43") is None
    await here.set_script(caller(True), "auto", "42")
    assert await Commands(service, "discord", scripts=ScriptChoices(create_db_engine(url))).channel_script("42") is None


async def test_cooldown_spares_admins_and_counts_per_user(service: QuoteService) -> None:
    now = [100.0]
    commands = Commands(service, "discord", cooldown_seconds=10, clock=lambda: now[0])
    assert isinstance(await commands.quote(caller(False, "a"), QuoteRequest("能源")), Results)
    again = await commands.quote(caller(False, "a"), QuoteRequest("能源"))
    assert again == Notice("Slow down a little: try again in 10 s.", "cooldown")
    assert isinstance(await commands.quote(caller(False, "b"), QuoteRequest("能源")), Results)
    assert isinstance(await commands.quote(caller(True, "c"), QuoteRequest("能源")), Results)
    assert isinstance(await commands.quote(caller(True, "c"), QuoteRequest("能源")), Results), "admins are exempt"
    now[0] += 10
    assert isinstance(await commands.quote(caller(False, "a"), QuoteRequest("能源")), Results)


async def test_admin_commands(service: QuoteService, corpus_copy: tuple[Path, Path], cache_dir: Path) -> None:
    daily = RecordingDaily()
    commands = Commands(service, "slack", daily=daily)
    refused = await commands.reload(caller(False))
    assert refused == Notice(wording.ADMINS_ONLY_RELOAD, "refused")
    assert (await commands.set_daily(caller(False), daily_options("09:00"), "C1", str)).kind == "refused"
    assert daily.notices, "a non-admin does not consume the admin's notices"
    done = await commands.set_daily(caller(True, "U1"), parse_daily_text("<#C2|x> 09:00 UTC"), "C1", lambda t: t[2:4])
    assert daily.calls == [("set", "slack", "C2", "09:00", "UTC", "slack:U1")]
    assert done.kind == "done" and "⚠️ channel 42 is broken" in done.full_text
    nowhere = await commands.set_daily(caller(True), parse_daily_text("#nope 09:00 UTC"), "C1", lambda t: None)
    assert nowhere.kind == "invalid" and "is not a channel here" in nowhere.text
    off = await Commands(service, "slack").set_daily(caller(True), daily_options("off"), "C1", str)
    assert off == Notice(wording.DAILY_DISABLED, "refused")
    seeds, config = corpus_copy
    own = QuoteService(seeds, config, cache_dir)
    own.load()
    (seeds / "002_broken.txt").write_bytes(b"\xff\xfe\n")
    failed = await Commands(own, "console").reload(caller(True))
    assert failed.kind == "failed" and "002_broken.txt" in failed.text and "previous corpus" in failed.text


async def test_admin_notices_follow_an_admins_quote(service: QuoteService) -> None:
    daily = RecordingDaily()
    commands = Commands(service, "discord", daily=daily)
    plain = await commands.quote(caller(False), QuoteRequest("能源"))
    admin = await commands.quote(caller(True), QuoteRequest("能源"))
    assert isinstance(plain, Results) and not plain.notices
    assert isinstance(admin, Results) and admin.notices == ("channel 42 is broken: Missing Access",)


def test_attribution_line_marks_doubtful_quotes(service: QuoteService) -> None:
    quote = service.search("能源").quotes[0]
    assert wording.DOUBTFUL not in wording.attribution(quote)
    doubtful = dataclasses.replace(quote, passage=dataclasses.replace(quote.passage, attribution="doubtful"))
    assert wording.attribution(doubtful).endswith(" · 标注存疑 / attribution uncertain")
    assert wording.footer(doubtful) == f"{quote.id} · {wording.kind_label(quote.passage.kind)} · {wording.DOUBTFUL}"
    assert [wording.kind_label(k) for k in ("answer", "reported", "question", "narration", "lead-in")] == [
        "访谈回答",
        "转述",
        "提问",
        "文章叙述",
        "引子",
    ]


@pytest.mark.parametrize(("raw", "clean"), [("a\x00b\u202ec\u200b", "abc"), (" 能源\t\x07核 \n美 ", "能源 核 美")])
def test_control_characters_go_once_for_every_surface(raw: str, clean: str) -> None:
    assert wording.one_line(raw) == clean


def test_suggestions_for_surfaces_that_autocomplete(service: QuoteService) -> None:
    commands = Commands(service, "discord")
    assert [s.id for s in commands.speaker_choices("light")] == ["lightcap"]
    assert [s.id for s in commands.speaker_choices("奧特曼")] == ["altman"], "traditional script finds the alias"
    assert len(commands.speaker_choices("")) == len(service.speakers())
    assert timezone_choices("shang") == ["Asia/Shanghai"] and timezone_choices("")[0] == "Asia/Shanghai"
