"""DynamoDB tables for local runs and tests, read from template.yaml (the single source of truth).

Nothing here lists keys, indexes or env var names by hand: if the template changes, the local
stack and the tests follow.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypedDict

import yaml
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = ROOT / "template.yaml"
DEFAULT_PREFIX = "newsdesk-local"

log = logging.getLogger(__name__)

# create_table arguments CloudFormation spells the same way as the DynamoDB API.
_SAME_AS_API = (
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
)


class TableSpec(TypedDict):
    """One AWS::DynamoDB::Table of the template, ready for create_table."""

    suffix: str  # "articles" from TableName "${Prefix}-articles"
    create_kwargs: dict[str, Any]  # create_table kwargs without TableName
    ttl_attribute: str | None  # TimeToLiveSpecification.AttributeName when enabled


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags (!Ref, !Sub, ...) into their long form."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(template_path: str | Path = DEFAULT_TEMPLATE) -> dict[str, Any]:
    """Parse a SAM/CloudFormation template, short tags included."""
    path = Path(template_path).resolve()
    return _load(str(path), path.stat().st_mtime_ns)


@cache
def _load(path: str, _mtime_ns: int) -> dict[str, Any]:
    """Parsed once per file version (the key includes the modification time)."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_CfnLoader)  # a SafeLoader subclass
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path} is not a CloudFormation template (no Resources)")
    return data


def _suffix(logical_id: str, table_name: Any) -> str:
    """'articles' from !Sub "${Prefix}-articles" (or the [string, vars] form, or a plain name)."""
    if isinstance(table_name, dict) and "Fn::Sub" in table_name:
        sub = table_name["Fn::Sub"]
        table_name = sub[0] if isinstance(sub, list) else sub
    if isinstance(table_name, str) and table_name:
        return re.sub(r"^\$\{[^}]+\}[-_.]?", "", table_name)
    return logical_id.removesuffix("Table").lower()  # no usable TableName: derive one


def table_specs(template_path: str | Path = DEFAULT_TEMPLATE) -> dict[str, TableSpec]:
    """Logical id -> what create_table needs, for every AWS::DynamoDB::Table in the template."""
    specs: dict[str, TableSpec] = {}
    for logical_id, res in load_template(template_path)["Resources"].items():
        if res.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = res.get("Properties", {})
        kwargs = {k: props[k] for k in _SAME_AS_API if k in props}
        kwargs.setdefault("BillingMode", "PROVISIONED")
        if "StreamSpecification" in props:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        ttl = props.get("TimeToLiveSpecification") or {}
        specs[logical_id] = TableSpec(
            suffix=_suffix(logical_id, props.get("TableName")),
            create_kwargs=kwargs,
            ttl_attribute=ttl.get("AttributeName") if ttl.get("Enabled") else None,
        )
    return specs


def _function_env(template: dict[str, Any]) -> dict[str, Any]:
    return (
        template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        or {}
    )


def env_var_for(logical_id: str, template_path: str | Path = DEFAULT_TEMPLATE) -> str:
    """The function env var that holds this table's name (ARTICLES_TABLE: !Ref ArticlesTable)."""
    for name, value in _function_env(load_template(template_path)).items():
        if value == {"Ref": logical_id}:
            return str(name)
    raise KeyError(f"no Globals.Function.Environment variable is !Ref {logical_id}")


def table_name(prefix: str, spec: TableSpec) -> str:
    """The deployed naming scheme: '<prefix>-<suffix>'."""
    return f"{prefix}-{spec['suffix']}"


def table_env(
    prefix: str = DEFAULT_PREFIX, template_path: str | Path = DEFAULT_TEMPLATE
) -> dict[str, str]:
    """Env var -> table name for every table a function gets through Globals (no AWS calls)."""
    env: dict[str, str] = {}
    for logical_id, spec in table_specs(template_path).items():
        try:
            env[env_var_for(logical_id, template_path)] = table_name(prefix, spec)
        except KeyError:
            continue  # a table no function is told about
    return env


def function_env(
    prefix: str = DEFAULT_PREFIX, template_path: str | Path = DEFAULT_TEMPLATE
) -> dict[str, str]:
    """Globals.Function.Environment as Lambda would see it: tables named with prefix,
    !Ref Parameter resolved to the parameter's Default. Variables that cannot be resolved
    locally are left out."""
    template = load_template(template_path)
    params = template.get("Parameters", {})
    tables = table_env(prefix, template_path)
    env: dict[str, str] = {}
    for name, value in _function_env(template).items():
        if name in tables:
            env[name] = tables[name]
        elif isinstance(value, str | int | float | bool):
            env[name] = str(value).lower() if isinstance(value, bool) else str(value)
        elif isinstance(value, dict) and "Default" in params.get(value.get("Ref"), {}):
            env[name] = str(params[value["Ref"]]["Default"])
    return env


def _is_code(err: ClientError, *codes: str) -> bool:
    return err.response.get("Error", {}).get("Code") in codes


def _enable_ttl(client: Any, name: str, attribute: str) -> None:
    """Turn TTL on unless it already is; an endpoint without TTL support only gets a note."""
    try:
        desc = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if desc.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": attribute, "Enabled": True},
        )
    except ClientError as err:
        log.warning("TTL on %s not enabled (%s); expired items will stay", name, err)


def _add_missing_indexes(client: Any, name: str, spec: TableSpec) -> None:
    """Add to an existing table the global secondary indexes the template has and it lacks."""
    kwargs = spec["create_kwargs"]
    table = client.describe_table(TableName=name)["Table"]
    have = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    for index in kwargs.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in have:
            continue
        keys = {k["AttributeName"] for k in index["KeySchema"]}
        client.update_table(
            TableName=name,
            AttributeDefinitions=[
                a for a in kwargs["AttributeDefinitions"] if a["AttributeName"] in keys
            ],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        log.info("added index %s to table %s", index["IndexName"], name)
        for _ in range(120):  # wait until the new index is ACTIVE (backfilled)
            indexes = client.describe_table(TableName=name)["Table"].get(
                "GlobalSecondaryIndexes", []
            )
            if all(i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes):
                break
            time.sleep(0.5)


def create_tables(
    client: Any,
    prefix: str = DEFAULT_PREFIX,
    template_path: str | Path = DEFAULT_TEMPLATE,
    names: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Create the template's tables as '<prefix>-<suffix>', wait until ACTIVE, enable TTL
    where the template does. An existing table is kept with its data and gets the indexes
    the template added since (as a CloudFormation update would). Returns env var -> name.

    names (env var -> table name) overrides the prefix naming, e.g. ARTICLES_TABLE set by hand.
    """
    names = names or {}
    wanted: dict[str, TableSpec] = {}
    env: dict[str, str] = {}
    for logical_id, spec in table_specs(template_path).items():
        try:
            var: str | None = env_var_for(logical_id, template_path)
        except KeyError:
            var = None
        name = names.get(var or "") or table_name(prefix, spec)
        wanted[name] = spec
        if var:
            env[var] = name
    for name, spec in wanted.items():
        try:
            client.create_table(TableName=name, **spec["create_kwargs"])
            log.info("created table %s", name)
        except ClientError as err:
            if not _is_code(err, "ResourceInUseException"):
                raise
            _add_missing_indexes(client, name, spec)
    waiter = client.get_waiter("table_exists")
    for name, spec in wanted.items():
        waiter.wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        if spec["ttl_attribute"]:
            _enable_ttl(client, name, spec["ttl_attribute"])
    return env
