"""`python -m local run` (`make run`), `python -m local tables`, `python -m local import PATH...`.

run: DynamoDB Local (persistent in .local/dynamodb-data/) + the tables from template.yaml +
sample content on first start + the HTTP API stand-in on http://127.0.0.1:$PORT (3000).
Failures print one actionable line, not a stack trace.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from local import dynamodb, tables
from local.server import (
    InitError,
    LocalServer,
    ServerError,
    concurrency_setting,
    create_server,
)

SAMPLE = "fixtures/000_0522782f77f4491e.txt"
DDB_PORT = 8000


class Failure(Exception):
    """Stop with this one-line message."""


def set_defaults(env: Any = os.environ) -> None:
    """Local defaults, never overriding what the caller set: region, dummy credentials (no
    real AWS account is ever touched), Powertools, and the functions' variables from the
    template (tables named newsdesk-local-*, parameter defaults)."""
    env.setdefault("AWS_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1"))
    env.setdefault("AWS_DEFAULT_REGION", env["AWS_REGION"])
    env.setdefault("AWS_ACCESS_KEY_ID", "local")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    env.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    env.setdefault("POWERTOOLS_SERVICE_NAME", "newsdesk")
    env.setdefault("POWERTOOLS_METRICS_NAMESPACE", "newsdesk")
    env.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    for name, value in tables.function_env(tables.DEFAULT_PREFIX).items():
        env.setdefault(name, value)


def _client(endpoint: str) -> Any:
    import boto3

    return boto3.session.Session().client("dynamodb", endpoint_url=endpoint)


# The DynamoDB Local this checkout's `make run` started on its data folder, while it runs:
# `make import` (and any second command) uses it instead of starting another JVM on the
# same folder, and never joins a DynamoDB of another checkout that happens to be on 8000.
ENDPOINT_FILE = dynamodb.DATA_DIR.parent / "dynamodb-endpoint"


def _port() -> int:
    """DDB_PORT (default 8000): where a DynamoDB Local this command starts listens."""
    raw = os.environ.get("DDB_PORT", str(DDB_PORT))
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise Failure(f"DDB_PORT={raw!r} is not a port number (1-65535)")
    return int(raw)


def _running_here() -> str | None:
    """The endpoint of this checkout's running DynamoDB Local (ENDPOINT_FILE), if it answers."""
    try:
        endpoint = ENDPOINT_FILE.read_text("utf-8").strip()
    except OSError:
        return None
    return endpoint if endpoint and dynamodb.answers(endpoint) else None


@contextmanager
def dynamodb_endpoint() -> Iterator[str]:
    """AWS_ENDPOINT_URL_DYNAMODB if set (must answer), else this checkout's running DynamoDB
    Local (ENDPOINT_FILE), else a DynamoDB Local we start on DDB_PORT and stop."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    if endpoint:
        if not dynamodb.answers(endpoint):
            raise Failure(
                f"DynamoDB is not reachable at {endpoint} (AWS_ENDPOINT_URL_DYNAMODB): "
                "start it, or unset the variable to use DynamoDB Local"
            )
        print(f"Using DynamoDB at {endpoint} (AWS_ENDPOINT_URL_DYNAMODB)")
        yield endpoint
        return
    endpoint = _running_here()
    if endpoint:  # e.g. `make run` of this checkout in another terminal
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
        print(f"Using this checkout's running DynamoDB Local on {endpoint}")
        yield endpoint
        return
    with _started_here() as started:
        yield started


@contextmanager
def _started_here() -> Iterator[str]:
    """A DynamoDB Local on this checkout's data folder, on DDB_PORT (another port when that
    one is taken), named in ENDPOINT_FILE while it runs."""
    wanted = _port()
    try:
        dynamodb.ensure_jar()
        port = None if dynamodb.port_in_use(wanted) else wanted
        handle = dynamodb.start(port=port, db_path=dynamodb.DATA_DIR)
    except dynamodb.DynamoDBLocalError as err:
        raise Failure(str(err)) from None
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = handle.endpoint
    if handle.kind == "moto":
        print(f"moto DynamoDB on {handle.endpoint} (in memory)")
    else:
        print(f"DynamoDB Local on {handle.endpoint} (data in {dynamodb.DATA_DIR})")
        if port is None:
            print(f"(port {wanted} is taken by something else: DDB_PORT=... picks another)")
        ENDPOINT_FILE.parent.mkdir(parents=True, exist_ok=True)
        ENDPOINT_FILE.write_text(handle.endpoint, "utf-8")
    try:
        yield handle.endpoint
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop
        with contextlib.suppress(OSError):
            if ENDPOINT_FILE.read_text("utf-8").strip() == handle.endpoint:
                ENDPOINT_FILE.unlink()
        handle.stop()


def make_tables(endpoint: str) -> dict[str, str]:
    """The template's tables, honouring table env vars set by hand."""
    names = {k: os.environ[k] for k in tables.table_env() if os.environ.get(k)}
    return tables.create_tables(_client(endpoint), tables.DEFAULT_PREFIX, names=names)


def newsdesk_import(paths: list[str]) -> int:
    """`python -m newsdesk import PATH...` with this environment (endpoint, table names)."""
    env = dict(os.environ)
    code = [str(tables.ROOT / "layers/newsdesk/python"), str(tables.ROOT)]
    env["PYTHONPATH"] = os.pathsep.join([*code, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    args = [sys.executable, "-m", "newsdesk", "import", *paths]
    return subprocess.run(args, env=env, check=False).returncode


def import_sample_if_empty(endpoint: str) -> None:
    """First start: load the sample article so there is something to look at."""
    articles = os.environ[tables.env_var_for("ArticlesTable")]
    count = _client(endpoint).scan(TableName=articles, Select="COUNT", Limit=1)["Count"]
    if count or not (tables.ROOT / SAMPLE).is_file():
        return
    print(f"Empty {articles}: importing {SAMPLE}")
    status = newsdesk_import([str(tables.ROOT / SAMPLE)])
    if status != 0:
        print(f"warning: importing {SAMPLE} failed (exit {status}); continuing without it")


def _stop_on_signals() -> None:
    """SIGTERM stops like Ctrl-C; Ctrl-C works even if a parent shell ignored SIGINT."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def admin_token(env: Any = os.environ) -> bool:
    """The admin API's bearer token (there is no IAM locally): ADMIN_TOKEN as set, else a
    random one for this run. True when it was generated here."""
    if env.get("ADMIN_TOKEN"):
        return False
    env["ADMIN_TOKEN"] = secrets.token_urlsafe(24)
    return True


def admin_hint(port: int, generated: bool = True, env: Any = os.environ) -> str:
    """How to call the admin API: its token and an example that creates a draft."""
    token = env["ADMIN_TOKEN"] if generated else "$ADMIN_TOKEN"
    origin = (
        "random for this run; set ADMIN_TOKEN to choose one"
        if generated
        else "from your environment"
    )
    example = (
        '{"title": "Hello", "body": "First paragraph.", "author": "Newsroom", '
        '"published_at": "2026-01-01T08:00:00+07:00", "status": "draft"}'
    )
    return (
        f"  Admin API: Authorization: Bearer {token}   ({origin})\n"
        f"    curl -X PUT -H \"Authorization: Bearer {token}\" -d '{example}' \\\n"
        f"      http://127.0.0.1:{port}/api/admin/articles/hello\n"
    )


MOST_READ_EVERY = 60.0  # seconds; the deployed schedule is every 5 minutes


def schedule_most_read() -> threading.Event:
    """What EventBridge does when deployed: refresh the "most read" lists, now and then
    every MOST_READ_EVERY seconds, until the returned event is set."""
    from newsdesk import mostread, presence

    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                mostread.refresh()
                presence.roll_up_visits()  # as functions/mostread/app.py does
            except Exception as err:  # a failed refresh must not stop the server
                logging.getLogger("local").warning("most read refresh failed: %s", err)
            stop.wait(MOST_READ_EVERY)

    threading.Thread(target=loop, name="most-read", daemon=True).start()
    return stop


def check_config() -> None:
    """The functions' settings as this environment gives them, checked before anything starts:
    a bad one stops `make run` with newsdesk.config's message (variable, value, allowed)."""
    layer = str(tables.ROOT / "layers/newsdesk/python")  # as Lambda's /opt/python
    if layer not in sys.path:
        sys.path.insert(0, layer)
    from newsdesk.config import ConfigError, from_env

    problems: list[str] = []
    try:
        from_env()
    except ConfigError as err:
        problems += err.problems
    try:
        concurrency_setting()
    except ValueError as err:
        problems.append(str(err))
    if problems:
        raise Failure("\nerror: ".join(problems))  # one line per problem


def _port_setting(env: Any = os.environ) -> int:
    """PORT: the local server's TCP port, 1..65535 (default 3000). Raises Failure."""
    raw_port = env.get("PORT", "3000").strip()
    if not re.fullmatch(r"[0-9]+", raw_port) or not 0 < int(raw_port) < 65536:
        raise Failure(f"PORT={raw_port} is not a TCP port number: allowed 1..65535")
    return int(raw_port)


def run() -> None:
    """Everything `make run` needs, until Ctrl-C / SIGTERM."""
    port = _port_setting()
    check_config()
    concurrency = concurrency_setting()
    if dynamodb.port_in_use(port):
        raise Failure(f"port {port} is already in use; choose another: PORT={port + 1} make run")
    with dynamodb_endpoint() as endpoint:
        names = make_tables(endpoint)
        print("Tables: " + ", ".join(f"{k}={v}" for k, v in names.items()))
        import_sample_if_empty(endpoint)
        generated = admin_token()
        server = _start_server(port, concurrency)
        print(f"\n  newsdesk is running on http://127.0.0.1:{port}/   (Ctrl-C to stop)\n")
        print(admin_hint(port, generated), flush=True)
        _serve_until_stopped(server)


def _start_server(port: int, concurrency: int) -> LocalServer:
    """The local server on 127.0.0.1:port, one execution environment per function started
    (its init run). Raises Failure: a function's init failed (its traceback is logged), the
    port is taken, or the functions could not be loaded (traceback printed)."""
    try:
        return create_server("127.0.0.1", port, concurrency=concurrency)
    except InitError as err:  # a function's init failed (its traceback is logged above)
        raise Failure(str(err)) from None
    except ServerError as err:
        raise Failure(f"{err}; choose another port: PORT={port + 1} make run") from None
    except Exception:
        traceback.print_exc()
        raise Failure("could not load the functions (see the traceback above)") from None


def _serve_until_stopped(server: LocalServer) -> None:
    """Serve, with the scheduled "most read" refresh, until Ctrl-C / SIGTERM; then stop the
    schedule and the server's environments."""
    stop_schedule = schedule_most_read()
    try:
        server.serve_forever()  # werkzeug returns from here on Ctrl-C / SIGTERM
    finally:
        stop_schedule.set()
        server.server_close()
        print("\nStopping...", file=sys.stderr)


def make_tables_only() -> None:
    with dynamodb_endpoint() as endpoint:
        for var, name in make_tables(endpoint).items():
            print(f"{var}={name}")


def import_into_local(paths: list[str]) -> int:
    """`make import FILE=...`: into the running stack's DynamoDB, else into the local data."""
    with dynamodb_endpoint() as endpoint:
        make_tables(endpoint)
        return newsdesk_import(paths)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="the whole local stack (the default)")
    commands.add_parser("tables", help="create the tables from template.yaml and exit")
    importing = commands.add_parser("import", help="import articles into the local tables")
    importing.add_argument("paths", nargs="+", metavar="PATH")
    return parser


def _log_to_stderr() -> None:
    """The "local" loggers (the server's request lines, init errors) write
    "HH:MM:SS message" lines to stderr, unless a handler is already set."""
    logger = logging.getLogger("local")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _log_to_stderr()
    _stop_on_signals()
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # keep prints in order with the log lines
    try:
        set_defaults()
        if args.command == "tables":
            make_tables_only()
        elif args.command == "import":
            return import_into_local(args.paths)
        else:
            run()
            print("Stopped.", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return 0
    except Failure as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # botocore and friends: still one line
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
