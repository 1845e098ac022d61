"""A bad setting stops things before they serve: `python -m local run` (make run) refuses to
start, a Lambda execution environment's INIT fails, the CLI says so in one line. Each in its
own process, as an operator meets it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from local.dynamodb import free_port, port_in_use
from local.tables import function_env
from tests.support import ROOT

PRESENCE_10 = (
    "PRESENCE_WINDOW_SECONDS=10 is out of range: allowed 30..3600 "
    "(template parameter PresenceWindowSeconds)"
)
HANDLERS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
LAYER = ROOT / "layers" / "newsdesk" / "python"


def _env(changes: dict[str, str]) -> dict[str, str]:
    """This environment without any setting of the caller's, plus `changes`."""
    env = {k: v for k, v in os.environ.items() if k not in function_env() and k != "PORT"}
    env.pop("PYTHONPATH", None)
    env.update(changes)
    return env


def _run(args: list[str], env: dict[str, str], cwd: object = ROOT) -> subprocess.CompletedProcess:
    # The timeout only stops a run that got past the check and kept serving.
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_local_run_refuses_to_start() -> None:
    """Refused before DynamoDB or the server: the endpoint given is closed, so a run that got
    past the check would fail on it instead; the port stays free."""
    port, closed = free_port(), free_port()
    result = _run(
        [sys.executable, "-m", "local", "run"],
        _env(
            {
                "PORT": str(port),
                "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{closed}",
                "PRESENCE_WINDOW_SECONDS": "10",
                "LOCALE": "fr",
                "LAMBDA_CONCURRENCY": "0",
            }
        ),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        "error: LOCALE=fr is not an allowed value: allowed vi, en (template parameter Locale)",
        f"error: {PRESENCE_10}",
        "error: LAMBDA_CONCURRENCY=0 is out of range: allowed 1..64 (execution environments "
        "per function in the local server, default 4)",
    ]
    assert "DynamoDB" not in result.stdout
    assert not port_in_use(port)


def test_local_run_names_a_bad_setting_even_when_the_port_is_taken() -> None:
    """The settings are checked first: fixing the port would only lead to the next refusal."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = _run(
            [sys.executable, "-m", "local", "run"],
            _env({"PORT": str(taken.getsockname()[1]), "PRESENCE_WINDOW_SECONDS": "10"}),
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines() == [f"error: {PRESENCE_10}"]


@pytest.mark.parametrize("name", HANDLERS)
def test_lambda_init_fails_with_the_message(name: str) -> None:
    """A fresh interpreter imports functions/<name>/app.py the way Lambda's runtime does
    (importlib, the function's folder and the layer on sys.path). POWERTOOLS_LOG_LEVEL is the
    hard case: Powertools' Logger() raises its own ValueError on it, so the handler must check
    its settings before newsdesk.observability is imported."""
    code = (
        "import importlib, sys; "
        f"sys.path[:0] = [{str(ROOT / 'functions' / name)!r}, {str(LAYER)!r}]; "
        "importlib.import_module('app')"
    )
    env = _env({**function_env("init-test"), "POWERTOOLS_LOG_LEVEL": "VERBOSE"})
    result = _run([sys.executable, "-c", code], env, cwd=ROOT / "functions" / name)
    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == (
        "newsdesk.config.ConfigError: POWERTOOLS_LOG_LEVEL=VERBOSE is not an allowed value: "
        "allowed DEBUG, INFO, WARNING, ERROR (template parameter LogLevel)"
    )


def test_cli_says_it_in_one_line() -> None:
    closed = free_port()
    env = _env(
        {
            **function_env("cli-test"),
            "PRESENCE_WINDOW_SECONDS": "10",
            "PYTHONPATH": f"{LAYER}{os.pathsep}{ROOT}",
            "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{closed}",
        }
    )
    result = _run([sys.executable, "-m", "newsdesk", "list"], env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"newsdesk: configuration: {PRESENCE_10}"]
