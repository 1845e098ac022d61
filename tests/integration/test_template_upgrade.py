"""Upgrade safety: no change to template.yaml may replace a data table, since CloudFormation
replaces a table by creating a new, empty one.

tests/data/table-identity.json records, per AWS::DynamoDB::Table, the properties whose update
means replacement (TableName - as written and as it resolves with the parameter defaults and
each samconfig.toml environment -, KeySchema, the types of key attributes,
LocalSecondaryIndexes, ImportSourceSpecification). The test fails when one of them changes or
a table disappears (deleted, or its logical id renamed). New tables and global secondary
indexes (updated in place) pass.

After a deliberate replacement (with a data migration), refresh the snapshot:

    .venv/bin/python -m tests.integration.test_template_upgrade --update
"""

from __future__ import annotations

import copy
import json
import re
import shlex
import sys
import tomllib
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"
SNAPSHOT = ROOT / "tests" / "data" / "table-identity.json"
UPDATE_COMMAND = ".venv/bin/python -m tests.integration.test_template_upgrade --update"

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
# Replacement-triggering properties kept as written.
AS_WRITTEN = ("TableName", "KeySchema", "LocalSecondaryIndexes", "ImportSourceSpecification")
DEFAULT_STACK = "<stack-name>"


class Unresolvable(Exception):
    pass


# ---- reading ----------------------------------------------------------------------------


def load_template(source: Path | str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    from cfnlint.decode.cfn_yaml import loads

    path = Path(source)
    return json.loads(json.dumps(loads(path.read_text(encoding="utf-8"), str(path))))


def samconfig_environments(path: Path = SAMCONFIG) -> dict[str, dict[str, str]]:
    """Per samconfig.toml environment: its stack name and parameter overrides."""
    if not path.exists():
        return {}
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    envs = {}
    for env, commands in config.items():
        if not isinstance(commands, dict):
            continue
        values: dict[str, str] = {}
        for command in ("global", "deploy"):
            params = commands.get(command, {}).get("parameters", {})
            if "stack_name" in params:
                values["AWS::StackName"] = params["stack_name"]
            overrides = params.get("parameter_overrides", "")
            if isinstance(overrides, list):
                overrides = " ".join(overrides)
            for item in shlex.split(overrides):
                name, _, value = item.partition("=")
                values[name] = value
        if values:
            envs[env] = values
    return envs


# ---- resolving a table name ---------------------------------------------------------------


def _resolve(value: Any, template: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, list):
        return [_resolve(v, template, params) for v in value]
    if not (isinstance(value, dict) and len(value) == 1):
        raise Unresolvable(json.dumps(value))
    ((fn, arg),) = value.items()
    if fn == "Ref":
        if arg in params:
            return params[arg]
        if arg.startswith("AWS::"):
            return f"<{arg}>"
        raise Unresolvable(f"Ref {arg}")
    if fn == "Fn::Sub":
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        local = {k: _resolve(v, template, params) for k, v in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match[1]
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local:
                return str(local[name])
            return str(_resolve({"Ref": name}, template, params))

        return re.sub(r"\$\{([^}]+)\}", substitute, text)
    if fn == "Fn::If":
        condition, if_true, if_false = arg
        chosen = if_true if _condition(condition, template, params) else if_false
        return _resolve(chosen, template, params)
    if fn == "Fn::Join":
        separator, parts = arg
        return str(separator).join(str(p) for p in _resolve(parts, template, params))
    if fn == "Fn::Select":
        index, items = arg
        return _resolve(items, template, params)[int(_resolve(index, template, params))]
    if fn == "Fn::FindInMap":
        name, top, second = (_resolve(a, template, params) for a in arg[:3])
        return template["Mappings"][name][top][second]
    if fn == "Fn::Equals":
        left, right = (_resolve(a, template, params) for a in arg)
        return str(left) == str(right)
    if fn == "Fn::Not":
        return not _resolve(arg[0], template, params)
    if fn == "Fn::And":
        return all(_resolve(a, template, params) for a in arg)
    if fn == "Fn::Or":
        return any(_resolve(a, template, params) for a in arg)
    if fn == "Condition":
        return _condition(arg, template, params)
    raise Unresolvable(fn)


def _condition(name: str, template: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
    return bool(_resolve(template["Conditions"][name], template, params))


def resolved_names(
    props: Mapping[str, Any], template: Mapping[str, Any], envs: Mapping[str, Mapping[str, str]]
) -> dict[str, str | None]:
    """The table's name with the parameter defaults and in each samconfig.toml environment
    (None: CloudFormation generates a name)."""
    defaults = {
        name: str(definition["Default"])
        for name, definition in template.get("Parameters", {}).items()
        if "Default" in definition
    }
    settings = {"defaults": {"AWS::StackName": DEFAULT_STACK, **defaults}}
    for env, values in envs.items():
        settings[f"samconfig {env}"] = {"AWS::StackName": DEFAULT_STACK, **defaults, **values}
    names: dict[str, str | None] = {}
    for setting, params in settings.items():
        if "TableName" not in props:
            names[setting] = None
            continue
        try:
            names[setting] = str(_resolve(props["TableName"], template, params))
        except (Unresolvable, KeyError, IndexError, ValueError, TypeError) as err:
            names[setting] = f"<unresolvable: {err}>"
    return names


# ---- identity and checks ------------------------------------------------------------------


def table_identity(
    source: Path | str | Mapping[str, Any] = TEMPLATE,
    envs: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Per table logical id: the properties whose change replaces the table."""
    template = load_template(source)
    envs = samconfig_environments() if envs is None else envs
    identity = {}
    for lid, resource in template.get("Resources", {}).items():
        if resource.get("Type") not in TABLE_TYPES:
            continue
        props = resource.get("Properties") or {}
        key_attributes = [k["AttributeName"] for k in props.get("KeySchema", [])]
        for index in props.get("LocalSecondaryIndexes", []):
            key_attributes += [k["AttributeName"] for k in index.get("KeySchema", [])]
        types = {
            a["AttributeName"]: a["AttributeType"]
            for a in props.get("AttributeDefinitions", [])
            if a["AttributeName"] in key_attributes
        }
        entry: dict[str, Any] = {"Type": resource["Type"]}
        entry.update({prop: props.get(prop) for prop in AS_WRITTEN})
        entry["KeyAttributeTypes"] = types
        entry["ResolvedTableName"] = resolved_names(props, template, envs)
        identity[lid] = entry
    return identity


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def replacement_problems(
    snapshot: Mapping[str, Mapping[str, Any]], current: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    problems = []
    how = (
        "If the replacement is intended (a new, empty table, with the data copied over by a "
        f"migration), refresh the snapshot with `{UPDATE_COMMAND}` and commit "
        "tests/data/table-identity.json with the change."
    )
    for table, was in snapshot.items():
        now = current.get(table)
        if now is None:
            problems.append(
                f"table {table} is gone from template.yaml (deleted, or its logical id "
                "renamed): CloudFormation would drop it from the stack (kept only by "
                "DeletionPolicy Retain) and a renamed logical id creates a NEW, EMPTY table "
                f"(or fails on the same TableName); its data would be lost to the stack. {how}"
            )
            continue
        for prop in ("Type", *AS_WRITTEN, "KeyAttributeTypes"):
            if was.get(prop) != now.get(prop):
                problems.append(
                    f"changing {prop} of {table} (was {_show(was.get(prop))}, now "
                    f"{_show(now.get(prop))}) would REPLACE table {table} and lose its data. "
                    f"{how}"
                )
        was_names, now_names = was.get("ResolvedTableName", {}), now.get("ResolvedTableName", {})
        for setting in sorted(set(was_names) & set(now_names)):
            if was_names[setting] != now_names[setting]:
                problems.append(
                    f"the name of table {table} with {setting} changes from "
                    f"{was_names[setting]!r} to {now_names[setting]!r} (a parameter default, "
                    "condition or samconfig.toml override changed): that would REPLACE table "
                    f"{table} and lose its data. {how}"
                )
    return problems


def table_setting_problems(source: Path | str | Mapping[str, Any] = TEMPLATE) -> list[str]:
    """Every table survives a delete or replacement (Retain), can be restored to a point in
    time, and bills on demand."""
    problems = []
    for lid, resource in load_template(source).get("Resources", {}).items():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = resource.get("Properties") or {}
        for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
            if resource.get(policy) != "Retain":
                problems.append(f"{lid}: {policy} is {resource.get(policy)!r}, not 'Retain'")
        pitr = (props.get("PointInTimeRecoverySpecification") or {}).get(
            "PointInTimeRecoveryEnabled"
        )
        if pitr not in (True, "true"):
            problems.append(f"{lid}: point-in-time recovery is not enabled")
        if props.get("BillingMode") != "PAY_PER_REQUEST":
            problems.append(
                f"{lid}: BillingMode is {props.get('BillingMode')!r}, not PAY_PER_REQUEST"
            )
    return problems


def read_snapshot(path: Path = SNAPSHOT) -> dict[str, dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["tables"]


def write_snapshot(path: Path = SNAPSHOT) -> dict[str, dict[str, Any]]:
    identity = table_identity()
    document = {
        "_about": (
            "Properties whose change makes CloudFormation REPLACE a DynamoDB table (new, empty "
            "table). Checked by tests/integration/test_template_upgrade.py; refresh only for a "
            f"deliberate replacement: {UPDATE_COMMAND}"
        ),
        "tables": identity,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return identity


# ---- tests --------------------------------------------------------------------------------


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"  - {line}" for line in lines)


def test_no_table_would_be_replaced() -> None:
    if not SNAPSHOT.exists():
        pytest.fail(f"{SNAPSHOT.relative_to(ROOT)} is missing; create it with `{UPDATE_COMMAND}`")
    snapshot, current = read_snapshot(), table_identity()
    problems = replacement_problems(snapshot, current)
    if problems:
        pytest.fail("template.yaml would replace data tables:\n" + _bullets(problems), False)
    unprotected = sorted(set(current) - set(snapshot))
    if unprotected:
        warnings.warn(
            f"tables not in the snapshot yet (not protected): {', '.join(unprotected)}; "
            f"add them with `{UPDATE_COMMAND}`",
            stacklevel=1,
        )


def test_tables_are_retained_recoverable_and_on_demand() -> None:
    problems = table_setting_problems()
    if problems:
        pytest.fail("table settings:\n" + _bullets(problems), False)


def test_snapshot_names_every_table() -> None:
    assert set(read_snapshot()) == set(table_identity()), f"refresh with `{UPDATE_COMMAND}`"


# ---- the checker itself, on mutated copies ------------------------------------------------


@pytest.fixture
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def _problems(template: dict[str, Any], tmp_path: Path) -> list[str]:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    return replacement_problems(read_snapshot(), table_identity(path))


def test_checker_catches_a_changed_key_schema(template: dict[str, Any], tmp_path: Path) -> None:
    props = template["Resources"]["ArticlesTable"]["Properties"]
    props["KeySchema"] = [
        {"AttributeName": "slug", "KeyType": "HASH"},
        {"AttributeName": "published_at", "KeyType": "RANGE"},
    ]
    problems = _problems(template, tmp_path)
    assert len(problems) == 2, problems  # the key schema and a new key attribute's type
    assert "changing KeySchema of ArticlesTable" in problems[0]
    assert "would REPLACE table ArticlesTable and lose its data" in problems[0]
    assert UPDATE_COMMAND in problems[0]


def test_checker_catches_a_changed_key_type(template: dict[str, Any], tmp_path: Path) -> None:
    props = template["Resources"]["CountersTable"]["Properties"]
    props["AttributeDefinitions"] = [{"AttributeName": "id", "AttributeType": "N"}]
    problems = _problems(template, tmp_path)
    assert len(problems) == 1 and "changing KeyAttributeTypes of CountersTable" in problems[0]


def test_checker_catches_a_changed_table_name(template: dict[str, Any], tmp_path: Path) -> None:
    props = template["Resources"]["ConnectionsTable"]["Properties"]
    props["TableName"] = {"Fn::Sub": "${AWS::StackName}-${Stage}-connections"}
    problems = _problems(template, tmp_path)
    assert any("changing TableName of ConnectionsTable" in p for p in problems), problems
    assert any("name of table ConnectionsTable with defaults" in p for p in problems), problems


def test_checker_catches_a_changed_name_default(template: dict[str, Any], tmp_path: Path) -> None:
    template["Parameters"]["TablePrefix"]["Default"] = "news"
    problems = _problems(template, tmp_path)
    assert all("the name of table" in p for p in problems), problems
    for table, suffix in [("ArticlesTable", "articles"), ("CountersTable", "counters")]:
        change = f"{table} with defaults changes from '<stack-name>-{suffix}' to 'news-{suffix}'"
        assert any(change in p for p in problems), problems


def test_checker_catches_a_removed_or_renamed_table(
    template: dict[str, Any], tmp_path: Path
) -> None:
    resources = template["Resources"]
    resources["ArticleTable"] = resources.pop("ArticlesTable")
    problems = _problems(template, tmp_path)
    assert len(problems) == 1 and "table ArticlesTable is gone" in problems[0]


def test_checker_allows_a_new_gsi_and_a_new_table(template: dict[str, Any], tmp_path: Path) -> None:
    counters = template["Resources"]["CountersTable"]
    counters["Properties"]["AttributeDefinitions"].append(
        {"AttributeName": "kind", "AttributeType": "S"}
    )
    counters["Properties"]["GlobalSecondaryIndexes"] = [
        {
            "IndexName": "by-kind",
            "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ]
    template["Resources"]["AuditTable"] = copy.deepcopy(counters)
    assert _problems(template, tmp_path) == []


def test_checker_catches_unsafe_settings(template: dict[str, Any]) -> None:
    articles = template["Resources"]["ArticlesTable"]
    del articles["UpdateReplacePolicy"]
    articles["DeletionPolicy"] = "Delete"
    articles["Properties"]["BillingMode"] = "PROVISIONED"
    del template["Resources"]["CountersTable"]["Properties"]["PointInTimeRecoverySpecification"]
    assert table_setting_problems(template) == [
        "ArticlesTable: DeletionPolicy is 'Delete', not 'Retain'",
        "ArticlesTable: UpdateReplacePolicy is None, not 'Retain'",
        "ArticlesTable: BillingMode is 'PROVISIONED', not PAY_PER_REQUEST",
        "CountersTable: point-in-time recovery is not enabled",
    ]


def main(argv: list[str]) -> int:
    if argv == ["--update"]:
        identity = write_snapshot()
        print(f"wrote {SNAPSHOT.relative_to(ROOT)}: {', '.join(sorted(identity))}")
        return 0
    if argv:
        print(f"usage: {UPDATE_COMMAND}   (no argument: check only)", file=sys.stderr)
        return 2
    problems = replacement_problems(read_snapshot(), table_identity())
    print(_bullets(problems) if problems else "no table would be replaced")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
