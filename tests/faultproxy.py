"""A small fault-injecting HTTP proxy for DynamoDB (tests only).

It sits between the SDK and DynamoDB Local and forwards every request unchanged, except the
ones matching a fault, chosen by operation (the `X-Amz-Target` header, e.g.
`DynamoDB_20120810.UpdateItem`) and optionally by table (a table name in the JSON body ending
with a suffix such as "-counters"). A fault answers instead of DynamoDB:

- "throttle": HTTP 400 ProvisionedThroughputExceededException (what a throttled table says)
- "error":    HTTP 500 InternalServerError
- "delay":    hangs `delay` seconds (longer than the client's read timeout), then answers 500;
              the request never reaches DynamoDB, so a timed-out write has no side effect
- "drop":     closes the connection with a reset, without answering

Every request the proxy receives is recorded, so a test can count the SDK's attempts
(`seen("UpdateItem", "-counters")`).

    with FaultProxy("http://127.0.0.1:8000") as proxy:
        proxy.fail("UpdateItem", mode="throttle", table_suffix="-counters")
        ...  # point AWS_ENDPOINT_URL_DYNAMODB at proxy.endpoint
        assert proxy.seen("UpdateItem") == 2
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

MODES = ("throttle", "error", "delay", "drop")
ANY = "*"

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}
_SET_BY_US = {"server", "date"}  # send_response() writes its own

THROTTLE_BODY = {
    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "message": "The level of configured provisioned throughput for the table was exceeded "
    "(injected by tests/faultproxy.py)",
}
ERROR_BODY = {
    "__type": "com.amazon.coral.service#InternalServerError",
    "message": "Internal server error (injected by tests/faultproxy.py)",
}


@dataclass
class Fault:
    operation: str  # "UpdateItem", or "*" for every operation
    mode: str
    table_suffix: str | None = None
    delay: float = 3.0
    cancelled: threading.Event = field(default_factory=threading.Event)

    def matches(self, operation: str, tables: Iterable[str]) -> bool:
        if self.operation not in (ANY, operation):
            return False
        suffix = self.table_suffix
        return suffix is None or any(t.endswith(suffix) for t in tables)


@dataclass(frozen=True)
class Seen:
    operation: str
    tables: tuple[str, ...]
    fault: str | None  # the mode injected, None when forwarded


def tables_of(body: dict[str, Any]) -> tuple[str, ...]:
    """Every table a DynamoDB request names (single-table, batch and transaction forms)."""
    names: list[str] = []
    if isinstance(body.get("TableName"), str):
        names.append(body["TableName"])
    names.extend(str(name) for name in body.get("RequestItems") or {})
    for item in body.get("TransactItems") or []:
        for action in item.values():
            if isinstance(action, dict) and isinstance(action.get("TableName"), str):
                names.append(action["TableName"])
    return tuple(dict.fromkeys(names))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up close()
    proxy: FaultProxy


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    timeout = 30  # an idle connection's thread ends eventually
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.proxy._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.proxy._closed(self.connection)

    def do_POST(self) -> None:
        self.server.proxy._handle(self)

    def do_GET(self) -> None:
        self.server.proxy._handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet


class FaultProxy:
    """Forward to `upstream` (an http:// endpoint), injecting the faults set with fail()."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self._upstream = (parts.hostname, parts.port or 80)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._seen: list[Seen] = []
        self._sockets: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.endpoint = ""

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.proxy = self
        self._server = server
        self.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="faultproxy"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def close(self) -> None:
        self.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:  # the SDK's idle pooled connections
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- control ----------------------------------------------------------------------------

    def fail(
        self,
        operation: str = ANY,
        mode: str = "throttle",
        table_suffix: str | None = None,
        delay: float = 3.0,
    ) -> Fault:
        """From now on, answer `operation` (e.g. "UpdateItem"; "*" for all) with `mode`."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        operation = operation.rsplit(".", 1)[-1]
        fault = Fault(operation, mode, table_suffix, delay)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """No more faults; requests hanging in a "delay" fault are answered at once."""
        with self._lock:
            faults, self._faults = self._faults, []
        for fault in faults:
            fault.cancelled.set()

    def seen(
        self, operation: str = ANY, table_suffix: str | None = None, *, faulted: bool = False
    ) -> int:
        """How many requests for `operation` (on a table ending with `table_suffix`) arrived,
        forwarded or not (only the faulted ones with faulted=True)."""
        with self._lock:
            log = list(self._seen)
        return sum(
            1
            for s in log
            if operation in (ANY, s.operation)
            and (table_suffix is None or any(t.endswith(table_suffix) for t in s.tables))
            and (not faulted or s.fault is not None)
        )

    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def reset_counts(self) -> None:
        with self._lock:
            self._seen.clear()

    # -- internals ---------------------------------------------------------------------------

    def _opened(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def _handle(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        target = handler.headers.get("X-Amz-Target", "")
        operation = target.rsplit(".", 1)[-1] if target else ""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        tables = tables_of(body) if isinstance(body, dict) else ()
        with self._lock:
            fault = next((f for f in self._faults if f.matches(operation, tables)), None)
            self._seen.append(Seen(operation, tables, fault.mode if fault else None))
        try:
            if fault is None:
                self._forward(handler, raw)
            elif fault.mode == "throttle":
                self._answer(handler, 400, THROTTLE_BODY)
            elif fault.mode == "error":
                self._answer(handler, 500, ERROR_BODY)
            elif fault.mode == "delay":
                fault.cancelled.wait(fault.delay)
                self._answer(handler, 500, ERROR_BODY)
            else:  # drop: reset the connection without a word
                handler.close_connection = True
                handler.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                handler.connection.close()
        except OSError:  # the client gave up first (read timeout): nobody to answer
            handler.close_connection = True

    @staticmethod
    def _answer(handler: _Handler, status: int, payload: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/x-amz-json-1.0")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("x-amzn-RequestId", "FAULTPROXY")
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()

    def _forward(self, handler: _Handler, raw: bytes) -> None:
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            upstream.request(handler.command, handler.path, body=raw, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            status, reason = response.status, response.reason
            answer_headers = [
                (k, v)
                for k, v in response.getheaders()
                if k.lower() not in _HOP_BY_HOP | _SET_BY_US
            ]
        except OSError as err:
            self._answer(handler, 502, {"__type": "ProxyError", "message": str(err)})
            return
        finally:
            upstream.close()
        handler.send_response(status, reason)
        for key, value in answer_headers:
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
