"""The command layer: what `/quote`, its buttons, `/quote-reload` and `/quote-daily` do, for every surface.

Adapters parse nothing and decide nothing: they hand a request and the caller to `Commands`, get
plain data back (`Results`, `Context` or `Notice`), render it in their markup and send it. Paging,
cooldowns, admin checks and every sentence (see `bots.wording`) are decided here once, so Discord,
Slack and the console cannot drift apart, and a new surface is one renderer plus one transport.

The paging rule, the same everywhere: "Another" is offered while there is a next match; the last
match comes without it, and an "Another" pressed past the end (an old message, the console's
`/more`) answers "No more matches." Nothing wraps around silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import re
import time
import zoneinfo
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from bots import wording
from bots.daily_control import DailyControl, Platform
from bots.logs import new_request, query_event
from bots.preferences import ScriptChoices
from quotecore import CorpusError, Quote, QuoteError, QuoteService, ReloadReport, Script, Speaker, search_form

if TYPE_CHECKING:
    from bots.generation import Spread
    from bots.metrics import Metrics

log = logging.getLogger(__name__)

MAX_COUNT = 5


# ---------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """`/quote` split into its parts; `problem` (with `help`) when the syntax was wrong."""

    query: str
    speaker: str | None = None
    count: int = 1
    help: bool = False
    problem: str | None = None


_OPTION_NAMES = {"speaker": "speaker", "by": "speaker", "count": "count", "n": "count"}


def parse_quote_text(text: str, max_count: int = MAX_COUNT) -> QuoteRequest:
    """The free text after /quote (Slack, console): `speaker:` takes one word, `count:` 1–max."""
    words = text.split()
    if words and words[0].lower() in ("help", "-h", "--help", "?"):
        return QuoteRequest(query="", help=True)
    query: list[str] = []
    speaker: list[str] = []
    count = 1
    current = query
    for word in words:
        name, sep, value = word.replace("：", ":", 1).partition(":")
        key = _OPTION_NAMES.get(name.lower()) if sep else None
        if sep and key is None and name.isascii() and name.isalpha() and value:
            return QuoteRequest(query="", help=True, problem=f"unknown option “{name}:”")
        if key == "count" and not (value.isdigit() and 1 <= int(value) <= max_count):
            return QuoteRequest(query="", help=True, problem=f"count must be a number from 1 to {max_count}")
        if key == "count":
            count, current = int(value), query
        elif key == "speaker":
            speaker.extend([value] if value else [])
            current = query if value else speaker
        else:
            current.append(word)
            current = query
    return QuoteRequest(query=" ".join(query), speaker=" ".join(speaker) or None, count=count)


@dataclass(frozen=True, slots=True)
class DailyRequest:
    """`/quote-daily`, parsed: off, or a time and zone; `channel` as typed (None: here)."""

    off: bool = False
    channel: str | None = None
    time: dt.time | None = None
    timezone: str | None = None
    problem: str | None = None


_TIME = re.compile(r"^(\d{1,2})[:：h]?(\d{2})$")


def parse_time(text: str) -> dt.time | None:
    """`09:00`, `9:00`, `0900`, `21h30` → a time; anything else None."""
    match = _TIME.match(text.strip())
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return dt.time(int(match.group(1)), int(match.group(2)))
    return None


def is_timezone(name: str) -> bool:
    """An IANA zone name (`Asia/Shanghai`, `UTC`)."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


#: What `/quote-daily`'s timezone suggests before anything is typed.
COMMON_ZONES = ("Asia/Shanghai", "Asia/Taipei", "Asia/Hong_Kong", "Asia/Singapore", "UTC", "Europe/London",
                "Europe/Paris", "America/New_York", "America/Los_Angeles")  # fmt: skip


def timezone_choices(typed: str, limit: int = 25) -> list[str]:
    """IANA zones containing what was typed (any case), for a surface that suggests as one types."""
    if not typed:
        return list(COMMON_ZONES[:limit])
    return [z for z in sorted(zoneinfo.available_timezones()) if typed.lower() in z.lower()][:limit]


def daily_options(time: str, timezone: str = "UTC", channel: str | None = None) -> DailyRequest:
    """Typed options (Discord): `time` is HH:MM or `off`."""
    if time.strip().lower() == "off":
        return DailyRequest(off=True, channel=channel)
    when, zone = parse_time(time), timezone.strip()
    if when is None:
        return DailyRequest(problem=wording.not_a_time(time))
    if not is_timezone(zone):
        return DailyRequest(problem=wording.not_a_zone(zone))
    return DailyRequest(channel=channel, time=when, timezone=zone)


def parse_daily_text(text: str) -> DailyRequest:
    """Free text (Slack, console): `[channel] HH:MM zone` or `off [channel]`."""
    words = text.split()
    if words and words[0].lower() == "off" and len(words) <= 2:
        return DailyRequest(off=True, channel=words[1] if len(words) == 2 else None)
    if len(words) in (2, 3):
        request = daily_options(words[-2], words[-1])
        return replace(request, channel=words[0]) if len(words) == 3 and not request.problem else request
    return DailyRequest(problem=wording.DAILY_USAGE)


# ---------------------------------------------------------------- replies


@dataclass(frozen=True, slots=True)
class PageState:
    """What "Another" carries (in a button, or the console's memory): no server-side state."""

    query: str
    speaker_id: str | None
    count: int
    offset: int


@dataclass(frozen=True, slots=True)
class Results:
    """Quotes to show: a page of matches, or a random quote (empty query)."""

    quotes: tuple[Quote, ...]
    state: PageState
    total: int
    notices: tuple[str, ...] = ()

    @property
    def random(self) -> bool:
        """A random quote: "Another" draws another one, forever."""
        return not self.state.query

    def header(self, markup: Callable[[str], str], shown: int | None = None) -> str:
        """`🔎 “query” · 1–3 / 13` (the query cut, then through the surface's `markup`), or 🎲 for a random one."""
        if self.random:
            return wording.RANDOM_HEADER
        last = self.state.offset + (len(self.quotes) if shown is None else shown)
        query = markup(wording.cut(self.state.query, wording.QUERY_ECHO))
        return wording.results_header(query, self.state.offset + 1, last, self.total)

    def next(self, shown: int | None = None) -> PageState | None:
        """The state for "Another" after `shown` quotes (all by default); None at the last match."""
        if self.random:
            return self.state
        offset = self.state.offset + (len(self.quotes) if shown is None else shown)
        return replace(self.state, offset=offset) if offset < self.total else None


@dataclass(frozen=True, slots=True)
class Context:
    """A whole passage, for "Context": shown only to whoever asked."""

    quote: Quote


NoticeKind = Literal["help", "no_match", "no_more", "invalid", "cooldown", "refused", "done", "failed"]


@dataclass(frozen=True, slots=True)
class Notice:
    """A text reply only the caller sees; `kind` lets a renderer style it (help, refusal, …)."""

    text: str
    kind: NoticeKind
    notices: tuple[str, ...] = field(default=())

    @property
    def full_text(self) -> str:
        """The text with the admin's notices under it."""
        return "\n".join([self.text, *map(wording.notice_line, self.notices)])


Reply = Results | Context | Notice


@dataclass(slots=True)
class Caller:
    """Who sent a command: a key for the cooldown, and an admin check asked at most once."""

    key: str
    check_admin: Callable[[], Awaitable[bool]]
    _admin: bool | None = None

    async def is_admin(self) -> bool:
        """The platform's own admin check (it may call an API), remembered for this command."""
        if self._admin is None:
            self._admin = await self.check_admin()
        return self._admin


def local_admin(key: str = "console") -> Caller:
    """The console's user: the person at the terminal owns the bot."""

    async def yes() -> bool:
        return True

    return Caller(key, yes)


class Cooldown:
    """Per-user rate limit: one command every `seconds`; the clock is injectable for tests."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: dict[str, float] = {}

    def retry_after(self, user: str) -> float:
        """0 when the user may go ahead (and the use is recorded), else seconds to wait."""
        if self.seconds <= 0:
            return 0.0
        now = self._clock()
        last = self._last.get(user)
        if last is not None and now - last < self.seconds:
            return self.seconds - (now - last)
        self._last[user] = now
        if len(self._last) > 10_000:  # forget users whose cooldown is long over
            self._last = {u: t for u, t in self._last.items() if now - t < self.seconds}
        return 0.0


class ReloadEverywhere(Protocol):
    """What `/quote-reload` asks of bots.replicas.ReplicaSync when several processes share the database."""

    async def reload(self) -> tuple[ReloadReport, Spread]:
        """Reload here, record the new generation, and say which processes serve it."""


#: A cooldown shared through the database: (key, seconds) → 0 to go ahead, else seconds to wait.
SharedTurn = Callable[[str, float], Awaitable[float]]


# ---------------------------------------------------------------- the commands


class Commands:
    """The commands of one surface (`platform`), over the shared QuoteService and scheduler."""

    def __init__(
        self,
        service: QuoteService,
        platform: Platform,
        *,
        daily: DailyControl | None = None,
        cooldown_seconds: float = 0.0,
        max_results: int = MAX_COUNT,
        clock: Callable[[], float] = time.monotonic,
        memo: dict[str, list[str]] | None = None,
        scripts: ScriptChoices | None = None,
        replicas: ReloadEverywhere | None = None,
        shared_turn: SharedTurn | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.service = service
        self.platform = platform
        self.daily = daily
        self.cooldown = Cooldown(cooldown_seconds, clock)
        self.max_results = max_results
        #: Answers computed from the corpus, shared by every surface and dropped on any reload.
        self.memo = {} if memo is None else memo
        self.scripts = scripts
        self.replicas = replicas
        self.shared_turn = shared_turn
        self.metrics = metrics

    async def retry_after(self, caller: Caller) -> float:
        """The cooldown: shared by every process when the database carries it, else this process's own."""
        if self.shared_turn is not None and self.cooldown.seconds > 0:
            return await self.shared_turn(f"{self.platform}:{caller.key}", self.cooldown.seconds)
        return self.cooldown.retry_after(caller.key)

    async def quote(self, caller: Caller, request: QuoteRequest) -> Reply:
        """/quote: help, a cooldown refusal, a random quote, or the first page of matches."""
        return await self._measured("quote", self._quote(caller, request))

    async def _measured(self, command: str, work: Awaitable[Reply]) -> Reply:
        """Run one user query under a request id; count and time it by outcome (metrics, JSON log line)."""
        new_request()
        started = time.perf_counter()
        outcome = "error"
        try:
            reply = await work
            outcome = outcome_of(reply)
            return reply
        finally:
            seconds = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.query(self.platform, outcome, seconds)
            query_event(self.platform, command, outcome, seconds)

    async def _quote(self, caller: Caller, request: QuoteRequest) -> Reply:
        if request.help:
            problem = wording.bad_option(request.problem) + "\n" if request.problem else ""
            return Notice(problem + wording.HELP, "invalid" if request.problem else "help")
        wait = await self.retry_after(caller)
        if wait and not await caller.is_admin():
            return Notice(wording.cooldown(wait), "cooldown")
        try:
            speaker = self.service.resolve_speaker(request.speaker).id if request.speaker else None
            query = wording.one_line(request.query)
            if request.query and not query:  # only invisible characters: refused, never a random quote
                self.service.validate_query(request.query)
        except QuoteError as exc:
            return Notice(wording.refusal(exc), "invalid")
        state = PageState(query, speaker, max(1, min(request.count, self.max_results)), 0)
        reply = self.page(state, speaker_name=request.speaker)
        if isinstance(reply, Results):
            reply = replace(reply, notices=tuple(await self.admin_notices(caller)))
        return reply

    def page(self, state: PageState, *, speaker_name: str | None = None) -> Results | Notice:
        """One page of results (what "Another" asks for); "No more matches." past the last one."""
        try:
            if not state.query:
                quote = self.service.random(state.speaker_id)
                if quote is None:
                    return Notice(wording.EMPTY_CORPUS, "no_match")
                return Results((quote,), state, 1)
            found = self.service.search(state.query, speaker=state.speaker_id, limit=state.count, offset=state.offset)
        except QuoteError as exc:
            return Notice(wording.refusal(exc), "invalid")
        if found.quotes:
            return Results(found.quotes, state, found.total)
        if state.offset:
            return Notice(wording.NO_MORE, "no_more")
        shown = wording.cut(state.query, wording.QUERY_ECHO)
        return Notice(wording.no_match(shown, speaker_name, self.quoted_speakers()), "no_match")

    async def another(self, caller: Caller, state: PageState | None, asker: str | None) -> tuple[Reply, bool]:
        """The "Another" button on a public answer: the reply, and whether it replaces the answer.

        The asker pages their own answer. Anyone else gets their own next match privately, so one
        person cannot page someone else's answer away, and pays the cooldown as for a /quote of
        their own. `state` None: the message no longer says what it searched for.
        """
        replaces = state is not None and caller.key == asker

        async def answer() -> Reply:
            if state is None:
                return Notice(wording.LOST_QUERY, "invalid")
            if replaces:
                return self.page(state)
            wait = await self.retry_after(caller)
            if wait and not await caller.is_admin():
                return Notice(wording.cooldown(wait), "cooldown")
            return self.page(state)

        reply = await self._measured("another", answer())
        return reply, replaces

    def context(self, passage_id: str, terms: list[str] | tuple[str, ...] = ()) -> Context | Notice:
        """The whole passage behind a quote, with `terms` highlighted again."""
        quote = self.service.show(passage_id, terms) if passage_id else None
        return Context(quote) if quote is not None else Notice(wording.passage_gone(passage_id), "invalid")

    def speaker_choices(self, typed: str, limit: int = 25) -> list[Speaker]:
        """Speakers whose id, names or aliases contain what was typed (any script or case): autocomplete."""
        wanted = search_form(typed).replace(" ", "")
        speakers = self.service.speakers()
        names = {s.id: [s.id, s.name, s.name_en or "", *s.aliases] for s in speakers}
        return [s for s in speakers if any(wanted in search_form(n).replace(" ", "") for n in names[s.id])][:limit]

    def quoted_speakers(self) -> list[str]:
        """Speakers with quotes of their own, most quoted first: the no-match hint names them."""
        if "quoted" not in self.memo:
            counts = Counter(q.speaker.id for q in self.service.passages() if q.speaker and _quotable(q))
            ranked = sorted((s for s in self.service.speakers() if counts[s.id]), key=lambda s: -counts[s.id])
            self.memo["quoted"] = [s.name for s in ranked]
        return self.memo["quoted"]

    async def reload(self, caller: Caller) -> Notice:
        """/quote-reload: admins only; rebuilt in a worker thread, the old corpus serves on failure."""
        if not await caller.is_admin():
            return Notice(wording.ADMINS_ONLY_RELOAD, "refused")
        started = time.perf_counter()
        spread: Spread | None = None
        try:
            if self.replicas is not None:
                report, spread = await self.replicas.reload()
            else:
                report = await asyncio.to_thread(self.service.reload)
        except CorpusError as exc:
            log.warning("reload failed, keeping the current corpus: %s", exc)
            roots = (self.service.seeds_dir, self.service.config_dir)
            text, kind = wording.reload_failed(corpus_relative(exc, roots)), "failed"
        except Exception:
            log.exception("reload crashed, keeping the current corpus")
            text, kind = wording.reload_failed(None), "failed"
        else:
            self.memo.clear()
            text, kind = wording.reloaded(report), "done"
            if spread is not None:
                text += "\n" + wording.reload_spread(spread)
        if self.metrics is not None:
            self.metrics.reload("ok" if kind == "done" else "failed", "command")
        log.info("reload by %s: %s in %.2f s", caller.key, kind, time.perf_counter() - started)
        return Notice(text, kind, tuple(await self.admin_notices(caller)))  # type: ignore[arg-type]

    async def set_daily(
        self, caller: Caller, request: DailyRequest, here: str, channel: Callable[[str], str | None]
    ) -> Notice:
        """/quote-daily: admins only; `channel` turns what was typed into a channel id (None: not one)."""
        if not await caller.is_admin():
            return Notice(wording.ADMINS_ONLY_DAILY, "refused")
        if self.daily is None:
            return Notice(wording.DAILY_DISABLED, "refused")
        target = here if request.channel is None else channel(request.channel)
        if request.problem or target is None:
            text = request.problem or wording.not_a_channel(request.channel or "")
            return Notice(text, "invalid", tuple(await self.admin_notices(caller)))
        by = f"{self.platform}:{caller.key}"
        if request.off:
            text = await self.daily.disable_target(self.platform, target, by=by)
        else:
            assert request.time is not None and request.timezone is not None
            text = await self.daily.set_target(self.platform, target, request.time, request.timezone, by=by)
        return Notice(text, "done", tuple(await self.admin_notices(caller)))

    async def set_script(self, caller: Caller, typed: str, channel: str) -> Notice:
        """/quote-script: admins choose the script of every quote in `channel` (auto: each reader's own)."""
        if not await caller.is_admin():
            return Notice(wording.ADMINS_ONLY_SCRIPT, "refused")
        word = wording.one_line(typed).lower()
        if word not in wording.SCRIPT_WORDS:
            return Notice(wording.not_a_script(typed), "invalid")
        script = wording.SCRIPT_WORDS[word]
        if self.scripts is not None:
            await self.scripts.set(f"{self.platform}:{channel}", script, by=f"{self.platform}:{caller.key}")
        return Notice(wording.script_set(script), "done")

    async def channel_script(self, channel: str) -> Script | None:
        """The script an admin chose for `channel`, or None (each reader's own)."""
        return await self.scripts.get(f"{self.platform}:{channel}") if self.scripts is not None else None

    async def admin_notices(self, caller: Caller) -> list[str]:
        """Problems the daily scheduler wants an admin to hear about (each once); none for others."""
        if self.daily is None or not await caller.is_admin():
            return []
        return self.daily.take_notices(self.platform)


def outcome_of(reply: Reply) -> str:
    """A reply as the metrics count it: answered, no_match, refused (cooldown, bad input), or help."""
    if isinstance(reply, Results | Context):
        return "answered"
    if reply.kind in ("no_match", "no_more"):
        return "no_match"
    if reply.kind == "help":
        return "help"
    return "refused"


def corpus_relative(error: CorpusError, roots: tuple[Path, ...]) -> str:
    """A corpus error as a chat admin reads it: the file relative to the corpus (or config) folder.

    The server's absolute paths mean nothing in a chat and tell everyone there how the server is laid out.
    """

    def shown(where: str) -> str:
        for root in roots:
            with contextlib.suppress(ValueError):
                relative = Path(where).relative_to(root).as_posix()
                return root.name if relative == "." else relative
        return Path(where).name or where

    reason = error.reason
    for root in roots:  # an OS error's reason names the file again
        reason = reason.replace(str(root) + os.sep, "").replace(str(root), root.name)
    return f"{shown(error.path)}:{error.line}: {reason}" if error.line else f"{shown(error.path)}: {reason}"


def _quotable(quote: Quote) -> bool:
    return quote.passage.kind in ("answer", "reported")
