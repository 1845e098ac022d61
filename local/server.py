"""A local stand-in for `sam local start-api` (no Docker): API Gateway HTTP API in one process.

Routes and handlers are read from template.yaml; each request becomes a payload-2.0 event and
the handler's answer is turned back into HTTP following HTTP API's rules. Handlers run
in-process, so they see this process's environment (table names, endpoint, settings).
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import logging
import re
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
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from local.dynamodb import port_in_use
from local.tables import DEFAULT_TEMPLATE, load_template

log = logging.getLogger("local.server")

ACCOUNT_ID = "123456789012"
API_ID = "local"
REGION = "us-east-1"
_INTERNAL_ERROR = b'{"message":"Internal Server Error"}'
_NOT_FOUND = b'{"message":"Not Found"}'

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class ServerError(RuntimeError):
    """The template cannot be served, or the port is taken; the message says why."""


# ---------------------------------------------------------------- template -> functions, routes


@dataclass
class Function:
    """One AWS::Serverless::Function: where its code is and how Lambda would size it."""

    logical_id: str
    file: Path  # the handler module's file, e.g. functions/pages/app.py
    attr: str  # the handler's name in it, e.g. lambda_handler
    timeout: int
    memory: int
    _free: list[ModuleType] = field(default_factory=list, init=False, repr=False)
    _count: int = field(default=0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def load(self) -> ModuleType:
        """Import the handler file as a fresh module (one per concurrent execution environment)."""
        with self._lock:
            self._count += 1
            name = f"_local_fn_{self.logical_id}_{self._count}"
        spec = importlib.util.spec_from_file_location(name, self.file)
        if spec is None or spec.loader is None:
            raise ServerError(f"cannot import {self.file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        if not callable(getattr(module, self.attr, None)):
            raise ServerError(f"{self.file} has no function {self.attr}()")
        return module

    @contextlib.contextmanager
    def instance(self) -> Iterator[Callable[[dict[str, Any], Any], Any]]:
        """A handler no other request is using: like Lambda, one request per environment at a
        time (Powertools resolvers keep per-request state on the app object)."""
        with self._lock:
            module = self._free.pop() if self._free else None
        if module is None:
            module = self.load()
        try:
            yield getattr(module, self.attr)
        finally:
            with self._lock:
                self._free.append(module)


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
    """Functions (with HttpApi events) and their routes, most specific route first."""
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
        handler = str(props.get("Handler", ""))
        module, _, attr = handler.rpartition(".")
        if not module or not isinstance(props.get("CodeUri"), str):
            raise ServerError(f"{logical_id}: need a CodeUri folder and Handler 'module.function'")
        code_dir = (base / props["CodeUri"]).resolve()
        file = code_dir / (module.replace(".", "/") + ".py")
        if not file.is_file():
            raise ServerError(f"{logical_id}: handler file {file} does not exist")
        _add_paths(code_dir, props.get("Layers") or [], resources, base)
        functions[logical_id] = Function(
            logical_id,
            file,
            attr,
            timeout=_resolve(props.get("Timeout"), params, 3),
            memory=_resolve(props.get("MemorySize"), params, 128),
        )
        for event in events:
            ev = event.get("Properties") or {}
            path = ev.get("Path")
            method = str(ev.get("Method", "ANY")).upper() if path else "ANY"
            routes.append(Route(method, path or None, logical_id))
    keys = [r.key for r in routes]
    if dupes := sorted({k for k in keys if keys.count(k) > 1}):
        raise ServerError(f"route(s) defined twice in the template: {', '.join(dupes)}")
    routes.sort(key=lambda r: r.rank, reverse=True)
    return functions, routes


def _add_paths(
    code_dir: Path, layers: Iterable[Any], resources: dict[str, Any], base: Path
) -> None:
    """What Lambda puts on sys.path: each local layer's python/ folder, then the code folder."""
    for layer in layers:
        ref = layer.get("Ref") if isinstance(layer, dict) else None
        res = resources.get(ref or "", {})
        content = res.get("Properties", {}).get("ContentUri")
        if res.get("Type") == "AWS::Serverless::LayerVersion" and isinstance(content, str):
            python = (base / content / "python").resolve()
            if python.is_dir() and str(python) not in sys.path:
                sys.path.insert(0, str(python))
    if str(code_dir) not in sys.path:
        sys.path.append(str(code_dir))


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

    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key
        else:
            continue
        headers[name.lower().replace("_", "-")] = _wsgi_str(value)
    cookie_header = headers.pop("cookie", "")
    cookies = [c.strip() for c in cookie_header.split(";") if c.strip()]
    host = headers.get("host") or environ.get("SERVER_NAME", "localhost")
    domain = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {source_ip}" if forwarded else source_ip
    headers["x-forwarded-port"] = str(environ.get("SERVER_PORT", ""))
    headers["x-forwarded-proto"] = "http"
    headers.setdefault(
        "x-amzn-trace-id", f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}"
    )

    query_params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        query_params[key] = f"{query_params[key]},{value}" if key in query_params else value

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
    body = _read_body(environ)
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


@dataclass
class LambdaContext:
    """What the Python runtime passes as `context` (what Powertools' Logger reads)."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None
    log_stream_name: str = field(default="", init=False)
    _deadline: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        self.log_stream_name = f"{day}/[$LATEST]{uuid.uuid4().hex}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


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


class LocalApi:
    """WSGI app: route like API Gateway, invoke the function, answer like API Gateway."""

    def __init__(self, template_path: str | Path = DEFAULT_TEMPLATE, preload: bool = True) -> None:
        self.functions, self.routes = read_template(template_path)
        self.default = next((r for r in self.routes if r.path is None), None)
        if preload:  # import errors show at startup, not at the first request
            for function in self.functions.values():
                with function.instance():
                    pass

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
        if route is None:
            _read_body(environ)  # drain it: the connection may be kept alive
            request_id = str(uuid.uuid4())
            status, headers, body = 404, [("content-type", "application/json")], _NOT_FOUND
        else:
            event = build_event(environ, route, params)
            request_id = event["requestContext"]["requestId"]
            status, headers, body = self._invoke(route, event)
        headers.append(("apigw-requestid", request_id))
        if not any(k.lower() == "content-length" for k, _ in headers):
            headers.append(("content-length", str(len(body))))
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        start_response(f"{status} {phrase}".rstrip(), headers)
        elapsed = (time.perf_counter() - started) * 1000
        log.info(
            "%s %s %d %.0fms", method, _wsgi_str(environ.get("PATH_INFO", "/")), status, elapsed
        )
        return [b""] if method == "HEAD" else [body]

    def _invoke(self, route: Route, event: dict[str, Any]) -> Response:
        function = self.functions[route.function]
        context = LambdaContext(function.logical_id, function.memory, function.timeout)
        started = time.monotonic()
        try:
            with function.instance() as handler:
                result = handler(event, context)
            response = to_response(result)
        except Exception:
            # The client gets what API Gateway sends on a function error; the trace stays here.
            log.error(
                "%s failed on %s:\n%s", function.logical_id, route.key, traceback.format_exc()
            )
            return 500, [("content-type", "application/json")], _INTERNAL_ERROR
        if time.monotonic() - started > function.timeout:
            log.warning(
                "%s took longer than its %ds Lambda timeout", function.logical_id, function.timeout
            )
        return response


def make_app(template_path: str | Path = DEFAULT_TEMPLATE) -> LocalApi:
    """The WSGI app for a template (handlers imported now, so code errors surface here)."""
    return LocalApi(template_path)


class _QuietRequestHandler(WSGIRequestHandler):
    """The app logs one line per request itself; skip werkzeug's access log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def create_server(
    host: str = "127.0.0.1", port: int = 3000, template_path: str | Path = DEFAULT_TEMPLATE
) -> BaseWSGIServer:
    """A threaded HTTP server for the template (port 0 picks a free one: see .server_port)."""
    if port and port_in_use(port, host if host not in ("0.0.0.0", "") else "127.0.0.1"):
        raise ServerError(f"port {port} is already in use")
    app = make_app(template_path)
    try:
        return make_server(host, port, app, threaded=True, request_handler=_QuietRequestHandler)
    except SystemExit:  # werkzeug exits when it cannot bind
        raise ServerError(f"cannot listen on {host}:{port}") from None


def serve(
    host: str = "127.0.0.1", port: int = 3000, template_path: str | Path = DEFAULT_TEMPLATE
) -> None:
    """Serve until interrupted."""
    server = create_server(host, port, template_path)
    try:
        server.serve_forever()
    finally:
        server.server_close()


@contextlib.contextmanager
def running(
    template_path: str | Path = DEFAULT_TEMPLATE, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Serve in a background thread; yields the base URL ('http://127.0.0.1:54321')."""
    server = create_server(host, port, template_path)
    thread = threading.Thread(target=server.serve_forever, name="local-api", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
