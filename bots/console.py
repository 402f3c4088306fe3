"""The console chat: what `quotebot run` starts when no chat token is set.

It speaks the same commands as Discord and Slack (`/quote …`, `/quote-reload`, `/quote-daily …`,
`/help`), with `/more` and `/context` for the buttons, so a new user learns the bot before creating
any app, and scripts can drive it through a pipe: stdin is read line by line on a daemon thread
(never blocking the loop, never holding up exit), and end of input ends the chat. The console
user is the local admin. Render (terminal text) and transport (stdin/stdout) only: every answer
comes from `bots.commands`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TextIO

from bots import wording
from bots.commands import (
    Caller,
    Commands,
    Context,
    Notice,
    PageState,
    Reply,
    Results,
    local_admin,
    parse_daily_text,
    parse_quote_text,
)
from bots.failures import failure
from bots.reader import shown
from bots.runtime import AppContext, until_stopped
from quotecore import Quote, mark

log = logging.getLogger(__name__)

CHANNEL = "console"


def console_help() -> str:
    """The help, with the console's own commands (in the reader's language)."""
    return wording.HELP.replace("<channel> ", "") + wording.say(
        "\n/more — the next match for the last /quote"
        "\n/context <id> — the whole passage of a quote"
        "\n/quit — leave (or end of input)"
        "\nWords without a command are a /quote.",
        "\n/more — 上一次 /quote 的下一条结果"
        "\n/context <id> — 一条语录所在的整段"
        "\n/quit — 退出(或输入结束)"
        "\n不带命令的文字就是 /quote。",
    )


TOKEN_HINT = (
    "No chat token set, so this is the console chat. Discord: set DISCORD_TOKEN. "
    "Slack: set SLACK_BOT_TOKEN plus SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP). "
    "Type /help for the commands."
)


def render(quote: Quote, number: int | None = None, *, color: bool = False) -> str:
    """Highlights in bold on a terminal, in 【】 otherwise; then the attribution and the id."""
    before, after = ("\033[1m", "\033[0m") if color else ("【", "】")
    head = f"{number}. " if number else ""
    pad = " " * len(head)
    meta = " · ".join(p for p in (quote.id, wording.kind_label(quote.passage.kind), quote.passage.topic) if p)
    body = mark(quote.text, quote.highlights, before, after, escape=wording.strip_controls)
    return f"{head}“{body}”\n{pad}— {wording.attribution(quote)}\n{pad}[{meta}]"


def render_reply(reply: Reply, *, color: bool = False) -> str:
    """Any reply of the command layer as terminal text."""
    if isinstance(reply, Notice):
        return reply.full_text.replace(wording.HELP, console_help())
    if isinstance(reply, Context):
        return render(reply.quote, color=color)
    numbered = len(reply.quotes) > 1
    lines = [
        render(q, n if numbered else None, color=color) for n, q in enumerate(reply.quotes, reply.state.offset + 1)
    ]
    if not reply.random:
        more = " (/more for the next)" if reply.next() else f" · {wording.NO_MORE}"
        lines.append(f"— {reply.state.offset + len(reply.quotes)} of {reply.total}{more}")
    return "\n".join([*lines, *map(wording.notice_line, reply.notices)])


class ConsoleChat:
    """One local user, one channel, the terminal as the chat window."""

    def __init__(
        self,
        commands: Commands,
        out: TextIO,
        *,
        color: bool = False,
        caller: Caller | None = None,
        locale: str | None = None,
    ) -> None:
        self.commands = commands
        #: The terminal's language (LC_ALL, LC_MESSAGES, LANG): zh_TW.UTF-8 reads traditional characters.
        self.locale = locale or next((v for k in ("LC_ALL", "LC_MESSAGES", "LANG") if (v := os.environ.get(k))), None)
        self.caller = caller or local_admin()  # the person at the terminal owns the bot
        self.out = out
        self.color = color
        self.closed = False
        self._more: PageState | None = None  # what /more shows next
        self._handlers: dict[str, Callable[[str], Awaitable[Reply]]] = {
            "/quote": self.quote,
            "/more": self.more,
            "/context": self.context,
            "/show": self.context,
            "/quote-reload": self.reload,
            "/quote-daily": self.set_daily,
            "/quote-script": self.set_script,
        }

    def say(self, text: str) -> None:
        """Write a reply and flush, so a pipe reader sees it at once; a closed pipe ends the chat."""
        if self.closed:
            return
        try:
            self.out.write(text.rstrip("\n") + "\n")
            self.out.flush()
        except BrokenPipeError:  # `quotebot run | head`: the reader left, so nobody is listening
            self.closed = True

    async def post(self, channel: str, quote: Quote, heading: str) -> str:
        """The daily poster for the console: the day's excerpt, printed at its time."""
        self.say(f"\n{heading}\n{render(quote, color=self.color)}")
        return CHANNEL

    async def handle(self, line: str) -> bool:
        """Answer one line; False when the user asked to leave."""
        wording.reading(self.locale)
        text = wording.one_line(line)
        command, _, rest = text.partition(" ")
        if not command.startswith("/"):
            command, rest = "/quote", text
        command = command.lower()
        if not text or command in ("/quit", "/exit"):
            return not text
        if command in ("/help", "/quote-help"):
            self.say(console_help())
            return True
        handler = self._handlers.get(command)
        try:
            reply = await handler(rest.strip()) if handler else None
        except Exception as exc:  # the chat keeps serving whatever one command does
            reply = failure("console", command, exc, user=self.caller.key, typed=text[:200])
        seen = await shown(self.commands, reply, self.locale, CHANNEL) if reply else None
        self.say(render_reply(seen, color=self.color) if seen else wording.unknown_command(command))
        return True

    async def quote(self, text: str) -> Reply:
        """`/quote …`: the same syntax as Slack (`speaker:`, `count:`, `help`)."""
        return self._remember(await self.commands.quote(self.caller, parse_quote_text(text)))

    async def more(self, text: str) -> Reply:
        """`/more`: the console's "Another" button."""
        if self._more is None:
            return Notice(wording.NOTHING_TO_CONTINUE, "invalid")
        return self._remember(self.commands.page(self._more))

    async def context(self, passage_id: str) -> Reply:
        """`/context <id>`: the console's "Context" button."""
        return self.commands.context(passage_id)

    async def set_script(self, text: str) -> Reply:
        """`/quote-script auto|simplified|traditional|hk`: the script of every quote here."""
        return await self.commands.set_script(self.caller, text, CHANNEL)

    async def reload(self, text: str) -> Reply:
        """`/quote-reload`."""
        return await self.commands.reload(self.caller)

    async def set_daily(self, text: str) -> Reply:
        """`/quote-daily <HH:MM> <zone>` or `off`: the console is the only channel."""
        request = parse_daily_text(text)
        return await self.commands.set_daily(self.caller, request, CHANNEL, _console_channel)

    def _remember(self, reply: Reply) -> Reply:
        """Where /more goes on: past the last match too, so it answers "No more matches."."""
        if isinstance(reply, Results):
            self._more = reply.next() or replace(reply.state, offset=reply.state.offset + len(reply.quotes))
        elif not (isinstance(reply, Notice) and reply.kind == "no_more"):
            self._more = None
        return reply


def _console_channel(typed: str) -> str | None:
    return CHANNEL if typed.lstrip("#") == CHANNEL else None


class ConsoleAdapter:
    """The console as an adapter: greets and offers its poster before the scheduler starts."""

    name = "console"

    def __init__(self, stdin: TextIO, out: TextIO, *, color: bool | None = None) -> None:
        self.stdin = stdin
        self.out = out
        self.color = console_color(out) if color is None else color
        self.chat: ConsoleChat | None = None

    def prepare(self, ctx: AppContext) -> None:
        """The up-front line, then the poster: a due daily post prints after it, before any answer."""
        self.chat = ConsoleChat(ctx.commands(CHANNEL), self.out, color=self.color)
        self.chat.say(TOKEN_HINT)
        ctx.offer_poster("console", self.chat.post)

    async def serve(self, ctx: AppContext, stop: asyncio.Event) -> None:
        """Answer lines until /quit, end of input, or `stop`; the daily poster goes with the chat."""
        if self.chat is None:
            self.prepare(ctx)
        assert self.chat is not None
        self.chat.commands.daily = ctx.daily
        lines = read_lines(self.stdin, asyncio.get_running_loop())
        try:
            while not self.chat.closed:
                finished, line = await until_stopped(lines.get(), stop)
                if not finished or line is None or not await self.chat.handle(line):
                    break
        finally:
            ctx.withdraw_poster("console")
            self.chat.say("Bye.")


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
