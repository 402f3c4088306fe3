"""A large Discord bot: four shards split over two bot processes, on the fake gateway.

Discord sends each server's events to the shard that holds it ((server id >> 22) % shard count),
and the fake does the same, so a process that did not run a server's shard never hears from it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

from bots.discord import create_bot
from bots.runtime import AppContext
from bots.scheduler import DailyScheduler, Store
from bots.settings import CorpusSettings, DailySettings, DiscordSettings, Settings, Target
from quotecore import QuoteService
from tests.fakes.discord_fake import FakeDiscord, FakeGuild, FakeMember, FakeUser

TOKEN = "shard-test-token"
UTC = dt.UTC


def server(shard: int) -> FakeGuild:
    """A server whose id puts it on `shard` of four."""
    return FakeGuild(name=f"server {shard}", id=((1000 + shard) << 22) + 7, members=[FakeMember(FakeUser("ada"))])


def settings(fake: FakeDiscord, cache_dir: Path, shard_ids: list[int], daily: DailySettings) -> Settings:
    discord = DiscordSettings(
        token=TOKEN, api_base_url=fake.api_base_url, cooldown_seconds=0, shard_count=4, shard_ids=shard_ids
    )
    return Settings(discord=discord, corpus=CorpusSettings(cache_dir=cache_dir), daily=daily)


async def no_wait(shard_id: int | None, *, initial: bool = False) -> None:
    """discord.py waits 5 s between two IDENTIFYs (Discord's rate limit); the fake has no such limit."""


async def no_sleep(seconds: float) -> None:
    return None


async def test_two_processes_share_four_shards_answer_everywhere_and_post_once(
    service: QuoteService, cache_dir: Path, tmp_path: Path
) -> None:
    servers = [server(shard) for shard in range(4)]
    channel = servers[3].channels[0]  # held by the second process
    target = Target(platform="discord", channel=str(channel.id), time=dt.time(9, 0), timezone="UTC")
    daily = DailySettings(targets=[target])
    clock_now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    store_url = f"sqlite:///{tmp_path / 'quotebot.sqlite3'}"
    async with FakeDiscord(guilds=servers, token=TOKEN) as fake, contextlib.AsyncExitStack() as stack:
        schedulers, bots = [], []
        for shard_ids in ([0, 1], [2, 3]):
            scheduler = DailyScheduler(service, daily, Store(store_url), clock=lambda: clock_now, sleep=no_sleep)
            await scheduler.start()
            stack.push_async_callback(scheduler.shutdown)
            bot = create_bot(AppContext(service, settings(fake, cache_dir, shard_ids, daily), scheduler))
            bot.before_identify_hook = no_wait  # type: ignore[method-assign]
            await stack.enter_async_context(fake.run_client(bot))
            schedulers.append(scheduler)
            bots.append(bot)
        assert fake.shards == [0, 1, 2, 3]
        assert [sorted(g.name for g in bot.guilds) for bot in bots] == [
            ["server 0", "server 1"],
            ["server 2", "server 3"],
        ], "each process holds the servers of its own shards"

        for guild in servers:
            sent = await fake.send_slash_command("quote", {"query": "能源"}, guild=guild)
            reply = await fake.wait_for_interaction_response(sent)
            assert reply.data["content"].startswith("🔎 “能源”"), f"{guild.name} is answered"

        for scheduler in schedulers:  # the first process ticks first: it must leave the post to the second
            await scheduler.tick()
        posts = [m for m in fake.channel_messages(channel.id) if m["content"].startswith("今日语录")]
        claim = schedulers[0].store.post(f"discord:{channel.id}", clock_now.date())
    assert len(posts) == 1, "one daily post, whichever process ticks first"
    assert claim is not None and claim["claimed_by"] == schedulers[1].owner, "posted by the process holding shard 3"
    assert not fake.unhandled_requests
