"""The `quotebot` command line over the core: search, random, show, daily, passages, stats.

The contract (commands, JSON shapes, exit codes) is fixed in the design doc because scripts and
the bots' own tests rely on it: usage errors exit 2 with one line on stderr, no match is an empty
result with status 0, corpus errors exit 1 naming the file and line. `bots.cli` adds the commands
that need chat adapters (`run`, `check`, …) on top of this parser.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import IO, NoReturn

from quotecore import paths
from quotecore.errors import CorpusError, QueryError, QuoteError, UnknownSpeakerError, printable
from quotecore.excerpt import mark
from quotecore.ingest import MAX_CORPUS_BYTES, MAX_FILE_BYTES
from quotecore.models import Drop, Quote
from quotecore.service import QuoteService
from quotecore.text import clean_chars

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
Handler = Callable[[argparse.Namespace, QuoteService, IO[str]], int]


class UsageError(Exception):
    """A mistake in how the command was called: one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block; the contract is one line on stderr.
        raise UsageError(message)


# -- rendering ---------------------------------------------------------------------------------


def attribution(quote: Quote) -> str:
    """The line under every quote: — 山姆·奥特曼 (Sam Altman) · 《title》 · outlet · date."""
    who = quote.speaker.display if quote.speaker else "(文章叙述 narration)"
    parts = [f"— {who}", f"《{quote.document.title}》"]
    parts += [p for p in (quote.document.outlet, quote.document.date) if p]
    return " · ".join(parts)


def render_quote(quote: Quote, number: int | None = None, color: bool = False) -> str:
    """A quote for a terminal: the excerpt (highlights in bold on a TTY), then the attribution line."""
    body = mark(quote.text, quote.highlights, "\033[1m", "\033[0m") if color else quote.text
    head = f"{number}. " if number is not None else ""
    pad = " " * len(head)
    lines = [f"{head}“{body}”", f"{pad}{attribution(quote)}"]
    meta = [f"id {quote.id}", quote.passage.kind]
    if quote.passage.topic:
        meta.append(f"topic: {quote.passage.topic}")
    if quote.score is not None:
        meta.append(f"score {quote.score:.2f}")
    lines.append(f"{pad}[{' · '.join(meta)}]")
    return "\n".join(lines)


def _how(match: dict[str, str]) -> str:
    return match["term"] if match["how"] == "word" else f"{match['term']} ({match['how']})"


def _explained(quote: Quote) -> str:
    """Why a result ranked where it did, in two lines under it (`search --explain`)."""
    e = quote.explain
    if e is None:
        return ""
    pad = " " * 3
    matched = ", ".join(f"{word}←{'/'.join(_how(m) for m in found)}" for word, found in e["matched"].items())
    read = f"content {e['content']} · speaker intent {e['speaker_intent'] or '-'} · fillers {e['fillers']}"
    score = (
        f"matched {matched or '-'} · share {e['share']:.2f} · bm25 {e['bm25']:.2f}"
        f" + carried {e['carried']:.2f}{' from ' + e['carried_from'] if 'carried_from' in e else ''}"
        f" × priors {e['priors']:.2f} → {e['score']:.2f}"
    )
    return f"\n{pad}explain: {read}\n{pad}         {score}"


def _dump(obj: object, out: IO[str]) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _without_score(quote: Quote) -> dict[str, object]:
    data = quote.to_json()
    data.pop("score", None)
    return data


def _color(out: IO[str]) -> bool:
    return out.isatty() and "NO_COLOR" not in os.environ


# -- commands ----------------------------------------------------------------------------------


def _check_query(query: str) -> str:
    try:
        return QuoteService.validate_query(query)
    except QueryError as exc:
        raise UsageError(str(exc)) from None


def cmd_search(args: argparse.Namespace, service: QuoteService, out: IO[str]) -> int:
    """`search`: one query, or one per stdin line with `-` so scripts pay the start-up once."""
    if args.query == "-":
        if not args.json:
            raise UsageError("reading queries from stdin ('-') needs --json")
        # Bytes, decoded line by line: one undecodable line is answered with an error line and the
        # rest of the batch still gets its answers.
        lines = getattr(sys.stdin, "buffer", sys.stdin)  # text when a caller gave a text stream
        for raw in lines:
            query = (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw).rstrip("\r\n")
            try:
                _dump(service.search(query, args.speaker, args.limit, explain=args.explain).to_json(), out)
            except QuoteError as exc:
                _dump({"query": printable(clean_chars(query)), "results": [], "error": str(exc)}, out)
            out.flush()
        return EXIT_OK
    results = service.search(_check_query(args.query), args.speaker, args.limit, explain=args.explain)
    if args.json:
        _dump(results.to_json(), out)
    elif not results.quotes:
        out.write(f"No quote matches “{results.query}”. Try a broader word, or another speaker.\n")
    else:
        color = _color(out)
        blocks = [render_quote(q, n, color) + _explained(q) for n, q in enumerate(results.quotes, 1)]
        out.write("\n\n".join(blocks) + "\n")
    return EXIT_OK


def cmd_random(args: argparse.Namespace, service: QuoteService, out: IO[str]) -> int:
    """`random`: any quote, optionally by one speaker; the first thing a curious user tries."""
    quote = service.random(args.speaker)
    if quote is None:
        out.write("null\n" if args.json else "The corpus has no quotes yet.\n")
        return EXIT_OK
    if args.json:
        _dump(_without_score(quote), out)
    else:
        out.write(render_quote(quote, color=_color(out)) + "\n")
    return EXIT_OK


def cmd_show(args: argparse.Namespace, service: QuoteService, out: IO[str]) -> int:
    """`show`: a whole passage by its stable id (the 'Context' of the chat buttons)."""
    quote = service.show(args.passage_id)
    if quote is None:
        print(f"quotebot: no passage with id {args.passage_id!r}", file=sys.stderr)  # noqa: T201
        return EXIT_ERROR
    if args.json:
        _dump(_without_score(quote), out)
    else:
        out.write(render_quote(quote) + "\n")
    return EXIT_OK


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def cmd_daily(args: argparse.Namespace, service: QuoteService, out: IO[str]) -> int:
    """`daily`: exactly what that date's post carries, so admins can check it before it goes out."""
    date = args.date or dt.date.today()
    quote = service.daily(date)
    if args.json:
        _dump({"date": date.isoformat(), "result": _without_score(quote) if quote else None}, out)
    elif quote is None:
        out.write(f"{date.isoformat()}: no quote (the corpus is empty).\n")
    else:
        out.write(f"今日语录 · {date.isoformat()}\n{render_quote(quote)}\n")
    return EXIT_OK


def cmd_passages(args: argparse.Namespace, service: QuoteService, out: IO[str]) -> int:
    """`passages`: every indexed passage as JSON, for scripts and audits of the cleaning."""
    quotes = service.passages()
    if args.json:
        _dump({"passages": [_without_score(q) for q in quotes]}, out)
        return EXIT_OK
    for q in quotes:
        who = q.speaker.name if q.speaker else "-"
        out.write(f"{q.id}  {q.passage.kind:<9}  {who:<8}  {q.text[:60]}\n")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace, service: QuoteService, out: IO[str]) -> int:
    """`stats`: what was indexed and, as important, what was repaired, dropped or doubted, and why."""
    stats = service.stats()
    snap = service.snapshot
    paths = {d.id: d.path for d in snap.documents.values()}
    doubtful = [p for p in snap.passages if p.attribution == "doubtful"]
    repaired = [d for d in stats.drops if d.action == "repaired"]
    dropped = [d for d in stats.drops if d.action != "repaired"]
    if args.json:
        _dump(
            {
                "documents": [d.to_json() | {"path": d.path, "script": d.script} for d in snap.documents.values()],
                "passages": stats.passages,
                "by_speaker": stats.by_speaker,
                "by_kind": stats.by_kind,
                "topics": list(snap.topics),
                "doubtful": [
                    {"id": p.id, "file": paths[p.doc_id], "line": p.line, "speaker": p.speaker_id, "text": p.text}
                    for p in doubtful
                ],
                "repaired": [{"file": d.path, "line": d.line, "reason": d.reason, "text": d.text} for d in repaired],
                "dropped": [
                    {"file": d.path, "line": d.line, "reason": d.reason, "text": d.text, "action": d.action}
                    for d in stats.drops
                ],
                "skipped": [{"file": s.name, "reason": s.reason} for s in snap.skipped],
            },
            out,
        )
        return EXIT_OK
    w = out.write
    w(f"Corpus: {service.seeds_dir}\n")
    w(f"Documents: {stats.documents}\n")
    for doc in snap.documents.values():
        count = sum(1 for p in snap.passages if p.doc_id == doc.id)
        w(f"  {doc.path}  《{doc.title}》  {doc.script}, {count} passages\n")
    w(f"Passages: {stats.passages} (loaded in {snap.seconds:.2f} s)\n")
    w("  by speaker: " + ", ".join(f"{k} {v}" for k, v in stats.by_speaker.items()) + "\n")
    w("  by kind: " + ", ".join(f"{k} {v}" for k, v in stats.by_kind.items()) + "\n")
    w(f"Topics (section headings, never quotes): {len(snap.topics)}\n")
    w(f"Attribution doubtful (kept as labelled, the text contradicts the label): {len(doubtful)}\n")
    for p in doubtful:
        who = snap.speakers[p.speaker_id].display if p.speaker_id in snap.speakers else "-"
        w(f"    {paths[p.doc_id]}:{p.line}  {p.id}  {who}  {p.text[:50]}\n")
    _write_grouped(w, "Repaired (garbled run cut, sentence kept)", repaired)
    _write_grouped(w, "Dropped", dropped)
    if snap.skipped:
        w(f"Skipped in the corpus folder (not read): {len(snap.skipped)}\n")
        for skip in snap.skipped:
            w(f"    {printable(skip.name)}: {skip.reason}\n")
    return EXIT_OK


def _write_grouped(w: Callable[[str], object], title: str, drops: Sequence[Drop]) -> None:
    """A stats section: its count, then each reason with the file:line of every record."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for drop in drops:
        grouped[drop.reason].append(f"{drop.path}:{drop.line}  {drop.text[:60]}")
    w(f"{title}: {len(drops)}\n")
    for reason, where in sorted(grouped.items()):
        w(f"  {reason} ({len(where)})\n")
        for item in where:
            w(f"    {item}\n")


# -- parser ------------------------------------------------------------------------------------


def _limit(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 1 <= number <= 50:
        raise argparse.ArgumentTypeError("must be between 1 and 50")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The core's subcommands; `bots.cli` extends this parser with the bot commands."""
    parser = _Parser(prog="quotebot", description="Quotes from interviews, from the command line or chat.")
    parser.add_argument("--seeds", metavar="DIR", help="corpus directory (default: ./seeds or the bundled one)")
    parser.add_argument("--config-dir", metavar="DIR", help="config directory (default: ./config or bundled)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens (to stderr)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("search", help="best-matching quotes for some words")
    p.add_argument("query", help="words to search for, or - to read one query per line (with --json)")
    p.add_argument("--speaker", help="only quotes by this speaker (any alias, Chinese or English)")
    p.add_argument("--limit", type=_limit, default=5, help="how many results (1-50, default 5)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--explain", action="store_true", help="show why each quote ranked where it did")
    p.set_defaults(handler=cmd_search, needs_corpus=True)

    p = sub.add_parser("random", help="a random quote")
    p.add_argument("--speaker")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_random, needs_corpus=True)

    p = sub.add_parser("show", help="a whole passage by id")
    p.add_argument("passage_id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show, needs_corpus=True)

    p = sub.add_parser("daily", help="the excerpt a day's post would carry")
    p.add_argument("--date", type=_date, help="YYYY-MM-DD (default: today)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_daily, needs_corpus=True)

    p = sub.add_parser("passages", help="every indexed passage")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_passages, needs_corpus=True)

    p = sub.add_parser("stats", help="documents, passages by speaker and kind, and what was dropped")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_stats, needs_corpus=True)
    return parser


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Parse and dispatch; every failure becomes one line on stderr and an exit status."""
    out = out or sys.stdout
    try:
        args = parser.parse_args(argv)
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        if not getattr(args, "handler", None):
            parser.print_help(out)
            return EXIT_USAGE
        # Every directory through quotecore.paths: the same environment variables as `run` and `check`.
        service = QuoteService(
            args.seeds,
            args.config_dir,
            paths.cache_dir(),
            paths.size_limit("QUOTEBOT_CORPUS_MAX_FILE_MB", MAX_FILE_BYTES),
            paths.size_limit("QUOTEBOT_CORPUS_MAX_CORPUS_MB", MAX_CORPUS_BYTES),
        )
        if getattr(args, "needs_corpus", False):
            service.load()
        return int(args.handler(args, service, out))
    except UsageError as exc:
        _fail(f"error: {exc}")
        return EXIT_USAGE
    except UnknownSpeakerError as exc:
        _fail(f"error: unknown speaker {exc.name!r}; known: {', '.join(exc.known)}")
        return EXIT_USAGE
    except CorpusError as exc:
        _fail(f"corpus error: {exc}")
        return EXIT_ERROR
    except BrokenPipeError:  # `quotebot passages --json | head`
        return EXIT_OK


def _fail(message: str) -> None:
    print(f"quotebot: {message}", file=sys.stderr)  # noqa: T201


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for the core alone (`python -m quotecore.cli`), without the bot commands."""
    return run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
