"""The seam between the chat adapters and the daily scheduler.

Adapters and the scheduler are built independently: an adapter only knows this protocol (to hand
the scheduler a way to post, and to pass `/quote-daily` on), and the scheduler only knows posters.
That keeps `bots/discord`, `bots/slack` and `bots/console` free of scheduling logic and lets each be
tested without the others.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from quotecore.models import Quote

Platform = Literal["discord", "slack", "console"]

#: Posts `quote` under `heading` in a channel; returns the platform's message id (Discord message
#: id, Slack `ts`). Raises PostError when the post did not go out.
Poster = Callable[[str, Quote, str], Awaitable[str]]


class PostError(Exception):
    """A daily post that did not go out.

    `permanent` is True when retrying cannot help (the channel is gone, or the bot lost access):
    the scheduler then marks the target broken and tells an admin, instead of retrying forever.
    """

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class DailyInputError(ValueError):
    """A `/quote-daily` argument a user got wrong; str() is the friendly one-line reply."""


class DailyControl(Protocol):
    """What an adapter may ask of the daily scheduler."""

    def register_poster(self, platform: Platform, poster: Poster) -> None:
        """Called by an adapter once it is connected; its targets are posted through `poster`."""

    def unregister_poster(self, platform: Platform) -> None:
        """Called by an adapter on shutdown."""

    async def set_target(self, platform: Platform, channel: str, time: dt.time, timezone: str, *, by: str) -> str:
        """Store (or replace) the chat-set target for this channel; returns the reply for the admin."""

    async def disable_target(self, platform: Platform, channel: str, *, by: str) -> str:
        """Turn the daily post off for this channel; returns the reply for the admin."""

    def take_notices(self, platform: Platform) -> list[str]:
        """Problems an admin should hear about (a target marked broken), each returned once."""


_TIME = re.compile(r"^(\d{1,2})[:：h]?(\d{2})$")


def parse_time(text: str) -> dt.time:
    """`09:00`, `9:00`, `0900`, `21h30` → a time; anything else is a DailyInputError."""
    match = _TIME.match(text.strip())
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return dt.time(hour, minute)
    raise DailyInputError(f"“{text}” is not a time of day: use HH:MM, for example 09:00")


def check_timezone(name: str) -> str:
    """An IANA zone name (`Asia/Shanghai`, `UTC`), else a DailyInputError saying what is expected."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DailyInputError(
            f"“{name}” is not a timezone: use an IANA name such as Asia/Shanghai, Europe/Paris or UTC"
        ) from None
    return name


@dataclass(frozen=True, slots=True)
class DailyRequest:
    """`/quote-daily <channel> <HH:MM> <timezone>` or `/quote-daily off [channel]`, parsed."""

    off: bool
    channel: str | None  # as typed (the adapter resolves mentions/ids); None = the current channel
    time: dt.time | None = None
    timezone: str | None = None


DAILY_USAGE = (
    "Usage: /quote-daily <channel> <HH:MM> <timezone> (e.g. /quote-daily #general 09:00 Asia/Shanghai),"
    " or /quote-daily off [channel]"
)


def parse_daily_text(text: str) -> DailyRequest:
    """Parse the free text of `/quote-daily` (Slack, console); DailyInputError carries the usage."""
    words = text.split()
    if words and words[0].lower() == "off" and len(words) <= 2:
        return DailyRequest(off=True, channel=words[1] if len(words) == 2 else None)
    if len(words) == 2:  # time and timezone: the current channel
        return DailyRequest(off=False, channel=None, time=parse_time(words[0]), timezone=check_timezone(words[1]))
    if len(words) == 3:
        return DailyRequest(off=False, channel=words[0], time=parse_time(words[1]), timezone=check_timezone(words[2]))
    raise DailyInputError(DAILY_USAGE)
