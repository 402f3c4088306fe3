"""Each Slack listener is a plain function: called here with doubles for bolt's `ack` and `respond`."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncBoltContext

from bots.commands import Commands, PageState
from bots.preferences import ScriptChoices
from bots.settings import SlackSettings
from bots.slack.listeners import Deps, another_action, channel_id, daily_command, quote_command, script_command
from bots.slack.render import ANOTHER, state_value
from quotecore import QuoteService


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


class Client:
    """users.info as Slack answers it with include_locale: the reader's language."""

    def __init__(self, locale: str = "en-US") -> None:
        self.locale = locale

    async def users_info(self, user: str, include_locale: bool = False) -> dict[str, Any]:
        return {"user": {"id": user} | ({"locale": self.locale} if include_locale else {})}


def context(service: QuoteService, **settings: Any) -> AsyncBoltContext:
    ctx = AsyncBoltContext()
    ctx["quotebot"] = Deps(Commands(service, "slack", scripts=ScriptChoices(None)), SlackSettings(**settings))
    return ctx


async def test_quote_command_acks_then_answers(service: QuoteService) -> None:
    ack, respond = Recorder(), Recorder()
    command = {"text": "能源 count:2", "user_id": "U1", "channel_id": "C1"}
    await quote_command(ack, command, respond, Client(), context(service))  # type: ignore[arg-type]
    assert ack.calls == [{}]
    [answer] = respond.calls
    assert answer["response_type"] == "in_channel" and answer["blocks"][0]["elements"][0]["text"].startswith("🔎")


async def test_another_past_the_end_is_private_and_replaces_nothing(service: QuoteService) -> None:
    ack, respond = Recorder(), Recorder()
    total = service.search("能源").total
    action = {"action_id": ANOTHER, "value": state_value(PageState("能源", None, 1, total), False)}
    body = {"user": {"id": "U1"}}
    await another_action(ack, action, body, respond, Client(), context(service))  # type: ignore[arg-type]
    assert respond.calls == [
        {
            "replace_original": False,
            "response_type": "ephemeral",
            "text": "No more matches.",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "No more matches."}}],
        }
    ]


async def test_daily_command_refuses_non_admins_without_calling_slack(service: QuoteService) -> None:
    ack, respond = Recorder(), Recorder()
    command = {"text": "09:00 UTC", "user_id": "U1", "channel_id": "C1"}
    await daily_command(ack, command, respond, Client(), context(service))  # type: ignore[arg-type]
    assert respond.calls[0]["text"] == "Only quotebot admins can change the daily excerpt."
    assert channel_id("<#C0123ABCD|general>") == "C0123ABCD" and channel_id("#C1") == "C1"


async def test_a_reader_in_taiwan_gets_traditional_characters_from_the_same_search(service: QuoteService) -> None:
    answers = {}
    for locale in ("zh-CN", "zh-TW"):
        respond = Recorder()
        command = {"text": "计算资源", "user_id": f"U-{locale}", "channel_id": "C1"}
        await quote_command(Recorder(), command, respond, Client(locale), context(service))  # type: ignore[arg-type]
        answers[locale] = respond.calls[0]["blocks"][1]["text"]["text"]
    assert "计算资源" in answers["zh-CN"] and "計算資源" not in answers["zh-CN"]
    assert "計算資源" in answers["zh-TW"] and "计算资源" not in answers["zh-TW"]
    assert "*計算資源*" in answers["zh-TW"], "the matched words are still bold"
    respond = Recorder()
    command = {"text": "天气预报", "user_id": "U-zh-CN", "channel_id": "C1"}
    await quote_command(Recorder(), command, respond, Client("zh-CN"), context(service))  # type: ignore[arg-type]
    assert respond.calls[0]["text"].startswith("没有与“天气预报”相符的语录")


async def test_an_admins_channel_script_wins_over_the_readers_language(service: QuoteService) -> None:
    ctx = context(service, admin_user_ids=["U-admin"])
    set_it = {"text": "traditional", "user_id": "U-admin", "channel_id": "C1"}
    await script_command(Recorder(), set_it, Recorder(), Client(), ctx)  # type: ignore[arg-type]
    answers = {}
    for channel in ("C1", "C2"):
        respond = Recorder()
        command = {"text": "计算资源", "user_id": "U-reader", "channel_id": channel}
        await quote_command(Recorder(), command, respond, Client("en-US"), ctx)  # type: ignore[arg-type]
        answers[channel] = respond.calls[0]["blocks"][1]["text"]["text"]
    assert "計算資源" in answers["C1"] and "计算资源" in answers["C2"], "only the chosen channel"
