"""Operators' command line: `python -m newsdesk import PATH...`."""

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m newsdesk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    importing = commands.add_parser(
        "import", help="import legacy text pages or JSON articles (files or folders)"
    )
    importing.add_argument("paths", nargs="+", metavar="PATH")
    importing.set_defaults(run=_import)
    args = parser.parse_args(argv)

    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    from newsdesk.config import ConfigError

    try:
        return int(args.run(args))
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
