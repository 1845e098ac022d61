"""The DynamoDB behaviours AWS documents and DynamoDB Local skips, produced by tests/faultproxy.py.

For each behaviour, one test shows DynamoDB Local alone does not produce it and one shows the
proxy does, shaped as AWS sends it and parsed by botocore into the modeled exception class or
response member. Latency is the exception: a timing claim about the emulator would be flaky,
so its tests show that the proxy adds and changes nothing without a rule, and adds exactly the
seeded delays with one. Raw boto3 clients with retries off, so the SDK hides nothing. No test
sleeps across a window: races are synchronised with the proxy's hold, time-based limits use a
manual clock; the one wait is for DynamoDB Local's own TTL sweeper (see the TTL test). One test
drives the product (a reader's view meeting an editor's transaction) and is expected to fail
until issue 12 is fixed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from newsdesk import catalog, editing
from newsdesk.dal import counters

from tests.faultproxy import (
    CONFLICT_MESSAGE,
    KEY_RANGE_READ_REASON,
    KEY_RANGE_WRITE_REASON,
    ON_DEMAND_THROTTLE_MESSAGE,
    PROVISIONED_THROTTLE_MESSAGE,
    TTL_ALREADY_DISABLED,
    TTL_ALREADY_ENABLED,
    FaultProxy,
    ManualClock,
    Seen,
    item_size,
    write_units,
)
from tests.support import SLUG, event, import_fixture, invoke, reader

REGION = "us-east-1"
LEGACY_VIEWS = 9574  # the fixture article's imported count


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


def test_transaction_meeting_a_single_write_in_flight_goes_through(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str]
) -> None:
    """AWS cancels a TransactWriteItems only for another ongoing TransactWriteItems on its
    items: an UpdateItem in flight on the same item does not cancel it, and it does not reject
    the UpdateItem either. Both writes apply."""
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_proxy.endpoint)
    race = dynamodb_proxy.conflicts(table_suffix="-counters", hold_writes=20.0)
    write = Background(lambda: client.update_item(**add_one(table, "shared")))
    assert race.wait_holding(timeout=10), "the single write never reached the proxy"
    assert race.held_items() == [(table, counter_key("shared"))]

    client.transact_write_items(
        TransactItems=[{"Update": add_one(table, "shared")}, {"Update": add_one(table, "b")}]
    )
    race.release()
    write.join()
    assert race.conflicts == 0
    assert (n_of(client, table, "shared"), n_of(client, table, "b")) == (2, 1)


WRITERS_IN_FLIGHT = ["UpdateItem", "BatchWriteItem", "TransactWriteItems"]


@pytest.mark.parametrize("writer", WRITERS_IN_FLIGHT)
def test_transact_get_meeting_a_write_in_flight_is_cancelled_but_get_item_is_not(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str], writer: str
) -> None:
    """A TransactGetItems whose item is part of an ongoing PutItem/UpdateItem/DeleteItem,
    BatchWriteItem or TransactWriteItems is cancelled with TransactionConflict at that item; a
    GetItem of the same item meanwhile succeeds."""
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_proxy.endpoint)
    client.put_item(TableName=table, Item={**counter_key("shared"), "n": {"N": "5"}})
    race = dynamodb_proxy.conflicts(table_suffix="-counters", hold=20.0, hold_writes=20.0)
    writes: dict[str, Callable[[], Any]] = {
        "UpdateItem": lambda: client.update_item(**add_one(table, "shared")),
        "BatchWriteItem": lambda: client.batch_write_item(
            RequestItems={
                table: [{"PutRequest": {"Item": {**counter_key("shared"), "n": {"N": "6"}}}}]
            }
        ),
        "TransactWriteItems": lambda: client.transact_write_items(
            TransactItems=[{"Update": add_one(table, "shared")}]
        ),
    }
    write = Background(writes[writer])
    assert race.wait_holding(timeout=10), "the write never reached the proxy"

    gets = [
        {"Get": {"TableName": table, "Key": counter_key("free")}},
        {"Get": {"TableName": table, "Key": counter_key("shared")}},
    ]
    with pytest.raises(client.exceptions.TransactionCanceledException) as caught:
        client.transact_get_items(TransactItems=gets)
    got = client.get_item(TableName=table, Key=counter_key("shared"), ConsistentRead=True)
    race.release()
    write.join()

    answer = caught.value.response
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert answer["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "TransactionConflict", "Message": CONFLICT_MESSAGE},
    ]
    assert got["Item"]["n"] == {"N": "5"}  # the GetItem was answered, before the write
    assert race.conflicts == 1
    after = client.transact_get_items(TransactItems=gets)["Responses"]  # nothing in flight
    assert after[1]["Item"]["n"] == {"N": "6"}


def test_concurrent_single_updates_of_one_item_never_conflict(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str]
) -> None:
    """8 threads x 20 ADD UpdateItems on one key, no transaction: AWS serialises single writes
    to one item, none is a transaction conflict. Each round the proxy holds all 8 writes at
    once, so every write meets 7 others in flight on the item (deterministically, no timing)."""
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_proxy.endpoint)
    race = dynamodb_proxy.conflicts(table_suffix="-counters", hold_writes=60.0)
    threads, rounds = 8, 20
    step = threading.Barrier(threads + 1, timeout=60)  # the writers and this thread
    errors: list[str] = []

    def writer() -> None:
        for _ in range(rounds):
            try:
                client.update_item(**add_one(table, "hot"))
            except client.exceptions.ClientError as err:
                errors.append(code_of(err))
            step.wait()  # every write of this round answered before the next round starts

    pool = [threading.Thread(target=writer, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for round_number in range(rounds):
        assert race.wait_holding(threads, timeout=30), (round_number, errors)
        assert race.held_items() == [(table, counter_key("hot"))]  # 8 writes, one item
        race.release()
        step.wait()
    for thread in pool:
        thread.join(timeout=30)
    assert errors == []
    assert race.conflicts == 0
    assert n_of(client, table, "hot") == threads * rounds == 160


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


def test_a_view_meeting_an_editors_transaction_on_its_counter_is_still_counted(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str]
) -> None:
    """A reader opens the article while an editor sets its count. Setting it is one
    TransactWriteItems on the counter item and an audit record (editing.set_views ->
    counters.set_total); the view is one UpdateItem ADD on that counter item
    (dal.counters.add_view). On AWS the UpdateItem gets TransactionConflictException, which
    the SDK's standard retry mode does not retry: the view was lost. newsdesk retries it
    (dal.db, CONFLICT_ATTEMPTS), so the view counts, on top of the count set. The proxy
    answers the conflict only once the editor's transaction is done, so the retry finds the
    item free."""
    import_fixture()
    race = dynamodb_proxy.conflicts(table_suffix="-counters", hold=20.0, release_on_conflict=True)
    editor = Background(lambda: editing.set_views(SLUG, 20_000, "editor@example.com"))
    if not race.wait_holding(timeout=10):
        pytest.fail("the editor's transaction never reached the proxy")
    counter = (ddb_local_tables["COUNTERS_TABLE"], {"id": {"S": f"views#{SLUG}"}})
    if counter not in race.held_items():
        pytest.fail(f"the editor's transaction does not hold the counter: {race.held_items()}")

    page = invoke("pages", reader(1))  # a new reader: counted, were nothing in the way

    saved = editor.join()
    if saved["views"] != 20_000 or page["statusCode"] != 200:
        pytest.fail(f"the scenario did not run: {saved}, page {page['statusCode']}")
    if race.conflicts < 1:
        pytest.fail("the view's counter write never met the editor's transaction")
    dynamodb_proxy.clear()
    counted = invoke("api", event("article-views"))
    assert json.loads(counted["body"])["views"] == 20_000 + 1  # the count set, and the view


def test_views_racing_imports_on_their_counter_lose_none(
    dynamodb_proxy: FaultProxy, tmp_path: Any
) -> None:
    """8 readers x 200 views of one article while it is imported 30 times with a new legacy
    count each time (each import one TransactWriteItems on the article and its counter
    item), with AWS's conflict rule on and every import held 5 ms, so views do meet imports.
    Every view counts: the total is exactly the last legacy count plus 1,600, and views did
    meet imports (or the test proves nothing).

    Ordered by events, not timing: after each import the importer waits until every reader
    has finished a view, so a view refused by one import is retried before the next starts,
    as on AWS, where a transaction holds its items for milliseconds, not for DynamoDB
    Local's (loaded) hundreds. The test below runs the same race unpaced."""
    from newsdesk.importer import import_paths

    import_fixture()
    entry = catalog.export_articles()[0]
    base = datetime.fromisoformat(entry["updated_at"])
    race = dynamodb_proxy.conflicts(table_suffix="-counters", hold=0.005, release_on_conflict=True)
    go = threading.Event()
    progress = threading.Condition()
    done = [0] * 8  # views finished per reader
    failures: list[BaseException] = []

    def everyone_moved_on(since: list[int]) -> bool:
        return all(now > then or now == 200 for now, then in zip(done, since, strict=True))

    def reader(n: int) -> None:
        go.wait()
        for _ in range(200):
            try:
                counters.add_view(SLUG)
            except Exception as err:  # a lost view: reported below with its cause
                failures.append(err)
            with progress:
                done[n] += 1
                progress.notify_all()

    def importer() -> None:
        go.wait()
        for n in range(1, 31):
            version = {
                **entry,
                "views": LEGACY_VIEWS + n,
                "body": [*entry["body"], f"Cập nhật {n}."],
                "updated_at": (base + timedelta(minutes=n)).isoformat(),
            }
            path = tmp_path / f"v{n}.json"
            path.write_text(json.dumps(version, ensure_ascii=False), "utf-8")
            assert import_paths([path], report=lambda _: None).updated == 1
            with progress:
                since = list(done)
                progress.wait_for(lambda since=since: everyone_moved_on(since))

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(8)]
    importing = Background(importer)
    for thread in threads:
        thread.start()
    go.set()
    for thread in threads:
        thread.join()
    importing.join()
    dynamodb_proxy.clear()
    assert failures == []
    assert race.conflicts >= 1, "no view met an import: the race did not happen"
    assert counters.views_of([SLUG])[SLUG] == LEGACY_VIEWS + 30 + 8 * 200


def test_views_racing_back_to_back_imports_and_saves_lose_none(
    dynamodb_proxy: FaultProxy, tmp_path: Any
) -> None:
    """The race unpaced: while 8 readers x 200 views are counted, an import and an editor
    each save the article's text back to back, as fast as they can (a script re-importing a
    folder, a bulk edit). A save that does not change the count leaves the counter item out
    of its transaction (importer._legacy_action), so no view meets one: every view counts,
    with no conflict to retry."""
    from newsdesk.importer import import_paths

    import_fixture()
    entry = catalog.export_articles()[0]
    base = datetime.fromisoformat(entry["updated_at"])
    race = dynamodb_proxy.conflicts(table_suffix="-counters", hold=0.005, release_on_conflict=True)
    go, stop = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def version(n: int) -> dict[str, Any]:
        return {
            **entry,
            "body": [*entry["body"], f"Cập nhật {n}."],
            "updated_at": (base + timedelta(minutes=n)).isoformat(),
        }

    def reader() -> None:
        go.wait()
        for _ in range(200):
            try:
                counters.add_view(SLUG)
            except Exception as err:  # a lost view: reported below with its cause
                failures.append(err)

    def importer() -> int:
        go.wait()
        n = 0
        while not stop.is_set():
            n += 2
            path = tmp_path / f"v{n}.json"
            path.write_text(json.dumps(version(n), ensure_ascii=False), "utf-8")
            summary = import_paths([path], report=lambda _: None)
            assert summary.updated + summary.stale == 1  # stale: the editor saved a newer one
        return n // 2

    def editor() -> int:
        go.wait()
        n = 1
        while not stop.is_set():
            n += 2
            edited = {k: v for k, v in version(n).items() if k not in ("slug", "views")}
            editing.put_article(SLUG, edited, "editor@example.com")
        return n // 2

    threads = [threading.Thread(target=reader) for _ in range(8)]
    saving = [Background(importer), Background(editor)]
    for thread in threads:
        thread.start()
    go.set()
    for thread in threads:
        thread.join()
    stop.set()
    saves = [job.join() for job in saving]
    dynamodb_proxy.clear()
    assert failures == []
    assert min(saves) >= 5, f"the saves did not run: {saves}"
    assert race.conflicts == 0
    assert counters.views_of([SLUG])[SLUG] == LEGACY_VIEWS + 8 * 200


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


def test_reads_past_their_units_per_second_on_one_key_are_throttled(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str]
) -> None:
    """AWS's 3,000 read units a second per partition, scaled down to 3: 0.5 unit per started
    4 KB eventually consistent, 1 strongly consistent, 0.5 for an item that is not there;
    reads and writes are limited apart; a BatchGetItem leaves the hot key unprocessed."""
    table = ddb_local_tables["COUNTERS_TABLE"]
    client = raw_client(dynamodb_proxy.endpoint)
    client.put_item(TableName=table, Item=kb_item("hot", 4))  # one 4 KB step
    client.put_item(TableName=table, Item=kb_item("big", 9))  # three
    clock = ManualClock()
    limit = dynamodb_proxy.partition_limit(rcu_per_second=3, clock=clock, table_suffix="-counters")

    for _ in range(4):  # 4 x 0.5
        client.get_item(TableName=table, Key=counter_key("hot"))
    client.get_item(TableName=table, Key=counter_key("hot"), ConsistentRead=True)  # + 1 = 3
    with pytest.raises(client.exceptions.ThrottlingException) as caught:
        client.get_item(TableName=table, Key=counter_key("hot"))
    answer = caught.value.response
    info = dynamodb_proxy.table_info(table)
    assert info is not None
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert answer["Error"] == {"Code": "ThrottlingException", "Message": ON_DEMAND_THROTTLE_MESSAGE}
    assert answer["throttlingReasons"] == [{"reason": KEY_RANGE_READ_REASON, "resource": info.arn}]
    client.update_item(**add_one(table, "hot"))  # writes have a limit of their own
    assert "Item" not in client.get_item(TableName=table, Key=counter_key("none"))  # 0.5

    keys = [counter_key("hot"), counter_key("big"), counter_key("none")]
    partial = client.batch_get_item(RequestItems={table: {"Keys": keys}})
    assert partial["UnprocessedKeys"] == {table: {"Keys": [counter_key("hot")]}}
    assert [item["id"]["S"] for item in partial["Responses"][table]] == ["big"]
    # 9 KB eventually consistent: 1.5 units, 0.5 on admission and 1 once its size was seen
    assert limit.available_reads(table, {"S": "big"}) == 3 - 1.5
    assert limit.available_reads(table, {"S": "none"}) == 3 - 1.0
    with pytest.raises(client.exceptions.ThrottlingException):  # none read: an error
        client.batch_get_item(RequestItems={table: {"Keys": [counter_key("hot")]}})
    assert (limit.read_throttled, limit.throttled) == (3, 0)
    clock.advance(1.0)  # 3 units come back in a second
    again = client.batch_get_item(RequestItems={table: {"Keys": [counter_key("hot")]}})
    assert again["UnprocessedKeys"] == {} and len(again["Responses"][table]) == 1


# -- d. latency ----------------------------------------------------------------------------


def raw_answers(client: Any) -> list[bytes]:
    """The body bytes of every answer `client` receives from now on, before botocore parses
    them."""
    bodies: list[bytes] = []

    def keep(response_dict: dict[str, Any], **_: Any) -> None:
        bodies.append(bytes(response_dict["body"]))

    client.meta.events.register("before-parse.dynamodb", keep)
    return bodies


def test_without_a_rule_the_proxy_forwards_requests_and_answers_unchanged(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str], dynamodb_local: str
) -> None:
    """No timing claim about the emulator (one would be flaky); what is checked is that the
    proxy itself adds and changes nothing unless a rule says so: each request reaches DynamoDB
    Local (logged as forwarded, no fault, delay 0) and its answer is byte for byte DynamoDB
    Local's own (a proxy that re-encoded JSON would escape the Vietnamese text)."""
    table = ddb_local_tables["COUNTERS_TABLE"]
    direct = raw_client(dynamodb_local)
    client = raw_client(dynamodb_proxy.endpoint)
    item = {**counter_key("bài-viết"), "title": {"S": "Sơ kết chương trình"}, "n": {"N": "9574"}}
    direct.put_item(TableName=table, Item=item)
    from_local, from_proxy = raw_answers(direct), raw_answers(client)
    for _ in range(5):
        for caller in (direct, client):
            caller.get_item(TableName=table, Key=counter_key("bài-viết"), ConsistentRead=True)

    assert len(from_local) == len(from_proxy) == 5
    assert from_proxy == from_local
    assert "Sơ kết".encode() in from_proxy[0]  # UTF-8 as DynamoDB Local sent it
    keys = tuple(value["S"] for value in counter_key("bài-viết").values())
    assert dynamodb_proxy.requests() == [Seen("GetItem", (table,), None, 0.0, keys)] * 5
    # The fixture routes the newsdesk package through the proxy too.
    assert counters.add_view("a-slug") == counters.views_of(["a-slug"])["a-slug"] == 1
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


def an_hour_ago() -> str:
    return str(int(time.time()) - 3600)  # AWS and DynamoDB Local skip epochs > 5 years old


def test_dynamodb_local_alone_runs_its_own_ttl_sweeper(
    ddb_local_tables: dict[str, str], dynamodb_local: str
) -> None:
    """AWS "typically deletes expired items within two days" (API Reference, UpdateTimeToLive)
    and until then "expired items still show up in reads, queries, and scans". DynamoDB Local
    alone has TTL on for the table as the template sets it, so its own background sweeper
    deletes expired items within about a second (measured), at a moment no test controls:
    an expired item may vanish mid-test. Through the proxy (next test) that sweeper is off."""
    table = ddb_local_tables["CONNECTIONS_TABLE"]
    direct = raw_client(dynamodb_local)
    assert direct.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }


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


def test_update_time_to_live_that_changes_nothing_is_refused_as_on_aws(
    dynamodb_proxy: FaultProxy, ddb_local_tables: dict[str, str], dynamodb_local: str
) -> None:
    """UpdateTimeToLive is not idempotent: enabling TTL where it is enabled (the template's
    connections table, taken over by the proxy) or disabling it where it is disabled is an
    HTTP 400 ValidationException, and changes nothing."""
    connections = ddb_local_tables["CONNECTIONS_TABLE"]
    articles = ddb_local_tables["ARTICLES_TABLE"]
    client = raw_client(dynamodb_proxy.endpoint)
    dynamodb_proxy.lazy_ttl()
    enable = {"AttributeName": "expires_at", "Enabled": True}
    disable = {"AttributeName": "expires_at", "Enabled": False}

    with pytest.raises(client.exceptions.ClientError) as again:
        client.update_time_to_live(TableName=connections, TimeToLiveSpecification=enable)
    with pytest.raises(client.exceptions.ClientError) as off:
        client.update_time_to_live(TableName=articles, TimeToLiveSpecification=disable)

    for caught, message in ((again, TTL_ALREADY_ENABLED), (off, TTL_ALREADY_DISABLED)):
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert caught.value.response["Error"] == {"Code": "ValidationException", "Message": message}
    assert client.describe_time_to_live(TableName=connections)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }
    assert client.describe_time_to_live(TableName=articles)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }
    # A real change is still accepted, once.
    client.update_time_to_live(TableName=connections, TimeToLiveSpecification=disable)
    with pytest.raises(client.exceptions.ClientError, match=TTL_ALREADY_DISABLED):
        client.update_time_to_live(TableName=connections, TimeToLiveSpecification=disable)
