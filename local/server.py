"""A local stand-in for `sam local start-api` (no Docker): API Gateway HTTP API in front of
Lambda-like execution environments.

Routes and handlers are read from template.yaml. This process plays API Gateway: it routes
each request, turns it into a payload-2.0 event, and turns the function's answer back into
HTTP by HTTP API's rules. The functions run the way Lambda runs them
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html): each execution
environment is a worker process (forked from a multiprocessing "forkserver", so nothing of
this process's state is inherited; it is given the environment variables of this process at
the time it starts) that imports the handler once, with what Lambda puts on sys.path, and
then handles one event at a time. Module state (caches, Powertools Logger keys, the Metrics
buffer, Powertools' current event, which its resolvers keep on a class) is therefore per
environment, as in Lambda. A change of this process's environment variables counts as a
configuration update: later invocations start new environments. Each answer names the
environment that ran it in an `x-local-environment` header (e.g. PagesFunction/2), and
running_server() gives tests the pools (server.app.pools) to hold an environment busy.

Scaling: each function has its own environments. A request takes a free one (a warm start);
when all are busy a new one is created (a cold start), up to `concurrency` per function
(LAMBDA_CONCURRENCY for `make run`, default 4). Past that, Lambda would create more (up to
the account's 1,000) and only then throttle; here the limit is this machine's, so the request
waits for a free environment. The wait counts toward API Gateway's integration timeout, as a
slow cold start does in AWS.

Failures answer what API Gateway answers (its bodies are `{"message": ...}`):
- a handler exception, an init failure, an environment that dies (exit, signal) and a handler
  past its Timeout are Lambda function errors: HTTP API answers 500 Internal Server Error
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html);
  the traceback or reason goes to this process's log. A dead or timed-out environment is
  discarded and the next request gets a new one; an environment survives handler exceptions.
- no answer within HTTP API's integration timeout, 30 s
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html): 503
  `{"message":"Service Unavailable"}`, what HTTP API sends then (an HTTP API's real answer is
  quoted in https://github.com/cortexlabs/cortex/issues/1225). As in AWS, the function keeps
  running to its own Timeout; only then is its environment free again (or killed).
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import json
import logging
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from local.dynamodb import port_in_use
from local.tables import DEFAULT_TEMPLATE, load_template

log = logging.getLogger("local.server")

ACCOUNT_ID = "123456789012"
API_ID = "local"
REGION = "us-east-1"
_INTERNAL_ERROR = b'{"message":"Internal Server Error"}'
_NOT_FOUND = b'{"message":"Not Found"}'
_UNAVAILABLE = b'{"message":"Service Unavailable"}'

DEFAULT_CONCURRENCY = 4  # environments per function
MAX_CONCURRENCY = 64  # each environment is a Python process of ~50 MB
INTEGRATION_TIMEOUT = 30.0  # seconds: HTTP API's maximum (and default) integration timeout
# Lambda gives an on-demand init 10 s; a loaded laptop importing boto3, Powertools and Jinja2
# in several fresh interpreters at once can be slower, so the bound here only catches hangs.
INIT_TIMEOUT = 60.0
# Imported once in the forkserver that environments are forked from: this module (the
# environment's main loop) and the heaviest third-party libraries, which read no settings on
# import. Lambda imports them in every cold start; here that would make each new environment
# cost about a second of CPU (`make bench` measures real cold starts).
_PRELOAD = ("local.server", "botocore.session", "boto3", "jinja2")
ENVIRONMENT_HEADER = "x-local-environment"  # which environment answered, e.g. PagesFunction/2
# Variables that change while a test runner runs and configure nothing: not part of a
# function's configuration (a change of any other variable means new environments).
_NOT_CONFIGURATION = frozenset({"PYTEST_CURRENT_TEST"})

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class ServerError(RuntimeError):
    """The template cannot be served, or the port is taken; the message says why."""


class InitError(RuntimeError):
    """A function's execution environment could not start: its init (importing the handler
    module) failed, died or hung. The message names the function and the error, e.g.
    "PagesFunction: init failed: ConfigError: PRESENCE_WINDOW_SECONDS=10 ..."; details
    holds the traceback from the environment, when there is one."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


def concurrency_setting(env: Any = os.environ) -> int:
    """LAMBDA_CONCURRENCY: execution environments per function, 1..MAX_CONCURRENCY (default
    DEFAULT_CONCURRENCY when unset or empty). Raises ValueError with a one-line message."""
    raw = (env.get("LAMBDA_CONCURRENCY") or "").strip()
    if not raw:
        return DEFAULT_CONCURRENCY
    whole = re.fullmatch(r"[0-9]+", raw) is not None  # ASCII digits only ("²".isdigit())
    if not whole or not 1 <= int(raw) <= MAX_CONCURRENCY:
        why = "is out of range" if whole else "is not a whole number"
        raise ValueError(
            f"LAMBDA_CONCURRENCY={raw} {why}: allowed 1..{MAX_CONCURRENCY} "
            f"(execution environments per function in the local server, default "
            f"{DEFAULT_CONCURRENCY})"
        )
    return int(raw)


# ---------------------------------------------------------------- template -> functions, routes


@dataclass(frozen=True)
class Function:
    """One AWS::Serverless::Function: where its code is and how Lambda would size it."""

    logical_id: str
    file: Path  # the handler module's file, e.g. functions/pages/app.py
    attr: str  # the handler's name in it, e.g. lambda_handler
    timeout: int  # seconds (Timeout)
    memory: int  # MB (MemorySize)
    module: str = "app"  # the handler's module name, e.g. app (Handler "app.lambda_handler")
    code_dir: Path | None = None  # CodeUri; None: the handler file's folder
    layer_dirs: tuple[Path, ...] = ()  # each local layer's python/ folder, in template order

    @property
    def sys_path(self) -> list[str]:
        """What Lambda's Python runtime searches first: the function's code (/var/task), then
        the layers' python/ folders (/opt/python); see
        https://docs.aws.amazon.com/lambda/latest/dg/python-package.html and
        https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html."""
        code = self.code_dir or self.file.parent
        return [str(code), *(str(p) for p in self.layer_dirs)]


@dataclass(frozen=True)
class Route:
    """An HttpApi event: 'GET /articles/{slug}' or the '$default' catch-all."""

    method: str  # GET, POST, ..., or ANY
    path: str | None  # None for $default
    function: str

    @property
    def key(self) -> str:
        return "$default" if self.path is None else f"{self.method} {self.path}"

    @property
    def rank(self) -> tuple[list[int], int]:
        """Sort key, most specific first: literal > {param} > {param+} segment by segment,
        then an exact method over ANY."""
        segments = [] if self.path is None else _segments(self.path)
        kinds = [0 if s.endswith("+}") else 1 if s.startswith("{") else 2 for s in segments]
        return kinds, int(self.method != "ANY")

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        """Decoded path parameters when method and (still percent-encoded) path match."""
        if self.path is None or self.method not in ("ANY", method):
            return None
        found = _pattern(self.path).fullmatch(raw_path)
        if found is None:
            return None
        return {
            name: unquote(value)
            for name, value in zip(_params(self.path), found.groups(), strict=True)
        }


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _params(path: str) -> list[str]:
    return [s.strip("{}+") for s in _segments(path) if s.startswith("{")]


@cache
def _pattern(path: str) -> re.Pattern[str]:
    parts = []
    for seg in _segments(path):
        if seg.endswith("+}"):
            parts.append("(.+)")
        elif seg.startswith("{"):
            parts.append("([^/]+)")
        else:
            parts.append(re.escape(seg))
    return re.compile("/" + "/".join(parts))


def _resolve(value: Any, params: dict[str, Any], default: int) -> int:
    """A number property that may be !Ref Parameter (its Default is what a bare deploy gets)."""
    if isinstance(value, dict) and "Ref" in value:
        value = params.get(value["Ref"], {}).get("Default")
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def read_template(template_path: str | Path) -> tuple[dict[str, Function], list[Route]]:
    """Functions (with HttpApi events) and their routes, most specific route first.

    The layers' python/ folders are also put on this process's sys.path (the `newsdesk`
    package for `python -m local`'s scheduled jobs); the functions get theirs in their own
    environments. Raises ServerError for a function without CodeUri/Handler or handler file,
    and for a route defined twice."""
    template_path = Path(template_path).resolve()
    base = template_path.parent
    template = load_template(template_path)
    resources: dict[str, Any] = template["Resources"]
    params: dict[str, Any] = template.get("Parameters", {})
    defaults: dict[str, Any] = template.get("Globals", {}).get("Function", {})
    functions: dict[str, Function] = {}
    routes: list[Route] = []
    for logical_id, res in resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**defaults, **res.get("Properties", {})}
        events = [e for e in (props.get("Events") or {}).values() if e.get("Type") == "HttpApi"]
        if not events:
            continue
        function = _function(logical_id, props, params, resources, base)
        _put_on_sys_path(function.layer_dirs)
        functions[logical_id] = function
        routes += [_route(event, logical_id) for event in events]
    keys = [r.key for r in routes]
    if dupes := sorted({k for k in keys if keys.count(k) > 1}):
        raise ServerError(f"route(s) defined twice in the template: {', '.join(dupes)}")
    routes.sort(key=lambda r: r.rank, reverse=True)
    return functions, routes


def _function(
    logical_id: str,
    props: dict[str, Any],
    params: dict[str, Any],
    resources: dict[str, Any],
    base: Path,
) -> Function:
    """The Function of one AWS::Serverless::Function resource (props: its Properties over
    Globals.Function; params: the template's Parameters; base: the template's folder).
    Raises ServerError without a CodeUri folder and Handler, or when the handler file is
    missing."""
    handler = str(props.get("Handler", ""))
    module, _, attr = handler.rpartition(".")
    if not module or not isinstance(props.get("CodeUri"), str):
        raise ServerError(f"{logical_id}: need a CodeUri folder and Handler 'module.function'")
    code_dir = (base / props["CodeUri"]).resolve()
    file = code_dir / (module.replace(".", "/") + ".py")
    if not file.is_file():
        raise ServerError(f"{logical_id}: handler file {file} does not exist")
    return Function(
        logical_id,
        file,
        attr,
        timeout=_resolve(props.get("Timeout"), params, 3),
        memory=_resolve(props.get("MemorySize"), params, 128),
        module=module,
        code_dir=code_dir,
        layer_dirs=_layer_dirs(props.get("Layers") or [], resources, base),
    )


def _put_on_sys_path(layer_dirs: tuple[Path, ...]) -> None:
    """Put the layers' python/ folders first on this process's sys.path, in template order."""
    for python in reversed(layer_dirs):
        if str(python) not in sys.path:
            sys.path.insert(0, str(python))


def _route(event: dict[str, Any], function: str) -> Route:
    """The Route of one HttpApi event: without a Path it is the $default route (method ANY)."""
    ev = event.get("Properties") or {}
    path = ev.get("Path")
    method = str(ev.get("Method", "ANY")).upper() if path else "ANY"
    return Route(method, path or None, function)


def _layer_dirs(layers: Iterable[Any], resources: dict[str, Any], base: Path) -> tuple[Path, ...]:
    """Each local layer's python/ folder (what Lambda unpacks under /opt/python)."""
    found: list[Path] = []
    for layer in layers:
        ref = layer.get("Ref") if isinstance(layer, dict) else None
        res = resources.get(ref or "", {})
        content = res.get("Properties", {}).get("ContentUri")
        if res.get("Type") == "AWS::Serverless::LayerVersion" and isinstance(content, str):
            python = (base / content / "python").resolve()
            if python.is_dir() and python not in found:
                found.append(python)
    return tuple(found)


# ---------------------------------------------------------------------------- request -> event


def _wsgi_str(value: str) -> str:
    """Undo WSGI's latin-1 'encoding dance' to get the real UTF-8 text."""
    return value.encode("latin-1").decode("utf-8", "replace")


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):
        return bytes(stream.read())
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return bytes(stream.read(length)) if length > 0 else b""


def build_event(
    environ: dict[str, Any], route: Route | None, params: dict[str, str]
) -> dict[str, Any]:
    """The API Gateway HTTP API payload-2.0 event for this WSGI request."""
    now = datetime.now(UTC)
    method = environ["REQUEST_METHOD"]
    path = _wsgi_str(environ.get("PATH_INFO") or "/")  # HTTP API hands rawPath over decoded
    query = environ.get("QUERY_STRING", "")
    source_ip = environ.get("REMOTE_ADDR", "127.0.0.1")
    headers = _request_headers(environ)
    cookie_header = headers.pop("cookie", "")
    cookies = [c.strip() for c in cookie_header.split(";") if c.strip()]
    host = headers.get("host") or environ.get("SERVER_NAME", "localhost")
    domain = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    _add_gateway_headers(headers, environ, source_ip, now)
    query_params = _query_parameters(query)
    route_key = route.key if route else "$default"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query_params:
        event["queryStringParameters"] = query_params
    if params:
        event["pathParameters"] = params
    _add_body(event, _read_body(environ))
    return event


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request's headers from WSGI's HTTP_* (and CONTENT_TYPE, CONTENT_LENGTH when set),
    names lower-cased with dashes, values as UTF-8 text, in the order WSGI gives them."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key
        else:
            continue
        headers[name.lower().replace("_", "-")] = _wsgi_str(value)
    return headers


def _add_gateway_headers(
    headers: dict[str, str], environ: dict[str, Any], source_ip: str, now: datetime
) -> None:
    """What API Gateway adds to the headers: x-forwarded-for (the client appended),
    x-forwarded-port, x-forwarded-proto, and an x-amzn-trace-id unless the client sent one."""
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {source_ip}" if forwarded else source_ip
    headers["x-forwarded-port"] = str(environ.get("SERVER_PORT", ""))
    headers["x-forwarded-proto"] = "http"
    headers.setdefault(
        "x-amzn-trace-id", f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}"
    )


def _query_parameters(query: str) -> dict[str, str]:
    """queryStringParameters: a name given more than once gets its values joined by commas."""
    query_params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        query_params[key] = f"{query_params[key]},{value}" if key in query_params else value
    return query_params


def _add_body(event: dict[str, Any], body: bytes) -> None:
    """The body as text when it is UTF-8, else base64 with isBase64Encoded; none when empty."""
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True


@dataclass
class LambdaContext:
    """What the Python runtime passes as `context` (what Powertools' Logger reads)."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_stream_name: str = ""  # one per execution environment, as in CloudWatch Logs
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s
        if not self.log_stream_name:
            self.log_stream_name = _log_stream()

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _log_stream() -> str:
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    return f"{day}/[$LATEST]{uuid.uuid4().hex}"


# ------------------------------------------------------------------ execution environments


@dataclass(frozen=True)
class _Spec:
    """What a new execution environment is given: its function, its name, its
    configuration (the environment variables) and its sys.path."""

    function: Function
    name: str
    environ: dict[str, str]
    sys_path: list[str]


def _summary(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _import_handler(function: Function) -> Callable[[Any, Any], Any]:
    module = importlib.import_module(function.module)
    handler = getattr(module, function.attr, None)
    if not callable(handler):
        raise AttributeError(f"Handler '{function.attr}' missing on module '{function.module}'")
    return handler  # type: ignore[no-any-return]


def _environment_main(conn: Connection, spec: _Spec) -> None:
    """The worker process: init (import the handler), then one event at a time until the
    server sends None or goes away. Answers ("ready", pid) or ("init_error", summary,
    traceback), then per event ("ok", result) or ("error", summary, traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    os.environ.clear()
    os.environ.update(spec.environ)
    sys.path[:] = spec.sys_path
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # log lines as they come, as Lambda's
    function = spec.function
    try:
        handler = _import_handler(function)
    except BaseException as err:  # what the Lambda runtime reports as an init error
        conn.send(("init_error", _summary(err), traceback.format_exc()))
        return
    conn.send(("ready", os.getpid()))
    stream = _log_stream()
    while True:
        try:
            event = conn.recv()
        except (EOFError, OSError):
            return  # the server is gone
        if event is None:
            return
        context = LambdaContext(
            function.logical_id, function.memory, function.timeout, log_stream_name=stream
        )
        try:
            conn.send(("ok", handler(event, context)))
        except Exception as err:  # the environment lives on, as Lambda's does
            conn.send(("error", _summary(err), traceback.format_exc()))


def _process_context() -> multiprocessing.context.ForkServerContext:
    """Environments are forked from a "forkserver": a process started once, single-threaded
    (never fork a threaded server), that has imported only _PRELOAD. Each environment then
    imports the function's own code and layer itself, so its module state is its own."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(_PRELOAD))  # used when the forkserver starts
    return context


def _configuration() -> tuple[tuple[str, str], ...]:
    """This process's environment variables as the functions' configuration."""
    return tuple(sorted((k, v) for k, v in os.environ.items() if k not in _NOT_CONFIGURATION))


class Environment:
    """One execution environment of a function: a worker process with the handler imported.

    name: "<LogicalId>/<n>", n counting from 1 per function (the x-local-environment header).
    configuration: the environment variables it was started with."""

    def __init__(
        self, function: Function, number: int, configuration: tuple[tuple[str, str], ...]
    ) -> None:
        self.function = function
        self.name = f"{function.logical_id}/{number}"
        self.configuration = configuration
        self.pid: int | None = None
        self.invocations = 0
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._stopped = False
        self._lock = threading.Lock()

    def start(self, timeout: float = INIT_TIMEOUT) -> float:
        """Create the process and run the init. Returns the init time in seconds.
        Raises InitError (the process is then gone)."""
        started = time.monotonic()
        context = _process_context()
        ours, theirs = context.Pipe()
        paths = self.function.sys_path
        spec = _Spec(
            self.function,
            self.name,
            dict(self.configuration),
            paths + [p for p in sys.path if p not in paths],
        )
        process = context.Process(
            target=_environment_main, args=(theirs, spec), name=f"lambda {self.name}", daemon=True
        )
        process.start()
        theirs.close()
        self._process, self._conn = process, ours
        try:
            if not ours.poll(timeout):
                raise InitError(f"{self.name}: init did not finish within {timeout:g} s")
            message = ours.recv()
        except (EOFError, OSError):
            reason = self.exit_reason()
            self.stop(graceful=False)
            raise InitError(f"{self.name}: the environment exited during init ({reason})") from None
        except BaseException:
            self.stop(graceful=False)
            raise
        if message[0] != "ready":
            self.stop(graceful=False)
            raise InitError(f"{self.function.logical_id}: init failed: {message[1]}", message[2])
        self.pid = int(message[1])
        return time.monotonic() - started

    def send(self, event: dict[str, Any]) -> None:
        """Hand the event over (OSError when the process is gone)."""
        assert self._conn is not None
        self.invocations += 1
        self._conn.send(event)

    def receive(self, until: float) -> tuple[Any, ...] | None:
        """The answer, or None if none came by `until` (time.monotonic()). EOFError or
        OSError when the process died."""
        assert self._conn is not None
        if not self._conn.poll(max(0.0, until - time.monotonic())):
            return None
        return tuple(self._conn.recv())

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self._process is not None and self._process.exitcode is None

    def exit_reason(self) -> str:
        """How the process ended: 'exit status 3', 'killed by SIGSEGV'."""
        process = self._process
        if process is None:
            return "never started"
        process.join(timeout=2)
        code = process.exitcode
        if code is None:
            return "still running"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
        return f"exit status {code}"

    def ask_to_stop(self, graceful: bool = True) -> None:
        """First half of stop(): ask an idle environment to exit, or kill a busy one."""
        with self._lock:
            if self._stopped or self._process is None:
                return
            if graceful and self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(None)
                    return
            with contextlib.suppress(OSError, ValueError):
                self._process.kill()

    def stop(self, graceful: bool = True) -> None:
        """End the process (idempotent): None sent to an idle one, a busy one killed."""
        self.ask_to_stop(graceful)
        with self._lock:
            if self._stopped or self._process is None:
                self._stopped = True
                return
            self._stopped = True
            process, conn = self._process, self._conn
        process.join(timeout=2)
        if process.exitcode is None:
            process.kill()
            process.join(timeout=5)
        if conn is not None:
            conn.close()

    def __repr__(self) -> str:
        return f"Environment({self.name}, pid {self.pid})"


class _NoEnvironment(Exception):
    """No environment became free before the deadline."""


class Pool:
    """A function's execution environments. checkout() takes a free one (warm; the most
    recently used first) or creates one (cold start) while fewer than `limit` exist, else
    waits for one to be free. After a change of environment variables, idle environments
    are retired and busy ones when they finish: new invocations start new environments, as
    after UpdateFunctionConfiguration in Lambda."""

    def __init__(self, function: Function, limit: int = DEFAULT_CONCURRENCY) -> None:
        self.function = function
        self.limit = limit
        self.waiting = 0  # requests waiting for a free environment now
        lock = threading.RLock()
        self._cond = threading.Condition(lock)  # an environment may be free: checkout() waiters
        self._watch = threading.Condition(lock)  # any change of state: wait_until() observers
        self._idle: list[Environment] = []  # most recently used last
        self._busy: set[Environment] = set()
        self._starting = 0
        self._created = 0
        self._closed = False

    @property
    def environments(self) -> list[Environment]:
        """The live environments, oldest first."""
        with self._cond:
            live = [*self._idle, *self._busy]
        return sorted(live, key=lambda e: int(e.name.rsplit("/", 1)[1]))

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def busy(self) -> int:
        """Environments running an invocation (or starting for one) now."""
        with self._cond:
            return len(self._busy) + self._starting

    def wait_until(self, condition: Callable[[Pool], bool], timeout: float = 60.0) -> None:
        """Block until `condition(pool)` holds, woken by each change of the pool's state (an
        environment taken, freed, started, discarded; a request starting to wait). Raises
        TimeoutError after `timeout` seconds, a guard against a hang, not a measurement."""
        with self._watch:
            if not self._watch.wait_for(lambda: condition(self), timeout):
                raise TimeoutError(f"{self.function.logical_id}: the pool never reached the state")

    def _changed(self) -> None:
        """Wake wait_until() observers; the caller holds the lock."""
        self._watch.notify_all()

    def checkout(self, deadline: float) -> Environment:
        """An environment for one invocation, busy until checkin() or discard(). Raises
        _NoEnvironment when none is free by `deadline` (time.monotonic()), InitError when a
        new one fails its init, ServerError once the server is closing."""
        configuration = _configuration()
        retired: list[Environment] = []
        try:
            with self._cond:
                while True:
                    if self._closed:
                        raise ServerError("the server is shutting down")
                    retired += self._retire_idle(configuration)
                    if self._idle:
                        return self._take_idle()
                    if len(self._busy) + self._starting < self.limit:
                        number = self._reserve()
                        break
                    self._wait(deadline)
        finally:
            for old in retired:
                old.stop()
        return self._cold_start(number, configuration)

    def _retire_idle(self, configuration: tuple[tuple[str, str], ...]) -> list[Environment]:
        """Take the idle environments of an older configuration, and any that died idle, out
        of the pool; the caller holds the lock, and stops them once it has let go of it."""
        fit = [e for e in self._idle if e.configuration == configuration and e.alive]
        retired = [e for e in self._idle if e not in fit]
        self._idle = fit
        return retired

    def _take_idle(self) -> Environment:
        """The most recently used idle environment, now busy (a warm start); the caller holds
        the lock and has checked that one is idle."""
        env = self._idle.pop()
        self._busy.add(env)
        self._changed()
        return env

    def _reserve(self) -> int:
        """Count a new environment as starting (a cold start): its number, from 1 per
        function; the caller holds the lock and has checked the limit."""
        self._starting += 1
        self._created += 1
        number = self._created
        self._changed()
        return number

    def _wait(self, deadline: float) -> None:
        """Wait, as one of `waiting`, until an environment may be free (the lock is let go of
        meanwhile); raises _NoEnvironment when `deadline` (time.monotonic()) has passed. The
        caller holds the lock."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _NoEnvironment
        self.waiting += 1
        self._changed()
        try:
            self._cond.wait(remaining)
        finally:
            self.waiting -= 1
            self._changed()

    def _cold_start(self, number: int, configuration: tuple[tuple[str, str], ...]) -> Environment:
        env = Environment(self.function, number, configuration)
        try:
            took = env.start()
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
                self._changed()
            raise
        log.info("%s: cold start, init %.0f ms", env.name, took * 1000)
        with self._cond:
            self._starting -= 1
            self._changed()
            if not self._closed:
                self._busy.add(env)
                return env
        env.stop()
        raise ServerError("the server is shutting down")

    def checkin(self, env: Environment) -> None:
        """The invocation is over: the environment is free again (or retired, when the
        configuration changed meanwhile)."""
        keep = env.configuration == _configuration()
        with self._cond:
            self._busy.discard(env)
            keep = keep and not self._closed
            if keep:
                self._idle.append(env)
            self._cond.notify()
            self._changed()
        if not keep:
            env.stop()

    def discard(self, env: Environment) -> None:
        """The environment died or must die (timed out): end it; the next request that
        needs one creates a new one."""
        with self._cond:
            self._busy.discard(env)
            self._cond.notify()
            self._changed()
        env.stop(graceful=False)

    @contextlib.contextmanager
    def hold(self, timeout: float = INTEGRATION_TIMEOUT) -> Iterator[Environment]:
        """Take an environment as an invocation would (a free one, else a cold start) and
        keep it busy for the block, as a long invocation would: concurrent requests then
        need other environments."""
        env = self.checkout(time.monotonic() + timeout)
        try:
            yield env
        finally:
            self.checkin(env)

    def _shut(self) -> tuple[list[Environment], list[Environment]]:
        """Refuse new invocations; the (idle, busy) environments to stop."""
        with self._cond:
            self._closed = True
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
            self._cond.notify_all()
            self._changed()
        return idle, busy


def _stop_all(idle: list[Environment], busy: list[Environment]) -> None:
    """Stop many environments at once: ask all, then wait for each."""
    for env in idle:
        env.ask_to_stop()
    for env in busy:
        env.ask_to_stop(graceful=False)
    for env in [*idle, *busy]:
        env.stop()


# ------------------------------------------------------------------------- result -> response


Response = tuple[int, list[tuple[str, str]], bytes]


def to_response(result: Any) -> Response:
    """HTTP from a handler's return value, by HTTP API payload-2.0 rules (a value without
    statusCode is a 200 application/json body)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        text = result if isinstance(result, str) else json.dumps(result)
        return 200, [("content-type", "application/json")], text.encode("utf-8")
    status = int(result["statusCode"])
    if not 100 <= status <= 599:
        raise ValueError(f"statusCode {status} is not an HTTP status")
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        if isinstance(value, list):
            value = ",".join(map(str, value))
        headers.append((str(name), str(value)))
    headers += [("set-cookie", str(c)) for c in result.get("cookies") or []]
    raw = result.get("body")
    body: bytes
    if raw is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(raw, validate=True)
    else:
        body = (raw if isinstance(raw, str) else json.dumps(raw)).encode("utf-8")
    return status, headers, body


# ------------------------------------------------------------------------------ the WSGI app


def _json_error(status: int, body: bytes) -> Response:
    return status, [("content-type", "application/json")], body


class LocalApi:
    """WSGI app: route like API Gateway, invoke the function in one of its execution
    environments, answer like API Gateway.

    pools: each served function's environments, by logical id. concurrency: environments per
    function (1..MAX_CONCURRENCY). preload: start one environment per function now, so that
    an init failure (a bad setting, an import error) stops the start (InitError) instead of
    failing requests. integration_timeout: seconds API Gateway waits for an answer."""

    def __init__(
        self,
        template_path: str | Path = DEFAULT_TEMPLATE,
        preload: bool = True,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        integration_timeout: float = INTEGRATION_TIMEOUT,
    ) -> None:
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency must be 1..{MAX_CONCURRENCY}, got {concurrency}")
        self.functions, self.routes = read_template(template_path)
        self.default = next((r for r in self.routes if r.path is None), None)
        self.integration_timeout = integration_timeout
        self.pools = {name: Pool(f, concurrency) for name, f in self.functions.items()}
        if preload:
            self.preload()

    def preload(self) -> None:
        """One warm environment per function, started in parallel. Raises InitError (after
        logging each failure with its traceback) and stops everything if any init fails."""
        failures: list[InitError] = []

        def start(pool: Pool) -> None:
            try:
                pool.checkin(pool.checkout(time.monotonic() + INIT_TIMEOUT))
            except InitError as err:
                failures.append(err)

        threads = [threading.Thread(target=start, args=(p,)) for p in self.pools.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            for err in failures:
                log.error("%s\n%s", err, err.details)
            self.close()
            raise InitError("; ".join(str(err) for err in failures))

    def close(self) -> None:
        """Stop every environment (idempotent); requests still running get a 500."""
        idle: list[Environment] = []
        busy: list[Environment] = []
        for pool in self.pools.values():
            i, b = pool._shut()
            idle += i
            busy += b
        _stop_all(idle, busy)

    def find(self, method: str, raw_path: str) -> tuple[Route | None, dict[str, str]]:
        """The most specific matching route, else $default (None when there is none)."""
        for route in self.routes:
            params = route.match(method, raw_path)
            if params is not None:
                return route, params
        return self.default, {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        started = time.perf_counter()
        method = environ["REQUEST_METHOD"]
        raw_path = urlsplit(environ.get("RAW_URI") or environ.get("PATH_INFO") or "/").path or "/"
        route, params = self.find(method, raw_path)
        where = ""
        if route is None:
            _read_body(environ)  # drain it: the connection may be kept alive
            request_id = str(uuid.uuid4())
            status, headers, body = _json_error(404, _NOT_FOUND)
        else:
            event = build_event(environ, route, params)
            request_id = event["requestContext"]["requestId"]
            (status, headers, body), where = self._invoke(route, event)
        headers.append(("apigw-requestid", request_id))
        if where:
            headers.append((ENVIRONMENT_HEADER, where))
        # A HEAD answer's size is the function's to give (or leave out: newsdesk.web).
        if method != "HEAD" and not any(k.lower() == "content-length" for k, _ in headers):
            headers.append(("content-length", str(len(body))))
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        start_response(f"{status} {phrase}".rstrip(), headers)
        elapsed = (time.perf_counter() - started) * 1000
        log.info(
            "%s %s %d %.0fms %s",
            method,
            _wsgi_str(environ.get("PATH_INFO", "/")),
            status,
            elapsed,
            where,
        )
        return [b""] if method == "HEAD" else [body]

    def _invoke(self, route: Route, event: dict[str, Any]) -> tuple[Response, str]:
        """The function's answer as HTTP, and the name of the environment that ran it."""
        function = self.functions[route.function]
        pool = self.pools[route.function]
        gateway_deadline = time.monotonic() + self.integration_timeout
        env = self._take_environment(route, gateway_deadline)
        if not isinstance(env, Environment):
            return env, ""
        try:
            env.send(event)
            function_deadline = time.monotonic() + function.timeout
            answer = env.receive(min(function_deadline, gateway_deadline))
        except (EOFError, OSError):
            return self._exited(pool, env, route), env.name
        if answer is None:
            return self._unanswered(pool, env, route, function_deadline, gateway_deadline), env.name
        pool.checkin(env)
        return self._response(function, route, answer), env.name

    def _take_environment(self, route: Route, deadline: float) -> Environment | Response:
        """An environment of the route's function, else what API Gateway answers (logged):
        503 when all stayed busy until `deadline` (time.monotonic()) or the server is
        closing, 500 when a new environment failed its init."""
        pool = self.pools[route.function]
        try:
            return pool.checkout(deadline)
        except _NoEnvironment:
            log.error(
                "%s: all %d environments stayed busy for API Gateway's %gs integration "
                "timeout (%s): 503; raise LAMBDA_CONCURRENCY to run more at once",
                pool.function.logical_id,
                pool.limit,
                self.integration_timeout,
                route.key,
            )
            return _json_error(503, _UNAVAILABLE)
        except InitError as err:
            log.error("%s (%s)\n%s", err, route.key, err.details)
            return _json_error(500, _INTERNAL_ERROR)
        except ServerError:
            return _json_error(503, _UNAVAILABLE)

    def _exited(self, pool: Pool, env: Environment, route: Route) -> Response:
        """The environment died during the invocation: discard it (logged unless the server
        is closing) and answer 500, as for any function error."""
        reason = env.exit_reason()
        pool.discard(env)
        if not pool.closed:
            log.error(
                "%s: the environment exited during the invocation (%s) on %s; the next "
                "request gets a new one",
                env.name,
                reason,
                route.key,
            )
        return _json_error(500, _INTERNAL_ERROR)

    def _unanswered(
        self,
        pool: Pool,
        env: Environment,
        route: Route,
        function_deadline: float,
        gateway_deadline: float,
    ) -> Response:
        """No answer by the earlier deadline (time.monotonic()). The function's Timeout came
        first: the environment is stopped, 500. API Gateway's came first: 503, and the
        function runs on in the background until it answers or reaches its Timeout."""
        function = env.function
        if function_deadline <= gateway_deadline:
            pool.discard(env)
            log.error(
                "%s: Task timed out after %d seconds (the function's Timeout) on %s; "
                "the environment was stopped",
                env.name,
                function.timeout,
                route.key,
            )
            return _json_error(500, _INTERNAL_ERROR)
        log.error(
            "%s: no answer within API Gateway's %gs integration timeout on %s: 503; the "
            "function runs on until it returns or reaches its %ds Timeout",
            env.name,
            self.integration_timeout,
            route.key,
            function.timeout,
        )
        threading.Thread(
            target=self._finish_late,
            args=(pool, env, route, function_deadline),
            name=f"late {env.name}",
            daemon=True,
        ).start()
        return _json_error(503, _UNAVAILABLE)

    def _response(self, function: Function, route: Route, answer: tuple[Any, ...]) -> Response:
        if answer[0] == "ok":
            try:
                return to_response(answer[1])
            except Exception:
                log.error(
                    "%s returned a response API Gateway cannot use on %s:\n%s",
                    function.logical_id,
                    route.key,
                    traceback.format_exc(),
                )
                return _json_error(500, _INTERNAL_ERROR)
        # The client gets what API Gateway sends on a function error; the trace stays here.
        log.error("%s failed on %s:\n%s", function.logical_id, route.key, answer[2])
        return _json_error(500, _INTERNAL_ERROR)

    def _finish_late(self, pool: Pool, env: Environment, route: Route, deadline: float) -> None:
        """After API Gateway gave up: wait for the function to end, as Lambda lets it."""
        try:
            answer = env.receive(deadline)
        except (EOFError, OSError):
            pool.discard(env)
            return
        if answer is None:
            log.error("%s: Task timed out after %d seconds", env.name, env.function.timeout)
            pool.discard(env)
            return
        if answer[0] != "ok":
            log.error("%s failed on %s:\n%s", env.function.logical_id, route.key, answer[2])
        pool.checkin(env)


def make_app(
    template_path: str | Path = DEFAULT_TEMPLATE,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    preload: bool = True,
) -> LocalApi:
    """The WSGI app for a template; with preload, one environment per function is started
    now, so init errors surface here (InitError)."""
    return LocalApi(template_path, preload, concurrency=concurrency)


class _QuietRequestHandler(WSGIRequestHandler):
    """The app logs one line per request itself; skip werkzeug's access log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LocalServer(ThreadedWSGIServer):
    """The HTTP server (a thread per connection, as API Gateway takes any number of
    connections); closing it stops the functions' environments."""

    app: LocalApi

    @property
    def url(self) -> str:
        """'http://127.0.0.1:54321'"""
        return f"http://{self.host}:{self.server_port}"

    def server_close(self) -> None:
        super().server_close()
        self.app.close()


def create_server(
    host: str = "127.0.0.1",
    port: int = 3000,
    template_path: str | Path = DEFAULT_TEMPLATE,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    preload: bool = True,
    integration_timeout: float = INTEGRATION_TIMEOUT,
) -> LocalServer:
    """An HTTP server for the template (port 0 picks a free one: see .server_port).
    Raises ServerError (template, port) or InitError (a function cannot start; only with
    preload, which starts one environment per function before this returns)."""
    if port and port_in_use(port, host if host not in ("0.0.0.0", "") else "127.0.0.1"):
        raise ServerError(f"port {port} is already in use")
    app = LocalApi(
        template_path,
        preload,
        concurrency=concurrency,
        integration_timeout=integration_timeout,
    )
    try:
        return LocalServer(host, port, app, handler=_QuietRequestHandler)
    except SystemExit:  # werkzeug exits when it cannot bind
        app.close()
        raise ServerError(f"cannot listen on {host}:{port}") from None
    except BaseException:
        app.close()
        raise


def serve(
    host: str = "127.0.0.1",
    port: int = 3000,
    template_path: str | Path = DEFAULT_TEMPLATE,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> None:
    """Serve until interrupted."""
    server = create_server(host, port, template_path, concurrency=concurrency)
    try:
        server.serve_forever()
    finally:
        server.server_close()


@contextlib.contextmanager
def running_server(
    template_path: str | Path = DEFAULT_TEMPLATE,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    preload: bool = False,
    integration_timeout: float = INTEGRATION_TIMEOUT,
) -> Iterator[LocalServer]:
    """Serve in a background thread; yields the server (.url, .app.pools). Environments
    start on demand unless preload, so they get the environment variables set before the
    first request; all are stopped on exit."""
    server = create_server(
        host,
        port,
        template_path,
        concurrency=concurrency,
        preload=preload,
        integration_timeout=integration_timeout,
    )
    thread = threading.Thread(target=server.serve_forever, name="local-api", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def running(
    template_path: str | Path = DEFAULT_TEMPLATE,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    preload: bool = False,
) -> Iterator[str]:
    """running_server() that yields the base URL ('http://127.0.0.1:54321')."""
    with running_server(
        template_path, host, port, concurrency=concurrency, preload=preload
    ) as server:
        yield server.url
