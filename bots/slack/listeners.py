"""The Slack listeners: one function per command or action, registered by `register_listeners`.

Every listener acks first (Slack's 3-second deadline), then works, then answers through `respond`
(the interaction's response_url), so a slow moment never turns into a "dispatch_failed" for the user.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bots.common import HELP_TEXT, Cooldown, cooldown_message, parse_quote_text, reload_corpus
from bots.daily_control import DailyControl, DailyInputError, parse_daily_text
from bots.settings import SlackSettings
from bots.slack.access import is_admin
from bots.slack.blocks import escape
from bots.slack.replies import ANOTHER, CONTEXT, SHARE, context_page, page, refusal
from quotecore.service import QuoteService

log = logging.getLogger(__name__)

HELP = "*quotebot*\n" + escape(HELP_TEXT).replace("/quote ", "`/quote` ", 1)


def _channel_id(raw: str | None, current: str) -> str:
    """`<#C123|general>` (escaped channel mention), `C123`, or nothing (the current channel)."""
    if not raw:
        return current
    if raw.startswith("<#") and raw.endswith(">"):
        return raw[2:-1].split("|", 1)[0]
    return raw.lstrip("#")


def register_listeners(
    app: AsyncApp, service: QuoteService, settings: SlackSettings, daily: DailyControl | None = None
) -> None:
    """Attach every command and action to `app`."""
    cooldown = Cooldown(settings.cooldown_seconds)

    async def notices(client: AsyncWebClient, user_id: str) -> str:
        if daily is None or not await is_admin(client, user_id, settings):
            return ""
        return "".join(f"\n:warning: {escape(n)}" for n in daily.take_notices("slack"))

    @app.command("/quote")
    async def quote_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        request = parse_quote_text(command.get("text") or "")
        if request.help:
            text = (f"Sorry: {escape(request.problem)}.\n" if request.problem else "") + HELP
            await respond(response_type="ephemeral", text=text)
            return
        user = command["user_id"]
        wait = cooldown.retry_after(f"{command.get('team_id')}:{user}")
        if wait and not await is_admin(client, user, settings):
            await respond(response_type="ephemeral", text=cooldown_message(wait))
            return
        reply = page(service, request.query, request.speaker, request.count, 0, settings.ephemeral_by_default)
        await respond(**reply.message(response_type="ephemeral" if reply.ephemeral else "in_channel"))

    @app.action(ANOTHER)
    async def another(ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        state = json.loads(action.get("value") or "{}")
        reply = page(
            service,
            state.get("q", ""),
            state.get("s"),
            int(state.get("n", 1)),
            int(state.get("o", 0)),
            bool(state.get("e")),
        )
        if reply.refused:
            await respond(replace_original=False, response_type="ephemeral", text=reply.text)  # e.g. no more
            return
        await respond(replace_original=True, **reply.message())

    @app.action(CONTEXT)
    async def context(ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        reply = context_page(service, action.get("value") or "")
        await respond(replace_original=False, response_type="ephemeral", **reply.message())

    @app.action(SHARE)
    async def share(ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        state = json.loads(action.get("value") or "{}")
        reply = page(service, state.get("q", ""), state.get("s"), int(state.get("n", 1)), int(state.get("o", 0)), False)
        await respond(replace_original=False, response_type="in_channel", **reply.message())
        await respond(delete_original=True)

    @app.command("/quote-reload")
    async def reload_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        if not await is_admin(client, command["user_id"], settings):
            await respond(response_type="ephemeral", text="Only quotebot admins can reload the corpus.")
            return
        outcome = await reload_corpus(service)
        log.info("reload by %s: %s", command["user_id"], "ok" if outcome.ok else "failed")
        text = escape(outcome.message) + await notices(client, command["user_id"])
        await respond(response_type="ephemeral", text=text)

    @app.command("/quote-daily")
    async def daily_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        user = command["user_id"]
        if not await is_admin(client, user, settings):
            await respond(response_type="ephemeral", text="Only quotebot admins can change the daily excerpt.")
            return
        if daily is None:
            await respond(response_type="ephemeral", text="The daily excerpt is not enabled on this bot.")
            return
        try:
            request = parse_daily_text(command.get("text") or "")
            channel = _channel_id(request.channel, command["channel_id"])
            if request.off:
                reply = await daily.disable_target("slack", channel, by=f"slack:{user}")
            else:
                assert request.time is not None and request.timezone is not None
                reply = await daily.set_target("slack", channel, request.time, request.timezone, by=f"slack:{user}")
        except DailyInputError as exc:
            reply = str(exc)
        await respond(response_type="ephemeral", text=escape(reply) + await notices(client, user))

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], respond: AsyncRespond | None = None) -> None:
        log.error("slack listener failed (type %s, command %s)", body.get("type"), body.get("command"), exc_info=error)
        if respond is not None:
            try:
                await respond(
                    **refusal("Sorry, something went wrong. It has been logged; please try again.").message(
                        response_type="ephemeral", replace_original=False
                    )
                )
            except Exception:
                log.warning("could not tell the user about the error")
