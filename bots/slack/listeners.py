"""The Slack listeners: one module-level function per command or action, attached by `register_listeners`.

As in slack-samples/bolt-python-starter-template, each listener is a plain function of bolt's own
arguments, so a test calls it with doubles; `context["quotebot"]` (set by one middleware) carries
the command layer. Each acks first (Slack's 3-second deadline), then answers through `respond`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

import bots.slack.render as render
from bots import wording
from bots.commands import Caller, Commands, Notice, PageState, Reply, Results, parse_daily_text, parse_quote_text
from bots.daily_control import DailyControl
from bots.failures import failure
from bots.reader import shown
from bots.settings import SlackSettings
from bots.slack.retry import RetryingRespond

log = logging.getLogger(__name__)
Body = dict[str, Any]
Ctx = AsyncBoltContext
Client = AsyncWebClient


@dataclass(frozen=True, slots=True)
class Deps:
    """What the listeners share: the command layer, the Slack settings, the scheduler, the readers' locales."""

    commands: Commands
    settings: SlackSettings
    daily: DailyControl | None = None
    locales: dict[str, str | None] = field(default_factory=dict)

    def caller(self, client: AsyncWebClient, user_id: str, team_id: str | None, *, operator: bool = False) -> Caller:
        """The user behind a request, keyed by workspace when distributed; `operator`: configured admins only."""
        key = f"{team_id}:{user_id}" if self.settings.distributed and team_id else user_id
        return Caller(key, lambda: self.is_admin(client, user_id, operator))

    async def is_admin(self, client: AsyncWebClient, user_id: str, operator: bool = False) -> bool:
        """admin_user_ids, and the workspace's admins and owners (users.info, with the workspace's token).

        Workspace admins count when `workspace_admins` is set or the app is distributed, except for
        what only an operator may do (`operator`: a reload changes the corpus of every workspace).
        """
        if user_id in self.settings.admin_user_ids:
            return True
        if operator or not (self.settings.workspace_admins or self.settings.distributed):
            return False
        try:
            user = (await client.users_info(user=user_id)).get("user") or {}
        except SlackApiError as exc:
            log.warning("users.info failed for %s (%s): not an admin", user_id, exc.response.get("error"))
            return False
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))

    async def shown(self, reply: Reply, locale: str | None, team: str | None, channel: str | None) -> Reply:
        """`reply` in the reader's script, or the one an admin chose for the channel (labels too)."""
        return await shown(self.commands, reply, locale, self.channel(team, channel))

    def channel(self, team_id: str | None, channel: str | None) -> str | None:
        """A daily target's channel: `TEAM/CHANNEL` when distributed (posted with that workspace's token)."""
        if channel is None or not (self.settings.distributed and team_id):
            return channel
        return f"{team_id}/{channel}"

    async def reader(self, client: AsyncWebClient, user_id: str) -> str | None:
        """The user's Slack language (users.info, asked once per user); replies from here on are in it."""
        if user_id not in self.locales:
            try:
                info = await client.users_info(user=user_id, include_locale=True)
                self.locales[user_id] = (info.get("user") or {}).get("locale")
            except SlackApiError as exc:
                log.warning("users.info failed for %s (%s): default language", user_id, exc.response.get("error"))
            if len(self.locales) > 10_000:  # a language rarely changes; a restart forgets them all
                self.locales.clear()
        locale = self.locales.get(user_id)
        wording.reading(locale)
        return locale


def channel_id(typed: str) -> str | None:
    """`<#C123|general>` (Slack's escaped channel mention) or `C123` → the channel id."""
    if typed.startswith("<#") and typed.endswith(">"):
        return typed[2:-1].split("|", 1)[0]
    return typed.lstrip("#") or None


async def quote_command(ack: AsyncAck, command: Body, respond: AsyncRespond, client: Client, context: Ctx) -> None:
    """`/quote [words] [speaker:…] [count:…]`: public (or private with Share) results, or a private hint."""
    await ack()
    deps: Deps = context["quotebot"]
    locale = await deps.reader(client, command["user_id"])
    request = parse_quote_text(command.get("text") or "")
    reply = await deps.commands.quote(deps.caller(client, command["user_id"], command.get("team_id")), request)
    reply = await deps.shown(reply, locale, command.get("team_id"), command.get("channel_id"))
    await respond(**render.message(reply, ephemeral=deps.settings.ephemeral_by_default))
    if isinstance(reply, Results) and reply.notices:
        await respond(**render.message(Notice("", "done", reply.notices)))


def _where(body: Body) -> tuple[str | None, str | None]:
    """The workspace and channel of a click."""
    return (body.get("team") or {}).get("id"), (body.get("channel") or {}).get("id")


async def script_command(ack: AsyncAck, command: Body, respond: AsyncRespond, client: Client, context: Ctx) -> None:
    """`/quote-script auto|simplified|traditional|hk`: admins choose this channel's script."""
    await ack()
    deps: Deps = context["quotebot"]
    team = command.get("team_id")
    await deps.reader(client, command["user_id"])
    where = deps.channel(team, command["channel_id"]) or command["channel_id"]
    reply = await deps.commands.set_script(
        deps.caller(client, command["user_id"], team), command.get("text") or "", where
    )
    await respond(**render.message(reply))


async def _button_state(action: Body, respond: AsyncRespond) -> tuple[PageState, bool] | None:
    """The paging state a button carries, or None after telling the user privately it was unreadable."""
    decoded = render.state_from_value(action.get("value"))
    if decoded is None:
        await respond(replace_original=False, **render.message(Notice(wording.BAD_BUTTON, "invalid")))
    return decoded


async def another_action(
    ack: AsyncAck, action: Body, body: Body, respond: AsyncRespond, client: Client, context: Ctx
) -> None:
    """The Another button: the next page replaces the message; past the end, a private "No more matches."."""
    await ack()
    decoded = await _button_state(action, respond)
    if decoded is None:
        return
    state, ephemeral = decoded
    deps: Deps = context["quotebot"]
    locale = await deps.reader(client, body["user"]["id"])
    reply = await deps.shown(deps.commands.page(state), locale, *_where(body))
    await respond(replace_original=isinstance(reply, Results), **render.message(reply, ephemeral=ephemeral))


async def context_action(
    ack: AsyncAck, action: Body, body: Body, respond: AsyncRespond, client: Client, context: Ctx
) -> None:
    """The Context button: the whole passage, only for the user who asked."""
    await ack()
    deps: Deps = context["quotebot"]
    locale = await deps.reader(client, body["user"]["id"])
    reply = await deps.shown(deps.commands.context(action.get("value") or ""), locale, *_where(body))
    await respond(replace_original=False, **render.message(reply))


async def share_action(
    ack: AsyncAck, action: Body, body: Body, respond: AsyncRespond, client: Client, context: Ctx
) -> None:
    """The Share to channel button: the same page, public, in place of the private one."""
    await ack()
    decoded = await _button_state(action, respond)
    if decoded is None:
        return
    deps: Deps = context["quotebot"]
    locale = await deps.reader(client, body["user"]["id"])
    reply = await deps.shown(deps.commands.page(decoded[0]), locale, *_where(body))
    await respond(replace_original=False, **render.message(reply))
    await respond(delete_original=True)


async def reload_command(ack: AsyncAck, command: Body, respond: AsyncRespond, client: Client, context: Ctx) -> None:
    """`/quote-reload`: admins only; says what changed, or why the old corpus stays."""
    await ack()
    deps: Deps = context["quotebot"]
    await deps.reader(client, command["user_id"])
    # The corpus is shared by every workspace: with many, only the bot's operators may reload it.
    caller = deps.caller(client, command["user_id"], command.get("team_id"), operator=deps.settings.distributed)
    await respond(**render.message(await deps.commands.reload(caller)))


async def daily_command(ack: AsyncAck, command: Body, respond: AsyncRespond, client: Client, context: Ctx) -> None:
    """`/quote-daily [#channel] HH:MM zone` or `off [#channel]`: admins only."""
    await ack()
    deps: Deps = context["quotebot"]
    team = command.get("team_id")
    await deps.reader(client, command["user_id"])
    caller = deps.caller(client, command["user_id"], team)
    request = parse_daily_text(command.get("text") or "")
    here = deps.channel(team, command["channel_id"]) or command["channel_id"]
    reply = await deps.commands.set_daily(caller, request, here, lambda typed: deps.channel(team, channel_id(typed)))
    await respond(**render.message(reply))


async def on_error(error: Exception, body: Body, respond: AsyncRespond | None = None) -> None:
    """Log with context; the user gets a short private apology, never a traceback."""
    what = body.get("command") or "button"
    where = {"team": body.get("team_id") or (body.get("team") or {}).get("id"), "type": body.get("type")}
    sorry = failure("slack", what, error, user=body.get("user_id") or (body.get("user") or {}).get("id"), **where)
    if respond is not None:
        try:
            await respond(replace_original=False, **render.message(sorry))
        except Exception:
            log.warning("could not tell the user about the error")


async def app_uninstalled(context: Ctx) -> None:
    """A workspace removed the app: its installation (tokens) and its daily targets are deleted."""
    deps: Deps = context["quotebot"]
    team = context.team_id
    store = context["installations"]
    await store.async_delete_all(enterprise_id=context.enterprise_id, team_id=team)
    targets = deps.daily.targets() if deps.daily is not None else []
    for target in [t for t in targets if t.platform == "slack" and t.channel.startswith(f"{team}/")]:
        await deps.daily.disable_target("slack", target.channel, by=f"slack:{team}:uninstalled")  # type: ignore[union-attr]
    log.info("slack: workspace %s uninstalled the app; its installation and daily targets are gone", team)


def register_listeners(
    app: AsyncApp, commands: Commands, settings: SlackSettings, daily: DailyControl | None = None
) -> None:
    """Attach every command and action to `app`, and the middleware that hands them their `Deps`."""
    deps = Deps(commands, settings, daily)

    async def inject(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
        context["quotebot"], context["installations"] = deps, app.installation_store
        if context.response_url:  # replies retry rate limits and log what finally failed
            client = context.client
            context["respond"] = RetryingRespond(
                response_url=context.response_url,
                proxy=client.proxy if client else None,
                ssl=client.ssl if client else None,
            )
        await next()

    app.use(inject)
    app.command("/quote")(quote_command)
    app.command("/quote-reload")(reload_command)
    app.command("/quote-daily")(daily_command)
    app.command("/quote-script")(script_command)
    app.action(render.ANOTHER)(another_action)
    app.action(render.CONTEXT)(context_action)
    app.action(render.SHARE)(share_action)
    app.error(on_error)
    if settings.distributed:
        app.event("app_uninstalled")(app_uninstalled)
        app.event("tokens_revoked")(app.default_tokens_revoked_event_listener())
