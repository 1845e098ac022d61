"""`make run` and `make import` find this checkout's DynamoDB Local, and only this one's
(fresh-clone finding 1: a second checkout's `make import` wrote into the first one's tables,
and started a second DynamoDB Local on the same data folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

import local.__main__ as commands


def test_a_running_dynamodb_local_of_this_checkout_is_used(
    dynamodb_local: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.setattr(commands, "ENDPOINT_FILE", tmp_path / "dynamodb-endpoint")
    commands.ENDPOINT_FILE.write_text(dynamodb_local, "utf-8")
    with commands.dynamodb_endpoint() as endpoint:
        assert endpoint == dynamodb_local
    assert commands.ENDPOINT_FILE.exists()  # not ours to remove: `make run` still runs


def test_a_stale_endpoint_file_is_not_joined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "ENDPOINT_FILE", tmp_path / "dynamodb-endpoint")
    commands.ENDPOINT_FILE.write_text("http://127.0.0.1:9", "utf-8")  # nothing answers there
    assert commands._running_here() is None


@pytest.mark.parametrize("value", ["eighty", "0", "70000", "-1"])
def test_a_bad_ddb_port_is_refused_naming_it(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DDB_PORT", value)
    with pytest.raises(commands.Failure, match=f"DDB_PORT={value!r}.*1-65535"):
        commands._port()
