"""A stand-in for the daily scheduler behind the DailyControl seam (the scheduler has its own tests)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any


class RecordingDaily:
    """A stand-in for the scheduler behind the DailyControl seam (the scheduler has its own tests)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.posters: dict[str, Any] = {}
        self.notices = ["channel 42 is broken: Missing Access"]
        self.set: dict[tuple[str, str], SimpleNamespace] = {}

    def targets(self) -> list[SimpleNamespace]:
        return list(self.set.values())

    def register_poster(self, platform: str, poster: Any) -> None:
        self.posters[platform] = poster

    def unregister_poster(self, platform: str) -> None:
        self.posters.pop(platform, None)

    async def set_target(self, platform: str, channel: str, time: Any, timezone: str, *, by: str) -> str:
        self.calls.append(("set", platform, channel, time.strftime("%H:%M"), timezone, by))
        self.set[(platform, channel)] = SimpleNamespace(platform=platform, channel=channel)
        return f"Daily excerpt set for {channel} at {time:%H:%M} {timezone}."

    async def disable_target(self, platform: str, channel: str, *, by: str) -> str:
        self.calls.append(("off", platform, channel, by))
        self.set.pop((platform, channel), None)
        return f"Daily excerpt off for {channel}."

    def take_notices(self, platform: str) -> list[str]:
        taken, self.notices = self.notices, []
        return taken
