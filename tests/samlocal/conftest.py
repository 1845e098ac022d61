"""The `sam local` tier: the built functions in SAM CLI's own emulator (`sam local start-api`,
real Lambda containers behind its API Gateway emulation) over DynamoDB Local, set up the
way `make sam-local` does it (local/samlocal.py): Docker (installed and started as root when
missing, stopped after if started here), the python3.13 base image (pulled, or made from
Debian packages and cached), `sam build` for this machine, the fixture article in tables of
the tier's own. start-api runs only while the tier does, on a free port.

Where this machine cannot run Docker (not root and no daemon, or not Debian/Ubuntu), every
test of the tier is skipped with the reason, and the tier summary (tests/tiers.py) says the
tier was NOT RUN. A setup that can run and fails is an error, never a skip.

The setup's steps, each function's first request (its cold start, with SAM CLI's image
build) and a warm one are timed into artifacts/sam-local-tier.json; the summary prints them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from local import dynamodb, lambdabase, samlocal, tables
from local.toolchain import ROOT, host_architecture
from tests.conftest import REGION, _aws_env, _reset_newsdesk
from tests.support import import_fixture

ARTIFACT = ROOT / "artifacts" / "sam-local-tier.json"
SKIP_PREFIX = "sam local tier not run: "  # tests/tiers.py reads the reason after it
WORK = ROOT / ".aws-sam" / "samlocal-tier"  # apart from make sam-local's and the other builds
FIRST_REQUEST_TIMEOUT = 300.0  # seconds: SAM CLI builds the function's image first
# One request per function that the tier calls, to start its container before the tests
# (the first request of each waits for SAM CLI's image build) and to time its cold start.
WARM_UP = {
    "PagesFunction": ("GET", "/robots.txt"),
    "ApiFunction": ("GET", "/api/stats"),
    "AdminFunction": ("GET", "/api/admin/articles/newsdesk-sam-local-warm-up/views"),
}


@dataclass
class SamApi:
    """SAM CLI's start-api serving the fixture article."""

    url: str  # http://127.0.0.1:PORT
    admin_token: str
    log: Path  # SAM CLI's output: the functions' logs included
    timings: dict[str, Any] = field(default_factory=dict)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _function_settings_removed(env: dict[str, str]) -> dict[str, str]:
    """This environment without the functions' settings (SAM CLI would hand a declared
    variable's value here to the functions): the tier runs the template's defaults."""
    declared = set(tables.function_env())
    return {k: v for k, v in env.items() if k not in declared and k != "ADMIN_TOKEN"}


def _tables(stack: ExitStack, endpoint: str) -> dict[str, str]:
    """The template's tables under a prefix of the tier's own, with the fixture article
    imported through the real importer; deleted at the end."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    names = tables.create_tables(client, f"samlocal-{secrets.token_hex(4)}")

    def delete() -> None:
        for name in names.values():
            try:
                client.delete_table(TableName=name)
            except Exception as err:  # pragma: no cover - cleanup only
                print(f"could not delete {name}: {err}", file=sys.stderr)

    stack.callback(delete)
    with pytest.MonkeyPatch.context() as patch:
        _aws_env(patch, endpoint)
        for var, name in names.items():
            patch.setenv(var, name)
        _reset_newsdesk()
        import_fixture()
        _reset_newsdesk()
    return names


def _warm_up(api: SamApi) -> dict[str, dict[str, float]]:
    """Each function's first request (SAM CLI's image build, the container's start and the
    cold start) and a warm one after it, in seconds as the client waits; and the Duration
    of each in the emulator's REPORT line (the first: the runtime's start, the handler's
    import and the request). Failure when one answers 5xx."""
    timings: dict[str, dict[str, float]] = {
        "first_request_seconds": {},
        "warm_request_seconds": {},
        "first_duration_ms": {},
        "warm_duration_ms": {},
    }
    marks: list[tuple[str, str, int]] = []  # (kind, function, log size before the request)
    for function, (method, path) in WARM_UP.items():
        for kind in ("first", "warm"):
            marks.append((kind, function, api.log.stat().st_size))
            status, seconds = _request(api.url + path, method, api.admin_token)
            if status >= 500:
                raise samlocal.Failure(f"{function}: {method} {path} answered {status}")
            timings[f"{kind}_request_seconds"][function] = round(seconds, 3)
    # Read once all requests are answered: each REPORT line is in the log by then (the
    # emulator writes it when its invocation ends; the last one may be missing: then
    # no figure, never a wait on the clock).
    log = api.log.read_bytes()
    ends = [offset for _, _, offset in marks[1:]] + [len(log)]
    for (kind, function, start), end in zip(marks, ends, strict=True):
        report = _report_duration(log[start:end])
        if report is not None:
            timings[f"{kind}_duration_ms"][function] = report
    return timings


def _report_duration(segment: bytes) -> float | None:
    """The Duration (ms) of the first REPORT line in `segment` of SAM CLI's log (None: none)."""
    found = re.search(rb"REPORT RequestId: \S+.*?(?<!Init )Duration: ([0-9.]+) ms", segment)
    return float(found.group(1)) if found else None


def _request(
    url: str, method: str, token: str, timeout: float = FIRST_REQUEST_TIMEOUT
) -> tuple[int, float]:
    import urllib.error
    import urllib.request

    headers = {"User-Agent": "newsdesk-sam-local-tier/1.0", "Authorization": f"Bearer {token}"}
    started = time.monotonic()
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, method=method, headers=headers), timeout=timeout
        ) as reply:
            reply.read()
            status = reply.status
    except urllib.error.HTTPError as err:
        status = err.code
    return status, time.monotonic() - started


def _save(timings: dict[str, Any]) -> None:
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")


def _serve(stack: ExitStack, endpoint: str, steps: samlocal.Steps) -> SamApi:
    """Every step of the setup, as `make sam-local` takes them; the running start-api."""
    arch = host_architecture()
    docker = samlocal.ensure_docker(steps, WORK)
    stack.callback(docker.stop)
    with steps("Lambda base image"):
        lambdabase.ensure(
            docker.client, arch, samlocal.apt_install, WORK / "base-image.log", steps.say
        )
    with steps("sam build"):
        template = samlocal.build(WORK / "build")
    with steps("tables and the fixture article"):
        names = _tables(stack, endpoint)
    gateway = samlocal.bridge_gateway(docker.client)
    inside, add_hosts = samlocal.container_endpoint(endpoint, gateway)
    if not dynamodb.answers(endpoint.replace("127.0.0.1", gateway)):
        raise samlocal.Failure(f"DynamoDB Local does not answer on {gateway}")
    token = secrets.token_urlsafe(18)
    env_file = WORK / "env.json"
    env = samlocal.env_vars(inside, names, token)
    # Every reader here comes from one address, which has MAX_VISITORS_PER_ADDRESS (32)
    # visitor ids a day (newsdesk.identity): a "new" reader would share an earlier reader's
    # id, and so their open repeat-view window, with odds of 1 in 32 each (CI, stop 22: a
    # new reader's beacon answered as a repeat). The e2e tier and the bench do the same.
    env["Parameters"]["MAX_VISITORS_PER_ADDRESS"] = "1000000"
    env_file.write_text(json.dumps(env), "utf-8")
    port = dynamodb.free_port()
    args = samlocal.start_api_args(template, port, env_file, add_hosts, arch)
    api = SamApi(f"http://127.0.0.1:{port}", token, WORK / "start-api.log")
    log = stack.enter_context(open(api.log, "wb"))  # noqa: SIM115 (the stack closes it)
    with steps("sam local start-api"):
        stack.enter_context(
            samlocal.start_api(args, port, log, _function_settings_removed(dict(os.environ)))
        )
    with steps("first request of each function"):
        api.timings.update(_warm_up(api))
    api.timings["architecture"] = arch
    api.timings["docker_started_here"] = docker.started_here
    return api


@pytest.fixture(scope="module")
def sam_api(request: pytest.FixtureRequest) -> Iterator[SamApi]:
    """SAM CLI's start-api on a free port, every function the tier calls warmed up once;
    everything it started is stopped after the module (start-api, its containers, dockerd
    when started here), before the worker goes on to other tests."""
    reason = samlocal.docker_unavailable_reason()
    if reason:
        pytest.skip(f"{SKIP_PREFIX}{reason}")
    endpoint = request.getfixturevalue("dynamodb_local")
    steps = samlocal.Steps(out=sys.stderr)
    WORK.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        try:
            api = _serve(stack, endpoint, steps)
        except (samlocal.Failure, lambdabase.BaseImageError) as err:
            tail = SamApi("", "", WORK / "start-api.log").log_tail()
            pytest.fail(f"sam local tier setup failed: {err}\n{tail}", pytrace=False)
        api.timings["setup_seconds"] = {what: round(s, 2) for what, s in steps.times}
        _save(api.timings)
        yield api
