"""Discord's connection state reaches readiness and the metrics (issue 18 item 4)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from bots.discord import create_bot
from bots.runtime import AppContext
from quotecore.service import QuoteService
from tests.fakes.discord_fake import FakeDiscord
from tests.test_discord_adapter import TOKEN, Users, make_settings, owner_guild


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(guilds=[owner_guild()], default_user=Users.owner, token=TOKEN) as server:
        yield server


async def test_discord_is_connected_while_the_gateway_session_is(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    ctx = AppContext(service, make_settings(fake, cache_dir))
    assert not ctx.connected.get("discord")
    async with fake.run_client(create_bot(ctx)):
        for _ in range(100):  # on_ready is dispatched as a task just after wait_until_ready returns
            if ctx.connected.get("discord"):
                break
            await asyncio.sleep(0.01)
        assert ctx.connected["discord"] is True
        assert 'quotebot_platform_connected{platform="discord"} 1.0' in ctx.metrics.exposition().decode()
    assert ctx.connected["discord"] is False
    assert 'quotebot_platform_connected{platform="discord"} 0.0' in ctx.metrics.exposition().decode()
