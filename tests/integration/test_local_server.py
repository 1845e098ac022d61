"""The local HTTP API stand-in, driven over real HTTP against a throwaway template."""

from __future__ import annotations

import base64
import http.client
import json
import multiprocessing
import socket
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.server import (
    ENVIRONMENT_HEADER,
    InitError,
    ServerError,
    concurrency_setting,
    create_server,
    read_template,
    running,
    running_server,
)

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Memory: {Type: Number, Default: 256}
Globals:
  Function:
    Timeout: 7
    MemorySize: !Ref Memory
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Handler: app.handler
      Events:
        ItemAny:  # declared first: order must not decide, the exact method must
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: "/items/{id}", Method: ANY}
        Item:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: "/items/{id}", Method: GET}
        Special:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /items/special, Method: get}
        Files:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: "/files/{path+}", Method: ANY}
%(default)s
  BoomFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: boom/
      Handler: app.lambda_handler
      Events:
        Boom:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /boom, Method: GET}
  StuckFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: stuck/
      Handler: app.handler
      Timeout: 1
      Events:
        Stuck:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /stuck, Method: GET}
"""

DEFAULT_ROUTE = """\
        CatchAll:
          Type: HttpApi
          Properties: {ApiId: !Ref Api}
"""

ECHO = """\
import base64, json, os, signal, socket

IN_FLIGHT = 0  # invocations running in this environment right now
MEMORY = {}  # module state: lives as long as the environment

def handler(event, context):
    global IN_FLIGHT
    IN_FLIGHT += 1
    try:
        return answer(event, context, IN_FLIGHT)
    finally:
        IN_FLIGHT -= 1

def answer(event, context, in_flight):
    query = event.get("queryStringParameters") or {}
    mode = query.get("mode")
    if mode == "wait":  # announce the start to the test's gate, then hold until it opens
        with socket.create_connection(("127.0.0.1", int(query["gate"]))) as gate:
            gate.sendall(str(os.getpid()).encode())
            gate.recv(1)
    if mode == "remember":
        MEMORY["value"] = query["value"]
    if mode in ("wait", "remember", "whoami"):
        return {"pid": os.getpid(), "in_flight": in_flight, "remembered": MEMORY.get("value"),
                "greeting": os.environ.get("GREETING"), "log_stream": context.log_stream_name}
    if mode == "exit":
        os._exit(3)
    if mode == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    if mode == "string":
        return "plain text"
    if mode == "dict":
        return {"hello": "world"}
    if mode == "binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(bytes([0, 255, 1])).decode(), "isBase64Encoded": True}
    if mode == "cookies":
        return {"statusCode": 201, "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
                "headers": {"x-multi": ["p", "q"]}, "body": "made"}
    ctx = {
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "function_version": context.function_version,
        "remaining": context.get_remaining_time_in_millis(),
    }
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"event": event, "context": ctx})}
"""

BOOM = """\
def lambda_handler(event, context):
    raise RuntimeError("secret detail from the handler")
"""

STUCK = """\
import threading

def handler(event, context):
    threading.Event().wait()  # never returns: only the function's Timeout (1 s) ends it
"""

BROKEN_INIT = """\
raise ValueError("PRESENCE_WINDOW_SECONDS=10 is outside 30..3600")
"""


def write_app(root: Path, with_default: bool) -> Path:
    for name in ("echo", "boom", "stuck"):
        (root / name).mkdir(parents=True)
    (root / "echo" / "app.py").write_text(ECHO)
    (root / "boom" / "app.py").write_text(BOOM)  # same file name: must not clash with echo/
    (root / "stuck" / "app.py").write_text(STUCK)
    template = root / "template.yaml"
    template.write_text(TEMPLATE % {"default": DEFAULT_ROUTE if with_default else ""})
    return template


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running(write_app(tmp_path_factory.mktemp("api"), with_default=True)) as url:
        yield url


@pytest.fixture(scope="module")
def base_url_no_default(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running(write_app(tmp_path_factory.mktemp("api404"), with_default=False)) as url:
        yield url


class Reply:
    def __init__(self, resp: http.client.HTTPResponse) -> None:
        self.status = resp.status
        self.headers = resp.msg
        self.body = resp.read()

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    base: str,
    method: str,
    target: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
) -> Reply:
    """One request with full control over the raw target, repeated headers and body bytes."""
    netloc = urlsplit(base).netloc
    conn = http.client.HTTPConnection(netloc, timeout=10)
    try:
        conn.putrequest(method, target)
        for name, value in headers or []:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        return Reply(conn.getresponse())
    finally:
        conn.close()


def echo(base: str, method: str, target: str, **kw: Any) -> dict[str, Any]:
    reply = call(base, method, target, **kw)
    assert reply.status == 200, reply.body
    return reply.json()


def test_event_has_the_http_api_payload_2_shape(base_url: str) -> None:
    before = int(time.time() * 1000)
    got = echo(
        base_url,
        "GET",
        "/items/caf%C3%A9%20au%20lait?tag=a&tag=b&empty=&x=1%202",
        headers=[
            ("X-Custom-Header", "Yes"),
            ("X-Multi", "one"),
            ("X-Multi", "two"),
            ("Cookie", "session=abc; theme=dark"),
            ("User-Agent", "tester/1.0"),
        ],
    )
    event, ctx = got["event"], got["context"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}"
    assert event["rawPath"] == "/items/café au lait"
    assert event["pathParameters"] == {"id": "café au lait"}
    assert event["rawQueryString"] == "tag=a&tag=b&empty=&x=1%202"
    assert event["queryStringParameters"] == {"tag": "a,b", "empty": "", "x": "1 2"}
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert event["isBase64Encoded"] is False
    assert "body" not in event

    headers = event["headers"]
    assert all(name == name.lower() for name in headers)
    assert "cookie" not in headers  # moved to event["cookies"]
    assert headers["x-custom-header"] == "Yes"
    assert headers["x-multi"] == "one,two"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-port"] == str(urlsplit(base_url).port)
    assert headers["user-agent"] == "tester/1.0"

    rc = event["requestContext"]
    assert rc["routeKey"] == "GET /items/{id}"
    assert rc["stage"] == "$default"
    assert rc["domainName"] == "127.0.0.1"
    assert rc["accountId"] and rc["apiId"] and rc["domainPrefix"]
    assert rc["http"] == {
        "method": "GET",
        "path": "/items/café au lait",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "tester/1.0",
    }
    uuid.UUID(rc["requestId"])
    assert before <= rc["timeEpoch"] <= int(time.time() * 1000)
    time.strptime(rc["time"], "%d/%b/%Y:%H:%M:%S +0000")

    assert ctx["function_name"] == "EchoFunction"
    assert ctx["memory_limit_in_mb"] == 256  # !Ref Memory resolved to its Default
    assert 0 < ctx["remaining"] <= 7000  # Globals Timeout: 7
    assert ctx["invoked_function_arn"].endswith(":function:EchoFunction")
    assert ctx["log_group_name"] == "/aws/lambda/EchoFunction"
    assert ctx["function_version"] == "$LATEST"
    uuid.UUID(ctx["aws_request_id"])


def test_response_carries_the_request_id(base_url: str) -> None:
    reply = call(base_url, "GET", "/items/1")
    assert reply.headers["apigw-requestid"] == reply.json()["event"]["requestContext"]["requestId"]


def test_client_x_forwarded_for_is_kept_and_extended(base_url: str) -> None:
    event = echo(base_url, "GET", "/items/1", headers=[("X-Forwarded-For", "203.0.113.9")])["event"]
    assert event["headers"]["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"


def test_exact_method_beats_any(base_url: str) -> None:
    assert echo(base_url, "GET", "/items/7")["event"]["routeKey"] == "GET /items/{id}"
    post = echo(base_url, "POST", "/items/7", body=b"{}")["event"]
    assert post["routeKey"] == "ANY /items/{id}"
    assert post["pathParameters"] == {"id": "7"}


def test_literal_path_beats_parameter(base_url: str) -> None:
    event = echo(base_url, "GET", "/items/special")["event"]
    assert event["routeKey"] == "GET /items/special"  # Method "get" in the template: upper-cased
    assert "pathParameters" not in event
    # POST /items/special: the literal route is GET-only, so the ANY parameter route takes it.
    assert echo(base_url, "POST", "/items/special")["event"]["routeKey"] == "ANY /items/{id}"


def test_greedy_parameter_spans_segments(base_url: str) -> None:
    event = echo(base_url, "DELETE", "/files/a/b%2Fc/d.txt")["event"]
    assert event["routeKey"] == "ANY /files/{path+}"
    assert event["pathParameters"] == {"path": "a/b/c/d.txt"}


def test_parameter_matches_one_segment_only(base_url: str) -> None:
    event = echo(base_url, "GET", "/items/1/2")["event"]
    assert event["routeKey"] == "$default"


def test_unmatched_request_goes_to_default_route(base_url: str) -> None:
    event = echo(base_url, "PUT", "/no/such/page?q=1", body=b"x")["event"]
    assert event["routeKey"] == "$default"
    assert event["requestContext"]["routeKey"] == "$default"
    assert event["rawPath"] == "/no/such/page"
    assert "pathParameters" not in event


def test_without_default_route_unmatched_is_json_404(base_url_no_default: str) -> None:
    reply = call(base_url_no_default, "GET", "/no/such/page")
    assert reply.status == 404
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {"message": "Not Found"}
    # and a matched route still works on that server
    assert call(base_url_no_default, "GET", "/items/1").status == 200


def test_handler_exception_is_500_without_traceback(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    reply = call(base_url, "GET", "/boom")
    assert reply.status == 500
    assert reply.json() == {"message": "Internal Server Error"}
    assert b"Traceback" not in reply.body
    assert b"secret detail" not in reply.body
    assert "secret detail from the handler" in caplog.text  # the developer sees it
    assert "Traceback" in caplog.text
    # The environment lives on after its handler raised, as a Lambda environment does.
    again = call(base_url, "GET", "/boom")
    assert again.status == 500
    assert again.headers[ENVIRONMENT_HEADER] == reply.headers[ENVIRONMENT_HEADER]


def test_binary_request_body_is_base64(base_url: str) -> None:
    raw = bytes([0, 255, 254, 10, 128])
    event = echo(
        base_url,
        "POST",
        "/items/1",
        headers=[("Content-Type", "application/octet-stream")],
        body=raw,
    )["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw
    assert event["headers"]["content-type"] == "application/octet-stream"
    assert event["headers"]["content-length"] == str(len(raw))


def test_text_request_body_is_passed_as_text(base_url: str) -> None:
    event = echo(base_url, "POST", "/items/1", body="xin chào".encode())["event"]
    assert event["isBase64Encoded"] is False
    assert event["body"] == "xin chào"


@pytest.mark.parametrize(
    ("mode", "body"),
    [("string", b"plain text"), ("dict", b'{"hello": "world"}')],
)
def test_response_without_status_code_is_inferred(base_url: str, mode: str, body: bytes) -> None:
    reply = call(base_url, "GET", f"/items/1?mode={mode}")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.body == body


def test_base64_response_body_is_decoded(base_url: str) -> None:
    reply = call(base_url, "GET", "/items/1?mode=binary")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/octet-stream"
    assert reply.body == bytes([0, 255, 1])


def test_response_cookies_become_set_cookie_headers(base_url: str) -> None:
    reply = call(base_url, "GET", "/items/1?mode=cookies")
    assert reply.status == 201
    assert reply.headers.get_all("set-cookie") == ["a=1; Path=/", "b=2; HttpOnly"]
    assert reply.headers["x-multi"] == "p,q"
    assert reply.body == b"made"


def test_head_request_has_no_body(base_url: str) -> None:
    reply = call(base_url, "HEAD", "/items/1")
    assert reply.status == 200
    assert reply.body == b""


def test_routes_come_from_the_real_template() -> None:
    functions, routes = read_template(Path(__file__).resolve().parents[2] / "template.yaml")
    assert {f.file.parent.name for f in functions.values()} >= {"pages", "api"}
    assert all(f.file.name == "app.py" for f in functions.values())
    keys = [r.key for r in routes]
    assert "$default" in keys
    assert keys.index("GET /articles/{slug}") < keys.index("ANY /articles/{slug}")


def test_duplicate_route_is_refused(tmp_path: Path) -> None:
    template = write_app(tmp_path, with_default=True)
    text = template.read_text().replace(
        "Path: /boom, Method: GET", "Path: /items/special, Method: GET"
    )
    template.write_text(text)
    with pytest.raises(ServerError, match="GET /items/special"):
        read_template(template)


def test_busy_port_is_a_clear_error(base_url: str, tmp_path: Path) -> None:
    port = urlsplit(base_url).port
    assert port is not None
    template = write_app(tmp_path, with_default=False)
    with (
        pytest.raises(ServerError, match=f"port {port} is already in use"),
        running(template, port=port),
    ):
        pass


def test_handlers_import_from_their_own_file(tmp_path: Path) -> None:
    """Two functions' app.py are distinct modules (no `import app` cache mix-up)."""
    text = textwrap.dedent(
        """
        def handler(event, context):
            return {"statusCode": 200, "body": "%s"}
        """
    )
    template = write_app(tmp_path, with_default=False)
    (tmp_path / "boom" / "app.py").write_text(
        (text % "boom").replace("def handler", "def lambda_handler")
    )
    (tmp_path / "echo" / "app.py").write_text(text % "echo")
    with running(template) as url:
        assert call(url, "GET", "/boom").body == b"boom"
        assert call(url, "GET", "/items/1").body == b"echo"


# ---- execution environments: one event at a time, own module state, failures --------------


class Gate:
    """Where `mode=wait` invocations announce themselves (their process id) and then hold
    until the test opens the gate: the test knows they run, with no polling. The 60 s socket
    timeout only stops a run that would hang."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(60)
        self.port: int = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []

    def started(self, count: int) -> list[str]:
        """Wait for `count` more invocations to reach the gate; their process ids."""
        pids = []
        for _ in range(count):
            conn, _address = self._listener.accept()
            conn.settimeout(60)
            pids.append(conn.recv(64).decode())
            self._held.append(conn)
        return pids

    def open(self) -> None:
        for conn in self._held:
            conn.sendall(b"g")
            conn.close()
        self._held.clear()
        self._listener.close()


def test_concurrent_requests_get_their_own_environments_one_event_each(tmp_path: Path) -> None:
    template = write_app(tmp_path / "app", with_default=False)
    gate = Gate()
    replies: dict[int, Reply] = {}

    def get(n: int, mode: str) -> None:
        replies[n] = call(url, "GET", f"/items/{n}?mode={mode}&gate={gate.port}")

    with running_server(template, concurrency=2) as server:
        url = server.url
        pool = server.app.pools["EchoFunction"]
        held = [threading.Thread(target=get, args=(n, "wait")) for n in (0, 1)]
        for thread in held:
            thread.start()
        # Two invocations at the same time run in two environments (two processes).
        pids = set(gate.started(2))
        assert len(pids) == 2
        # A third one, past the concurrency of 2, waits for a free environment.
        late = threading.Thread(target=get, args=(2, "whoami"))
        late.start()
        pool.wait_until(lambda p: p.waiting == 1)  # the third request waits
        assert 2 not in replies and len(pool.environments) == 2
        gate.open()
        for thread in [*held, late]:
            thread.join(timeout=60)
        assert [replies[n].status for n in range(3)] == [200, 200, 200]
        # No environment ever ran two events at once.
        assert [replies[n].json()["in_flight"] for n in range(3)] == [1, 1, 1]
        names = [replies[n].headers[ENVIRONMENT_HEADER] for n in range(3)]
        assert names[0] != names[1]
        assert names[2] in names[:2] and str(replies[2].json()["pid"]) in pids  # a warm start
        environments = pool.environments
        assert [e.name for e in environments] == sorted(names[:2])
    # Closing the server ends every environment.
    assert not any(e.alive for e in environments)


def test_each_environment_has_its_own_module_state(tmp_path: Path) -> None:
    """As two Lambda containers do: what one environment keeps in memory, the other
    never sees."""
    template = write_app(tmp_path, with_default=False)
    with running_server(template) as server:
        pool = server.app.pools["EchoFunction"]
        first = call(server.url, "GET", "/items/1?mode=remember&value=alpha")
        a = first.headers[ENVIRONMENT_HEADER]
        assert first.json()["remembered"] == "alpha"
        with pool.hold() as busy:  # A is busy with another invocation...
            assert busy.name == a
            other = call(server.url, "GET", "/items/1?mode=whoami")  # ...so B starts
        b = other.headers[ENVIRONMENT_HEADER]
        assert b != a
        assert other.json()["remembered"] is None  # B starts empty
        assert other.json()["log_stream"] != first.json()["log_stream"]
        for _ in range(3):  # and each keeps its own, whichever answers
            reply = call(server.url, "GET", "/items/1?mode=whoami")
            env = reply.headers[ENVIRONMENT_HEADER]
            assert reply.json()["remembered"] == ("alpha" if env == a else None)
            assert reply.json()["log_stream"] == (first if env == a else other).json()["log_stream"]


def test_changed_environment_variables_start_new_environments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Environments get the variables of the moment they start; after a change, as after
    UpdateFunctionConfiguration, invocations go to new environments."""
    monkeypatch.setenv("GREETING", "xin chào")
    template = write_app(tmp_path, with_default=False)
    with running_server(template) as server:
        # Set after the server started, before the first request: seen (environments start
        # on demand), as the tests' monkeypatched table names are.
        monkeypatch.setenv("GREETING", "chào buổi sáng")
        first = call(server.url, "GET", "/items/1?mode=whoami")
        assert first.json()["greeting"] == "chào buổi sáng"
        monkeypatch.setenv("GREETING", "hello")
        second = call(server.url, "GET", "/items/1?mode=whoami")
        assert second.json()["greeting"] == "hello"
        assert second.headers[ENVIRONMENT_HEADER] != first.headers[ENVIRONMENT_HEADER]
        pool = server.app.pools["EchoFunction"]
        assert [e.name for e in pool.environments] == [second.headers[ENVIRONMENT_HEADER]]


@pytest.mark.parametrize(
    ("mode", "reason"), [("exit", "exit status 3"), ("segfault", "killed by SIGSEGV")]
)
def test_a_dying_environment_answers_500_and_is_replaced(
    base_url: str, caplog: pytest.LogCaptureFixture, mode: str, reason: str
) -> None:
    crash = call(base_url, "GET", f"/items/1?mode={mode}")
    assert crash.status == 500
    assert crash.json() == {"message": "Internal Server Error"}
    dead = crash.headers[ENVIRONMENT_HEADER]
    assert f"{dead}: the environment exited during the invocation ({reason})" in caplog.text
    after = call(base_url, "GET", "/items/1?mode=whoami")
    assert after.status == 200
    assert after.headers[ENVIRONMENT_HEADER] != dead


def test_a_handler_past_its_timeout_is_stopped_with_a_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Timeout: 1 is well under HTTP API's 30 s integration timeout, so this is a Lambda
    function error ("Task timed out"), which HTTP API answers with a 500."""
    template = write_app(tmp_path, with_default=False)
    with running_server(template) as server:
        reply = call(server.url, "GET", "/stuck")
        assert reply.status == 500
        assert reply.json() == {"message": "Internal Server Error"}
        stuck = reply.headers[ENVIRONMENT_HEADER]
        assert f"{stuck}: Task timed out after 1 seconds" in caplog.text
        assert server.app.pools["StuckFunction"].environments == []  # stopped
        assert call(server.url, "GET", "/items/1").status == 200  # others unaffected


def test_past_the_integration_timeout_the_client_gets_503_and_the_function_runs_on(
    tmp_path: Path,
) -> None:
    """HTTP API gives up after its integration timeout (30 s; 1 s here) with a 503; the
    function keeps running to its own Timeout, and its environment is then free again."""
    template = write_app(tmp_path / "app", with_default=False)
    gate = Gate()
    with running_server(template, preload=True, integration_timeout=1.0) as server:
        pool = server.app.pools["EchoFunction"]
        reply = call(server.url, "GET", f"/items/1?mode=wait&gate={gate.port}")
        assert reply.status == 503
        assert reply.json() == {"message": "Service Unavailable"}
        assert len(gate.started(1)) == 1  # the function did start
        assert pool.busy == 1  # and is still running
        gate.open()
        pool.wait_until(lambda p: p.busy == 0)  # the function finishes
        again = call(server.url, "GET", "/items/1?mode=whoami")
        assert again.headers[ENVIRONMENT_HEADER] == reply.headers[ENVIRONMENT_HEADER]


def test_an_init_failure_stops_the_start_with_its_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """What `make run` does: one environment per function is started first, and a module
    that fails on import (say a setting out of range) stops the start, no process left."""
    template = write_app(tmp_path, with_default=False)
    (tmp_path / "boom" / "app.py").write_text(BROKEN_INIT)
    before = {p.pid for p in multiprocessing.active_children()}
    with pytest.raises(InitError) as failed:
        create_server("127.0.0.1", 0, template)
    assert str(failed.value) == (
        "BoomFunction: init failed: ValueError: PRESENCE_WINDOW_SECONDS=10 is outside 30..3600"
    )
    assert 'boom/app.py", line 1' in caplog.text  # the traceback from the environment
    assert {p.pid for p in multiprocessing.active_children()} <= before


def test_an_init_failure_on_demand_is_a_500_and_the_next_request_tries_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    template = write_app(tmp_path, with_default=False)
    (tmp_path / "boom" / "app.py").write_text(BROKEN_INIT)
    with running_server(template) as server:
        reply = call(server.url, "GET", "/boom")
        assert reply.status == 500
        assert reply.json() == {"message": "Internal Server Error"}
        assert "BoomFunction: init failed: ValueError: PRESENCE_WINDOW_SECONDS=10" in caplog.text
        assert call(server.url, "GET", "/items/1").status == 200  # other functions run
        (tmp_path / "boom" / "app.py").write_text(
            "def lambda_handler(event, context):\n    return {'statusCode': 204}\n"
        )
        assert call(server.url, "GET", "/boom").status == 204  # a new init, now fixed


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 4), ("", 4), ("1", 1), (" 8 ", 8), ("64", 64)]
)
def test_lambda_concurrency_setting(value: str | None, expected: int) -> None:
    env = {} if value is None else {"LAMBDA_CONCURRENCY": value}
    assert concurrency_setting(env) == expected


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("0", "is out of range"),
        ("65", "is out of range"),
        ("-1", "is not a whole number"),
        ("four", "is not a whole number"),
        ("2.5", "is not a whole number"),
        ("²", "is not a whole number"),  # str.isdigit() says True
        ("٤", "is not a whole number"),  # int() reads it as 4
    ],
)
def test_lambda_concurrency_out_of_range_is_refused(value: str, why: str) -> None:
    with pytest.raises(ValueError) as refused:
        concurrency_setting({"LAMBDA_CONCURRENCY": value})
    assert str(refused.value).startswith(f"LAMBDA_CONCURRENCY={value} {why}: allowed 1..64 (")
