"""The DynamoDB behaviours AWS documents and DynamoDB Local skips, produced by tests/faultproxy.py.

For each behaviour, one test shows DynamoDB Local alone does not produce it and one shows the
proxy does, shaped as AWS sends it and parsed by botocore into the modeled exception class or
response member. Raw boto3 clients with retries off, so the SDK hides nothing. No test sleeps
across a window: races are synchronised with the proxy's hold, time-based limits use a manual
clock; the one wait is for DynamoDB Local's own TTL sweeper (see the TTL test).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from newsdesk import counters

from tests.faultproxy import (
    CONFLICT_MESSAGE,
    KEY_RANGE_WRITE_REASON,
    ON_DEMAND_THROTTLE_MESSAGE,
    PROVISIONED_THROTTLE_MESSAGE,
    FaultProxy,
    ManualClock,
    item_size,
    write_units,
)

REGION = "us-east-1"


def raw_client(endpoint: str) -> Any:
    """A boto3 DynamoDB client that makes exactly one attempt (no SDK retry hides an answer)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(retries={"total_max_attempts": 1}, max_pool_connections=16),
    )


def code_of(err: Any) -> str:
    return str(err.response["Error"]["Code"])


def counter_key(name: str) -> dict[str, Any]:
    return {"id": {"S": name}}


def add_one(table: str, name: str) -> dict[str, Any]:
    return {
        "TableName": table,
        "Key": counter_key(name),
        "UpdateExpression": "ADD n :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }


def n_of(client: Any, table: str, name: str) -> int | None:
    item = client.get_item(TableName=table, Key=counter_key(name), ConsistentRead=True).get("Item")
    return int(item["n"]["N"]) if item and "n" in item else None


def kb_item(name: str, kilobytes: int) -> dict[str, Any]:
    """An item of exactly `kilobytes` KB as DynamoDB sizes it (names + UTF-8 values)."""
    pad = kilobytes * 1024 - len("id") - len(name) - len("pad")
    return {"id": {"S": name}, "pad": {"S": "x" * pad}}


class Background:
    """Run one call on a thread; keep its result or exception."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.result = call()
            except BaseException as err:  # handed back to the test
                self.error = err

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self) -> Any:
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the background call never ended"
        if self.error is not None:
            raise self.error
        return self.result


# -- a. transaction conflicts ------------------------------------------------------------


def test_dynamodb_local_alone_never_answers_a_transaction_conflict(
    ddb_local_tables: dict[str, str], dynamodb_local: str
) -> None:
    """4 threads race UpdateItem against TransactWriteItems on one item: on AWS some would get
    TransactionConflictException / TransactionCanceledException; DynamoDB Local serialises them
    all (1,200 such racing calls gave 0 conflicts when this was measured)."""
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_local)
    errors: list[str] = []

    def transactions() -> None:
        for _ in range(25):
            try:
                client.transact_write_items(
                    TransactItems=[
                        {"Update": add_one(table, "hot")},
                        {"Update": add_one(table, "b")},
                    ]
                )
            except client.exceptions.ClientError as err:
                errors.append(code_of(err))

    def updates() -> None:
        for _ in range(25):
            try:
                client.update_item(**add_one(table, "hot"))
            except client.exceptions.ClientError as err:
                errors.append(code_of(err))

    threads = [threading.Thread(target=f) for f in (transactions, transactions, updates, updates)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert n_of(client, table, "hot") == 100


@pytest.mark.parametrize("operation", ["UpdateItem", "PutItem", "DeleteItem"])
def test_single_write_to_an_item_a_transaction_holds_gets_transaction_conflict(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str], operation: str
) -> None:
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_proxy.endpoint)
    client.put_item(TableName=table, Item={**counter_key("hot"), "n": {"N": "10"}})
    race = dynamodb_proxy.conflicts(table_suffix="-counters", hold=20.0)

    transaction = Background(
        lambda: client.transact_write_items(
            TransactItems=[{"Update": add_one(table, "hot")}, {"Update": add_one(table, "other")}]
        )
    )
    assert race.wait_holding(timeout=10), "the transaction never reached the proxy"
    assert race.held_items() == [(table, counter_key("hot")), (table, counter_key("other"))]
    single: dict[str, Callable[[], Any]] = {
        "UpdateItem": lambda: client.update_item(**add_one(table, "hot")),
        "PutItem": lambda: client.put_item(
            TableName=table, Item={**counter_key("hot"), "n": {"N": "0"}}
        ),
        "DeleteItem": lambda: client.delete_item(TableName=table, Key=counter_key("hot")),
    }
    with pytest.raises(client.exceptions.TransactionConflictException) as caught:
        single[operation]()
    race.release()
    transaction.join()

    answer = caught.value.response
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert answer["Error"] == {"Code": "TransactionConflictException", "Message": CONFLICT_MESSAGE}
    assert n_of(client, table, "hot") == 11  # the transaction's write, not the rejected one
    assert race.conflicts == 1
    assert race.held_items() == []  # released once the transaction was answered
    client.update_item(**add_one(table, "hot"))  # no transaction in flight: accepted
    assert n_of(client, table, "hot") == 12


def test_transaction_meeting_a_held_transaction_is_cancelled_at_that_items_index(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str]
) -> None:
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_proxy.endpoint)
    race = dynamodb_proxy.conflicts(table_suffix="-counters", hold=20.0)
    first = Background(
        lambda: client.transact_write_items(TransactItems=[{"Update": add_one(table, "shared")}])
    )
    assert race.wait_holding(timeout=10)
    with pytest.raises(client.exceptions.TransactionCanceledException) as caught:
        client.transact_write_items(
            TransactItems=[
                {"Update": add_one(table, "free")},
                {"Update": add_one(table, "shared")},
                {"ConditionCheck": {**counter_key_check(table, "absent")}},
            ]
        )
    race.release()
    first.join()

    answer = caught.value.response
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert answer["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
        {"Code": "None"},
    ]
    assert answer["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, TransactionConflict, None]"
    )
    assert n_of(client, table, "shared") == 1  # only the first transaction wrote
    assert n_of(client, table, "free") is None  # all or nothing: the cancelled one wrote nothing


def counter_key_check(table: str, name: str) -> dict[str, Any]:
    return {
        "TableName": table,
        "Key": counter_key(name),
        "ConditionExpression": "attribute_not_exists(id)",
    }


def test_transaction_meeting_a_single_write_in_flight_is_cancelled(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str]
) -> None:
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_proxy.endpoint)
    race = dynamodb_proxy.conflicts(table_suffix="-counters", hold_writes=20.0)
    write = Background(lambda: client.update_item(**add_one(table, "shared")))
    assert race.wait_holding(timeout=10)
    with pytest.raises(client.exceptions.TransactionCanceledException) as caught:
        client.transact_write_items(TransactItems=[{"Update": add_one(table, "shared")}])
    race.release()
    write.join()
    assert caught.value.response["CancellationReasons"] == [
        {"Code": "TransactionConflict", "Message": CONFLICT_MESSAGE}
    ]
    assert n_of(client, table, "shared") == 1


def test_scripted_conflicts_hit_exactly_the_chosen_calls(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str]
) -> None:
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_proxy.endpoint)
    dynamodb_proxy.conflict_on("UpdateItem", "-counters", calls={2, 3})
    outcomes = []
    for _ in range(4):
        try:
            client.update_item(**add_one(table, "c"))
            outcomes.append("ok")
        except client.exceptions.TransactionConflictException:
            outcomes.append("conflict")
    assert outcomes == ["ok", "conflict", "conflict", "ok"]
    assert n_of(client, table, "c") == 2  # the conflicting calls never reached DynamoDB Local

    dynamodb_proxy.conflict_on("TransactWriteItems", first=1, item_index=1)
    items = [{"Update": add_one(table, "x")}, {"Update": add_one(table, "y")}]
    with pytest.raises(client.exceptions.TransactionCanceledException) as caught:
        client.transact_write_items(TransactItems=items)
    assert [r["Code"] for r in caught.value.response["CancellationReasons"]] == [
        "None",
        "TransactionConflict",
    ]
    client.transact_write_items(TransactItems=items)  # the second call is not chosen
    assert (n_of(client, table, "x"), n_of(client, table, "y")) == (1, 1)


# -- b. unprocessed batch keys -----------------------------------------------------------


def fill(client: Any, table: str, count: int) -> list[dict[str, Any]]:
    items = [{**counter_key(f"k{i:03d}"), "n": {"N": str(i)}} for i in range(count)]
    for start in range(0, count, 25):
        answer = client.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": it}} for it in items[start : start + 25]]}
        )
        assert answer["UnprocessedItems"] == {}
    return items


def test_dynamodb_local_alone_processes_every_batch_key(
    ddb_local_tables: dict[str, str], dynamodb_local: str
) -> None:
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_local)
    items = fill(client, table, 100)  # 4 BatchWriteItem calls, nothing left unprocessed
    answer = client.batch_get_item(
        RequestItems={table: {"Keys": [counter_key(i["id"]["S"]) for i in items]}}
    )
    assert len(answer["Responses"][table]) == 100
    assert answer["UnprocessedKeys"] == {}


def test_batch_get_through_the_proxy_leaves_a_seeded_share_unprocessed(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str], dynamodb_local: str
) -> None:
    table = ddb_local_tables["COUNTERS_TABLE"]
    fill(raw_client(dynamodb_local), table, 100)
    client = raw_client(dynamodb_proxy.endpoint)
    request = {
        table: {
            "Keys": [counter_key(f"k{i:03d}") for i in range(100)],
            "ProjectionExpression": "#i, n",
            "ExpressionAttributeNames": {"#i": "id"},
            "ConsistentRead": True,
        }
    }
    rule = dynamodb_proxy.unprocessed("BatchGetItem", share=0.5, seed=1, table_suffix="-counters")
    answer = client.batch_get_item(RequestItems=request)

    got = {item["id"]["S"] for item in answer["Responses"][table]}
    left = answer["UnprocessedKeys"][table]
    left_ids = {key["id"]["S"] for key in left["Keys"]}
    assert len(got) == len(left_ids) == 50
    assert got | left_ids == {f"k{i:03d}" for i in range(100)} and not got & left_ids
    # Same shape as RequestItems, the request's options carried over (model: KeysAndAttributes).
    assert {k: v for k, v in left.items() if k != "Keys"} == {
        "ProjectionExpression": "#i, n",
        "ExpressionAttributeNames": {"#i": "id"},
        "ConsistentRead": True,
    }
    assert all(set(item) == {"id", "n"} for item in answer["Responses"][table])
    # Only the processed half reached DynamoDB Local; a retry of UnprocessedKeys gets the rest.
    rule.remove()
    retry = client.batch_get_item(RequestItems=answer["UnprocessedKeys"])
    assert {i["id"]["S"] for i in retry["Responses"][table]} == left_ids
    assert retry["UnprocessedKeys"] == {}
    # Deterministic: the same seed leaves the same keys unprocessed.
    dynamodb_proxy.unprocessed("BatchGetItem", share=0.5, seed=1)
    again = client.batch_get_item(RequestItems=request)
    assert {key["id"]["S"] for key in again["UnprocessedKeys"][table]["Keys"]} == left_ids


def test_batch_write_through_the_proxy_leaves_every_kth_item_unprocessed(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str], dynamodb_local: str
) -> None:
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_proxy.endpoint)
    requests = [
        {"PutRequest": {"Item": {**counter_key(f"w{i:02d}"), "n": {"N": "1"}}}} for i in range(25)
    ]
    dynamodb_proxy.unprocessed("BatchWriteItem", every=5)
    answer = client.batch_write_item(RequestItems={table: requests})

    assert answer["UnprocessedItems"] == {table: [requests[i] for i in (4, 9, 14, 19, 24)]}
    direct = raw_client(dynamodb_local)
    stored = {
        f"w{i:02d}": "Item" in direct.get_item(TableName=table, Key=counter_key(f"w{i:02d}"))
        for i in range(25)
    }
    assert [name for name, present in stored.items() if not present] == [
        "w04",
        "w09",
        "w14",
        "w19",
        "w24",
    ]


# -- c. per-partition write limit --------------------------------------------------------


def test_dynamodb_local_alone_accepts_2000_write_units_to_one_key_at_once(
    ddb_local_tables: dict[str, str], dynamodb_local: str
) -> None:
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_local)
    item = kb_item("hot", 100)
    assert write_units(item_size(item)) == 100
    for _ in range(20):  # 2,000 WCU on one partition key, twice AWS's 1,000 per second
        client.put_item(TableName=table, Item=item)
    assert "Item" in client.get_item(TableName=table, Key=counter_key("hot"))


def test_writes_past_1000_units_per_second_on_one_key_are_throttled(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str]
) -> None:
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_proxy.endpoint)
    clock = ManualClock()
    limit = dynamodb_proxy.partition_limit(clock=clock, table_suffix="-counters")
    item = kb_item("hot", 100)  # 100 WCU

    for _ in range(10):  # 1,000 WCU within the same instant: all fit
        client.put_item(TableName=table, Item=item)
    with pytest.raises(client.exceptions.ThrottlingException) as caught:
        client.put_item(TableName=table, Item=item)
    answer = caught.value.response
    info = dynamodb_proxy.table_info(table)
    assert info is not None and info.on_demand  # the template's tables are PAY_PER_REQUEST
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert answer["Error"] == {"Code": "ThrottlingException", "Message": ON_DEMAND_THROTTLE_MESSAGE}
    assert answer["throttlingReasons"] == [{"reason": KEY_RANGE_WRITE_REASON, "resource": info.arn}]
    client.put_item(TableName=table, Item=kb_item("cold", 100))  # another key: its own limit

    clock.advance(0.1)  # 100 WCU come back in a tenth of a second
    client.put_item(TableName=table, Item=item)
    with pytest.raises(client.exceptions.ThrottlingException):
        client.put_item(TableName=table, Item=item)

    clock.advance(1.0)  # a transaction counts twice: 5 x 200 WCU fit, the 6th does not
    put = {"Put": {"TableName": table, "Item": item}}
    for _ in range(5):
        client.transact_write_items(TransactItems=[put])
    with pytest.raises(client.exceptions.TransactionCanceledException) as cancelled:
        client.transact_write_items(TransactItems=[{"Update": add_one(table, "elsewhere")}, put])
    assert cancelled.value.response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ThrottlingError", "Message": ON_DEMAND_THROTTLE_MESSAGE},
    ]
    assert limit.throttled == 3
    assert n_of(client, table, "elsewhere") is None  # the cancelled transaction wrote nothing


def test_partition_limit_on_a_provisioned_table_and_in_a_batch(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str]
) -> None:
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_proxy.endpoint)
    clock = ManualClock()
    dynamodb_proxy.partition_limit(
        wcu_per_second=300, clock=clock, error="ProvisionedThroughputExceededException"
    )
    for _ in range(3):
        client.put_item(TableName=table, Item=kb_item("hot", 100))
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException) as caught:
        client.update_item(**add_one(table, "hot"))
    answer = caught.value.response
    assert answer["Error"]["Message"] == PROVISIONED_THROTTLE_MESSAGE
    assert answer["ThrottlingReasons"][0]["reason"] == KEY_RANGE_WRITE_REASON

    # BatchWriteItem: the item on the hot key comes back unprocessed, the others are written.
    writes = [
        {"PutRequest": {"Item": {**counter_key("a"), "n": {"N": "1"}}}},
        {"PutRequest": {"Item": {**counter_key("hot"), "n": {"N": "1"}}}},
        {"DeleteRequest": {"Key": counter_key("b")}},
    ]
    partial = client.batch_write_item(RequestItems={table: writes})
    assert partial["UnprocessedItems"] == {table: [writes[1]]}
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException):
        client.batch_write_item(RequestItems={table: [writes[1]]})  # none written: an error
    clock.advance(1.0)
    assert client.batch_write_item(RequestItems={table: [writes[1]]})["UnprocessedItems"] == {}


# -- d. latency ----------------------------------------------------------------------------


def test_without_a_latency_rule_requests_go_straight_through(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str]
) -> None:
    """DynamoDB Local on loopback answers in well under a region's few milliseconds; the proxy
    adds nothing unless asked (a timing assertion on the emulator itself would be flaky)."""
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_proxy.endpoint)
    for _ in range(5):
        client.get_item(TableName=table, Key=counter_key("x"))
    assert [s.delay for s in dynamodb_proxy.requests()] == [0.0] * 5
    # The fixture routes the newsdesk package through the proxy too.
    assert counters.count_view("a-slug") == counters.views_of(["a-slug"])["a-slug"] == 1
    assert dynamodb_proxy.seen("UpdateItem", "-counters") == 1


def test_latency_adds_a_seeded_jittered_delay_to_matching_forwarded_requests(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str]
) -> None:
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_proxy.endpoint)
    waited: list[float] = []
    rule = dynamodb_proxy.latency(0.004, 0.002, seed=7, operation="GetItem", sleep=waited.append)
    for _ in range(20):
        client.get_item(TableName=table, Key=counter_key("x"))
    client.update_item(**add_one(table, "x"))  # another operation: not delayed

    assert waited == rule.delays and len(waited) == 20
    assert all(0.002 <= d <= 0.006 for d in waited) and len(set(waited)) == 20  # jitter
    assert [s.delay for s in dynamodb_proxy.requests()] == [*waited, 0.0]
    other = FaultProxy("http://127.0.0.1:9").latency(0.004, 0.002, seed=7)  # never started
    assert [other.draw() for _ in range(20)] == waited  # reproducible from the seed
    rule.remove()


# -- e. TTL ----------------------------------------------------------------------------------


def presence_item(visitor: str, expired: str) -> dict[str, Any]:
    """A connections item as newsdesk.presence writes it, expired an hour ago."""
    return {
        "visitor": {"S": visitor},
        "shard": {"S": "0"},
        "last_seen": {"N": expired},
        "expires_at": {"N": expired},
    }


def wait_until_swept(client: Any, table: str, visitor: str) -> None:
    """Poll until DynamoDB Local's own TTL sweeper has deleted the item (it ran within about a
    second in every measurement with this table shape); this waits for the emulator's background
    job, it asserts no time window: the deadline only stops a run that would hang)."""
    deadline = time.monotonic() + 90
    while "Item" in client.get_item(TableName=table, Key={"visitor": {"S": visitor}}):
        assert time.monotonic() < deadline, "DynamoDB Local never swept the expired item"
        time.sleep(0.1)


def an_hour_ago() -> str:
    return str(int(time.time()) - 3600)  # AWS and DynamoDB Local skip epochs > 5 years old


def test_dynamodb_local_alone_deletes_expired_items_within_seconds(
    ddb_local_tables: dict[str, str], dynamodb_local: str
) -> None:
    """AWS "typically deletes expired items within two days" (API Reference, UpdateTimeToLive);
    DynamoDB Local's sweeper removes them while a test runs."""
    table = ddb_local_tables["CONNECTIONS_TABLE"]
    direct = raw_client(dynamodb_local)
    assert direct.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }
    direct.put_item(TableName=table, Item=presence_item("gone", an_hour_ago()))
    wait_until_swept(direct, table, "gone")


def test_expired_items_stay_readable_through_the_proxy_as_on_aws(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str], dynamodb_local: str
) -> None:
    """Expired items "still show up in reads, queries, and scans" until AWS deletes them. Through
    the proxy TTL is off in DynamoDB Local itself, so its sweeper cannot delete anything: the
    test needs no waiting for it, and the caller still sees TTL on as the template sets it."""
    table = ddb_local_tables["CONNECTIONS_TABLE"]
    direct = raw_client(dynamodb_local)
    client = raw_client(dynamodb_proxy.endpoint)
    ttl = dynamodb_proxy.lazy_ttl(table_suffix="-connections")
    expired = an_hour_ago()
    client.put_item(TableName=table, Item=presence_item("kept", expired))
    assert direct.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }

    got = client.get_item(TableName=table, Key={"visitor": {"S": "kept"}}, ConsistentRead=True)
    assert got["Item"]["expires_at"] == {"N": expired}  # still readable, as on AWS
    scanned = client.scan(TableName=table)["Items"]
    assert [i["visitor"]["S"] for i in scanned] == ["kept"]
    assert client.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }
    assert ttl.attribute(table) == "expires_at"
    ttl.remove()  # TTL back on upstream, as the fixture made it
    assert direct.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }


def test_update_time_to_live_is_answered_by_the_proxy_as_aws_would(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str], dynamodb_local: str
) -> None:
    table = ddb_local_tables["ARTICLES_TABLE"]  # no TTL in the template
    client = raw_client(dynamodb_proxy.endpoint)
    dynamodb_proxy.lazy_ttl()
    spec = {"AttributeName": "gone_at", "Enabled": True}
    answer = client.update_time_to_live(TableName=table, TimeToLiveSpecification=spec)
    assert answer["TimeToLiveSpecification"] == spec
    assert client.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "gone_at",
    }
    direct = raw_client(dynamodb_local)  # never reached DynamoDB Local: nothing will sweep
    assert direct.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }
