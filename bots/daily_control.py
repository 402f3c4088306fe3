"""The seam between the chat adapters and the daily scheduler.

Adapters and the scheduler are built independently: an adapter only knows this protocol (to hand
the scheduler a way to post, and to pass `/quote-daily` on), and the scheduler only knows posters.
That keeps `bots/discord`, `bots/slack` and `bots/console` free of scheduling logic and lets each be
tested without the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal, Protocol

from quotecore import Quote

Platform = Literal["discord", "slack", "console"]

#: Posts `quote` under `heading` in a channel; returns the platform's message id (Discord message
#: id, Slack `ts`). Raises PostError when the post did not go out.
Poster = Callable[[str, Quote, str], Awaitable[str]]


#: Optional, as a poster's `find` attribute: the message id of the bot's own post under `heading` among
#: the channel's recent messages, or None when it is not there. Raises PostError when the bot cannot
#: read the channel's history (then a claim without outcome is recorded as unknown, and admins are told).
Finder = Callable[[str, str], Awaitable[str | None]]


#: Optional, as a poster's `owns` attribute: whether this process should post in a channel at all. With
#: Discord shards split across processes only the process running the channel's shard posts there.
Owner = Callable[[str], Awaitable[bool]]


class PostError(Exception):
    """A daily post that did not go out.

    `permanent` is True when retrying cannot help (the channel is gone, or the bot lost access):
    the scheduler then marks the target broken and tells an admin, instead of retrying forever.
    """

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class DailyTargetView(Protocol):
    """What an adapter reads of a target: where it posts."""

    platform: str
    channel: str


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

    def targets(self) -> Sequence[DailyTargetView]:
        """The effective targets (the file's and chat-set ones): a workspace that leaves takes its own along."""

    def take_notices(self, platform: Platform) -> list[str]:
        """Problems an admin should hear about (a target marked broken), each returned once."""
