"""Issue 16 (daily excerpt): start-up noise, independent targets, previews that only read, drivers.

Items 5–7 (concurrent schema creation, shutdown, crash recovery) run in separate OS processes:
see `tests/test_daily_processes.py`.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.test_daily_scheduler import RecordingPoster, daily_settings, db_url, make, shanghai, target  # noqa: F401


async def test_a_start_before_todays_time_warns_about_nothing(make: Any, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    harness = make(daily_settings(target("111", "09:00"), target("222", "18:00")), shanghai(3, 8, 30))
    with caplog.at_level(logging.INFO, logger="bots.scheduler"):
        poster = RecordingPoster()
        await harness.scheduler(poster)
    assert poster.posts == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], "nothing was missed today"
