"""Discord rendering without a network: escaping, bold matches, limits, and the reversible query line."""

from __future__ import annotations

import dataclasses
import re
import string
from pathlib import Path

import discord

from bots import wording
from bots.discord.buttons import CUSTOM_ID_LIMIT, more_id
from bots.discord.render import (
    DESCRIPTION_LIMIT,
    MESSAGE_EMBEDS_LIMIT,
    fit_embeds,
    query_markup,
    quote_embed,
    safe_text,
)
from bots.wording import one_line
from quotecore.models import Quote
from quotecore.service import QuoteService


def with_text(quote: Quote, text: str, spans: tuple[tuple[int, int], ...] = ()) -> Quote:
    return dataclasses.replace(quote, text=text, highlights=spans)


def test_matches_are_bold_and_the_rest_is_literal(service: QuoteService) -> None:
    quote = service.search("计算资源", limit=1).quotes[0]
    text = "**不是粗体** @everyone <@123> 计算资源 _x_"
    start = text.index("计算资源")
    embed = quote_embed(with_text(quote, text, ((start, start + 4),)))
    description = embed.description or ""
    assert "**计算资源**" in description
    assert description.startswith("\\*\\*不是粗体\\*\\*")
    assert "@everyone" not in description and "<@123>" not in description
    assert "\\_x\\_" in description


def test_a_huge_excerpt_is_cut_at_a_sentence_within_every_limit(service: QuoteService) -> None:
    quote = service.search("能源", limit=1).quotes[0]
    huge = with_text(quote, "这是一句很长的话，讲的是能源和**算力**。" * 400, ((12, 14),))
    whole = quote_embed(huge, whole=True)
    assert len(whole.description or "") <= DESCRIPTION_LIMIT and (whole.description or "").endswith("。…")
    embeds = fit_embeds([huge] * 5, first_number=1)
    assert len(embeds) == 5 and sum(len(e) for e in embeds) <= MESSAGE_EMBEDS_LIMIT
    assert [e.author.name[:2] for e in embeds] == ["1.", "2.", "3.", "4.", "5."]


def test_safe_text_drops_controls_and_defuses_mentions() -> None:
    text = safe_text("a\x00b\u202ec @here <@&42> <#7>")
    assert text.startswith("abc ")
    assert "@here" not in text and "<@&42>" not in text and "<#7>" not in text


def test_the_query_line_round_trips_exactly() -> None:
    def query_from_markup(markup: str) -> str:  # what Discord shows: escapes and zero-width spaces hidden
        return re.sub(r"\\([" + re.escape(string.punctuation) + "])", r"\1", markup.replace("\u200b", ""))

    for raw in ["计算资源", "a\\b [x](y) **粗** `c` “引号” ” · 1 / 2 @everyone <@1>", " 能源\t\x07核 \n美 "]:
        query = one_line(raw)
        shown = query_markup(query)
        assert query_from_markup(shown) == query
        assert "@everyone" not in shown and "\n" not in shown
    assert one_line(" 能源\t\x07核 \n美 ") == "能源 核 美"


def test_another_carries_the_query_only_when_it_fits_whole() -> None:
    assert more_id(5, 1, "altman", "计算资源") == "qb:more:5:1:altman:计算资源"
    long_id = more_id(5, 1, "altman", "研究" * 60)
    assert long_id == "qb:mq:5:1:altman"
    emoji = more_id(0, 1, None, "😀" * 45)  # 90 code points, but 180 UTF-16 units for Discord
    assert emoji.startswith("qb:mq:") and len(emoji.encode("utf-16-le")) // 2 <= CUSTOM_ID_LIMIT


def test_embed_colour_and_footer_carry_the_passage_id(service: QuoteService) -> None:
    quote = service.search("能源", limit=1).quotes[0]
    embed = quote_embed(quote)
    assert isinstance(embed.colour, discord.Colour)
    assert (embed.footer.text or "").startswith(quote.id)


def test_one_line_spots_fit_after_escaping(service: QuoteService) -> None:
    quote = service.search("能源", limit=1).quotes[0]
    topic = "*_" * 1000  # every character escaped: twice as long once safe
    passage = dataclasses.replace(quote.passage, topic=topic)
    embed = quote_embed(dataclasses.replace(quote, passage=passage))
    assert all(len(f.value or "") <= 1024 for f in embed.fields)
    assert (embed.fields[0].value or "").endswith("…")


def test_every_surface_lists_the_commands_with_the_same_words() -> None:
    """Discord's command picker and Slack's manifest read their descriptions from `wording.COMMANDS`."""
    from discord.ext import commands as discord_commands

    from bots.discord.cog import QuoteCog

    manifest = (Path(__file__).parents[1] / "config" / "slack-manifest.yaml").read_text(encoding="utf-8")
    listed = dict(re.findall(r"- command: /(\S+)\n\s+description: \"?(.*?)\"?\n", manifest))
    assert listed == {name: text.description for name, text in wording.COMMANDS.items()}
    cog = QuoteCog.__new__(QuoteCog)
    bot = discord_commands.Bot(command_prefix="!", intents=discord.Intents.none())
    for command in cog.__cog_app_commands__:
        shown = command.to_dict(bot.tree)
        assert shown["description"] == wording.COMMANDS[command.name].description
        options = {o["name"]: o["description"] for o in shown.get("options", [])}
        assert options == wording.COMMANDS[command.name].options
