"""The Slack adapter in Socket Mode end to end: `bots.slack.serve` with an xapp- token runs the real
slack-bolt `AsyncSocketModeHandler`, which opens a WebSocket to the mock (via `apps.connections.open`),
receives envelopes, acks them over the socket and answers through the response_url.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError

from bots.runtime import AppContext
from bots.settings import Settings
from bots.slack import SlackAdapter
from quotecore.service import QuoteService
from tests import test_slack_adapter
from tests.fakes.slack_fake import MockSlack, ResponseUrlPost, block_actions_payload, slash_command_payload
from tests.test_slack_adapter import make_settings, section_texts

#: The HTTP tests' MockSlack fixture (with their admin and user), shared rather than redefined.
mock = test_slack_adapter.mock
APP_TOKEN = "xapp-1-A0000APP-1234-socketmodetest"
T = TypeVar("T")


def socket_settings(mock: MockSlack, cache_dir: Path, **options: Any) -> Settings:
    """A Socket Mode deployment: bot and app tokens, no signing secret (nothing to verify)."""
    return make_settings(mock, cache_dir, app_token=APP_TOKEN, signing_secret=None, **options)


class SocketBot:
    """Drives a running `serve` task the way Slack does in Socket Mode."""

    def __init__(self, mock: MockSlack, task: asyncio.Task[None]) -> None:
        self.mock, self.task = mock, task

    async def until(self, awaitable: Awaitable[T]) -> T:
        """Await a wait on the mock, but fail at once (with its error) if `serve` ends meanwhile."""
        waiting = asyncio.ensure_future(awaitable)
        await asyncio.wait({waiting, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():
            waiting.cancel()
            raise AssertionError(f"serve() ended early: {self.task.exception() or 'returned'!r}")
        return waiting.result()

    async def send(self, envelope_type: str, payload: dict[str, Any]) -> tuple[str, ResponseUrlPost]:
        """Send one envelope; wait for its ack over the socket and the answer at its response_url."""
        envelope_id = await self.mock.send_envelope(envelope_type, payload)
        ack = await self.until(self.mock.wait_for_ack(envelope_id))
        assert ack.payload is None, "listeners ack empty and answer through response_url"
        return envelope_id, await self.until(self.mock.wait_for_response(payload["response_url"]))

    async def command(self, name: str, text: str) -> ResponseUrlPost:
        url = self.mock.new_response_url()
        _, reply = await self.send("slash_commands", slash_command_payload(name, text, response_url=url))
        return reply

    async def click(self, blocks: list[dict[str, Any]], action_id: str) -> ResponseUrlPost:
        url = self.mock.new_response_url()
        payload = block_actions_payload(action_id, response_url=url, message_blocks=blocks)
        _, reply = await self.send("interactive", payload)
        return reply


@contextlib.asynccontextmanager
async def serving(mock: MockSlack, service: QuoteService, settings: Settings) -> AsyncIterator[SocketBot]:
    """Run `serve` until the block ends, then stop it and require a clean, bounded shutdown."""
    stop = asyncio.Event()
    task = asyncio.create_task(SlackAdapter().serve(AppContext(service, settings), stop))
    bot = SocketBot(mock, task)
    try:
        await bot.until(mock.wait_for_socket(1))
        yield bot
    finally:
        stop.set()
        # Hang protection only: a clean close takes milliseconds.
        assert await asyncio.wait_for(task, 15) is None
    # The WebSocket was really closed (Slack sees the app go away) and no SDK task was left running.
    await mock.wait_for_sockets_closed()
    leftovers = {t for t in asyncio.all_tasks() if _sdk_task(t)}
    if leftovers:
        _, pending = await asyncio.wait(leftovers, timeout=5)
        assert not pending, f"Socket Mode tasks still running after serve() returned: {pending!r}"


def _sdk_task(task: asyncio.Task[Any]) -> bool:
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and "slack_sdk" in code.co_filename


async def test_socket_mode_quote_another_reconnect_and_clean_stop(
    mock: MockSlack, service: QuoteService, cache_dir: Path
) -> None:
    first, second, third = service.search("计算资源", limit=3).quotes
    async with serving(mock, service, socket_settings(mock, cache_dir)) as bot:
        reply = await bot.command("/quote", "计算资源")
        replaced = await bot.click(reply.blocks, "quote_another")
        # Slack asks apps to move to a fresh connection every few hours; the next envelope comes there.
        await mock.request_disconnect()
        await bot.until(mock.wait_for_socket(2))
        again = await bot.click(replaced.blocks, "quote_another")

    # The WebSocket URL was requested with the app-level token, the bot authorised with the bot token.
    opens = mock.calls("apps.connections.open")
    # One more than the connections: serve asks once up front, so a refused app token fails fast.
    assert len(opens) == 3 and all(c.ok and c.token == APP_TOKEN for c in opens)
    assert mock.calls("auth.test") and all(c.token == "xoxb-test" for c in mock.calls("auth.test"))
    assert len(mock.sockets) == 2 and mock.sockets[0].closed_at is not None

    # What the user sees: the same answer as over HTTP (tests/test_slack_adapter.py).
    assert reply.response_type == "in_channel"
    text = section_texts(reply.blocks)
    assert "\u200b*计算资源*\u200b" in text, "the matched word is bold"
    assert "Sam Altman" in text and first.document.title in text and first.id in text
    assert first.passage.text[:12] in text.replace("\u200b*", "").replace("*\u200b", "")
    assert any(b["type"] == "actions" for b in reply.blocks)
    # "Another" replaces the message with the next match, also after the reconnect.
    assert replaced.replace_original is True and second.id in section_texts(replaced.blocks)
    assert again.replace_original is True and third.id in section_texts(again.blocks)
    # Every envelope was acked exactly once, each on the connection it was sent on.
    acks = mock.socket_acks()
    assert len(acks) == 3 and len({a.envelope_id for a in acks}) == 3
    assert [a.connection_id for a in acks] == [mock.sockets[0].connection_id] * 2 + [mock.sockets[1].connection_id]


async def test_socket_mode_help_goes_only_to_the_caller(
    mock: MockSlack, service: QuoteService, cache_dir: Path
) -> None:
    async with serving(mock, service, socket_settings(mock, cache_dir)) as bot:
        helped = await bot.command("/quote", "help")
        nothing = await bot.command("/quote", "天气预报")
    assert helped.response_type == "ephemeral" and "/quote" in helped.text
    assert nothing.response_type == "ephemeral" and "No quote matches" in nothing.text


async def test_a_refused_app_token_ends_serve_with_the_api_error(
    mock: MockSlack, service: QuoteService, cache_dir: Path
) -> None:
    """slack_sdk alone would retry the refused token forever; `quotebot run` would never stop."""
    settings = make_settings(mock, cache_dir, app_token="xoxb-not-an-app-token", signing_secret=None)
    task = asyncio.ensure_future(SlackAdapter().serve(AppContext(service, settings), asyncio.Event()))
    done, _ = await asyncio.wait({task}, timeout=15)  # a hang guard, not a timing assertion
    assert task in done, "serve() kept retrying a refused app token"
    error = task.exception()
    assert isinstance(error, SlackApiError) and error.response["error"] == "not_allowed_token_type"
    assert mock.sockets == []
