"""The daily excerpt through the real adapters: what the fake Discord and the mock Slack received."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bots.discord import create_bot
from bots.runtime import AppContext
from bots.scheduler import DailyScheduler, Store
from bots.settings import CorpusSettings, DailySettings, DiscordSettings, Settings, SlackSettings, Target
from bots.slack import create_app
from quotecore.service import QuoteService
from tests.fakes.discord_fake import FakeDiscord
from tests.fakes.slack_fake import CHANNEL_ID, MockSlack

UTC = dt.UTC


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


async def no_sleep(seconds: float) -> None:
    return None


async def test_both_platforms_post_once_a_day_and_a_restart_does_not_repost(
    service: QuoteService, cache_dir: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'quotebot.sqlite3'}"
    async with FakeDiscord(token="t") as fake, MockSlack() as slack:
        daily = DailySettings(
            targets=[
                Target(platform="discord", channel=str(fake.channel.id), time=dt.time(9, 0), timezone="Asia/Shanghai"),
                Target(platform="slack", channel=CHANNEL_ID, time=dt.time(9, 0), timezone="Asia/Shanghai"),
            ]
        )
        settings = Settings(
            discord=DiscordSettings(token="t", api_base_url=fake.api_base_url),
            slack=SlackSettings(bot_token="xoxb-test", signing_secret="s", api_url=slack.api_url),
            corpus=CorpusSettings(cache_dir=cache_dir),
            daily=daily,
        )
        clock = Clock(dt.datetime(2026, 11, 24, 0, 30, tzinfo=UTC))  # 08:30 in Shanghai
        for restart in range(2):
            sched = DailyScheduler(service, daily, Store(url), clock=clock, sleep=no_sleep)
            await sched.start()
            ctx = AppContext(service, settings, sched)
            create_app(ctx)  # offers the Slack poster
            async with fake.run_client(create_bot(ctx)):
                for minutes in range(0, 120, 10):  # 08:30 → 10:20 local
                    clock.now = dt.datetime(2026, 11, 24, 0, 30, tzinfo=UTC) + dt.timedelta(minutes=minutes)
                    await sched.tick()
                if restart == 0:
                    clock.now += dt.timedelta(minutes=1)
            await sched.shutdown()
        posts = fake.channel_messages()
        slack_posts = [c for c in slack.calls("chat.postMessage") if c.ok]
    quote_id = service.daily(dt.date(2026, 11, 24)).id  # type: ignore[union-attr]
    assert len(posts) == 1 and posts[0]["content"] == "今日语录 · 2026-11-24"
    assert posts[0]["embeds"][0]["footer"]["text"].startswith(quote_id)
    assert len(slack_posts) == 1 and slack_posts[0].params["channel"] == CHANNEL_ID
    assert quote_id in str(slack_posts[0].params["blocks"])
