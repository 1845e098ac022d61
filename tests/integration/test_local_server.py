"""The local HTTP API stand-in, driven over real HTTP against a throwaway template."""

from __future__ import annotations

import base64
import http.client
import json
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.server import ServerError, read_template, running

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
"""

DEFAULT_ROUTE = """\
        CatchAll:
          Type: HttpApi
          Properties: {ApiId: !Ref Api}
"""

ECHO = """\
import base64, json, time

def handler(event, context):
    mode = (event.get("queryStringParameters") or {}).get("mode")
    if mode == "slow":
        time.sleep(0.6)
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


def write_app(root: Path, with_default: bool) -> Path:
    (root / "echo").mkdir(parents=True)
    (root / "boom").mkdir()
    (root / "echo" / "app.py").write_text(ECHO)
    (root / "boom" / "app.py").write_text(BOOM)  # same file name: must not clash with echo/
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


def test_requests_are_served_concurrently(base_url: str) -> None:
    results: list[int] = []

    def one() -> None:
        results.append(call(base_url, "GET", "/items/1?mode=slow").status)

    threads = [threading.Thread(target=one) for _ in range(4)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert results == [200] * 4
    assert elapsed < 4 * 0.6 * 0.75, f"requests were serialised ({elapsed:.2f}s)"


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
