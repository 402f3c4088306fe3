"""Every sentence a user reads, and the labels under every quote: written once, for every surface.

Discord, Slack and the console differ in markup only. The words (hints, refusals, the line under a
quote) live here, as plain text; each renderer escapes them for its platform. A new surface reuses
them as they are.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from quotecore import QueryError, Quote, QuoteError, ReloadReport, UnknownSpeakerError, clean_chars, truncate

if TYPE_CHECKING:
    from bots.replicas import Spread

#: What kind of text a passage is, as users read it (the core's `Passage.kind` values).
KIND_LABELS = {
    "answer": "访谈回答",
    "reported": "转述",
    "question": "提问",
    "narration": "文章叙述",
    "lead-in": "引子",
}
NARRATION = "文章叙述 (narration)"
#: Shown next to a quote whose text contradicts the speaker its source labels it with.
DOUBTFUL = "标注存疑 / attribution uncertain"

HELP = (
    "/quote <words> — the best-matching quotes (Chinese, traditional or simplified, or English names)\n"
    "/quote <words> speaker:<name> — only that speaker (奥特曼, Altman, 莱特卡普, …)\n"
    "/quote — a random quote\n"
    "/quote-reload — admins: reload the corpus from disk\n"
    "/quote-daily <channel> <HH:MM> <timezone> | off — admins: the daily excerpt"
)
DAILY_USAGE = (
    "Usage: /quote-daily <channel> <HH:MM> <timezone> (e.g. /quote-daily #general 09:00 Asia/Shanghai),"
    " or /quote-daily off [channel]"
)
NO_MORE = "No more matches."
BAD_BUTTON = "This button no longer works: search again with /quote."
NOTHING_TO_CONTINUE = "Nothing more to show: search with /quote first."
EMPTY_CORPUS = "There are no quotes to show yet: the corpus is empty."
ADMINS_ONLY_RELOAD = "Only quotebot admins can reload the corpus."
ADMINS_ONLY_DAILY = "Only quotebot admins can change the daily excerpt."
DAILY_DISABLED = "The daily excerpt is not enabled on this bot ([daily] enabled = false, or its database did not open)."
SOMETHING_WRONG = "Sorry, something went wrong with that command."
LOGGED = "It has been logged; please try again."
LOST_QUERY = "Sorry, I can't tell what this message searched for: try /quote again."


def kind_label(kind: str) -> str:
    """访谈回答, 转述, …: the one label for a passage kind (unknown kinds as they are)."""
    return KIND_LABELS.get(kind, kind)


def speaker_name(quote: Quote) -> str:
    """Who said it: Chinese and English name, or the article itself."""
    return quote.speaker.display if quote.speaker else NARRATION


def doubt(quote: Quote) -> list[str]:
    """The doubt marker when the text contradicts its speaker label, else nothing."""
    return [DOUBTFUL] if quote.passage.attribution == "doubtful" else []


def source_line(quote: Quote) -> str:
    """《title》 · outlet · date: where a quote comes from, without the speaker."""
    return " · ".join(p for p in (f"《{quote.document.title}》", quote.document.outlet, quote.document.date) if p)


def attribution(quote: Quote) -> str:
    """Speaker, source title, outlet and date, and the doubt marker: the line under every quote."""
    return " · ".join([speaker_name(quote), source_line(quote), *doubt(quote)])


def footer(quote: Quote) -> str:
    """Passage id, kind label and the doubt marker: the small print that identifies a quote."""
    return " · ".join([quote.id, kind_label(quote.passage.kind), *doubt(quote)])


def within(quote: Quote, limit: int) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The excerpt cut to `limit` characters at a sentence, with the highlights that still fit."""
    if len(quote.text) <= limit:
        return quote.text, quote.highlights
    text = truncate(quote.text, limit)
    return text, tuple((s, e) for s, e in quote.highlights if e <= len(text) - 1)


def strip_controls(text: str, keep: str = "\n\t") -> str:
    """Text without control, format (bidi overrides, zero-width) or unassigned characters.

    Typed or quoted text is echoed on every surface; these characters could garble a terminal,
    reverse what a message appears to say, or hide text. `keep` lists what may stay.
    """
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in keep)


def one_line(text: str) -> str:
    """A query as searched and echoed: no terminal escapes or control characters, whitespace folded."""
    return strip_controls(" ".join(clean_chars(text).split()), keep="")


def cut(text: str, limit: int) -> str:
    """One line of at most `limit` characters, with an ellipsis when cut."""
    flat = one_line(text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


#: How much of a query a reply echoes (the results header, the no-match hint): a query may be 500.
QUERY_ECHO = 100


def results_header(query: str, first: int, last: int, total: int) -> str:
    """`🔎 “query” · 1–3 / 13` (or `· 2 / 13` for one quote); `query` already escaped by the caller.

    The last page says so: no "Another" is offered under it.
    """
    where = f"{first}" if first == last else f"{first}–{last}"
    return f"🔎 “{query}” · {where} / {total}" + (f" · {NO_MORE}" if last >= total else "")


RANDOM_HEADER = "🎲"


def no_match(query: str, speaker: str | None, names: list[str]) -> str:
    """A friendly no-result reply that suggests something to try next."""
    if speaker:
        return f"No quote by {speaker} matches “{query}”. Try a broader word, or drop the speaker filter."
    return f"No quote matches “{query}”. Try a broader word (能源, 研究, AGI) or a speaker ({', '.join(names)})."


def refusal(exc: QuoteError) -> str:
    """The short reply for a refusal from the core (never a traceback)."""
    if isinstance(exc, UnknownSpeakerError):
        return f"I don't know the speaker “{exc.name}”. Known speakers: {', '.join(exc.known)}."
    if isinstance(exc, QueryError):
        return f"Sorry: {exc}."
    return "Sorry, that did not work."


def cooldown(wait: float) -> str:
    """The cooldown reply, in whole seconds (never 'try again in 0 s')."""
    return f"Slow down a little: try again in {max(1, round(wait))} s."


def reloaded(report: ReloadReport) -> str:
    """What a reload changed."""
    return f"Corpus reloaded: {report.summary()}."


def reload_spread(spread: Spread) -> str:
    """Where a reload reached, when several processes share the database (see bots.replicas)."""
    if spread.problem is not None:
        return f"Only this process reloaded: the database did not answer ({cut(spread.problem, 120)})."
    total = spread.total
    lines = [
        f"Generation {spread.generation} is served by {len(spread.serving)} of {total} "
        f"process{'es' if total != 1 else ''}."
    ]
    lines += [
        f"Failed on {name}: {cut(reason, 200)} (it keeps serving the previous corpus)."
        for name, reason in spread.failed
    ]
    if spread.waiting:
        lines.append(f"No answer yet from {', '.join(spread.waiting)} (still serving the previous corpus).")
    if spread.differing:
        lines.append(f"Other corpus files on {', '.join(spread.differing)}: their content differs from this process's.")
    return "\n".join(lines)


def reload_failed(reason: str | None) -> str:
    """A reload that did not happen: the old corpus keeps serving."""
    if reason is None:
        return "Reload failed unexpectedly, still serving the previous corpus (see the logs)."
    return f"Reload failed, still serving the previous corpus.\n{reason}"


def passage_gone(passage_id: str) -> str:
    """Context for a passage id the corpus no longer has."""
    return f"No passage with id “{cut(passage_id, 40)}”: it is no longer in the corpus (it changed in a reload)."


def bad_option(problem: str) -> str:
    """A `/quote` option the parser refused, before the syntax is shown."""
    return f"Sorry: {problem}."


def not_a_time(text: str) -> str:
    """A `/quote-daily` time that is not HH:MM."""
    return f"“{cut(text, 40)}” is not a time of day: use HH:MM, for example 09:00"


def not_a_zone(text: str) -> str:
    """A `/quote-daily` timezone that is not an IANA name."""
    return f"“{cut(text, 60)}” is not a timezone: use an IANA name such as Asia/Shanghai, Europe/Paris or UTC"


def not_a_channel(text: str) -> str:
    """A `/quote-daily` channel this surface does not have."""
    return f"“{cut(text, 60)}” is not a channel here: name one of this server's channels, or leave it out for this one."


def unknown_command(command: str) -> str:
    """A command a text surface does not know (chat platforms only offer the ones that exist)."""
    return f"Unknown command {cut(command, 40)}. Type /help for the commands."


def failed(what: str) -> str:
    """The apology for a command (`/quote`) or a button that raised: never a traceback."""
    sorry = SOMETHING_WRONG if what.startswith("/") else f"Sorry, the {what} did not work."
    return f"{sorry} {LOGGED}"


def notice_line(notice: str) -> str:
    """A problem the daily scheduler wants an admin to hear about (a broken target)."""
    return f"⚠️ {notice}"
