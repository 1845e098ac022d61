"""Operators' command line: `python -m newsdesk COMMAND` - import, export, list, publish,
unpublish, set-views. The tables come from the environment (ARTICLES_TABLE...)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _import(args: argparse.Namespace) -> int:
    from newsdesk.importer import import_paths

    summary = import_paths(
        [Path(p) for p in args.paths], report=lambda line: print(line, file=sys.stderr, flush=True)
    )
    print(summary.line())
    for path, reason in summary.rejected:
        print(f"  rejected {path}: {reason}")
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

    entries = export_articles(args.status)
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
        print(f"{change['slug']} is already {change['status']}")
    else:
        print(f"{change['outcome']} {change['slug']}")
    return 0


def _set_views(args: argparse.Namespace) -> int:
    from newsdesk import editing
    from newsdesk.dal.counters import audit_id

    change = editing.set_views(args.slug, args.views, _who())
    print(
        f"{change['slug']}: views {change['previous']} -> {change['views']} "
        f"(audit record {audit_id(change['slug'], change['when'])}, by {change['by']})"
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m newsdesk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    importing = commands.add_parser(
        "import", help="import legacy text pages or JSON articles (files or folders)"
    )
    importing.add_argument("paths", nargs="+", metavar="PATH")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit status 0 done, 1 refused (the message says why), 2 failed."""
    args = _parser().parse_args(argv)

    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    from newsdesk.auth import AdminError
    from newsdesk.catalog import InvalidLimit
    from newsdesk.config import ConfigError

    try:
        return int(args.run(args))
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
