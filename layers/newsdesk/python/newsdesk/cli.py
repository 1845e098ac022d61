"""Operators' command line: `python -m newsdesk COMMAND` - import, export, list, publish,
unpublish, set-views, set-total. The tables come from the environment (ARTICLES_TABLE...). Commands
use the operator's DynamoDB client (newsdesk.dal.db.use_operator_client: long timeouts,
many retries), and the long ones show a progress line on stderr."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from newsdesk.importer import Summary

clock: Callable[[], float] = time.monotonic  # the progress line's clock; tests may replace it


class Progress:
    """One status line on `stream`: what is done, the rate and the time left. On a terminal it
    is rewritten in place every `interval` seconds; elsewhere (a log, a pipe) a new line every
    `log_interval` seconds. Nothing shows for work done within the first interval, and the
    last line ("done in") only after others. Time comes from the module's `clock`."""

    def __init__(self, stream: TextIO, interval: float = 0.2, log_interval: float = 10.0) -> None:
        self.stream = stream
        self.clock = clock
        self.tty = stream.isatty()
        self.interval = interval if self.tty else log_interval
        self.started = self.shown = clock()
        self.width = 0
        self.lines = 0

    def show(self, done: int, unit: str, fraction: float, detail: str = "") -> None:
        """`done` units so far, `fraction` (0..1) of the whole work done."""
        now = self.clock()
        finished = fraction >= 1
        if (finished and not self.lines) or (not finished and now - self.shown < self.interval):
            return
        self.shown = now
        self.lines += 1
        elapsed = max(now - self.started, 1e-9)
        line = f"{done:,} {unit}{detail}, {done / elapsed:,.0f}/s"
        if 0 < fraction < 1:
            line += f", {_duration(elapsed * (1 - fraction) / fraction)} left"
        elif fraction >= 1:
            line += f", done in {_duration(elapsed)}"
        if self.tty:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def end(self) -> None:
        """Leave the terminal's line (call once, after the last show)."""
        if self.tty and self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0


def _duration(seconds: float) -> str:
    """`about 7 s`, `about 3 min 20 s`, `about 1 h 5 min`."""
    whole = round(seconds)
    if whole < 60:
        return f"about {whole} s"
    if whole < 3600:
        return f"about {whole // 60} min {whole % 60} s"
    return f"about {whole // 3600} h {whole % 3600 // 60} min"


def _print_summary(summary: Summary, interrupted: bool = False) -> None:
    """The import's summary on stdout: the counts (" (interrupted)" after them when Ctrl-C
    stopped it: what was stored so far), then one line per notable article."""
    print(summary.line() + (" (interrupted)" if interrupted else ""))
    for note in summary.notes:
        print(f"  {note}")
    for slug, wanted in summary.renamed:
        print(f"  unique slug {slug} (slug {wanted} is another article's)")
    for slug, count in summary.kept:
        print(f"  kept {slug}'s count set by an editor: {count}")
    for slug, given in summary.derived:
        print(f"  slug {slug} given for {given!r}, which cannot be a URL")
    for slug, elsewhere in summary.stayed:
        print(f"  {slug} kept its URL (its source now gives it slug {elsewhere})")
    for slug, original in summary.duplicates:  # storing.possible_duplicate
        print(
            f"  POSSIBLE DUPLICATE {slug} of {original} (same publish time, title differs only "
            f"in case or punctuation; if it is: `python -m newsdesk unpublish {slug}`)"
        )
    for path, reason in summary.rejected:
        print(f"  rejected {path}: {reason}")


def _import(args: argparse.Namespace) -> int:
    from newsdesk.importer import Summary, import_paths

    progress = Progress(sys.stderr)

    def line(text: str) -> None:
        if progress.tty:
            progress.end()
        print(text, file=sys.stderr, flush=True)

    def show(summary: Summary, fraction: float) -> None:
        detail = f" ({fraction:.0%} of the files)" if fraction < 1 else ""
        progress.show(summary.done, "articles", fraction, detail)

    summary = Summary()
    try:
        import_paths(
            [Path(p) for p in args.paths],
            report=line,
            who=_who(),
            notable_only=not args.verbose,
            progress=show,
            summary=summary,
        )
    except KeyboardInterrupt:  # the writes under way have ended: the counts are what is stored
        progress.end()
        _print_summary(summary, interrupted=True)
        sys.stdout.flush()  # before main's rerun hint on stderr
        raise
    progress.end()
    _print_summary(summary)
    return 1 if summary.rejected else 0


def _who() -> str:
    """Who the audit record names: the operating-system user running the command."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli:unknown"


def _export(args: argparse.Namespace) -> int:
    import json

    from newsdesk.catalog import export_articles

    out = Path(args.out) if args.out not in (None, "-") else None
    if out is not None and not out.parent.is_dir():  # before reading every article
        print(f"newsdesk: cannot write {out}: no such folder {out.parent}", file=sys.stderr)
        return 1
    progress = Progress(sys.stderr)
    entries = export_articles(
        args.status,
        progress=lambda done, total: progress.show(done, "articles read", done / max(total, 1)),
    )
    progress.end()
    text = json.dumps(entries, ensure_ascii=False, indent=1) + "\n"
    if args.out in (None, "-"):
        sys.stdout.write(text)
    else:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"newsdesk: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    print(f"exported {len(entries)} article(s) to {args.out or 'stdout'}", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    from newsdesk.articles import parse_iso
    from newsdesk.catalog import list_articles
    from newsdesk.config import settings

    tz = settings().tz
    rows = [
        (
            row["slug"],
            row["status"],
            parse_iso(row["published_at"]).astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            str(row["views"]),
        )
        for row in list_articles(args.status, args.limit)
    ]
    table = [("slug", "status", "published", "views"), *rows]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=False)]
        print("  ".join([*cells, row[3].rjust(widths[3])]))
    return 0


def _publish(args: argparse.Namespace) -> int:
    from newsdesk import editing

    change = editing.set_status(args.slug, args.status, _who())
    if change["outcome"] == "unchanged":
        line = f"{change['slug']} is already {change['status']}"
    else:
        line = f"{change['outcome']} {change['slug']}"
    if change.get("visible_from"):  # published, dated in the future: hidden until then
        line += f"; visible from {_local_time(change['visible_from'])}"
    print(line)
    return 0


def _local_time(moment: str) -> str:
    """An ISO time as the site's readers see dates: '01/01/2030 08:00' (the site's zone)."""
    from newsdesk.articles import parse_iso
    from newsdesk.config import settings

    return parse_iso(moment).astimezone(settings().tz).strftime("%d/%m/%Y %H:%M")


def _set_views(args: argparse.Namespace) -> int:
    from newsdesk import editing
    from newsdesk.dal.counters import audit_id

    change = editing.set_views(args.slug, args.views, _who())
    print(
        f"{change['slug']}: views {change['previous']} -> {change['views']} "
        f"(audit record {audit_id(change['slug'], change['when'])}, by {change['by']})"
    )
    return 0


def _set_total(args: argparse.Namespace) -> int:
    from newsdesk import editing
    from newsdesk.dal.counters import total_audit_id

    change = editing.set_site_total(args.total, _who(), force=args.force)
    print(
        f"site total {change['previous']} -> {change['total']} (counted since launch "
        f"{change['counted']}, articles' counts {change['articles']}; audit record "
        f"{total_audit_id(change['when'])}, by {change['by']})"
    )
    if change["forced"]:
        print("newsdesk: forced below the sum of the articles' counts", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m newsdesk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    importing = commands.add_parser(
        "import", help="import legacy text pages or JSON articles (files or folders)"
    )
    importing.add_argument("paths", nargs="+", metavar="PATH")
    importing.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="a line for every article, not only notable ones",
    )
    importing.set_defaults(run=_import)
    statuses = ("published", "draft")
    exporting = commands.add_parser(
        "export", help="write every article as JSON in the import format (views: the total)"
    )
    exporting.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    exporting.add_argument("--status", choices=statuses, help="only articles with this status")
    exporting.set_defaults(run=_export)
    listing = commands.add_parser("list", help="articles, newest first: slug, status, views")
    listing.add_argument("--status", choices=statuses, help="only articles with this status")
    listing.add_argument("--limit", type=int, metavar="N", help="at most N articles")
    listing.set_defaults(run=_list)
    for name, status, text in (
        ("publish", "published", "make an article visible (its count is kept)"),
        ("unpublish", "draft", "hide an article (draft); its text and count are kept"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("slug", metavar="SLUG")
        command.set_defaults(run=_publish, status=status)
    setting = commands.add_parser(
        "set-views", help="set an article's displayed view count (audited)"
    )
    setting.add_argument("slug", metavar="SLUG")
    setting.add_argument("views", type=int, metavar="N")
    setting.set_defaults(run=_set_views)
    total = commands.add_parser(
        "set-total",
        help="set the site's total visits, e.g. lower one a bad import raised (audited)",
    )
    total.add_argument("total", type=int, metavar="N")
    total.add_argument(
        "--force", action="store_true", help="even below the sum of the articles' counts"
    )
    total.set_defaults(run=_set_total)
    return parser


def _quiet_stdout() -> None:
    """Point stdout at /dev/null once its reader has gone, so the interpreter's last flush
    at exit raises no second BrokenPipeError (the Python documentation's way: signal
    module, "Note on SIGPIPE")."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit status 0 done, 1 refused (the message says why), 2 failed."""
    args = _parser().parse_args(argv)

    from newsdesk import dal

    dal.use_operator_client()

    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    from newsdesk.auth import AdminError
    from newsdesk.catalog import InvalidLimit
    from newsdesk.config import ConfigError

    try:
        return int(args.run(args))
    except BrokenPipeError:  # `newsdesk list | head`: the reader has what it wanted
        _quiet_stdout()
        return 0
    except (AdminError, InvalidLimit) as exc:
        print(f"newsdesk: {exc}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"newsdesk: configuration: {exc}", file=sys.stderr)
    except EndpointConnectionError as exc:
        print(
            f"newsdesk: DynamoDB is unreachable ({exc}); is it running? "
            "(AWS_ENDPOINT_URL_DYNAMODB selects the endpoint)",
            file=sys.stderr,
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        hint = (
            " (create the tables first: `make run` does)"
            if error.get("Code") == "ResourceNotFoundException"
            else ""
        )
        print(
            f"newsdesk: DynamoDB refused: {error.get('Code')}: {error.get('Message')}{hint}",
            file=sys.stderr,
        )
    except BotoCoreError as exc:
        print(f"newsdesk: AWS SDK error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("newsdesk: interrupted; rerun to pick up where it stopped", file=sys.stderr)
    return 2
