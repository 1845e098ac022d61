"""`make sam-local` and the sam local tier, the parts that need no Docker: what reaches the
functions (env.json against the template's declarations, the endpoint as the containers see
it), the architecture parameter, the base image's name, when the tier can run, and the line
the test summary prints when it cannot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local import lambdabase, samlocal, tables
from local.toolchain import ROOT, architecture_override
from tests.tiers import TierTimes

TEMPLATE = ROOT / "template.yaml"


def _declared(function: str) -> set[str]:
    """The variables the template gives `function` (Globals and its own): the only ones
    `sam local --env-vars` can set (aws/aws-sam-cli#6145)."""
    template = tables.load_template(TEMPLATE)
    names = set(template["Globals"]["Function"]["Environment"]["Variables"])
    own = template["Resources"][function]["Properties"].get("Environment") or {}
    return names | set(own.get("Variables") or {})


def test_env_json_sets_only_variables_the_template_declares() -> None:
    env = json.loads((ROOT / "env.json").read_text(encoding="utf-8"))
    functions = [
        name
        for name, res in tables.load_template(TEMPLATE)["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    ]
    for section, variables in env.items():
        targets = functions if section == "Parameters" else [section]
        for function in targets:
            ignored = set(variables) - _declared(function)
            assert not ignored, f"env.json {section}: {ignored} never reach {function}"


def test_the_endpoint_variable_is_declared_empty_and_empty_means_aws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import botocore.session

    variables = tables.load_template(TEMPLATE)["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["AWS_ENDPOINT_URL_DYNAMODB"] == ""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    client = botocore.session.get_session().create_client(
        "dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    assert client.meta.endpoint_url == "https://dynamodb.eu-west-1.amazonaws.com"


def test_one_parameter_sets_the_architecture_of_functions_and_layers() -> None:
    template = tables.load_template(TEMPLATE)
    parameter = template["Parameters"]["Architecture"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("arm64", ["arm64", "x86_64"])
    ref = {"Ref": "Architecture"}
    assert template["Globals"]["Function"]["Architectures"] == [ref]
    layers = {
        name: res
        for name, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::LayerVersion"
    }
    assert layers
    for name, layer in layers.items():
        assert layer["Properties"]["CompatibleArchitectures"] == [ref], name
        assert layer["Metadata"]["BuildArchitecture"] == ref, name
    assert architecture_override("x86_64") == "Architecture=x86_64"


@pytest.mark.parametrize(
    ("endpoint", "inside", "hosts"),
    [
        ("http://127.0.0.1:8000", "http://dynamodb-local:8000", ["dynamodb-local:172.17.0.1"]),
        ("http://localhost:39073/", "http://dynamodb-local:39073/", ["dynamodb-local:172.17.0.1"]),
        (
            "https://dynamodb.eu-west-1.amazonaws.com",
            "https://dynamodb.eu-west-1.amazonaws.com",
            [],
        ),
        ("http://ddb.internal:8000", "http://ddb.internal:8000", []),
    ],
)
def test_a_dynamodb_on_this_machine_is_reached_through_the_bridge(
    endpoint: str, inside: str, hosts: list[str]
) -> None:
    assert samlocal.container_endpoint(endpoint, "172.17.0.1") == (inside, hosts)


class _Bridge:
    """docker's Network as the SDK gives it: `attrs` is `docker network inspect`'s JSON."""

    def __init__(self, attrs: dict[str, Any]) -> None:
        self.attrs = attrs


class _Client:
    def __init__(self, attrs: dict[str, Any]) -> None:
        self.networks = self
        self._attrs = attrs

    def get(self, name: str) -> _Bridge:
        assert name == "bridge"
        return _Bridge(self._attrs)


def test_the_bridge_gateway_is_found_on_a_dockerd_started_for_the_first_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A dockerd's first start on a machine reports the bridge's subnet without its gateway
    (CI failed on it: "Docker's bridge network has no gateway address"); the address is on
    the bridge's interface."""
    later = {"IPAM": {"Config": [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]}}
    first = {
        "IPAM": {"Config": [{"Subnet": "172.18.0.0/16"}]},
        "Options": {"com.docker.network.bridge.name": "docker0"},
    }
    addresses = {"docker0": "172.18.0.1"}
    monkeypatch.setattr(samlocal, "interface_address", addresses.get)
    assert samlocal.bridge_gateway(_Client(later)) == "172.17.0.1"
    assert samlocal.bridge_gateway(_Client(first)) == "172.18.0.1"
    dual = {
        "IPAM": {
            "Config": [{"Subnet": "fd00::/64", "Gateway": "fd00::1"}, *first["IPAM"]["Config"]]
        }
    }
    assert samlocal.bridge_gateway(_Client(dual)) == "172.18.0.1"
    assert samlocal.bridge_gateway(_Client({"IPAM": None})) == "172.18.0.1"
    addresses.clear()
    with pytest.raises(samlocal.Failure, match="nor docker0 an IPv4 one"):
        samlocal.bridge_gateway(_Client(first))


def test_an_interfaces_address_is_read_from_iproute2() -> None:
    assert samlocal.interface_address("lo") == "127.0.0.1"
    assert samlocal.interface_address("no-such-interface0") is None


def test_the_env_vars_file_carries_this_runs_values() -> None:
    tables_now = {"ARTICLES_TABLE": "p-articles", "COUNTERS_TABLE": "p-counters"}
    env = samlocal.env_vars("http://dynamodb-local:1234", tables_now, "secret")
    assert env["Parameters"]["AWS_ENDPOINT_URL_DYNAMODB"] == "http://dynamodb-local:1234"
    assert env["Parameters"]["ARTICLES_TABLE"] == "p-articles"
    assert env["Parameters"]["CONNECTIONS_TABLE"] == "newsdesk-local-connections"  # env.json's
    assert env["AdminFunction"]["ADMIN_TOKEN"] == "secret"


def test_start_api_runs_sam_clis_emulator_off_the_network() -> None:
    args = samlocal.start_api_args(
        Path("t.yaml"), 4321, Path("e.json"), ["dynamodb-local:10.0.0.1"], "x86_64"
    )
    joined = " ".join(args)
    assert args[1:3] == ["local", "start-api"]
    for part in (
        "--skip-pull-image",
        "--warm-containers LAZY",
        "--parameter-overrides Architecture=x86_64",
        "--port 4321",
        "--host 127.0.0.1",
        "--add-host dynamodb-local:10.0.0.1",
        "--env-vars e.json",
    ):
        assert part in joined


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_the_base_image_has_the_name_sam_cli_asks_for(arch: str) -> None:
    assert lambdabase.image_name(arch) == f"public.ecr.aws/lambda/python:3.13-{arch}"


def _machine(
    monkeypatch: pytest.MonkeyPatch, *, daemon: bool, root: bool, have: set[str], debian: bool
) -> None:
    monkeypatch.setattr(samlocal, "_docker_client", lambda timeout=0: object() if daemon else None)
    monkeypatch.setattr(samlocal.os, "geteuid", lambda: 0 if root else 1000)
    monkeypatch.setattr(samlocal.shutil, "which", lambda name: name if name in have else None)
    monkeypatch.setattr(samlocal, "_debian_like", lambda: debian)


@pytest.mark.parametrize(
    ("machine", "runs"),
    [
        ({"daemon": True, "root": False, "have": set(), "debian": False}, True),
        ({"daemon": False, "root": True, "have": {"dockerd"}, "debian": False}, True),
        ({"daemon": False, "root": True, "have": {"apt-get"}, "debian": True}, True),
        ({"daemon": False, "root": False, "have": {"dockerd", "apt-get"}, "debian": True}, False),
        ({"daemon": False, "root": True, "have": set(), "debian": True}, False),
        ({"daemon": False, "root": True, "have": {"apt-get"}, "debian": False}, False),
    ],
)
def test_the_tier_runs_where_docker_is_running_or_can_be_installed(
    monkeypatch: pytest.MonkeyPatch, machine: dict[str, Any], runs: bool
) -> None:
    _machine(monkeypatch, **machine)
    reason = samlocal.docker_unavailable_reason()
    assert (reason is None) == runs, reason


def _report(nodeid: str, outcome: str, longrepr: Any = None) -> pytest.TestReport:
    return pytest.TestReport(nodeid, (nodeid, 0, ""), {}, outcome, longrepr, "setup", [], 0.1)


def test_a_tier_not_run_says_so_and_why_in_one_line() -> None:
    times = TierTimes()
    why = "no Docker daemon answers, and starting or installing one needs root"
    for n in range(3):
        skipped = ("tests/samlocal/conftest.py", 1, f"Skipped: sam local tier not run: {why}")
        times.pytest_runtest_logreport(
            _report(f"tests/samlocal/test_x.py::t{n}", "skipped", skipped)
        )
    lines: list[str] = []
    times._sam_local_lines(lines.append)
    assert lines[0] == f"sam local tier NOT RUN (3 skipped): {why}"
    assert times.tiers["sam local"].outcomes == {"skipped": 3}
