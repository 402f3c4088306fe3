"""Hostile input, generated: whatever a user types, every surface answers, and nothing dangerous gets out.

Hypothesis drives the core, the CLI (argv and a batch of raw bytes on stdin), the command layer
and both renderers with text built from the characters that have broken chat bots: controls and
terminal escapes, bidi overrides, zero-width characters, lone surrogates, combining marks, emoji,
mention syntax, markup, huge runs. Every output is checked for what a user would see: no
exception, no control or bidi character, no mention that could ping anyone, every platform limit
held, every batch line answered.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.commands import Commands, local_admin, parse_quote_text
from bots.discord import render as discord_render
from bots.slack import render as slack_render
from quotecore.cli import build_parser, run
from quotecore.errors import QuoteError
from quotecore.service import QuoteService

ROOT = Path(__file__).resolve().parent.parent

#: Characters that must never reach a user: C0/C1 controls (newline and tab aside, where a
#: renderer puts them itself), bidi controls and isolates, zero-width characters, surrogates.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: Mention syntax that pings: Slack's special mentions and user/group references, Discord's.
SLACK_PINGS = re.compile(r"<!(?:channel|here|everyone)[^>]*>|<@[UW][A-Z0-9]+>|<!subteam\^")
SLACK_BARE = re.compile(r"(?<![\w\u200b])@(?:channel|here|everyone)\b")
DISCORD_PINGS = re.compile(r"@(?:everyone|here)\b|<@[!&]?\d+>")

HOSTILE = [
    "\x00",
    "\x1b[31m",
    "\x1b]8;;http://x\x07",
    "\u202e",
    "\u2066",
    "\u061c",
    "\u200b",
    "\u200f",
    "\ufeff",
    "\ud800",
    "\udcff",
    "\u0301",
    "👨‍👩‍👧",
    "@everyone",
    "@here",
    "<!channel>",
    "<!here>",
    "<@U123ABC>",
    "<@&123>",
    "&amp;",
    "&<>",
    "*bold*",
    "`code`",
    "{0}",
    "%s",
    "${x}",
    "<script>",
    "\n",
    "\r",
    "\t",
    "能源",
    "计算资源",
    "奥特曼",
    "speaker:",
    "count:9",
]

pieces = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=8), st.characters(codec=None).map(str))
hostile = st.lists(pieces, max_size=12).map("".join) | st.sampled_from(["&" * 3000, "能源" * 400, "\u202e" * 50])

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
#: The CLI loads a corpus per call (about a second): fewer examples, the same strategies.
CLI_SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _clean(text: str) -> None:
    assert not FORBIDDEN.search(text), repr(FORBIDDEN.search(text).group())


@SETTINGS
@given(query=hostile, speaker=st.none() | hostile)
def test_the_core_answers_or_refuses_clearly(service: QuoteService, query: str, speaker: str | None) -> None:
    try:
        results = service.search(query, speaker=speaker, limit=3)
    except QuoteError as exc:
        message = str(exc)
        assert len(message) < 1200
        _clean(message)
        return
    _clean(results.query)
    for quote in results.quotes:
        _clean(quote.text)
        _clean(json.dumps(quote.to_json(), ensure_ascii=False))


@CLI_SETTINGS
@given(query=hostile)
def test_the_cli_answers_every_argv(cache_dir: Path, monkeypatch: pytest.MonkeyPatch, query: str) -> None:
    monkeypatch.setenv("QUOTEBOT_CACHE_DIR", str(cache_dir))
    out = io.StringIO()
    argv = ["--seeds", str(ROOT / "seeds"), "--config-dir", str(ROOT / "config"), "search", query]
    try:
        code = run(build_parser(), argv, out)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    assert code in (0, 2)
    _clean(out.getvalue())


@CLI_SETTINGS
@given(lines=st.lists(st.binary(max_size=40), min_size=1, max_size=6))
def test_a_batch_of_any_bytes_is_answered_line_by_line(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch, lines: list[bytes]
) -> None:
    monkeypatch.setenv("QUOTEBOT_CACHE_DIR", str(cache_dir))
    lines = [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines]
    raw = b"\n".join(lines) + b"\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    out = io.StringIO()
    argv = ["--seeds", str(ROOT / "seeds"), "--config-dir", str(ROOT / "config"), "search", "--json", "-"]
    assert run(build_parser(), argv, out) == 0
    answers = out.getvalue().splitlines()
    assert len(answers) == len(lines)
    for answer in answers:
        assert set(json.loads(answer)) >= {"query", "results"}
        _clean(answer)


async def _reply(service: QuoteService, platform: str, text: str) -> object:
    commands = Commands(service, platform)  # type: ignore[arg-type]
    return await commands.quote(local_admin(), parse_quote_text(text))


@SETTINGS
@given(text=hostile)
async def test_discord_messages_hold_every_limit_and_ping_nobody(service: QuoteService, text: str) -> None:
    message = discord_render.render(await _reply(service, "discord", text))  # type: ignore[arg-type]
    content = message.fields.get("content") or ""
    embeds = message.fields.get("embeds") or ([message.fields["embed"]] if message.fields.get("embed") else [])
    visible = [content]
    for embed in embeds:
        assert len(embed) <= 6000 and len(embed.description or "") <= 4096 and len(embed.title or "") <= 256
        assert len(embed.fields) <= 25
        visible += [embed.title or "", embed.description or "", embed.footer.text or ""]
        visible += [f.name + f.value for f in embed.fields]
    assert len(content) <= 2000 and len(embeds) <= 10
    for part in visible:
        _clean(part)
        assert not DISCORD_PINGS.search(part), part


@SETTINGS
@given(text=hostile)
async def test_slack_messages_hold_every_limit_and_ping_nobody(service: QuoteService, text: str) -> None:
    body = slack_render.message(await _reply(service, "slack", text))  # type: ignore[arg-type]
    blocks = body.get("blocks") or []
    assert len(blocks) <= 50
    texts = [body.get("text") or ""]
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
            texts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if element.get("type") == "button":
                assert len(element["value"]) <= 2000 and len(element["text"]["text"]) <= 75
            elif "text" in element:
                texts.append(element["text"] if isinstance(element["text"], str) else element["text"]["text"])
    for part in texts:
        _clean(part)
        assert not SLACK_PINGS.search(part), part
        assert not SLACK_BARE.search(part), part


@SETTINGS
@given(line=hostile)
async def test_the_console_prints_nothing_dangerous(service: QuoteService, line: str) -> None:
    from bots.console import ConsoleChat

    out = io.StringIO()
    chat = ConsoleChat(Commands(service, "console"), out)
    for typed in (line, "/quote " + line, "/context " + line, "/more"):
        await chat.handle(typed)
    _clean(out.getvalue().replace("\n", " "))


def test_a_console_mention_or_escape_is_just_text() -> None:
    """The console prints what the command layer gives it; the escape is gone before the search."""
    from bots.wording import one_line

    assert one_line("@everyone \x00\x1b[31m 能源 \u202e") == "@everyone 能源"
    assert discord.utils.escape_mentions("@everyone") != "@everyone"
