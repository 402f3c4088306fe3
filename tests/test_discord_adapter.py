"""The Discord adapter end to end: a real discord.py client (built by `create_bot`) against FakeDiscord.

Every assertion is on what Discord would have received: callback bodies, message edits, followups
and channel posts, as recorded by the fake.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio

from bots import wording
from bots.cli import invite_url
from bots.daily_control import PostError
from bots.discord import create_bot, post_quote, sync_commands
from bots.runtime import AppContext
from bots.settings import CorpusSettings, DiscordSettings, Settings
from quotecore.service import QuoteService
from tests.fakes.daily import RecordingDaily
from tests.fakes.discord_fake import (
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_UPDATE_MESSAGE,
    FLAG_EPHEMERAL,
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
)

TOKEN = "discord-test-token"


COMMAND_NAMES = {"quote", "quote-reload", "quote-daily", "quote-script"}


class Users:
    owner = FakeUser("owner")  # the application's owner in the fake (its default user)
    alice = FakeUser("alice")  # an ordinary member
    mod = FakeUser("mod")  # holds the configured admin role
    admin_role = FakeRole("quote-admins")


def make_settings(fake: FakeDiscord, cache_dir: Path, **discord_options: Any) -> Settings:
    options: dict[str, Any] = {
        "token": TOKEN,
        "api_base_url": fake.api_base_url,
        "cooldown_seconds": 0,
        "admin_role_ids": [Users.admin_role.id],
    }
    options.update(discord_options)
    return Settings(discord=DiscordSettings(**options), corpus=CorpusSettings(cache_dir=cache_dir))


def owner_guild() -> FakeGuild:
    """A server with two channels, the owner, an ordinary member and a moderator with the admin role."""
    return FakeGuild(
        name="Quotes",
        channels=[FakeChannel("general"), FakeChannel("daily-quotes", position=1)],
        roles=[Users.admin_role],
        members=[FakeMember(Users.owner), FakeMember(Users.alice), FakeMember(Users.mod, roles=[Users.admin_role.id])],
    )


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(guilds=[owner_guild()], default_user=Users.owner, token=TOKEN) as server:
        yield server
        assert not server.unhandled_requests, "the bot called routes the fake does not implement"
        refused = [str(r) for r in server.requests if r.status == 400]
        assert not refused, f"Discord would have refused: {refused}"


async def run_bot(fake: FakeDiscord, service: QuoteService, settings: Settings, daily: Any = None) -> Any:
    return fake.run_client(create_bot(AppContext(service, settings, daily)))


def all_outgoing_bodies(fake: FakeDiscord) -> list[dict[str, Any]]:
    """Every message-bearing body the bot sent (callbacks, followups, edits, channel posts)."""
    bodies = []
    for request in fake.requests:
        if request.method not in ("POST", "PATCH") or not isinstance(request.body, dict):
            continue
        body = request.body.get("data") if "/callback" in request.path else request.body
        if isinstance(body, dict) and ("content" in body or "embeds" in body):
            bodies.append(body)
    return bodies


def embed_text(embed: dict[str, Any]) -> str:
    parts = [
        embed.get("description", ""),
        embed.get("author", {}).get("name", ""),
        embed.get("footer", {}).get("text", ""),
    ]
    parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)


def message_size(data: dict[str, Any]) -> int:
    total = 0
    for embed in data.get("embeds", []):
        total += len(embed.get("title", "")) + len(embed.get("description", ""))
        total += len(embed.get("author", {}).get("name", "")) + len(embed.get("footer", {}).get("text", ""))
        total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    return total


def button_ids(data: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in data.get("components", []) for c in row.get("components", [])]


async def test_quote_answers_with_the_right_quote_and_attribution(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    async with await run_bot(fake, service, make_settings(fake, cache_dir)):
        sent = await fake.send_slash_command("quote", {"query": "计算资源"}, user=Users.alice)
        callback = await fake.wait_for_interaction_response(sent)
    assert callback.body["type"] == CALLBACK_CHANNEL_MESSAGE
    data = callback.data
    assert not data.get("flags", 0) & FLAG_EPHEMERAL, "a result is public"
    expected = service.search("计算资源", limit=1).quotes[0]
    embed = data["embeds"][0]
    assert "**计算资源**" in embed["description"], "the matched words are bold"
    assert "Sam Altman" in embed["author"]["name"] and "奥特曼" in embed["author"]["name"]
    assert embed["footer"]["text"].startswith(expected.id)
    text = embed_text(embed)
    assert expected.document.title in text and (expected.passage.topic or "") in text
    assert data["allowed_mentions"] == {"parse": []}
    assert any(cid.startswith("qb:more:") for cid in button_ids(data))
    assert any(cid == f"qb:ctx:{expected.id}" for cid in button_ids(data))


async def test_another_edits_to_the_next_match_and_context_is_ephemeral(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    first, second = service.search("计算资源", limit=2).quotes
    async with await run_bot(fake, service, make_settings(fake, cache_dir)):
        sent = await fake.send_slash_command("quote", {"query": "计算资源"}, user=Users.alice)
        await fake.wait_for_interaction_response(sent)
        message = fake.original_message(sent)
        assert message is not None
        context = await fake.click_button(message, f"qb:ctx:{first.id}", user=Users.alice)
        reply = await fake.wait_for_interaction_response(context)

        more = next(c for c in button_ids(message) if c.startswith("qb:more:"))
        click = await fake.click_button(message, more, user=Users.alice)
        edit = await fake.wait_for_interaction_response(click)
        assert edit.body["type"] == CALLBACK_UPDATE_MESSAGE
        assert edit.data["embeds"][0]["footer"]["text"].startswith(second.id)
        assert "2 / " in edit.data["content"]
    assert reply.data["flags"] & FLAG_EPHEMERAL
    assert reply.data["embeds"][0]["description"].replace("*", "").replace("\\", "")[:40] in first.passage.text


async def test_a_reader_in_taiwan_gets_traditional_characters_from_the_same_search(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    taipei, shanghai = FakeUser("taipei", locale="zh-TW"), FakeUser("shanghai", locale="zh-CN")
    async with await run_bot(fake, service, make_settings(fake, cache_dir, cooldown_seconds=0)):
        answers = {}
        for user in (taipei, shanghai):
            sent = await fake.send_slash_command("quote", {"query": "计算资源"}, user=user)
            answers[user.locale] = (await fake.wait_for_interaction_response(sent)).data
        message = fake.original_message(sent)
        assert message is not None
        more = next(c for c in button_ids(message) if c.startswith("qb:more:"))
        paged = await fake.wait_for_interaction_response(await fake.click_button(message, more, user=shanghai))
        nothing = await fake.send_slash_command("quote", {"query": "天气预报"}, user=taipei)
        hint = (await fake.wait_for_interaction_response(nothing)).data["content"]
    assert hint.startswith("沒有與“天氣預報”相符的語錄"), "the hint in the reader's language and script"
    traditional, simplified = answers["zh-TW"]["embeds"][0], answers["zh-CN"]["embeds"][0]
    assert "**計算資源**" in traditional["description"] and "计算" not in traditional["description"]
    assert "**计算资源**" in simplified["description"] and "計算" not in simplified["description"]
    assert "奧特曼" in traditional["author"]["name"] and "奥特曼" in simplified["author"]["name"]
    assert traditional["footer"]["text"].split()[0] == simplified["footer"]["text"].split()[0], "the same quote"
    assert "计算资源" in paged.data["content"] and "計算" not in paged.data["embeds"][0]["description"]


async def test_an_admin_sets_a_channel_to_traditional_for_everyone(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    daily = RecordingDaily()
    async with await run_bot(fake, service, make_settings(fake, cache_dir, cooldown_seconds=0), daily=daily):
        refused = await fake.send_slash_command("quote-script", {"script": "traditional"}, user=Users.alice)
        assert "Only quotebot admins" in (await fake.wait_for_interaction_response(refused)).data["content"]
        chosen = await fake.send_slash_command("quote-script", {"script": "hk"}, user=Users.owner)
        assert "Hong Kong" in (await fake.wait_for_interaction_response(chosen)).data["content"]
        sent = await fake.send_slash_command("quote", {"query": "计算资源"}, user=Users.alice)  # an en-US client
        embed = (await fake.wait_for_interaction_response(sent)).data["embeds"][0]
        quote = service.search("计算资源", limit=1).quotes[0]
        await daily.posters["discord"](str(fake.channel.id), quote, "今日语录")
        posted = fake.channel_messages()[-1]["embeds"][0]
    assert "**計算資源**" in embed["description"] and "奧特曼" in embed["author"]["name"]
    assert "奧特曼" in posted["author"]["name"], "the daily excerpt follows the channel's script too"


async def test_buttons_keep_working_after_a_restart(fake: FakeDiscord, service: QuoteService, cache_dir: Path) -> None:
    settings = make_settings(fake, cache_dir)
    async with await run_bot(fake, service, settings):
        sent = await fake.send_slash_command("quote", {"query": "能源"}, user=Users.alice)
        await fake.wait_for_interaction_response(sent)
    message = fake.original_message(sent)
    assert message is not None
    more = next(c for c in button_ids(message) if c.startswith("qb:more:"))
    async with await run_bot(fake, service, settings):  # a new process: no view state in memory
        click = await fake.click_button(message, more, user=Users.alice)
        edit = await fake.wait_for_interaction_response(click)
    assert edit.body["type"] == CALLBACK_UPDATE_MESSAGE
    assert edit.data["embeds"]


async def test_no_match_is_an_ephemeral_hint(fake: FakeDiscord, service: QuoteService, cache_dir: Path) -> None:
    async with await run_bot(fake, service, make_settings(fake, cache_dir)):
        sent = await fake.send_slash_command("quote", {"query": "天气预报"}, user=Users.alice)
        callback = await fake.wait_for_interaction_response(sent)
    assert callback.data["flags"] & FLAG_EPHEMERAL
    assert "No quote matches" in callback.data["content"] and "broader" in callback.data["content"]
    assert not callback.data.get("embeds")


async def test_random_quote_without_query_and_single_character_queries(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    async with await run_bot(fake, service, make_settings(fake, cache_dir)):
        sent = await fake.send_slash_command("quote", {}, user=Users.alice)
        random_reply = await fake.wait_for_interaction_response(sent)
        answers = {}
        for word in ("核", "美"):
            sent = await fake.send_slash_command("quote", {"query": word}, user=Users.alice)
            answers[word] = await fake.wait_for_interaction_response(sent)
    assert random_reply.data["embeds"] and random_reply.data["embeds"][0]["description"]
    assert "**核**" in answers["核"].data["embeds"][0]["description"]
    assert answers["美"].data["embeds"], "a one-character query still finds something"


async def test_speaker_filter_and_autocomplete(fake: FakeDiscord, service: QuoteService, cache_dir: Path) -> None:
    async with await run_bot(fake, service, make_settings(fake, cache_dir)):
        typing = await fake.send_autocomplete("quote", {"query": "", "speaker": "light"}, "speaker", user=Users.alice)
        await fake.wait_for_interaction_response(typing)
        choices = fake.autocomplete_choices(typing)
        sent = await fake.send_slash_command(
            "quote", {"query": "计算", "speaker": "Lightcap", "count": 3}, user=Users.alice
        )
        callback = await fake.wait_for_interaction_response(sent)
        unknown = await fake.send_slash_command("quote", {"query": "研究", "speaker": "Musk"}, user=Users.alice)
        refusal = await fake.wait_for_interaction_response(unknown)
    assert choices == [{"name": "布拉德·莱特卡普 (Brad Lightcap)", "value": "lightcap"}] or (
        choices and choices[0]["value"] == "lightcap"
    )
    embeds = callback.data["embeds"]
    assert 1 <= len(embeds) <= 3 and all("Lightcap" in e["author"]["name"] for e in embeds)
    assert refusal.data["flags"] & FLAG_EPHEMERAL and "Known speakers" in refusal.data["content"]


async def test_cooldown_stops_flooding_but_not_admins(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    async with await run_bot(fake, service, make_settings(fake, cache_dir, cooldown_seconds=600)):
        replies = []
        for user in (Users.alice, Users.alice, Users.mod, Users.mod):
            sent = await fake.send_slash_command(
                "quote", {"query": "能源"}, user=user, member_roles=([Users.admin_role.id] if user is Users.mod else [])
            )
            replies.append(await fake.wait_for_interaction_response(sent))
    assert replies[0].data.get("embeds")
    assert replies[1].data["flags"] & FLAG_EPHEMERAL and "try again in" in replies[1].data["content"]
    assert replies[2].data.get("embeds") and replies[3].data.get("embeds"), "admins are exempt"


async def test_reload_is_refused_to_non_admins(fake: FakeDiscord, service: QuoteService, cache_dir: Path) -> None:
    async with await run_bot(fake, service, make_settings(fake, cache_dir)):
        sent = await fake.send_slash_command("quote-reload", {}, user=Users.alice)
        callback = await fake.wait_for_interaction_response(sent)
    assert callback.data["flags"] & FLAG_EPHEMERAL
    assert "Only quotebot admins" in callback.data["content"]


async def test_admin_reload_of_a_broken_corpus_keeps_the_old_one(
    fake: FakeDiscord, corpus_copy: tuple[Path, Path], cache_dir: Path
) -> None:
    seeds, config = corpus_copy
    own = QuoteService(seeds, config, cache_dir)
    own.load()
    before = own.search("计算资源").total
    broken = seeds / "002_broken.txt"
    broken.write_bytes("奥特曼:好的。\n".encode() + b"\xff\xfe broken bytes\n")
    async with await run_bot(fake, own, make_settings(fake, cache_dir)):
        sent = await fake.send_slash_command("quote-reload", {}, user=Users.mod, member_roles=[Users.admin_role.id])
        followup = await fake.wait_for_followup(sent)
        deferred = fake.interaction_responses(sent)[0]
        after = await fake.send_slash_command("quote", {"query": "计算资源"}, user=Users.alice)
        still = await fake.wait_for_interaction_response(after)
    assert deferred.body["type"] == 5 and deferred.body["data"]["flags"] & FLAG_EPHEMERAL, "deferred at once"
    text = followup.body["content"].replace("\\", "")  # what users read: Discord hides the escapes
    assert "Reload failed" in text and "002_broken.txt" in text and ":2" in text
    assert own.search("计算资源").total == before
    assert still.data["embeds"], "the old corpus keeps serving"


async def test_a_reload_failure_names_the_file_relative_to_the_corpus_folder(
    fake: FakeDiscord, corpus_copy: tuple[Path, Path], cache_dir: Path
) -> None:
    seeds, config = corpus_copy
    own = QuoteService(seeds, config, cache_dir)
    own.load()
    (seeds / "003_broken.txt").write_bytes("奥特曼:好的。\n".encode() + b"\xff\xfe broken bytes\n")
    async with await run_bot(fake, own, make_settings(fake, cache_dir)):
        sent = await fake.send_slash_command("quote-reload", {}, user=Users.owner)
        followup = await fake.wait_for_followup(sent)
    text = followup.body["content"].replace("\\", "")  # what the admin reads: Discord hides the escapes
    assert "\n003_broken.txt:2: " in text, text
    assert str(seeds.parent) not in text and str(cache_dir) not in text, "no server path in a chat"


async def test_admin_reload_reports_what_changed(
    fake: FakeDiscord, corpus_copy: tuple[Path, Path], cache_dir: Path
) -> None:
    seeds, config = corpus_copy
    own = QuoteService(seeds, config, cache_dir)
    own.load()
    (seeds / "002_new.txt").write_text("新访谈\n\n奥特曼:我们会继续研究核聚变和太空能源。\n", encoding="utf-8")
    async with await run_bot(fake, own, make_settings(fake, cache_dir)):
        sent = await fake.send_slash_command("quote-reload", {}, user=Users.owner)
        followup = await fake.wait_for_followup(sent)
    text = followup.body["content"]
    assert "Corpus reloaded" in text and "documents 2 → 3" in text
    assert own.search("核聚变").quotes


async def test_hostile_query_and_huge_passage_stay_within_limits_and_harmless(
    fake: FakeDiscord, corpus_copy: tuple[Path, Path], cache_dir: Path
) -> None:
    seeds, config = corpus_copy
    sentence = "我们必须建设更多的算力基础设施，这件事情非常重要。"
    (seeds / "003_long.txt").write_text("长访谈\n\n奥特曼:" + sentence * 210 + "\n", encoding="utf-8")
    own = QuoteService(seeds, config, cache_dir)
    own.load()
    long_quote = own.search("算力基础设施").quotes[0]
    assert len(long_quote.passage.text) > 5000
    hostile = "@everyone **算力** <@123456789> <@&42> __x__ `code` \x00\x07\u202e @here 基础设施"
    async with await run_bot(fake, own, make_settings(fake, cache_dir)):
        sent = await fake.send_slash_command("quote", {"query": hostile, "count": 5}, user=Users.alice)
        reply = await fake.wait_for_interaction_response(sent)
        context = await fake.click_button(
            fake.original_message(sent) or {}, f"qb:ctx:{long_quote.id}", user=Users.alice
        )
        whole = await fake.wait_for_interaction_response(context)
        empty = await fake.send_slash_command("quote", {"query": "\x00\x07 "}, user=Users.alice)
        empty_reply = await fake.wait_for_interaction_response(empty)
        who = await fake.send_slash_command("quote", {"query": "算力", "speaker": "@everyone **x**"}, user=Users.alice)
        who_reply = await fake.wait_for_interaction_response(who)
    for data in (reply.data, whole.data):
        assert len(data.get("content") or "") <= 2000
        assert message_size(data) <= 6000
        assert all(len(e.get("description", "")) <= 4096 for e in data["embeds"])
        shown = {"content": data.get("content"), "embeds": data["embeds"]}  # what users read
        raw = json.dumps(shown, ensure_ascii=False)
        assert "@everyone" not in raw and "@here" not in raw and "<@123456789>" not in raw
        assert "\x00" not in raw and "\u202e" not in raw
    assert whole.data["embeds"][0]["description"].endswith("…")
    assert empty_reply.data["flags"] & FLAG_EPHEMERAL and "empty query" in empty_reply.data["content"]
    assert "Known speakers" in who_reply.data["content"] and "@everyone" not in who_reply.data["content"]
    assert "**x**" not in who_reply.data["content"]
    assert all(body.get("allowed_mentions") == {"parse": []} for body in all_outgoing_bodies(fake))


async def test_commands_sync_only_when_they_change(fake: FakeDiscord, service: QuoteService, cache_dir: Path) -> None:
    settings = make_settings(fake, cache_dir / "sync-test", guild_ids=[fake.guild.id])
    async with await run_bot(fake, service, settings):
        pass
    puts = fake.requests_matching("PUT")
    assert len(puts) == 1 and str(fake.guild.id) in puts[0].path
    names = {c["name"] for c in fake.registered_commands(fake.guild.id)}
    assert {"quote", "quote-reload", "quote-daily"} <= names
    quote = next(c for c in fake.registered_commands(fake.guild.id) if c["name"] == "quote")
    assert quote["name_localizations"] == {"zh-CN": "语录", "zh-TW": "語錄"}
    assert quote["description_localizations"]["zh-TW"].startswith("找出與你的話")
    assert sorted(quote["integration_types"]) == [0, 1] and sorted(quote["contexts"]) == [0, 1, 2], "user-installable"
    for admin in (c for c in fake.registered_commands(fake.guild.id) if c["name"] != "quote"):
        assert admin["integration_types"] == [0] and admin["contexts"] == [0], f"{admin['name']} is guild-only"
    async with await run_bot(fake, service, settings):
        pass
    assert len(fake.requests_matching("PUT")) == 1, "an unchanged command set is not synced again"


async def test_commands_deleted_or_edited_elsewhere_come_back(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    """The sync compares with what Discord has, not with a note of its own last sync."""
    settings = make_settings(fake, cache_dir / "sync-elsewhere", guild_ids=[fake.guild.id])
    async with await run_bot(fake, service, settings):
        pass
    fake.change_commands(fake.guild.id, lambda commands: commands.pop())  # deleted in the Developer Portal
    async with await run_bot(fake, service, settings):
        pass
    assert len(fake.requests_matching("PUT")) == 2, "a deleted command is registered again"
    assert {c["name"] for c in fake.registered_commands(fake.guild.id)} == COMMAND_NAMES

    def edit(commands: list[dict[str, Any]]) -> None:
        commands[0]["description"] = "edited by another deploy"

    fake.change_commands(fake.guild.id, edit)
    async with await run_bot(fake, service, settings):
        pass
    assert len(fake.requests_matching("PUT")) == 3, "an edited command is registered again"
    assert "edited by another deploy" not in json.dumps(fake.registered_commands(fake.guild.id))
    assert len(fake.requests_matching("GET", r"/applications/\d+/guilds/\d+/commands")) == 3, "one read a start"


async def test_guild_sync_clears_global_commands_of_an_earlier_global_sync(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    async with await run_bot(fake, service, make_settings(fake, cache_dir / "was-global")):
        pass
    assert {c["name"] for c in fake.registered_commands()} == COMMAND_NAMES
    async with await run_bot(fake, service, make_settings(fake, cache_dir / "now-guild", guild_ids=[fake.guild.id])):
        pass
    assert fake.registered_commands() == [], "a guild would show each command twice"
    assert {c["name"] for c in fake.registered_commands(fake.guild.id)} == COMMAND_NAMES


async def test_another_on_someone_elses_answer_is_their_own_private_page_after_the_cooldown(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    bob = FakeUser("bob")  # an ordinary member who did not ask
    async with await run_bot(fake, service, make_settings(fake, cache_dir, cooldown_seconds=60)):
        sent = await fake.send_slash_command("quote", {"query": "能源"}, user=Users.alice)
        await fake.wait_for_interaction_response(sent)
        message = fake.original_message(sent) or {}
        shown = message["content"]
        more = next(c for c in button_ids(message) if c.startswith("qb:more:"))
        by_bob = await fake.click_button(message, more, user=bob)
        bobs = await fake.wait_for_interaction_response(by_bob)
        again = await fake.click_button(message, more, user=bob)
        refused = await fake.wait_for_interaction_response(again)
        after_bob = fake.messages[int(message["id"])]["content"]
        by_alice = await fake.click_button(message, more, user=Users.alice)
        alices = await fake.wait_for_interaction_response(by_alice)
    assert bobs.body["type"] == CALLBACK_CHANNEL_MESSAGE and bobs.data["flags"] & FLAG_EPHEMERAL
    assert bobs.data["embeds"] and " · 2 / " in bobs.data["content"], "bob's own next match"
    assert after_bob == shown, "alice's public answer stays as she left it"
    assert refused.data["flags"] & FLAG_EPHEMERAL and "Slow down" in refused.data["content"]
    assert alices.body["type"] == CALLBACK_UPDATE_MESSAGE and " · 2 / " in alices.data["content"]


async def test_the_public_answer_echoes_a_long_query_cut_as_the_no_match_hint_does(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    query = "计算资源 " + " ".join(["研究"] * 160)  # 480 characters, under the core's 500
    pages = service.search(query, limit=2).quotes
    assert len(query) > 400 and len(pages) == 2
    async with await run_bot(fake, service, make_settings(fake, cache_dir)):
        sent = await fake.send_slash_command("quote", {"query": query}, user=Users.alice)
        first = await fake.wait_for_interaction_response(sent)
        message = fake.original_message(sent) or {}
        more = next(c for c in button_ids(message) if c.startswith("qb:"))
        click = await fake.click_button(message, more, user=Users.alice)
        second = await fake.wait_for_interaction_response(click)
    for header in (first.data["content"], second.data["content"]):
        shown = header.split("”")[0].removeprefix("🔎 “")
        assert shown == wording.cut(query, 100), "cut like the no-match hint, not 480 characters"
    assert second.data["embeds"][0]["footer"]["text"].startswith(pages[1].id), "paging keeps the whole query"


async def test_post_quote_to_a_channel_and_to_a_missing_one(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    quote = service.daily(__import__("datetime").date(2026, 11, 24))
    assert quote is not None
    async with await run_bot(fake, service, make_settings(fake, cache_dir)) as bot:
        message_id = await post_quote(bot, str(fake.channel.id), quote, "今日语录 · 2026-11-24 @everyone")
        with pytest.raises(PostError) as missing:
            await post_quote(bot, "123", quote, "今日语录")
    posted = fake.channel_messages()[-1]
    assert posted["id"] == message_id
    assert posted["content"].startswith("今日语录 · 2026-11-24") and "@everyone" not in posted["content"]
    assert posted["embeds"][0]["footer"]["text"].startswith(quote.id)
    assert missing.value.permanent


def test_invite_url_has_the_scopes_and_permissions(cache_dir: Path) -> None:
    settings = Settings(discord=DiscordSettings(application_id=1234567890), corpus=CorpusSettings(cache_dir=cache_dir))
    url = invite_url(settings)
    assert "client_id=1234567890" in url and "applications.commands" in url and "bot" in url
    assert (
        f"permissions={discord.Permissions(274877991936 | 2048 | 16384 | 65536 | 1024).value}" in url
        or "permissions=" in url
    )


async def test_quote_daily_is_admin_only_and_reaches_the_scheduler(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    daily = RecordingDaily()
    async with await run_bot(fake, service, make_settings(fake, cache_dir), daily=daily):
        assert "discord" in daily.posters
        refused = await fake.send_slash_command("quote-daily", {"time": "09:00"}, user=Users.alice)
        refusal = await fake.wait_for_interaction_response(refused)
        sent = await fake.send_slash_command(
            "quote-daily", {"time": "9:30", "timezone": "Asia/Shanghai"}, user=Users.owner
        )
        ok = await fake.wait_for_interaction_response(sent)
        bad = await fake.send_slash_command("quote-daily", {"time": "25:00"}, user=Users.owner)
        bad_reply = await fake.wait_for_interaction_response(bad)
        off = await fake.send_slash_command("quote-daily", {"time": "off"}, user=Users.owner)
        await fake.wait_for_interaction_response(off)
    assert "Only quotebot admins" in refusal.data["content"]
    assert daily.calls[0] == (
        "set",
        "discord",
        str(fake.channel.id),
        "09:30",
        "Asia/Shanghai",
        f"discord:{Users.owner.id}",
    )
    assert "Daily excerpt set" in ok.data["content"] and "Missing Access" in ok.data["content"], "notice shown once"
    assert "not a time of day" in bad_reply.data["content"]
    assert daily.calls[-1][0] == "off" and "discord" not in daily.posters


async def test_quotebot_run_serves_discord_until_stopped(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path, tmp_path: Path
) -> None:
    import asyncio

    from bots.app import main
    from bots.settings import DailySettings, StorageSettings

    settings = make_settings(fake, cache_dir).model_copy(
        update={
            "daily": DailySettings(enabled=False),
            "storage": StorageSettings(url=f"sqlite:///{tmp_path / 'q.sqlite3'}"),
        }
    )
    stop = asyncio.Event()
    with fake.patched():  # the gateway URL; REST goes to discord.api_base_url through the settings
        task = asyncio.create_task(main(settings, service, stop))
        await fake.wait_until_identified(timeout=10)
        sent = await fake.send_slash_command("quote", {"query": "能源"}, user=Users.alice)
        reply = await fake.wait_for_interaction_response(sent)
        stop.set()
        status = await asyncio.wait_for(task, 10)
    assert status == 0 and reply.data["embeds"]


async def test_another_with_a_query_too_long_for_a_custom_id(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    """The whole query is kept (read back from the message), never a prefix that searches differently."""
    query = "计算资源 " + " ".join(["研究"] * 30) + " *能源* @here"
    assert len(query) > 100
    pages = service.search(query, limit=3).quotes
    assert len(pages) == 3
    settings = make_settings(fake, cache_dir)
    async with await run_bot(fake, service, settings):
        sent = await fake.send_slash_command("quote", {"query": query}, user=Users.alice)
        first = await fake.wait_for_interaction_response(sent)
    message = fake.original_message(sent)
    assert message is not None
    more = next(c for c in button_ids(message) if c.startswith("qb:"))
    assert more.startswith("qb:mq:") and len(more) <= 100
    assert "@here" not in first.data["content"]
    async with await run_bot(fake, service, settings):  # after a restart, too
        click = await fake.click_button(message, more, user=Users.alice)
        second = await fake.wait_for_interaction_response(click)
        edited = fake.messages[int(message["id"])]
        next_more = next(c for c in button_ids(edited) if c.startswith("qb:"))
        assert next_more.startswith("qb:mq:2:")
        again = await fake.click_button(edited, next_more, user=Users.alice)
        third = await fake.wait_for_interaction_response(again)
    assert second.data["embeds"][0]["footer"]["text"].startswith(pages[1].id)
    assert third.data["embeds"][0]["footer"]["text"].startswith(pages[2].id)
    assert second.data["content"] == first.data["content"].replace(" · 1 / ", " · 2 / ")


async def test_another_stops_at_the_last_match_and_context_bolds_the_same_words(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    results = service.search("计算资源", limit=50)
    async with await run_bot(fake, service, make_settings(fake, cache_dir)):
        sent = await fake.send_slash_command("quote", {"query": "计算资源"}, user=Users.alice)
        await fake.wait_for_interaction_response(sent)
        message = fake.original_message(sent)
        assert message is not None
        mid = int(message["id"])
        edits, shown = [], message
        while more := [c for c in button_ids(fake.messages[mid]) if c.startswith("qb:more:")]:
            shown = json.loads(json.dumps(fake.messages[mid]))  # as the user's client shows it
            click = await fake.click_button(mid, more[0], user=Users.alice)
            edits.append(await fake.wait_for_interaction_response(click))
        # A button from before a reload that left fewer matches: past the end, said so, nothing edited.
        past_the_end = f"qb:more:{results.total}:1::计算资源"
        before_reload = json.loads(json.dumps(shown, ensure_ascii=False).replace(more_id(shown), past_the_end))
        stale = await fake.click_button(mid, past_the_end, as_shown=before_reload)
        past = await fake.wait_for_interaction_response(stale)
        context = await fake.click_button(mid, f"qb:ctx:{results.quotes[-1].id}", user=Users.alice)
        whole = await fake.wait_for_interaction_response(context)
    assert [e.data["embeds"][0]["footer"]["text"].split(" · ")[0] for e in edits] == [
        q.id for q in results.quotes[1:]
    ], "every match once, in order, and the last one without Another"
    assert edits[-1].data["content"].endswith(f"{results.total} / {results.total} · No more matches.")
    assert past.data["flags"] & FLAG_EPHEMERAL and past.data["content"] == "No more matches."
    assert "**计算能力**" in whole.data["embeds"][0]["description"], "the words the message bolded"


def more_id(message: dict[str, Any]) -> str:
    return next(c for c in button_ids(message) if c.startswith("qb:more:"))


async def test_several_quotes_fit_one_message_with_numbers(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    async with await run_bot(fake, service, make_settings(fake, cache_dir)):
        sent = await fake.send_slash_command("quote", {"query": "研究", "count": 5}, user=Users.alice)
        reply = await fake.wait_for_interaction_response(sent)
    embeds = reply.data["embeds"]
    assert len(embeds) == 5 and embeds[1]["author"]["name"].startswith("2. ")
    assert reply.data["content"].startswith("🔎 “研究” · 1–5 / ")
    assert sum(1 for c in button_ids(reply.data) if c.startswith("qb:ctx:")) == 5
    assert message_size(reply.data) <= 6000
    assert not [r for r in fake.requests if r.status == 400], "Discord refused nothing"


async def test_an_unexpected_error_is_an_apology_not_a_traceback(
    fake: FakeDiscord, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unloaded = QuoteService(cache_dir=cache_dir)  # never loaded: every search raises RuntimeError
    async with await run_bot(fake, unloaded, make_settings(fake, cache_dir)):
        sent = await fake.send_slash_command("quote", {"query": "能源"}, user=Users.alice)
        reply = await fake.wait_for_interaction_response(sent)
    assert reply.data["flags"] & FLAG_EPHEMERAL
    assert reply.data["content"].startswith("Sorry, something went wrong")
    assert "Traceback" not in reply.data["content"] and "RuntimeError" not in reply.data["content"]
    assert any("/quote failed for user" in r.getMessage() and "RuntimeError" in r.getMessage() for r in caplog.records)


async def test_notices_reach_an_admin_privately_after_quote(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    daily = RecordingDaily()
    async with await run_bot(fake, service, make_settings(fake, cache_dir), daily=daily):
        by_alice = await fake.send_slash_command("quote", {"query": "能源"}, user=Users.alice)
        await fake.wait_for_interaction_response(by_alice)
        assert daily.notices, "a non-admin does not consume the notices"
        by_mod = await fake.send_slash_command(
            "quote", {"query": "能源"}, user=Users.mod, member_roles=[Users.admin_role.id]
        )
        public = await fake.wait_for_interaction_response(by_mod)
        private = await fake.wait_for_followup(by_mod)
    assert not public.data.get("flags", 0) & FLAG_EPHEMERAL and "Missing Access" not in public.data["content"]
    assert private.body["flags"] & FLAG_EPHEMERAL and "Missing Access" in private.body["content"]
    assert not fake.followups(by_alice)


async def test_quote_daily_with_a_channel_option_autocomplete_and_without_a_scheduler(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    other = fake.guild.channels[1]
    assert other.id != fake.channel.id
    daily = RecordingDaily()
    async with await run_bot(fake, service, make_settings(fake, cache_dir), daily=daily):
        typing = await fake.send_autocomplete(
            "quote-daily", {"time": "09:00", "timezone": "shang"}, "timezone", user=Users.owner
        )
        await fake.wait_for_interaction_response(typing)
        sent = await fake.send_slash_command(
            "quote-daily", {"time": "07:05", "timezone": "Europe/Paris", "channel": other}, user=Users.owner
        )
        await fake.wait_for_interaction_response(sent)
        zone = await fake.send_slash_command(
            "quote-daily", {"time": "07:05", "timezone": "Mars/Olympus"}, user=Users.owner
        )
        bad_zone = await fake.wait_for_interaction_response(zone)
    async with await run_bot(fake, service, make_settings(fake, cache_dir)):
        off = await fake.send_slash_command("quote-daily", {"time": "09:00"}, user=Users.owner)
        not_enabled = await fake.wait_for_interaction_response(off)
    assert fake.autocomplete_choices(typing) == [{"name": "Asia/Shanghai", "value": "Asia/Shanghai"}]
    assert daily.calls[0][:5] == ("set", "discord", str(other.id), "07:05", "Europe/Paris")
    assert "not a timezone" in bad_zone.data["content"] and len(daily.calls) == 1
    assert not_enabled.data["flags"] & FLAG_EPHEMERAL and "not enabled" in not_enabled.data["content"]


async def test_post_quote_from_a_plain_client_and_its_errors(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    """The scheduler may hold any logged-in client: the post is the same, errors say if retrying helps."""
    quote = service.search("能源", limit=1).quotes[0]
    client = discord.Client(intents=discord.Intents.default(), allowed_mentions=discord.AllowedMentions.none())
    async with fake.run_client(client):
        message_id = await post_quote(client, str(fake.channel.id), quote, "今日语录")
        fake.fail_next("POST", r"/channels/\d+/messages", 403)
        with pytest.raises(PostError) as forbidden:
            await post_quote(client, str(fake.channel.id), quote, "今日语录")
        fake.fail_next("POST", r"/channels/\d+/messages", 503)
        with pytest.raises(PostError) as unavailable:
            await post_quote(client, str(fake.channel.id), quote, "今日语录")
        with pytest.raises(PostError) as not_an_id:
            await post_quote(client, "#general", quote, "今日语录")
    with pytest.raises(PostError) as closed:
        await post_quote(client, str(fake.channel.id), quote, "今日语录")
    posted = fake.messages[int(message_id)]
    assert posted["embeds"][0]["footer"]["text"].startswith(quote.id)
    assert button_ids(posted) == [f"qb:ctx:{quote.id}"]
    assert forbidden.value.permanent and not_an_id.value.permanent
    assert not unavailable.value.permanent and not closed.value.permanent


async def test_global_sync_and_forced_sync_from_the_cli(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    settings = make_settings(fake, cache_dir / "global-sync")
    async with await run_bot(fake, service, settings):
        pass
    puts = fake.requests_matching("PUT")
    assert len(puts) == 1 and "/guilds/" not in puts[0].path
    assert {c["name"] for c in fake.registered_commands()} == COMMAND_NAMES
    report = await sync_commands(AppContext(service, settings))
    assert report.startswith("Synced 4 commands globally")
    assert len(fake.requests_matching("PUT")) == 2, "discord-sync syncs even when nothing changed"
    wrong = make_settings(fake, cache_dir / "global-sync", token="not-the-token")
    assert (await sync_commands(AppContext(service, wrong))).startswith("Sync failed: Discord rejected DISCORD_TOKEN")
    assert not fake.unhandled_requests


def test_invite_url_from_the_token_asks_only_for_what_the_bot_uses(cache_dir: Path) -> None:
    token = __import__("base64").b64encode(b"987654321098765432").decode().rstrip("=") + ".x.y"
    settings = Settings(discord=DiscordSettings(token=token), corpus=CorpusSettings(cache_dir=cache_dir))
    url = invite_url(settings)
    wanted = discord.Permissions(view_channel=True, send_messages=True, send_messages_in_threads=True, embed_links=True)
    assert "client_id=987654321098765432" in url
    assert f"permissions={wanted.value}" in url and "scope=bot+applications.commands" in url
    with pytest.raises(ValueError, match="DISCORD_APPLICATION_ID"):
        invite_url(Settings(discord=DiscordSettings(), corpus=CorpusSettings(cache_dir=cache_dir)))


async def test_a_failing_button_is_an_apology_too(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(fake, cache_dir)
    async with await run_bot(fake, service, settings):
        sent = await fake.send_slash_command("quote", {"query": "能源"}, user=Users.alice)
        await fake.wait_for_interaction_response(sent)
    message = fake.original_message(sent)
    assert message is not None
    more = next(c for c in button_ids(message) if c.startswith("qb:more:"))
    async with await run_bot(fake, QuoteService(cache_dir=cache_dir), settings):  # a corpus that never loaded
        click = await fake.click_button(message, more, user=Users.alice)
        reply = await fake.wait_for_interaction_response(click)
    assert reply.data["flags"] & FLAG_EPHEMERAL and "Another button did not work" in reply.data["content"]
    assert any("Another button failed for user" in r.getMessage() for r in caplog.records)


async def test_the_api_base_url_belongs_to_the_client_that_asked(
    fake: FakeDiscord, service: QuoteService, cache_dir: Path
) -> None:
    """discord.py's Route.BASE is process-wide: the bot keeps its base URL to itself, REST and callbacks."""
    default = discord.http.Route.BASE
    bot = create_bot(AppContext(service, make_settings(fake, cache_dir)))
    async with fake.run_client(bot, patch_rest=False):  # only the gateway is patched here
        assert default == discord.http.Route.BASE
        sent = await fake.send_slash_command("quote", {"query": "能源"}, user=Users.alice)
        reply = await fake.wait_for_interaction_response(sent)
    assert reply.data["embeds"] and discord.http.Route.BASE == default == "https://discord.com/api/v10"
