"""A command or button that raised: one log line with its context for the operator, one apology for the user.

Every surface answers a failure the same way: the traceback goes to the log, with who did what
where, so the request can be found again; the user reads the one sentence from `wording.failed`.
"""

from __future__ import annotations

import logging
import traceback

from bots import wording
from bots.commands import Notice

log = logging.getLogger("bots.failures")


def failure(surface: str, what: str, error: BaseException, *, user: object, **where: object) -> Notice:
    """Log `error` with its context (`where`: guild, channel, options, …); the apology to send."""
    context = ", ".join(f"{key} {value!r}" for key, value in where.items() if value not in (None, "", {}))
    log.error(
        "%s: %s failed for user %s%s:\n%s",
        surface,
        what,
        user,
        f" ({context})" if context else "",
        "".join(traceback.format_exception(error)),
    )
    return Notice(wording.failed(what), "failed")
