"""DynamoDB Local for `make run` and the tests: fetch the jar once, start/stop it on a port.

The jar comes from the npm package amplify-dynamodb-simulator (npm is the one registry the
dev machines and CI can reach; it ships DynamoDB Local unchanged in package/emulator/).
Without Java, moto's server stands in, in memory only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from local.npm import fetch, folder_to

ROOT = Path(__file__).resolve().parent.parent
LOCAL_DIR = ROOT / ".local"
JAR_DIR = LOCAL_DIR / "dynamodb-local"
DATA_DIR = LOCAL_DIR / "dynamodb-data"
NPM_PACKAGE = "amplify-dynamodb-simulator"
_EMULATOR = "package/emulator/"


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be fetched or started; the message says what to do."""


class PortInUseError(DynamoDBLocalError):
    """The requested port is taken by another program."""


def _say(message: str) -> None:
    print(f"[dynamodb] {message}", file=sys.stderr, flush=True)


def ensure_jar(dest: Path = JAR_DIR) -> Path:
    """Path of DynamoDBLocal.jar, fetching the package's emulator/ folder with `npm pack` on
    first use (local.npm.fetch: cached, checked, one atomic rename of the whole folder, so a
    half-extracted folder is never mistaken for a jar)."""
    try:
        fetch(
            NPM_PACKAGE,
            dest,
            folder_to(_EMULATOR),
            ready=_complete,
            error=DynamoDBLocalError,
            say=_say,
        )
    except DynamoDBLocalError as exc:
        if shutil.which("npm") is None:
            raise DynamoDBLocalError(
                f"{exc}, or set AWS_ENDPOINT_URL_DYNAMODB to a running DynamoDB"
            ) from None
        raise
    return dest / "DynamoDBLocal.jar"


def _complete(folder: Path) -> bool:
    return (folder / "DynamoDBLocal.jar").is_file() and (folder / "DynamoDBLocal_lib").is_dir()


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on (host, port)."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _ddb_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
    )


def answers(endpoint: str) -> bool:
    """True when a DynamoDB API answers at endpoint (a list_tables call succeeds)."""
    try:
        _ddb_client(endpoint).list_tables(Limit=1)
    except Exception:
        return False
    return True


class DynamoDBHandle:
    """A running DynamoDB (Local or moto); stop() it, or use it as a context manager."""

    def __init__(self, endpoint: str, kind: str, stopper: Callable[[], None]) -> None:
        self.endpoint = endpoint
        self.kind = kind  # "dynamodb-local" or "moto"
        self._stopper: Callable[[], None] | None = stopper

    def stop(self) -> None:
        """Stop it (idempotent)."""
        stopper, self._stopper = self._stopper, None
        if stopper is not None:
            stopper()

    def __enter__(self) -> DynamoDBHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"DynamoDBHandle({self.kind} at {self.endpoint})"


def start(
    port: int | None = None,
    db_path: str | Path | None = None,
    in_memory: bool = False,
    *,
    timeout: float = 60.0,
    allow_moto: bool = True,
) -> DynamoDBHandle:
    """Start DynamoDB Local on port (a free one when None) and wait until it answers.

    Data goes to db_path (default .local/dynamodb-data/) unless in_memory. Without Java,
    moto's server is started instead (allow_moto=False makes that an error). A free port chosen
    here can be taken by another program before the JVM binds it: then another one is tried.
    """
    if port is not None:
        return _start(port, db_path, in_memory, timeout=timeout, allow_moto=allow_moto)
    for attempt in range(3):
        try:
            return _start(free_port(), db_path, in_memory, timeout=timeout, allow_moto=allow_moto)
        except PortInUseError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _start(
    port: int,
    db_path: str | Path | None,
    in_memory: bool,
    *,
    timeout: float,
    allow_moto: bool,
) -> DynamoDBHandle:
    if port_in_use(port):
        raise PortInUseError(f"port {port} is already in use; pick another port for DynamoDB")
    java = shutil.which("java")
    if java is None:
        if not allow_moto:
            raise DynamoDBLocalError(
                "java not found: install a Java 17+ runtime for DynamoDB Local"
            )
        return _start_moto(port)
    jar = ensure_jar()
    proc, log_path = _launch(_jvm_args(java, jar, port, db_path, in_memory), jar.parent)
    endpoint = f"http://127.0.0.1:{port}"
    stop = _jvm_stopper(proc, log_path)
    failure = _startup_failure(endpoint, port, proc, log_path, timeout)
    if failure is not None:
        stop()
        raise failure
    return DynamoDBHandle(endpoint, "dynamodb-local", stop)


def _jvm_args(
    java: str, jar: Path, port: int, db_path: str | Path | None, in_memory: bool
) -> list[str]:
    """The command line of DynamoDB Local on port; unless in_memory, its data folder (db_path,
    default DATA_DIR) is created."""
    args = [java, "-Djava.library.path=DynamoDBLocal_lib", "-jar", jar.name, "-port", str(port)]
    # -sharedDb: one database whatever the credentials/region of the client.
    args += ["-sharedDb", "-disableTelemetry"]
    if in_memory:
        args.append("-inMemory")
    else:
        data = Path(db_path or DATA_DIR).resolve()
        data.mkdir(parents=True, exist_ok=True)
        args += ["-dbPath", str(data)]
    return args


def _launch(args: list[str], cwd: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """Start the JVM in cwd, its output going to a new temp log file: the process and the
    log's path."""
    fd, log_name = tempfile.mkstemp(prefix="dynamodb-local-", suffix=".log")
    with os.fdopen(fd, "wb") as log_file:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
            preexec_fn=_die_with_parent() if sys.platform == "linux" else None,
        )
    return proc, Path(log_name)


def _jvm_stopper(proc: subprocess.Popen[bytes], log_path: Path) -> Callable[[], None]:
    """stop() for the JVM: SIGTERM, SIGKILL after 10 s; then its log file is removed."""

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log_path.unlink(missing_ok=True)

    return stop


def _startup_failure(
    endpoint: str, port: int, proc: subprocess.Popen[bytes], log_path: Path, timeout: float
) -> DynamoDBLocalError | None:
    """Wait until DynamoDB Local answers at endpoint (None), or the error to raise after
    stopping it: PortInUseError when the JVM could not bind port, DynamoDBLocalError when it
    exited or did not answer within timeout seconds (with the end of its log)."""
    deadline = time.monotonic() + timeout
    while not answers(endpoint):
        tail = _tail(log_path)
        # The JVM logs a failed bind and stays up without listening: do not wait it out.
        if "Address already in use" in tail or "BindException" in tail:
            return PortInUseError(f"port {port} is already in use; pick another port")
        if proc.poll() is not None:
            return DynamoDBLocalError(f"DynamoDB Local exited (code {proc.returncode}): {tail}")
        if time.monotonic() > deadline:
            tail = _tail(log_path)
            return DynamoDBLocalError(
                f"DynamoDB Local did not answer within {timeout:.0f}s: {tail}"
            )
        time.sleep(0.2)
    return None


def _tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def _die_with_parent() -> Callable[[], None] | None:
    """Ask Linux to SIGTERM the JVM if we die without stopping it (no orphan on port 8000).

    The signal follows the *thread* that forked, so only arm it from the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def arm() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return arm


def _start_moto(port: int) -> DynamoDBHandle:
    from moto.server import ThreadedMotoServer

    _say("WARNING: java not found - using moto's in-memory DynamoDB instead of DynamoDB Local.")
    _say("WARNING: NOTHING WILL PERSIST after this process stops. Install Java 17+ to keep data.")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access-log line per SDK call
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while not answers(endpoint) and time.monotonic() < deadline:
        time.sleep(0.1)

    def stop() -> None:
        with contextlib.suppress(Exception):
            server.stop()

    return DynamoDBHandle(endpoint, "moto", stop)
