"""One scripted session, three surfaces: Discord, Slack and the console give the same outcomes.

Each surface runs for real (a discord.py client against FakeDiscord, the bolt app over signed HTTP
against MockSlack, the console chat on a text stream), and each driver reads back only what a user
sees there, reduced to a comparable outcome: a quote (its passage id, and whether "Another" is
offered), the end of the matches, a whole passage, or the words of a notice.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest

from bots.commands import Caller, Commands
from bots.console import ConsoleChat
from bots.discord import create_bot
from bots.runtime import AppContext
from bots.slack import create_app
from quotecore import QuoteService
from tests.fakes.daily import RecordingDaily
from tests.fakes.discord_fake import FakeDiscord
from tests.fakes.slack_fake import USER_ID, MockSlack, serve_bolt_app
from tests.test_discord_adapter import TOKEN, Users, button_ids, make_settings, owner_guild
from tests.test_slack_adapter import ADMIN, Bot, buttons, section_texts
from tests.test_slack_adapter import make_settings as slack_settings

Outcome = tuple[str, ...]


class Surface(Protocol):
    async def quote(self, text: str) -> Outcome: ...
    async def another(self) -> Outcome: ...
    async def context(self) -> Outcome: ...
    async def daily(self, time: str, zone: str) -> Outcome: ...
    async def reload(self) -> Outcome: ...


def notice(text: str) -> Outcome:
    """A notice as users read it: markup escapes removed, one line per notice."""
    return ("notice", html.unescape(text.replace("\\", "")).strip())


class Console:
    def __init__(self, service: QuoteService) -> None:
        self.out = io.StringIO()
        self.chat = ConsoleChat(Commands(service, "console", daily=RecordingDaily()), self.out)

    async def say(self, line: str, admin: bool = True) -> str:
        async def check() -> bool:
            return admin

        self.chat.caller = Caller("local", check)
        start = len(self.out.getvalue())
        await self.chat.handle(line)
        return self.out.getvalue()[start:].strip()

    def results(self, text: str) -> Outcome:
        match = re.search(r"\[(\w+) · ", text)
        if match is None:
            return ("no_more",) if text == "No more matches." else notice(text)
        return ("quote", match.group(1), "more" if "(/more for the next)" in text else "last")

    async def quote(self, text: str) -> Outcome:
        return self.results(await self.say(f"/quote {text}", admin=False))

    async def another(self) -> Outcome:
        return self.results(await self.say("/more", admin=False))

    async def context(self) -> Outcome:
        shown = re.findall(r"\[(\w+) · ", self.out.getvalue())[-1]
        return ("context", self.results(await self.say(f"/context {shown}", admin=False))[1])

    async def daily(self, time: str, zone: str) -> Outcome:
        return notice(await self.say(f"/quote-daily {time} {zone}"))

    async def reload(self) -> Outcome:
        return notice(await self.say("/quote-reload", admin=False))


class Discord:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.message: int | None = None

    def results(self, data: dict[str, Any]) -> Outcome:
        if not data.get("embeds"):
            return notice(data.get("content", ""))
        more = any(c.startswith("qb:more:") for c in button_ids(data))
        return ("quote", data["embeds"][0]["footer"]["text"].split(" · ")[0], "more" if more else "last")

    async def quote(self, text: str) -> Outcome:
        sent = await self.fake.send_slash_command("quote", {"query": text}, user=Users.alice)
        data = (await self.fake.wait_for_interaction_response(sent)).data
        message = self.fake.original_message(sent)
        self.message = int(message["id"]) if message and data.get("embeds") else self.message
        return self.results(data)

    async def another(self) -> Outcome:
        assert self.message is not None
        shown = self.fake.messages[self.message]
        more = [c for c in button_ids(shown) if c.startswith("qb:more:")]
        if not more:  # nothing to press: the last page says so
            return ("no_more",) if shown["content"].endswith("No more matches.") else ("stuck",)
        click = await self.fake.click_button(self.message, more[0], user=Users.alice)
        return self.results((await self.fake.wait_for_interaction_response(click)).data)

    async def context(self) -> Outcome:
        assert self.message is not None
        ctx = next(c for c in button_ids(self.fake.messages[self.message]) if c.startswith("qb:ctx:"))
        reply = await self.fake.wait_for_interaction_response(await self.fake.click_button(self.message, ctx))
        return ("context", reply.data["embeds"][0]["footer"]["text"].split(" · ")[0])

    async def daily(self, time: str, zone: str) -> Outcome:
        sent = await self.fake.send_slash_command("quote-daily", {"time": time, "timezone": zone}, user=Users.owner)
        return notice((await self.fake.wait_for_interaction_response(sent)).data["content"])

    async def reload(self) -> Outcome:
        sent = await self.fake.send_slash_command("quote-reload", {}, user=Users.alice)
        return notice((await self.fake.wait_for_interaction_response(sent)).data["content"])


def passage_id(blocks: list[dict[str, Any]]) -> str:
    """The id at the end of the last quote's context line."""
    return [b for b in blocks if b["type"] == "context"][-1]["elements"][0]["text"].rsplit(" · ", 1)[1]


class Slack:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.blocks: list[dict[str, Any]] = []

    def results(self, reply: Any) -> Outcome:
        if not any(b["type"] == "actions" for b in reply.blocks or []):
            return notice(reply.text)
        self.blocks = reply.blocks
        return ("quote", passage_id(reply.blocks), "more" if "quote_another" in buttons(reply.blocks) else "last")

    async def quote(self, text: str) -> Outcome:
        return self.results(await self.bot.reply("/quote", text))

    async def another(self) -> Outcome:
        if "quote_another" not in buttons(self.blocks):  # nothing to press: the last page says so
            return ("no_more",) if section_texts(self.blocks).split("\n")[0].endswith("No more matches.") else ("x",)
        return self.results(await self.bot.mock.wait_for_response(await self.bot.click(self.blocks, "quote_another")))

    async def context(self) -> Outcome:
        reply = await self.bot.mock.wait_for_response(await self.bot.click(self.blocks, "quote_context"))
        return ("context", passage_id(reply.blocks))

    async def daily(self, time: str, zone: str) -> Outcome:
        return notice((await self.bot.reply("/quote-daily", f"{time} {zone}", user=ADMIN)).text)

    async def reload(self) -> Outcome:
        return notice((await self.bot.reply("/quote-reload", "", user=USER_ID)).text)


@asynccontextmanager
async def console(service: QuoteService, cache_dir: Path) -> AsyncIterator[Surface]:
    yield Console(service)


@asynccontextmanager
async def discord(service: QuoteService, cache_dir: Path) -> AsyncIterator[Surface]:
    async with FakeDiscord(guilds=[owner_guild()], default_user=Users.owner, token=TOKEN) as fake:
        settings = make_settings(fake, cache_dir)
        async with fake.run_client(create_bot(AppContext(service, settings, RecordingDaily()))):
            yield Discord(fake)


@asynccontextmanager
async def slack(service: QuoteService, cache_dir: Path) -> AsyncIterator[Surface]:
    async with MockSlack() as mock:
        mock.add_user(ADMIN, name="admin")
        mock.add_user(USER_ID, name="alice")
        app = create_app(AppContext(service, slack_settings(mock, cache_dir), RecordingDaily()))
        async with serve_bolt_app(app) as url:
            yield Slack(Bot(mock, url))


async def run_session(surface: Surface) -> list[Outcome]:
    outcomes = [await surface.quote("能源")]
    outcomes += [await surface.another() for _ in range(4)]
    outcomes.append(await surface.context())
    outcomes.append(await surface.quote("天气预报"))
    outcomes.append(await surface.daily("09:00", "Mars/Olympus"))
    outcomes.append(await surface.reload())
    return outcomes


@pytest.mark.parametrize("surface", [console, discord, slack], ids=["console", "discord", "slack"])
async def test_the_same_session_gives_the_same_outcomes_everywhere(
    surface: Callable[..., Any], service: QuoteService, cache_dir: Path
) -> None:
    ids = [q.id for q in service.search("能源", limit=5).quotes]
    assert 2 <= len(ids) <= 4  # so that four presses of Another go past the last match
    pages = [("quote", i, "more") for i in ids[:-1]] + [("quote", ids[-1], "last")]
    async with surface(service, cache_dir) as chat:
        outcomes = await run_session(chat)
    assert outcomes == [
        *pages,
        *[("no_more",)] * (5 - len(ids)),
        ("context", ids[-1]),
        notice(
            "No quote matches “天气预报”. Try a broader word (能源, 研究, AGI) "
            "or a speaker (山姆·奥特曼, 布拉德·莱特卡普)."
        ),
        notice(
            "“Mars/Olympus” is not a timezone: use an IANA name such as Asia/Shanghai, Europe/Paris or UTC\n"
            "⚠️ channel 42 is broken: Missing Access"  # the scheduler's notice, for the admin, once
        ),
        notice("Only quotebot admins can reload the corpus."),
    ]
