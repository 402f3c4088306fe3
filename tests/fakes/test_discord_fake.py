"""End-to-end checks that a real discord.py ``commands.Bot`` works against :mod:`discord_fake`.

These tests are the fake's contract: if discord.py changes a payload shape or an expectation
(callback body, headers, gateway flow), they fail here rather than in the bot's own tests.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from tests.fakes.discord_fake import (
    CALLBACK_AUTOCOMPLETE_RESULT,
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_UPDATE_MESSAGE,
    CALLBACK_MODAL,
    CALLBACK_UPDATE_MESSAGE,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    OP_HEARTBEAT,
    OP_IDENTIFY,
    OP_RESUME,
    FakeDiscord,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
)

PING_BUTTON_ID = "test:ping:again"
SPEAKERS = ["Ada Lovelace", "Alan Turing", "Grace Hopper"]


class PingView(discord.ui.View):
    """Persistent view (timeout=None + custom_id) so clicks are routed even after a restart."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Again", style=discord.ButtonStyle.primary, custom_id=PING_BUTTON_ID)
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="pong again", view=self)


class ChooseView(discord.ui.View):
    """Non-persistent view: discord.py binds it to the message id from the callback response."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.select(
        custom_id="test:choose",
        options=[discord.SelectOption(label="A", value="a"), discord.SelectOption(label="B", value="b")],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.defer()  # component + no thinking = deferred update (type 6)
        await interaction.edit_original_response(content=f"chose {','.join(select.values)}")


class FeedbackModal(discord.ui.Modal):
    text: discord.ui.TextInput = discord.ui.TextInput(label="Feedback", custom_id="test:feedback:text")

    def __init__(self) -> None:
        super().__init__(title="Feedback", custom_id="test:feedback", timeout=None)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


class ProbeBot(commands.Bot):
    """A test-only bot; it keeps what discord.py returned so tests can check the parsed responses."""

    def __init__(self) -> None:
        super().__init__(
            command_prefix="!",
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.results: dict[str, Any] = {}
        self.seen_roles: list[int] = []

        @self.tree.command(name="ping", description="Replies pong")
        async def ping(interaction: discord.Interaction) -> None:
            self.seen_roles = [r.id for r in getattr(interaction.user, "roles", [])]
            embed = discord.Embed(title="Pong", description="still alive")
            response = await interaction.response.send_message("pong", embed=embed, view=PingView())
            self.results["ping"] = response

        @self.tree.command(name="slow", description="Defers, then follows up")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            self.results["slow"] = await interaction.followup.send("done thinking", wait=True)

        @self.tree.command(name="quote", description="Quote a speaker")
        @app_commands.describe(speaker="Who", count="How many")
        async def quote(interaction: discord.Interaction, speaker: str, count: int = 1) -> None:
            await interaction.response.send_message(f"{speaker} x{count} ({type(count).__name__})")

        @quote.autocomplete("speaker")
        async def speaker_autocomplete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=s, value=s) for s in SPEAKERS if s.lower().startswith(current.lower())]

        @self.tree.command(name="upload", description="Ephemeral defer, then edit with a file")
        async def upload(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            quote = discord.File(io.BytesIO(b"to be or not to be"), filename="quote.txt")
            await interaction.edit_original_response(content="here", attachments=[quote])

        @self.tree.command(name="feedback", description="Opens a modal")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(FeedbackModal())

        @self.tree.command(name="choose", description="Sends a select menu")
        async def choose(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pick one", view=ChooseView())

    async def setup_hook(self) -> None:
        self.add_view(PingView())

    async def on_message(self, message: discord.Message) -> None:
        self.results.setdefault("messages", []).append(message)
        await self.process_commands(message)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    moderator = FakeRole("moderator", permissions=1 << 13)
    user = FakeUser("alice")
    guild = FakeGuild(name="Quotes", roles=[moderator], members=[FakeMember(user, roles=[moderator.id])])
    async with FakeDiscord(guilds=[guild], token="test-token") as server:
        yield server


@pytest_asyncio.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[ProbeBot]:
    client = ProbeBot()
    async with fake.run_client(client):
        yield client
    assert client.is_closed()
    assert fake.unhandled_requests == [], "discord.py called routes the fake does not implement"


@pytest.mark.asyncio
async def test_login_identify_and_ready(fake: FakeDiscord, bot: ProbeBot) -> None:
    identify = await fake.wait_for_gateway_op(2)
    assert identify["d"]["token"] == "test-token"
    assert identify["d"]["intents"] == discord.Intents.default().value
    assert bot.user is not None and bot.user.id == fake.bot_user.id
    assert bot.application_id == fake.application_id
    guild = bot.get_guild(fake.guild.id)
    assert guild is not None and guild.name == "Quotes"
    assert bot.get_channel(fake.channel.id) is not None
    # discord.py sends a heartbeat right after HELLO; the fake must have acknowledged it.
    await fake.wait_for_gateway_op(OP_HEARTBEAT)
    paths = {(r.method, r.path) for r in fake.requests}
    assert ("GET", "/users/@me") in paths and ("GET", "/oauth2/applications/@me") in paths
    assert all(r.headers.get("Authorization") == "Bot test-token" for r in fake.requests)


@pytest.mark.asyncio
async def test_slash_command_then_button_edit(fake: FakeDiscord, bot: ProbeBot) -> None:
    moderator_id = fake.guild.roles[0].id
    sent = await fake.send_slash_command("ping", member_roles=[moderator_id])
    callback = await fake.wait_for_interaction_response(sent)

    assert callback.query == {"with_response": "1"}
    assert callback.status == 200
    assert callback.body["type"] == CALLBACK_CHANNEL_MESSAGE
    data = callback.data
    assert data["content"] == "pong"
    assert data["allowed_mentions"]["parse"] == []
    assert data["embeds"][0]["title"] == "Pong"
    button = data["components"][0]["components"][0]
    assert button["custom_id"] == PING_BUTTON_ID and button["type"] == 2
    assert bot.seen_roles and moderator_id in bot.seen_roles

    original = fake.original_message(sent)
    assert original is not None and original["content"] == "pong"
    assert original["interaction_metadata"]["id"] == str(sent.id)
    # discord.py parsed our callback body into an InteractionCallbackResponse with the message.
    await asyncio.sleep(0)
    response = bot.results["ping"]
    assert response.message_id == int(original["id"])
    assert isinstance(response.resource, discord.InteractionMessage)

    click = await fake.click_button(original, PING_BUTTON_ID)
    assert click.payload["message"]["id"] == original["id"]
    edit = await fake.wait_for_interaction_response(click)
    assert edit.body["type"] == CALLBACK_UPDATE_MESSAGE
    assert edit.data["content"] == "pong again"
    assert edit.data["components"][0]["components"][0]["custom_id"] == PING_BUTTON_ID
    stored = fake.messages[int(original["id"])]
    assert stored["content"] == "pong again" and stored["edited_timestamp"] is not None


@pytest.mark.asyncio
async def test_deferred_command_followup_fills_thinking_message(fake: FakeDiscord, bot: ProbeBot) -> None:
    sent = await fake.send_slash_command("slow")
    callback = await fake.wait_for_interaction_response(sent)
    assert callback.body == {"type": CALLBACK_DEFERRED_CHANNEL_MESSAGE}

    followup = await fake.wait_for_followup(sent)
    assert followup.path == f"/webhooks/{fake.application_id}/{sent.token}"
    assert followup.query.get("wait") == "1"
    assert followup.body["content"] == "done thinking"
    assert followup.body["allowed_mentions"]["parse"] == []

    original = fake.original_message(sent)
    assert original is not None
    assert original["content"] == "done thinking"
    assert not original["flags"] & FLAG_LOADING
    for _ in range(50):  # the callback runs in a task; give it a moment to store its result
        if "slow" in bot.results:
            break
        await asyncio.sleep(0.01)
    assert bot.results["slow"].id == int(original["id"])


@pytest.mark.asyncio
async def test_sync_commands_and_schema_typed_options(fake: FakeDiscord, bot: ProbeBot) -> None:
    names = {c.name for c in bot.tree.get_commands()}
    assert {"ping", "slow", "quote"} <= names
    synced = await bot.tree.sync()
    assert {c.name for c in synced} == names
    put = fake.requests_matching("PUT", rf"/applications/{fake.application_id}/commands")
    assert len(put) == 1 and {c["name"] for c in put[0].body} == names
    stored = {c["name"]: c for c in fake.registered_commands()}
    assert all(int(c["id"]) == s.id for s in synced for c in [stored[s.name]])

    bot.tree.copy_global_to(guild=discord.Object(fake.guild.id))
    guild_synced = await bot.tree.sync(guild=discord.Object(fake.guild.id))
    assert {c.guild_id for c in guild_synced} == {fake.guild.id}
    assert len(fake.registered_commands(fake.guild.id)) == len(names)

    # A re-sync keeps command ids stable, like Discord.
    again = await bot.tree.sync()
    assert {c.id for c in again} == {c.id for c in synced}

    sent = await fake.send_slash_command("quote", {"speaker": "Ada Lovelace", "count": "2"})
    assert sent.payload["data"]["guild_id"] == str(fake.guild.id)  # the guild copy wins
    options = sent.payload["data"]["options"]
    assert options[1] == {"name": "count", "type": 4, "value": 2}  # typed from the synced schema
    callback = await fake.wait_for_interaction_response(sent)
    assert callback.data["content"] == "Ada Lovelace x2 (int)"


@pytest.mark.asyncio
async def test_autocomplete(fake: FakeDiscord, bot: ProbeBot) -> None:
    sent = await fake.send_autocomplete("quote", {"speaker": "a"}, focused="speaker")
    callback = await fake.wait_for_interaction_response(sent)
    assert callback.body["type"] == CALLBACK_AUTOCOMPLETE_RESULT
    assert [c["value"] for c in fake.autocomplete_choices(sent) or []] == ["Ada Lovelace", "Alan Turing"]


@pytest.mark.asyncio
async def test_rate_limit_is_retried_and_forbidden_raises(fake: FakeDiscord, bot: ProbeBot) -> None:
    channel = bot.get_channel(fake.channel.id)
    assert isinstance(channel, discord.TextChannel)

    fake.fail_next("POST", r"/channels/\d+/messages", 429, retry_after=0.05)
    start = len(fake.requests)
    message = await channel.send("hello")
    assert message.content == "hello"
    statuses = [r.status for r in fake.requests_matching("POST", r"/channels/\d+/messages")[-2:]]
    assert statuses == [429, 200]
    assert fake.requests[start].failure_injected

    fake.fail_next("POST", r"/channels/\d+/messages", 403)
    with pytest.raises(discord.Forbidden) as excinfo:
        await channel.send("nope")
    assert excinfo.value.code == 50013

    edited = await message.edit(content="hello again")
    assert edited.content == "hello again"
    assert fake.messages[message.id]["content"] == "hello again"


@pytest.mark.asyncio
async def test_reconnect_resumes_session(fake: FakeDiscord, bot: ProbeBot) -> None:
    session = fake.session_id
    mark = len(fake.gateway_received)
    await fake.request_reconnect()
    resume = await fake.wait_for_gateway_op(OP_RESUME, start=mark)
    assert resume["d"]["session_id"] == session
    await fake.wait_until_identified()
    assert fake.resume_count == 1 and fake.identify_count == 1

    sent = await fake.send_slash_command("ping")
    callback = await fake.wait_for_interaction_response(sent)
    assert callback.data["content"] == "pong"


@pytest.mark.asyncio
async def test_raw_http_contract(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fake.api_base_url}/users/@me", headers={"Authorization": "Bot test-token"}) as resp:
            assert resp.status == 200
            # discord.py only parses JSON when the header is exactly this (no charset suffix).
            assert resp.headers["Content-Type"] == "application/json"
            assert resp.headers["Via"]
            assert json.loads(await resp.text())["id"] == str(fake.bot_user.id)
        async with session.get(f"{fake.api_base_url}/users/@me", headers={"Authorization": "Bot wrong"}) as resp:
            assert resp.status == 401
        async with session.get(f"{fake.api_base_url}/nope", headers={"Authorization": "Bot test-token"}) as resp:
            assert resp.status == 404
    assert [r.path for r in fake.unhandled_requests] == ["/nope"]
    assert [r.status for r in fake.requests] == [200, 401, 404]


@pytest.mark.asyncio
async def test_ephemeral_defer_then_edit_original_with_file(fake: FakeDiscord, bot: ProbeBot) -> None:
    sent = await fake.send_slash_command("upload")
    callback = await fake.wait_for_interaction_response(sent)
    assert callback.body == {"type": CALLBACK_DEFERRED_CHANNEL_MESSAGE, "data": {"flags": FLAG_EPHEMERAL}}
    edit = await fake.wait_for_request(method="PATCH", path=rf"/webhooks/\d+/{sent.token}/messages/@original")
    assert edit.body["content"] == "here"
    assert [(f.field_name, f.filename, f.data) for f in edit.files] == [
        ("files[0]", "quote.txt", b"to be or not to be")
    ]
    original = fake.original_message(sent)
    assert original is not None and original["attachments"][0]["filename"] == "quote.txt"
    assert original["flags"] & FLAG_EPHEMERAL and not original["flags"] & FLAG_LOADING
    assert original not in fake.channel_messages()  # ephemeral messages are not in channel history


@pytest.mark.asyncio
async def test_modal_roundtrip(fake: FakeDiscord, bot: ProbeBot) -> None:
    sent = await fake.send_slash_command("feedback")
    callback = await fake.wait_for_interaction_response(sent)
    assert callback.body["type"] == CALLBACK_MODAL
    modal = fake.modal_sent(sent)
    assert modal is not None and modal["custom_id"] == "test:feedback"

    submit = await fake.submit_modal("test:feedback", {"test:feedback:text": "great bot"})
    answer = await fake.wait_for_interaction_response(submit)
    assert answer.data["content"] == "thanks: great bot"
    assert answer.data["flags"] & FLAG_EPHEMERAL


@pytest.mark.asyncio
async def test_select_with_deferred_update_edits_component_message(fake: FakeDiscord, bot: ProbeBot) -> None:
    sent = await fake.send_slash_command("choose")
    await fake.wait_for_interaction_response(sent)
    message = fake.original_message(sent)
    assert message is not None

    pick = await fake.choose_select(message, "test:choose", ["b"])
    callback = await fake.wait_for_interaction_response(pick)
    assert callback.body == {"type": CALLBACK_DEFERRED_UPDATE_MESSAGE}
    edit = await fake.wait_for_request(method="PATCH", path=rf"/webhooks/\d+/{pick.token}/messages/@original")
    assert edit.body["content"] == "chose b"
    assert fake.messages[int(message["id"])]["content"] == "chose b"


@pytest.mark.asyncio
async def test_user_messages_follow_message_content_intent_rules(fake: FakeDiscord, bot: ProbeBot) -> None:
    await fake.send_user_message("no mention here")
    await fake.send_user_message(f"<@{fake.bot_user.id}> hello bot")
    for _ in range(100):
        if len(bot.results.get("messages", [])) >= 2:
            break
        await asyncio.sleep(0.01)
    plain, mention = bot.results["messages"][:2]
    assert plain.content == ""  # no MESSAGE_CONTENT intent, not mentioned: Discord blanks it
    assert mention.content == f"<@{fake.bot_user.id}> hello bot"
    assert bot.user in mention.mentions


@pytest.mark.asyncio
async def test_dm_slash_command(fake: FakeDiscord, bot: ProbeBot) -> None:
    sent = await fake.send_slash_command("ping", dm=True)
    assert "member" not in sent.payload and sent.payload["user"]["id"] == str(fake.default_user.id)
    callback = await fake.wait_for_interaction_response(sent)
    assert callback.data["content"] == "pong"
    original = fake.original_message(sent)
    assert original is not None and original["channel_id"] == sent.payload["channel_id"]


@pytest.mark.asyncio
async def test_invalid_session_makes_client_identify_again(fake: FakeDiscord, bot: ProbeBot) -> None:
    async def no_identify_delay(shard_id: int | None, *, initial: bool = False) -> None:
        return None

    # discord.py's default hook sleeps 5 s before every non-initial IDENTIFY; skip that here.
    bot.before_identify_hook = no_identify_delay  # type: ignore[method-assign]
    mark = len(fake.gateway_received)
    await fake.invalidate_session(resumable=False)
    await fake.wait_for_gateway_op(OP_IDENTIFY, start=mark)
    await fake.wait_until_identified()
    assert fake.identify_count == 2
    sent = await fake.send_slash_command("ping")
    assert (await fake.wait_for_interaction_response(sent)).data["content"] == "pong"


@pytest.mark.asyncio
async def test_dropped_connection_is_resumed_with_replay(fake: FakeDiscord, bot: ProbeBot) -> None:
    mark, session, last_seq = len(fake.gateway_received), fake.session_id, fake.sequence
    await fake.disconnect(code=4000)
    resume = await fake.wait_for_gateway_op(OP_RESUME, start=mark)
    assert resume["d"] == {"seq": last_seq, "session_id": session, "token": "test-token"}
    await fake.wait_until_identified()
    sent = await fake.send_slash_command("ping")
    assert (await fake.wait_for_interaction_response(sent)).data["content"] == "pong"


@pytest.mark.asyncio
async def test_server_error_is_retried(fake: FakeDiscord, bot: ProbeBot) -> None:
    channel = bot.get_channel(fake.channel.id)
    assert isinstance(channel, discord.TextChannel)
    fake.fail_next("POST", r"/channels/\d+/messages", 500)
    message = await channel.send("eventually")  # discord.py sleeps 1 s before retrying a 500
    assert message.content == "eventually"
    assert [r.status for r in fake.requests_matching("POST", r"/channels/\d+/messages")] == [500, 200]


@pytest.mark.asyncio
async def test_raw_gateway_protocol_and_interaction_errors(fake: FakeDiscord) -> None:
    """Drive the fake with a bare websocket to pin down the wire protocol without discord.py."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(fake.gateway_url + "?v=10&encoding=json") as ws,
    ):
        hello = await ws.receive_json(timeout=2)
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        await ws.send_json({"op": 1, "d": None})
        assert (await ws.receive_json(timeout=2))["op"] == 11
        await ws.send_json({"op": 2, "d": {"token": "test-token", "intents": 1 << 9, "properties": {}}})
        ready = await ws.receive_json(timeout=2)
        assert (ready["t"], ready["s"]) == ("READY", 1)
        assert ready["d"]["resume_gateway_url"] == fake.gateway_url
        assert ready["d"]["guilds"] == [{"id": str(fake.guild.id), "unavailable": True}]
        guild_create = await ws.receive_json(timeout=2)
        assert (guild_create["t"], guild_create["s"]) == ("GUILD_CREATE", 2)

        sent = await fake.send_slash_command("ping", options={"n": 3, "loud": True, "who": "x"})
        event = await ws.receive_json(timeout=2)
        assert (event["t"], event["s"], event["d"]["id"]) == ("INTERACTION_CREATE", 3, str(sent.id))
        assert event["d"]["data"]["options"] == [
            {"name": "n", "type": 4, "value": 3},
            {"name": "loud", "type": 5, "value": True},
            {"name": "who", "type": 3, "value": "x"},
        ]

        followup_url = f"{fake.api_base_url}/webhooks/{fake.application_id}/{sent.token}"
        async with session.post(followup_url, json={"content": "too early"}) as resp:
            assert resp.status == 404 and (await resp.json())["code"] == 10015
        callback_url = f"{fake.api_base_url}/interactions/{sent.id}/{sent.token}/callback"
        body = {"type": 4, "data": {"content": "hi"}}
        async with session.post(callback_url, json=body) as resp:
            assert resp.status == 204  # without ?with_response=1 Discord answers 204
        async with session.post(callback_url, json=body, params={"with_response": "1"}) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 40060
        async with session.post(followup_url, json={"content": "later"}, params={"wait": "true"}) as resp:
            assert resp.status == 200 and (await resp.json())["content"] == "later"
        # With GUILD_MESSAGES, both bot messages are mirrored on the gateway, in order.
        first, second = await ws.receive_json(timeout=2), await ws.receive_json(timeout=2)
        assert (first["t"], first["s"], first["d"]["content"]) == ("MESSAGE_CREATE", 4, "hi")
        assert (second["t"], second["s"], second["d"]["content"]) == ("MESSAGE_CREATE", 5, "later")
        assert first["d"]["guild_id"] == str(fake.guild.id) and "member" in first["d"]


async def test_bodies_past_discords_limits_are_refused(fake: FakeDiscord, bot: ProbeBot) -> None:
    """The real API answers 400 past its limits, so the fake does too: bots can't pass by accident."""
    channel = bot.get_channel(fake.channel.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)
    with pytest.raises(discord.HTTPException):
        await channel.send(embeds=[discord.Embed(description="y" * 3000) for _ in range(3)])
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="ok", custom_id="z" * 101))
    with pytest.raises(discord.HTTPException):
        await channel.send("fine", view=view)
    fits = await channel.send("字" * 2000, embed=discord.Embed(description="字" * 4096))
    assert too_long.value.status == 400 and too_long.value.code == 50035
    assert fits.content == "字" * 2000
