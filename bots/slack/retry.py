"""Retries for every reply path: rate limits (Retry-After honoured, bounded) and dropped connections.

slack_sdk's own handlers do the work; two gaps are closed here. `AsyncRateLimitErrorRetryHandler`
sleeps for whatever Retry-After says (an hour stalls the reply for an hour): `BoundedRateLimitRetry`
gives up instead when the wait is longer than `MAX_RETRY_AFTER`. And bolt's `respond` posts to the
response_url with no retry handler and nobody reads the result: `RetryingRespond` retries and logs
what finally failed.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

log = logging.getLogger(__name__)

#: The longest Retry-After a reply waits for; a longer one fails (and is logged) at once.
MAX_RETRY_AFTER = 30.0


def retry_after(response: HttpResponse | None) -> float | None:
    """The Retry-After of a response in seconds; None when absent or not a number."""
    if response is None:
        return None
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0]))
            except ValueError:
                return None
    return None


class BoundedRateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's rate-limit handler, except that a Retry-After over `limit` seconds is not waited for."""

    def __init__(self, max_retry_count: int = 2, limit: float = MAX_RETRY_AFTER) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.limit = limit

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        wait = retry_after(response)
        return response is not None and response.status_code == 429 and (wait is None or wait <= self.limit)


def retry_handlers() -> list[AsyncRetryHandler]:
    """What every Slack client of the bot retries: dropped connections and bounded rate limits."""
    return [AsyncConnectionErrorRetryHandler(max_retry_count=1), BoundedRateLimitRetry(max_retry_count=2)]


class RetryingRespond(AsyncRespond):
    """bolt's `respond`, with `retry_handlers()` and a log line when the reply finally did not arrive."""

    async def __call__(self, text: str | dict[str, Any] = "", **fields: Any) -> WebhookResponse:  # type: ignore[override]
        """Post to the response_url; a reply that still fails after the retries is logged, not lost silently."""
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        client = AsyncWebhookClient(
            url=self.response_url, proxy=self.proxy, ssl=self.ssl, retry_handlers=retry_handlers()
        )
        message = _build_message(**text) if isinstance(text, dict) else _build_message(text=text, **fields)
        try:
            response = await client.send_dict(message)
        except Exception as exc:
            log.warning("slack: reply to the response_url failed after retries: %s", exc)
            raise
        if response.status_code != 200:
            log.warning(
                "slack: reply to the response_url failed after retries: HTTP %s %s",
                response.status_code,
                str(response.body)[:200],
            )
        return response
