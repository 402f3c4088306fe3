"""The console chat: what `quotebot run` starts when no chat token is set.

It speaks the same commands as Discord and Slack (`/quote …`, `/quote-reload`, `/quote-daily …`,
`/help`), so a new user learns the bot before creating any app, and scripts can drive it through a
pipe: stdin is read line by line on a daemon thread (never blocking the loop, never holding up
exit), and end of input ends the chat. The console user is the local admin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import threading
from typing import TextIO

from bots.common import HELP_TEXT, error_message, no_match_message, parse_quote_text, reload_corpus
from bots.daily_control import DailyControl, DailyInputError, parse_daily_text
from bots.settings import Settings
from quotecore.cli import attribution
from quotecore.errors import QuoteError
from quotecore.excerpt import mark
from quotecore.models import Quote
from quotecore.service import QuoteService

log = logging.getLogger(__name__)

CHANNEL = "console"
#: Control characters and bidi overrides in typed text: never echoed back to the terminal.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
CONSOLE_HELP = (
    HELP_TEXT.replace("<channel> ", "")
    + "\n/more — the next match for the last /quote"
    + "\n/context <id> — the whole passage of a quote"
    + "\n/quit — leave (or end of input)"
    + "\nWords without a command are a /quote."
)


def token_hint() -> str:
    """The one line that says how to leave the console for a real chat platform."""
    return (
        "No chat token set, so this is the console chat. Discord: set DISCORD_TOKEN. "
        "Slack: set SLACK_BOT_TOKEN plus SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP). "
        "Type /help for the commands."
    )


class ConsoleChat:
    """One local user, one channel, the terminal as the chat window."""

    def __init__(
        self, service: QuoteService, settings: Settings, daily: DailyControl | None, out: TextIO, *, color: bool = False
    ) -> None:
        self.service = service
        self.settings = settings
        self.daily = daily
        self.out = out
        self.color = color
        self._last: tuple[str, str | None, int, int] | None = None  # query, speaker, count, next offset
        self.closed = False
        self.greeted = False

    # ---------------------------------------------------------------- output

    def say(self, text: str) -> None:
        """Write a reply and flush, so a pipe reader sees it at once; a closed pipe ends the chat."""
        if self.closed:
            return
        try:
            self.out.write(text.rstrip("\n") + "\n")
            self.out.flush()
        except BrokenPipeError:  # `quotebot run | head`: the reader left, so nobody is listening
            self.closed = True

    def render(self, quote: Quote, number: int | None = None) -> str:
        """Highlights in bold on a terminal, in 【】 otherwise; then the attribution and the id."""
        before, after = ("\033[1m", "\033[0m") if self.color else ("【", "】")
        head = f"{number}. " if number else ""
        pad = " " * len(head)
        topic = f" · {quote.passage.topic}" if quote.passage.topic else ""
        meta = f"{pad}[{quote.id} · {quote.passage.kind}{topic}]"
        return f"{head}“{mark(quote.text, quote.highlights, before, after)}”\n{pad}{attribution(quote)}\n{meta}"

    def greet(self) -> None:
        """The one up-front line: which tokens would turn on Discord or Slack, and /help."""
        if not self.greeted:
            self.greeted = True
            self.say(token_hint())

    async def post(self, channel: str, quote: Quote, heading: str) -> str:
        """The daily poster for the console: the day's excerpt, printed at its time."""
        self.say(f"\n{heading}\n{self.render(quote)}")
        return "console"

    # ---------------------------------------------------------------- commands

    async def handle(self, line: str) -> bool:
        """Answer one line; False when the user asked to leave."""
        text = _UNSAFE.sub("", line).strip()
        if not text:
            return True
        command, _, rest = text.partition(" ")
        if not command.startswith("/"):
            command, rest = "/quote", text
        command = command.lower()
        try:
            if command in ("/quit", "/exit"):
                return False
            if command in ("/help", "/quote-help"):
                self.say(CONSOLE_HELP)
            elif command == "/quote":
                self.quote(rest)
            elif command == "/more":
                self.more()
            elif command in ("/context", "/show"):
                self.context(rest.strip())
            elif command == "/quote-reload":
                self.say((await reload_corpus(self.service)).message)
            elif command == "/quote-daily":
                await self.set_daily(rest)
            else:
                self.say(f"Unknown command {command}. Type /help for the commands.")
        except QuoteError as exc:
            self.say(error_message(exc))
        except Exception:  # the chat keeps serving whatever one command does
            log.exception("console command failed: %r", text[:200])
            self.say("Sorry, something went wrong with that command (details in the log).")
        return True

    def quote(self, text: str) -> None:
        """`/quote …`: the same syntax as Slack (`speaker:`, `count:`, `help`)."""
        request = parse_quote_text(text)
        if request.help:
            self.say((f"Sorry: {request.problem}.\n" if request.problem else "") + CONSOLE_HELP)
            return
        if not request.query:
            quote = self.service.random(request.speaker)
            self.say(self.render(quote) if quote else "There are no quotes yet: the corpus is empty.")
            return
        self.page(request.query, request.speaker, request.count, 0)

    def page(self, query: str, speaker: str | None, count: int, offset: int) -> None:
        """Print one page of results and remember where /more continues."""
        results = self.service.search(query, speaker=speaker, limit=count, offset=offset)
        if not results.quotes:
            self.say("No more matches." if offset else no_match_message(query, self.service, speaker))
            self._last = None
            return
        numbered = len(results.quotes) > 1
        for number, quote in enumerate(results.quotes, offset + 1):
            self.say(self.render(quote, number if numbered else None))
        shown = offset + len(results.quotes)
        more = " (/more for the next)" if shown < results.total else ""
        self.say(f"— {shown} of {results.total}{more}")
        self._last = (query, speaker, count, shown) if shown < results.total else None

    def more(self) -> None:
        """`/more`: the console's "Another" button."""
        if self._last is None:
            self.say("Nothing more to show: search with /quote first.")
            return
        query, speaker, count, offset = self._last
        self.page(query, speaker, count, offset)

    def context(self, passage_id: str) -> None:
        """`/context <id>`: the console's "Context" button."""
        quote = self.service.show(passage_id) if passage_id else None
        self.say(self.render(quote) if quote else f"No passage with id “{passage_id}”.")

    async def set_daily(self, text: str) -> None:
        """`/quote-daily <HH:MM> <zone>` or `off`: the console is the only channel."""
        if self.daily is None:
            self.say("The daily excerpt is not enabled ([daily] enabled = false, or the database did not open).")
            return
        try:
            request = parse_daily_text(text)
            if request.channel not in (None, CHANNEL, f"#{CHANNEL}"):
                raise DailyInputError(
                    f"The console has one channel: /quote-daily <HH:MM> <timezone> (e.g. /quote-daily 09:00 "
                    f"Asia/Shanghai) or /quote-daily off; “{request.channel}” is for Discord or Slack."
                )
            if request.off:
                reply = await self.daily.disable_target("console", CHANNEL, by="console")
            else:
                assert request.time is not None and request.timezone is not None
                reply = await self.daily.set_target("console", CHANNEL, request.time, request.timezone, by="console")
        except DailyInputError as exc:
            reply = str(exc)
        self.say(reply)
        for notice in self.daily.take_notices("console"):
            self.say(f"⚠ {notice}")

    # ---------------------------------------------------------------- the loop

    async def serve(self, lines: asyncio.Queue[str | None], stop: asyncio.Event) -> None:
        """Answer lines until /quit, end of input, or `stop`; the daily poster goes with the chat."""
        self.greet()
        try:
            await self._loop(lines, stop)
        finally:
            if self.daily is not None:
                self.daily.unregister_poster("console")
            self.say("Bye.")

    async def _loop(self, lines: asyncio.Queue[str | None], stop: asyncio.Event) -> None:
        while not stop.is_set():
            getter = asyncio.ensure_future(lines.get())
            stopper = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            stopper.cancel()
            line = getter.result()
            if line is None or not await self.handle(line) or self.closed:
                break


def read_lines(stream: TextIO, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Feed `stream`'s lines into a queue from a daemon thread; None marks the end of input."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    binary = getattr(stream, "buffer", None)  # decode ourselves: a stray byte must not end the chat
    encoding = getattr(stream, "encoding", None) or "utf-8"

    def pump() -> None:
        try:
            if binary is not None:
                for raw in iter(binary.readline, b""):
                    loop.call_soon_threadsafe(queue.put_nowait, raw.decode(encoding, "replace"))
            else:
                for line in stream:
                    loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError, RuntimeError):
            log.debug("console input closed")
        with contextlib.suppress(RuntimeError):  # the loop is already closed: nobody is listening
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="console-input", daemon=True).start()
    return queue


def console_color(out: TextIO) -> bool:
    """Bold only on a real terminal, and not when NO_COLOR is set (no-color.org)."""
    return hasattr(out, "isatty") and out.isatty() and "NO_COLOR" not in os.environ
