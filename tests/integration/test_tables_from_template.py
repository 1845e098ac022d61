"""Tables created from template.yaml have the template's keys, indexes and TTL, on moto and on
DynamoDB Local; creating them twice changes nothing."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cfnlint.decode.cfn_yaml import loads as cfn_loads

from local import tables

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def template_tables() -> dict[str, dict[str, Any]]:
    """The table resources as cfn-lint reads them: an independent parser as the oracle."""
    template = cfn_loads(TEMPLATE.read_text(encoding="utf-8"), str(TEMPLATE))
    return {
        lid: dict(res["Properties"])
        for lid, res in template["Resources"].items()
        if res["Type"] == "AWS::DynamoDB::Table"
    }


def template_table_env() -> dict[str, str]:
    template = cfn_loads(TEMPLATE.read_text(encoding="utf-8"), str(TEMPLATE))
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    return {
        str(value["Ref"]): str(name)
        for name, value in variables.items()
        if isinstance(value, dict) and value.get("Ref") in template_tables()
    }


def _keys(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in schema]


def assert_tables_match_template(client: Any, names: dict[str, str]) -> None:
    env_of = template_table_env()
    assert set(env_of) == set(template_tables()), "every table is handed to the functions"
    assert set(names) == set(env_of.values())
    for logical_id, props in template_tables().items():
        name = names[env_of[logical_id]]
        suffix = props["TableName"]["Fn::Sub"][0].split("}-", 1)[1]
        assert name.endswith(f"-{suffix}")
        table = client.describe_table(TableName=name)["Table"]
        assert table["TableStatus"] == "ACTIVE"
        assert _keys(table["KeySchema"]) == _keys(props["KeySchema"])
        attrs = {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]}
        assert attrs == {
            (a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]
        }
        billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
        assert billing == props.get("BillingMode", "PROVISIONED")

        want_gsis = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
        got_gsis = {g["IndexName"]: g for g in table.get("GlobalSecondaryIndexes", [])}
        assert set(got_gsis) == set(want_gsis)
        for index, want in want_gsis.items():
            got = got_gsis[index]
            assert _keys(got["KeySchema"]) == _keys(want["KeySchema"])
            assert got["Projection"]["ProjectionType"] == want["Projection"]["ProjectionType"]
            assert sorted(got["Projection"].get("NonKeyAttributes", [])) == sorted(
                want["Projection"].get("NonKeyAttributes", [])
            )

        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        want_ttl = props.get("TimeToLiveSpecification")
        if want_ttl and want_ttl.get("Enabled"):
            assert ttl["TimeToLiveStatus"] in ("ENABLED", "ENABLING")
            assert ttl["AttributeName"] == want_ttl["AttributeName"]
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED"


def test_the_template_has_the_expected_tables() -> None:
    """Guards the oracle itself: an empty template would make the checks below vacuous."""
    assert set(template_tables()) == {"ArticlesTable", "CountersTable", "ConnectionsTable"}
    assert tables.env_var_for("ArticlesTable") == "ARTICLES_TABLE"
    assert {lid: tables.env_var_for(lid) for lid in template_tables()} == template_table_env()


def test_specs_follow_the_template() -> None:
    specs = tables.table_specs()
    assert set(specs) == set(template_tables())
    for logical_id, props in template_tables().items():
        spec = specs[logical_id]
        kwargs = spec["create_kwargs"]
        assert _keys(kwargs["KeySchema"]) == _keys(props["KeySchema"])
        assert kwargs["BillingMode"] == props["BillingMode"]
        assert len(kwargs.get("GlobalSecondaryIndexes", [])) == len(
            props.get("GlobalSecondaryIndexes", [])
        )
        ttl = props.get("TimeToLiveSpecification", {})
        assert spec["ttl_attribute"] == (ttl.get("AttributeName") if ttl.get("Enabled") else None)
    assert specs["ArticlesTable"]["suffix"] == "articles"


@pytest.mark.parametrize("fixture", ["moto_tables", "ddb_local_tables"])
def test_tables_have_the_templates_keys_indexes_and_ttl(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    names: dict[str, str] = request.getfixturevalue(fixture)
    client = boto3.client("dynamodb")  # env from the fixture: endpoint (or moto), region, creds
    assert_tables_match_template(client, names)
    for var, name in names.items():  # the fixture points the package at them
        assert os.environ[var] == name


@pytest.mark.parametrize("fixture", ["moto_tables", "ddb_local_tables"])
def test_second_create_is_a_no_op(fixture: str, request: pytest.FixtureRequest) -> None:
    names: dict[str, str] = request.getfixturevalue(fixture)
    client = boto3.client("dynamodb")
    articles = names["ARTICLES_TABLE"]
    client.put_item(TableName=articles, Item={"slug": {"S": "kept"}})
    prefix = articles.removesuffix("-articles")

    def mine() -> list[str]:  # DynamoDB Local is shared with other workers' tests
        return sorted(t for t in client.list_tables()["TableNames"] if t.startswith(prefix))

    before = mine()
    assert tables.create_tables(client, prefix) == names

    assert mine() == before == sorted(names.values())
    assert "Item" in client.get_item(TableName=articles, Key={"slug": {"S": "kept"}})
    assert_tables_match_template(client, names)


def test_fixture_settings_point_at_the_tables(ddb_local_tables: dict[str, str]) -> None:
    from newsdesk.config import settings

    assert settings().articles_table == ddb_local_tables["ARTICLES_TABLE"]
    assert settings().counters_table == ddb_local_tables["COUNTERS_TABLE"]
    assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"].startswith("http://127.0.0.1:")


def test_moto_fixture_has_no_endpoint(moto_tables: dict[str, str]) -> None:
    assert "AWS_ENDPOINT_URL_DYNAMODB" not in os.environ
    assert set(moto_tables) == set(template_table_env().values())


SMALL_TEMPLATE = """\
Globals:
  Function:
    Environment:
      Variables:
        THINGS: !Ref ThingsTable
        PLAIN: hello
        FROM_PARAM: !Ref Color
        UNRESOLVED: !GetAtt ThingsTable.Arn
Parameters:
  Color: {Type: String, Default: blue}
Resources:
  ThingsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-things"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: N}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
      TimeToLiveSpecification: {AttributeName: gone_at, Enabled: false}
  OrphanTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
"""


def test_other_template_shapes(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(SMALL_TEMPLATE)
    specs = tables.table_specs(template)
    assert specs["ThingsTable"]["suffix"] == "things"
    assert specs["ThingsTable"]["ttl_attribute"] is None  # Enabled: false
    assert _keys(specs["ThingsTable"]["create_kwargs"]["KeySchema"]) == [
        ("pk", "HASH"),
        ("sk", "RANGE"),
    ]
    assert specs["OrphanTable"]["suffix"] == "orphan"
    assert tables.table_env("p", template) == {"THINGS": "p-things"}
    assert tables.function_env("p", template) == {
        "THINGS": "p-things",
        "PLAIN": "hello",
        "FROM_PARAM": "blue",
    }
    with pytest.raises(KeyError, match="OrphanTable"):
        tables.env_var_for("OrphanTable", template)


def test_names_override_and_tables_without_env_var(
    tmp_path: Path, moto_tables: dict[str, str]
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(SMALL_TEMPLATE)
    client = boto3.client("dynamodb")
    got = tables.create_tables(client, "q", template, names={"THINGS": "hand-picked"})
    assert got == {"THINGS": "hand-picked"}
    existing = client.list_tables()["TableNames"]
    assert "hand-picked" in existing and "q-orphan" in existing
    ttl = client.describe_time_to_live(TableName="hand-picked")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "DISABLED"


class NoTtlClient:
    """A DynamoDB endpoint without the TTL API (some emulators)."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def describe_time_to_live(self, **kwargs: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "UnknownOperationException", "Message": "no TTL"}},
            "DescribeTimeToLive",
        )


def test_endpoint_without_ttl_support_gets_a_note(
    moto_tables: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    client = NoTtlClient(boto3.client("dynamodb"))
    with caplog.at_level(logging.WARNING, logger="local.tables"):
        assert tables.create_tables(client, "nottl") == {
            var: f"nottl-{name.rsplit('-', 1)[1]}" for var, name in moto_tables.items()
        }
    assert "TTL on nottl-counters not enabled" in caplog.text


def test_an_existing_table_gets_the_indexes_the_template_added(dynamodb_local: str) -> None:
    """A table created before an index joined the template (an older `make run` database)
    is upgraded in place, keeping its items, as a CloudFormation update would."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    specs = tables.table_specs()
    spec = specs["CountersTable"]
    old = {k: v for k, v in spec["create_kwargs"].items() if k != "GlobalSecondaryIndexes"}
    old["AttributeDefinitions"] = [
        a for a in old["AttributeDefinitions"] if a["AttributeName"] == "id"
    ]
    name = tables.table_name("upgrade", spec)
    client.create_table(TableName=name, **old)
    client.put_item(TableName=name, Item={"id": {"S": "kept"}})
    tables.create_tables(client, "upgrade")
    described = client.describe_table(TableName=name)["Table"]
    wanted = [i["IndexName"] for i in spec["create_kwargs"]["GlobalSecondaryIndexes"]]
    assert [i["IndexName"] for i in described["GlobalSecondaryIndexes"]] == wanted == ["by-kind"]
    assert client.get_item(TableName=name, Key={"id": {"S": "kept"}})["Item"]
