"""A fault-injecting HTTP proxy for DynamoDB that adds what AWS does and emulators skip (tests only).

It sits between the SDK and DynamoDB Local and forwards every request unchanged, except where a
switched-on behaviour applies. Each behaviour is chosen by operation (the `X-Amz-Target` header,
e.g. `DynamoDB_20120810.UpdateItem`; "*" for all) and optionally by table (a table named in the
request ending with `table_suffix`, such as "-counters"), is deterministic (call counts, every
k-th key, or a `random.Random(seed)`), and answers exactly as AWS does: HTTP status,
`__type` = `com.amazonaws.dynamodb.v20120810#<Name>`, the message in AWS's words, the modeled
members (`CancellationReasons`, `ThrottlingReasons`, `UnprocessedKeys`...), `x-amz-crc32`.
Sources: botocore's model `botocore/data/dynamodb/2012-08-10/service-2.json` (shapes named
below) and the DynamoDB Developer Guide pages cited (under
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/). Every switch returns a
handle; `remove()` switches it off and `clear()` switches everything off.

Plain faults, `fail(operation, mode, table_suffix)` (the original API), answered as DynamoDB
answers them:
- "throttle": HTTP 400 ProvisionedThroughputExceededException, "The level of configured
              provisioned throughput for the table was exceeded. Consider increasing your
              provisioning level with the UpdateTable API." (DynamoDB's words, as quoted in
              public reports: mifi/dynamodump#20, quintilesims/layer0#229,
              mozilla-services/autopush#435)
- "table-throttle": HTTP 400 ThrottlingException whose throttlingReasons say the table as a
              whole is past its maximum on-demand throughput
              (TableWriteMaxOnDemandThroughputExceeded), not one partition key
- "error":    HTTP 500 InternalServerError ("An error occurred on the server side.", model
              shape InternalServerError), message "Internal server error" as DynamoDB sends it
              (aws/aws-sdk-java#1881, aws/aws-sdk-js#3891, Sleavely/dynamo-plus#16)
- "delay":    hangs `delay` seconds (longer than the client's read timeout), then answers the
              500 above; the request never reaches DynamoDB, so a timed-out write has no effect
- "drop":     closes the connection with a reset, without answering
- "late":     forwards the request (DynamoDB applies it), then holds the answer `delay`
              seconds, past the client's read timeout: a write that happened although the
              client saw it fail, as a slow network or an overloaded front end can make it

AWS behaviours:
- `conflicts()` -- transaction conflicts as a real race, by AWS's rule and nothing else.
  Developer Guide, "Transaction conflict handling in DynamoDB"
  (transaction-apis.html#transaction-conflict-handling): "Transaction conflicts can occur in
  the following scenarios:
    - A PutItem, UpdateItem, or DeleteItem request for an item conflicts with an ongoing
      TransactWriteItems request that includes the same item.
    - An item within a TransactWriteItems request is part of another ongoing
      TransactWriteItems request.
    - An item within a TransactGetItems request is part of an ongoing TransactWriteItems,
      BatchWriteItem, PutItem, UpdateItem, or DeleteItem request."
  and "When a PutItem, UpdateItem, or DeleteItem request is rejected, the request fails with a
  TransactionConflictException. If any item-level request within TransactWriteItems or
  TransactGetItems is rejected, the request fails with a TransactionCanceledException."
  So: a single write to an item an ongoing TransactWriteItems includes gets HTTP 400
  `TransactionConflictException` ("Transaction is ongoing for the item"); a TransactWriteItems
  meeting another ongoing TransactWriteItems, and a TransactGetItems meeting any ongoing write
  (single, batch or transaction), get `TransactionCanceledException` whose
  `CancellationReasons` has one entry per TransactItem in request order: {"Code": "None"} or
  {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"} (model:
  TransactionCanceledException, CancellationReason). Single writes never conflict with single
  writes (concurrent ADDs on one item all apply), a TransactWriteItems is not cancelled by a
  single or batch write in flight, and GetItem, BatchGetItem, Query and Scan never conflict
  ("If an ongoing TransactWriteItems or TransactGetItems operation conflicts with a concurrent
  GetItem request, both operations can succeed"). An ongoing TransactGetItems claims nothing.
  What AWS does with a BatchWriteItem item meeting an ongoing transaction is not in that list:
  the proxy forwards it. The proxy tracks the keys (table + primary key; Put items are keyed
  with the table's KeySchema from DescribeTable) of the writes it is forwarding, can hold each
  TransactWriteItems open (`hold` seconds, or until `release()`) and each single or batch
  write (`hold_writes`), and `wait_holding()` tells a test when to send its request.
  `conflict_on()` is the scripted variant (the Nth matching call, the first N, a seeded rate):
  each chosen call is answered as if an ongoing transaction the test does not run held its
  item, which is one of the three scenarios above. DynamoDB Local serialises everything and
  never answers either exception.
- `unprocessed()` -- partial batches. Model, BatchGetItem/BatchWriteItem: a partial result
  carries `UnprocessedKeys` (same shape as RequestItems: Keys plus ProjectionExpression,
  ExpressionAttributeNames, ConsistentRead, AttributesToGet) or `UnprocessedItems`; Developer
  Guide, "Batch operations and error handling" (Programming.Errors.html). Only the processed
  keys reach DynamoDB Local; its answer is merged with the unprocessed rest. At least one key is
  always processed: when AWS can process none it answers an error instead (use `fail()`).
- `partition_limit()` -- hot keys. Developer Guide, bp-partition-key-design.html and
  burst-adaptive-capacity.html: one partition serves at most 1,000 write capacity units and
  3,000 read capacity units per second ("each individual partition is limited to 1000 write
  units per second and 3000 read units per second", warm-throughput-scenarios.html), which caps
  one partition key; reads and writes are limited independently ("a partition may throttle
  reads while writes continue normally", throttling-key-range-limit-exceeded-mitigation.html).
  Units as AWS counts them (CapacityUnitCalculations.html, now read-write-operations.html):
  1 WCU per started KB of item size
  (names + values: UTF-8 strings, raw binary, ~1 byte per 2 digits + 1 for numbers, 3 bytes per
  list/map), transactions twice ("one to prepare and one to commit"); a read takes 0.5 RCU per
  started 4 KB of the item eventually consistent, 1 strongly consistent, 2 in a
  TransactGetItems, the same for an item that is not there, and BatchGetItem counts each item
  as its own GetItem. A read is admitted on that minimum (what an item up to 4 KB or a missing
  one takes); the units of a bigger item are taken once its answer shows its size (the bucket
  may then go below zero and refuses reads until it refills). A write past the limit
  gets, for an on-demand table, HTTP 400 `ThrottlingException` "Throughput exceeds the current
  capacity of your table or index..." (the on-demand message the model documents under
  TransactionCanceledException "ThrottlingError"), for a provisioned one
  `ProvisionedThroughputExceededException`; both carry the throttling reason
  `TableWriteKeyRangeThroughputExceeded` with the table ARN (model: ThrottlingReason, whose
  reasons are ResourceType+OperationType+LimitType; "KeyRangeThroughputExceeded ... both
  provisioned and on-demand modes", throttling-key-range-limit-exceeded-mitigation.html). A
  read past the limit gets the same errors with `TableReadKeyRangeThroughputExceeded`; a
  BatchGetItem returns the throttled keys in UnprocessedKeys, or the error when none could be
  read (model, BatchGetItem: "If none of the items can be processed due to insufficient
  provisioned throughput on all of the tables in the request, then BatchGetItem returns a
  ProvisionedThroughputExceededException"); a TransactGetItems is cancelled at the throttled
  items. A transaction is cancelled with
  "ThrottlingError" (on-demand) or "ProvisionedThroughputExceeded" at the throttled items; a
  BatchWriteItem returns the throttled items in UnprocessedItems, or the error when none could be
  written (model, BatchWriteItem: "a ProvisionedThroughputExceededException or a
  ThrottlingException. Both indicate that the request was throttled"). Why ThrottlingException
  for on-demand: the error list of the Developer Guide (Programming.Errors.html) still ties it to
  control-plane calls, but on-demand hot keys are answered `ThrottlingException` with the message
  above in public reports (e.g. praetorian-inc/chariot-ui#684), and `error=` picks either one.
  Time comes from an injectable `clock`.
- `latency()` -- a region's round trip: each forwarded request waits `mean +- jitter` seconds
  (uniform, seeded) before it reaches DynamoDB Local.
- `lazy_ttl()` -- TTL that never deletes during a run. AWS: "DynamoDB typically deletes expired
  items within two days of expiration ... Items that have expired and not been deleted will
  still show up in reads, queries, and scans" (API Reference, UpdateTimeToLive). DynamoDB Local
  (1.25.1, as `local/dynamodb.py` fetches it) runs a TTL sweeper that deleted expired items
  within 0.4 to 11 s in our measurements, erratically (some table shapes not within 70 s; epochs
  more than 5 years old are skipped, as on AWS). So the proxy switches TTL off upstream on
  every matching table it sees, answers UpdateTimeToLive and DescribeTimeToLive itself as AWS
  would (the table still says ENABLED), and switches TTL back on upstream when removed.
  UpdateTimeToLive is not idempotent on AWS: enabling TTL on a table where it is enabled is
  answered HTTP 400 ValidationException "TimeToLive is already enabled" (the exact message
  public client code compares with string equality to tolerate a second enable against AWS),
  and disabling it where it is disabled "TimeToLive is already disabled". Both wordings are
  also what DynamoDB Local 1.25.1 (AWS's own emulator) and architect/dynalite
  (test/updateTimeToLive.js) answer; the second is not confirmed from the live service. The
  proxy answers TTL itself, so it must refuse these too. Not modelled: the ENABLING/DISABLING
  states AWS shows just after a change (DescribeTimeToLive answers ENABLED/DISABLED at once
  here), and the ValidationException for any further UpdateTimeToLive within the hour a change
  takes (model, UpdateTimeToLive; its message is not documented).

Every request the proxy receives is recorded, so a test can count the SDK's attempts
(`seen("UpdateItem", "-counters")`); `faulted=True` counts those the proxy answered or cut.
Without a fault or a matching behaviour a request is relayed as it came, and DynamoDB Local's
answer (status, headers, body bytes) goes back as it came. Each client connection has its own
kept-alive connection to DynamoDB Local. The proxy speaks to DynamoDB Local only: it re-sends
requests with changed bodies under the caller's headers, which Local accepts because it does
not verify signatures.

    with FaultProxy("http://127.0.0.1:8000") as proxy:
        proxy.fail("UpdateItem", mode="throttle", table_suffix="-counters")
        race = proxy.conflicts(table_suffix="-counters", hold=5.0)
        ...  # point AWS_ENDPOINT_URL_DYNAMODB at proxy.endpoint
        assert proxy.seen("UpdateItem") == 2
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import math
import random
import socket
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

MODES = ("throttle", "table-throttle", "error", "delay", "drop", "late")
ANY = "*"
TARGET_PREFIX = "DynamoDB_20120810."
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
JSON_TYPE = "application/x-amz-json-1.0"

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}
_SET_BY_US = {"server", "date"}  # send_response() writes its own
_SIGNED = ("authorization", "x-amz-date", "x-amz-security-token", "user-agent")

# AWS's words (model service-2.json, TransactionCanceledException's reason list; error
# messages as the service sends them).
CONFLICT_MESSAGE = "Transaction is ongoing for the item"
# The 500 as DynamoDB sends it (see the module docstring for the sources).
INTERNAL_ERROR_MESSAGE = "Internal server error"
TTL_ALREADY_ENABLED = "TimeToLive is already enabled"
TTL_ALREADY_DISABLED = "TimeToLive is already disabled"
ON_DEMAND_THROTTLE_MESSAGE = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
    "scaling your table or index so please try again shortly. If exceptions persist, check if "
    "you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)
PROVISIONED_THROTTLE_MESSAGE = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)
KEY_RANGE_WRITE_REASON = "TableWriteKeyRangeThroughputExceeded"
KEY_RANGE_READ_REASON = "TableReadKeyRangeThroughputExceeded"
THROTTLE_ERRORS = ("auto", "ThrottlingException", "ProvisionedThroughputExceededException")

SINGLE_WRITES = ("PutItem", "UpdateItem", "DeleteItem")
TRANSACTIONS = ("TransactWriteItems", "TransactGetItems")
BATCHES = ("BatchGetItem", "BatchWriteItem")
WRITES = (*SINGLE_WRITES, "TransactWriteItems", "BatchWriteItem")
READS = ("GetItem", "BatchGetItem", "TransactGetItems")  # the reads partition_limit() charges
# What claims an item while it is in flight, for conflicts(): a write transaction, or any other
# write (single or batch).
TRANSACTION_CLAIM = "TransactWriteItems"
WRITE_CLAIM = "write"
# Which claims make a request conflict (Developer Guide, "Transaction conflict handling").
CONFLICTS_WITH = {
    **dict.fromkeys(SINGLE_WRITES, (TRANSACTION_CLAIM,)),
    "TransactWriteItems": (TRANSACTION_CLAIM,),
    "TransactGetItems": (TRANSACTION_CLAIM, WRITE_CLAIM),
}

Json = dict[str, Any]
R = TypeVar("R", bound="Rule")


# -- AWS answers -------------------------------------------------------------------------------


def aws_error(name: str, message: str, *, message_key: str = "message", **members: Any) -> Json:
    """An error body as DynamoDB sends it: {"__type": "com.amazonaws.dynamodb.v20120810#Name",
    "message": ..., <modeled members>}. `message_key` follows the model's member name
    ("Message" for TransactionCanceledException, "message" elsewhere)."""
    return {"__type": ERROR_PREFIX + name, message_key: message, **members}


THROTTLE_BODY = aws_error("ProvisionedThroughputExceededException", PROVISIONED_THROTTLE_MESSAGE)
# An on-demand table past its maximum throughput (not one key): the model's ThrottlingReason,
# ResourceType+OperationType+LimitType (API Reference, "ThrottlingReason").
TABLE_THROTTLE_BODY = aws_error(
    "ThrottlingException",
    ON_DEMAND_THROTTLE_MESSAGE,
    throttlingReasons=[
        {
            "reason": "TableWriteMaxOnDemandThroughputExceeded",
            "resource": "arn:aws:dynamodb:us-east-1:000000000000:table/throttled",
        }
    ],
)
ERROR_BODY = aws_error("InternalServerError", INTERNAL_ERROR_MESSAGE)


def transaction_canceled(reasons: list[Json]) -> Json:
    """TransactionCanceledException with one CancellationReason per TransactItem, in order;
    {"Code": "None"} (no Message) for the items without an error, as the model documents."""
    codes = ", ".join(str(r["Code"]) for r in reasons)
    return aws_error(
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        message_key="Message",
        CancellationReasons=reasons,
    )


def conflict_reasons(count: int, conflicting: Iterable[int]) -> list[Json]:
    bad = set(conflicting)
    return [
        {"Code": "TransactionConflict", "Message": CONFLICT_MESSAGE}
        if i in bad
        else {"Code": "None"}
        for i in range(count)
    ]


def key_range_throttle(
    on_demand: bool, resource: str, reason: str = KEY_RANGE_WRITE_REASON
) -> tuple[int, Json]:
    """HTTP 400 for a write (or, with KEY_RANGE_READ_REASON, a read) past its partition's limit
    (module docstring, partition_limit()): ThrottlingException for an on-demand table,
    ProvisionedThroughputExceededException for a provisioned one, both with the `reason` on
    `resource` (the table ARN)."""
    reasons = [{"reason": reason, "resource": resource}]
    if on_demand:  # model: ThrottlingException's member is throttlingReasons
        return 400, aws_error(
            "ThrottlingException", ON_DEMAND_THROTTLE_MESSAGE, throttlingReasons=reasons
        )
    return 400, aws_error(
        "ProvisionedThroughputExceededException",
        PROVISIONED_THROTTLE_MESSAGE,
        ThrottlingReasons=reasons,
    )


def throttle_reason(on_demand: bool) -> Json:
    """The CancellationReason of a throttled TransactItem: ThrottlingError (on-demand) or
    ProvisionedThroughputExceeded (provisioned)."""
    if on_demand:
        return {"Code": "ThrottlingError", "Message": ON_DEMAND_THROTTLE_MESSAGE}
    return {"Code": "ProvisionedThroughputExceeded", "Message": PROVISIONED_THROTTLE_MESSAGE}


# -- request shapes ----------------------------------------------------------------------------


def tables_of(body: dict[str, Any]) -> tuple[str, ...]:
    """Every table a DynamoDB request names (single-table, batch and transaction forms)."""
    names: list[str] = []
    if isinstance(body.get("TableName"), str):
        names.append(body["TableName"])
    names.extend(str(name) for name in body.get("RequestItems") or {})
    for item in body.get("TransactItems") or []:
        for action in item.values():
            if isinstance(action, dict) and isinstance(action.get("TableName"), str):
                names.append(action["TableName"])
    return tuple(dict.fromkeys(names))


def key_strings(body: Json) -> tuple[str, ...]:
    """The string values of a single-item request's key (`Key`; for a PutItem, the item's
    string attributes, as the proxy may not know the table's key schema), or of every key
    of a BatchGetItem."""
    batch = body.get("RequestItems")
    if isinstance(batch, dict) and all("Keys" in spec for spec in batch.values()):
        return tuple(
            value["S"]
            for spec in batch.values()
            for key in spec["Keys"]
            for value in key.values()
            if isinstance(value, dict) and isinstance(value.get("S"), str)
        )
    source = body.get("Key") or body.get("Item") or {}
    if not isinstance(source, dict):
        return ()
    return tuple(
        v["S"] for v in source.values() if isinstance(v, dict) and isinstance(v.get("S"), str)
    )


def attribute_size(value: Mapping[str, Any]) -> int:
    """Bytes of one AttributeValue as DynamoDB counts them (Developer Guide,
    CapacityUnitCalculations.html): UTF-8 bytes of a string, raw bytes of a binary,
    1 byte per two significant digits + 1 of a number, 1 for null/bool, 3 + elements for a
    list or map (map keys count as names), the elements of a set."""
    kind, inner = next(iter(value.items()), ("NULL", None))
    inner = cast(Any, inner)
    if kind == "S":
        return len(str(inner).encode())
    if kind == "B":
        return len(str(inner)) * 3 // 4  # base64 on the wire, raw bytes counted
    if kind == "N":
        digits = str(inner).lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind in ("NULL", "BOOL"):
        return 1
    if kind == "L":
        return 3 + sum(attribute_size(v) for v in inner)
    if kind == "M":
        return 3 + item_size(inner)
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: v}) for v in inner)
    return len(json.dumps(inner).encode())


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes of an item: its attribute names plus their values (attribute_size)."""
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    """Write capacity units of one item write: 1 per started KB, at least 1."""
    return max(1, math.ceil(size / 1024))


EVENTUAL_READ, STRONG_READ, TRANSACTION_READ = 0.5, 1.0, 2.0  # RCU per started 4 KB


def read_units(size: int, per_4kb: float) -> float:
    """Read capacity units of one item read of `size` bytes (0: no such item): `per_4kb`
    (EVENTUAL_READ, STRONG_READ or TRANSACTION_READ) per started 4 KB, at least once."""
    return per_4kb * max(1, math.ceil(size / 4096))


def canonical(key: Mapping[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class TableInfo:
    """What the proxy needs of a table, from DescribeTable (fetched once per table)."""

    name: str
    key_names: tuple[str, ...]  # HASH first, then RANGE
    on_demand: bool  # BillingModeSummary.BillingMode == PAY_PER_REQUEST
    arn: str

    def key_of(self, item: Mapping[str, Any]) -> Json:
        return {name: item[name] for name in self.key_names if name in item}

    @property
    def hash_key(self) -> str:
        return self.key_names[0]


@dataclass(frozen=True)
class ItemRef:
    """One item a request touches: its position (TransactItems index, or the flattened order of
    a batch's RequestItems), table, primary key, action, approximate write units and, for a
    read, read units per started 4 KB (EVENTUAL_READ, STRONG_READ, TRANSACTION_READ)."""

    index: int
    table: str
    key: Json
    action: str  # Put, Update, Delete, ConditionCheck, Get
    units: int
    read_per_4kb: float = 0.0

    @property
    def item_id(self) -> tuple[str, str]:
        return (self.table, canonical(self.key))


def _update_size(action: Mapping[str, Any]) -> int:
    """UpdateItem: AWS counts the larger of the whole item before and after; the proxy only sees
    the request, so it counts the key and the values the update writes."""
    size = item_size(action.get("Key") or {})
    values = action.get("ExpressionAttributeValues") or {}
    size += sum(attribute_size(v) for v in values.values())
    for name, update in (action.get("AttributeUpdates") or {}).items():
        size += len(name.encode()) + attribute_size(update.get("Value") or {"NULL": True})
    return size


TableLookup = Callable[[str], TableInfo | None]


def item_refs(operation: str, body: Json, info: TableLookup) -> list[ItemRef]:
    """The items a request touches, with their keys, write units (0 for reads) and read units
    per 4 KB (0 for writes)."""
    refs_of = _REFS_OF.get(operation)
    return refs_of(body, info) if refs_of is not None else []


def _put_ref(index: int, table: str, item: Json, factor: int, info: TableLookup) -> ItemRef:
    """A Put of `item`, keyed with the table's KeySchema when known (else the whole item);
    `factor` 2 in a transaction."""
    table_info = info(table)
    key = table_info.key_of(item) if table_info else item
    return ItemRef(index, table, key, "Put", factor * write_units(item_size(item)))


def _put_item_refs(body: Json, info: TableLookup) -> list[ItemRef]:
    return [_put_ref(0, body.get("TableName", ""), body.get("Item") or {}, 1, info)]


def _update_item_refs(body: Json, info: TableLookup) -> list[ItemRef]:
    units = write_units(_update_size(body))
    return [ItemRef(0, body.get("TableName", ""), body.get("Key") or {}, "Update", units)]


def _delete_item_refs(body: Json, info: TableLookup) -> list[ItemRef]:
    key = body.get("Key") or {}
    return [ItemRef(0, body.get("TableName", ""), key, "Delete", write_units(item_size(key)))]


def _transaction_refs(body: Json, info: TableLookup) -> list[ItemRef]:
    refs: list[ItemRef] = []
    for index, entry in enumerate(body.get("TransactItems") or []):
        action_name, action = next(iter(entry.items()))
        refs.append(_transact_item_ref(index, action_name, action, info))
    return refs


def _transact_item_ref(index: int, action_name: str, action: Json, info: TableLookup) -> ItemRef:
    """One TransactItem; its writes count twice (prepare + commit)."""
    table = action.get("TableName", "")
    if action_name == "Put":
        return _put_ref(index, table, action.get("Item") or {}, 2, info)  # prepare + commit
    key = action.get("Key") or {}
    if action_name == "Update":
        units = 2 * write_units(_update_size(action))
    elif action_name == "Delete":
        units = 2 * write_units(item_size(key))
    elif action_name == "Get":  # TransactGetItems
        return ItemRef(index, table, key, action_name, 0, TRANSACTION_READ)
    else:  # ConditionCheck
        units = 0
    return ItemRef(index, table, key, action_name, units)


def _batch_write_refs(body: Json, info: TableLookup) -> list[ItemRef]:
    """One ref per PutRequest/DeleteRequest, indexed in the flattened order of RequestItems."""
    refs: list[ItemRef] = []
    for table, requests in (body.get("RequestItems") or {}).items():
        for request in requests:
            index = len(refs)
            if "PutRequest" in request:
                refs.append(
                    _put_ref(index, table, request["PutRequest"].get("Item") or {}, 1, info)
                )
            else:
                key = (request.get("DeleteRequest") or {}).get("Key") or {}
                refs.append(ItemRef(index, table, key, "Delete", write_units(item_size(key))))
    return refs


def _batch_get_refs(body: Json, info: TableLookup) -> list[ItemRef]:
    """One ref per key, indexed in the flattened order of RequestItems."""
    refs: list[ItemRef] = []
    for table, wanted in (body.get("RequestItems") or {}).items():
        per_4kb = STRONG_READ if wanted.get("ConsistentRead") else EVENTUAL_READ
        for key in wanted.get("Keys") or []:
            refs.append(ItemRef(len(refs), table, key, "Get", 0, per_4kb))
    return refs


def _get_item_refs(body: Json, info: TableLookup) -> list[ItemRef]:
    per_4kb = STRONG_READ if body.get("ConsistentRead") else EVENTUAL_READ
    key = body.get("Key") or {}
    return [ItemRef(0, body.get("TableName", ""), key, "Get", 0, per_4kb)]


_REFS_OF: dict[str, Callable[[Json, TableLookup], list[ItemRef]]] = {
    "PutItem": _put_item_refs,
    "UpdateItem": _update_item_refs,
    "DeleteItem": _delete_item_refs,
    **dict.fromkeys(TRANSACTIONS, _transaction_refs),
    "BatchWriteItem": _batch_write_refs,
    "BatchGetItem": _batch_get_refs,
    "GetItem": _get_item_refs,
}


def split_batch(operation: str, request_items: Json, skip: set[int]) -> tuple[Json, Json]:
    """(processed, unprocessed) RequestItems of a batch, by flattened item index. For
    BatchGetItem each table keeps its other fields (ProjectionExpression,
    ExpressionAttributeNames, ConsistentRead, AttributesToGet) on both sides."""
    done: Json = {}
    rest: Json = {}
    index = 0
    for table, spec in request_items.items():
        entries = spec.get("Keys") or [] if operation == "BatchGetItem" else spec
        keep: list[Any] = []
        drop: list[Any] = []
        for entry in entries:
            (drop if index in skip else keep).append(entry)
            index += 1
        for side, chosen in ((done, keep), (rest, drop)):
            if chosen:
                side[table] = {**spec, "Keys": chosen} if operation == "BatchGetItem" else chosen
    return done, rest


def _merge_unprocessed(operation: str, upstream: Json, ours: Json) -> Json:
    merged = {table: value for table, value in upstream.items()}
    for table, value in ours.items():
        if table not in merged:
            merged[table] = value
        elif operation == "BatchGetItem":
            merged[table] = {**value, "Keys": merged[table]["Keys"] + value["Keys"]}
        else:
            merged[table] = merged[table] + value
    return merged


# -- selection -------------------------------------------------------------------------------


@dataclass
class Selector:
    """Which matching calls a scripted behaviour hits: `calls` (1-based numbers, e.g. {2, 3}),
    the `first` N, `every` k-th, or a `rate` drawn from random.Random(seed); none of them: all."""

    calls: frozenset[int] | None = None
    first: int | None = None
    every: int | None = None
    rate: float | None = None
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        given = [x is not None for x in (self.calls, self.first, self.every, self.rate)]
        if sum(given) > 1:
            raise ValueError("give at most one of calls, first, every, rate")
        if self.every is not None and self.every < 1:
            raise ValueError("every must be >= 1")
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        self._rng = random.Random(self.seed)

    def pick(self, n: int) -> bool:
        """Whether the n-th matching call (1-based) is hit."""
        if self.calls is not None:
            return n in self.calls
        if self.first is not None:
            return n <= self.first
        if self.every is not None:
            return n % self.every == 0
        if self.rate is not None:
            return self._rng.random() < self.rate
        return True


class ManualClock:
    """A clock for `partition_limit(clock=...)` that stands still until `advance()`d, so a test
    crosses a one-second window without sleeping. Seconds, like time.monotonic()."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._now += seconds


# -- switched-on behaviours ------------------------------------------------------------------


@dataclass
class Fault:
    operation: str  # "UpdateItem", or "*" for every operation
    mode: str
    table_suffix: str | None = None
    delay: float = 3.0
    times: int | None = None  # answer only this many matching requests (None: all)
    key_prefix: str | None = None  # only requests with a key starting with this
    cancelled: threading.Event = field(default_factory=threading.Event)

    def matches(self, operation: str, tables: Iterable[str], keys: Iterable[str] = ()) -> bool:
        if self.operation not in (ANY, operation):
            return False
        if self.key_prefix is not None and not any(k.startswith(self.key_prefix) for k in keys):
            return False
        suffix = self.table_suffix
        return suffix is None or any(t.endswith(suffix) for t in tables)


class Rule:
    """A switched-on AWS behaviour. `remove()` switches it off; `hits` counts the requests it
    changed (answered, split, throttled, delayed)."""

    operations: tuple[str, ...] = ()  # the operations this kind of rule can act on

    def __init__(self, proxy: FaultProxy, operation: str, table_suffix: str | None) -> None:
        operation = operation.rsplit(".", 1)[-1]
        if operation != ANY and self.operations and operation not in self.operations:
            raise ValueError(
                f"{type(self).__name__} acts on {', '.join(self.operations)}, not {operation!r}"
            )
        self.proxy = proxy
        self.operation = operation
        self.table_suffix = table_suffix
        self.hits = 0
        self.cancelled = threading.Event()

    def applies(self, operation: str, tables: Iterable[str]) -> bool:
        if self.operations and operation not in self.operations:
            return False
        if self.operation not in (ANY, operation):
            return False
        return self.table_suffix is None or any(t.endswith(self.table_suffix) for t in tables)

    def on_table(self, table: str) -> bool:
        return self.table_suffix is None or table.endswith(self.table_suffix)

    def remove(self) -> None:
        """Switch this behaviour off (requests it holds or delays go on at once)."""
        self.proxy._remove(self)

    def _stopped(self) -> None:
        """Called once, outside the proxy's lock, when removed."""
        self.cancelled.set()


class ConflictRace(Rule):
    """Tracks the items of the writes in flight and answers AWS's conflicts (see `conflicts()`).

    Each forwarded TransactWriteItems claims its items as a transaction, each forwarded
    PutItem/UpdateItem/DeleteItem/BatchWriteItem claims its items as a write, from admission
    until DynamoDB Local has answered it; several writes may claim one item at once."""

    operations = (*SINGLE_WRITES, *TRANSACTIONS, "BatchWriteItem")

    def __init__(
        self,
        proxy: FaultProxy,
        operation: str,
        table_suffix: str | None,
        hold: float,
        hold_writes: float,
        release_on_conflict: bool,
    ) -> None:
        super().__init__(proxy, operation, table_suffix)
        self.hold = hold
        self.hold_writes = hold_writes
        self.release_on_conflict = release_on_conflict
        self.conflicts = 0  # requests answered with a conflict
        # item -> {request id: TRANSACTION_CLAIM or WRITE_CLAIM}, and what each request claims
        self._owners: dict[tuple[str, str], dict[int, str]] = {}
        self._claims: dict[int, list[tuple[str, str]]] = {}
        self._holds: dict[int, threading.Event] = {}  # request id -> the end of its hold

    def held_items(self) -> list[tuple[str, Json]]:
        """(table, key) of every item a forwarded write claims now, each once."""
        with self.proxy._lock:
            return [(table, json.loads(key)) for table, key in self._owners]

    def wait_holding(self, count: int = 1, timeout: float = 5.0) -> bool:
        """Block until `count` requests are held open by this rule (their items claimed);
        False after `timeout` seconds."""
        with self.proxy._changed:
            return self.proxy._changed.wait_for(lambda: len(self._holds) >= count, timeout)

    def release(self) -> None:
        """End the hold of every request held now; they go on to DynamoDB Local."""
        with self.proxy._lock:
            events = list(self._holds.values())
        for event in events:
            event.set()

    def _stopped(self) -> None:
        super()._stopped()
        self.release()

    # -- under the proxy's lock ----------------------------------------------------------

    def _busy(self, operation: str, refs: list[ItemRef]) -> dict[int, list[int]]:
        """TransactItems index -> the requests whose claims `operation` conflicts with."""
        kinds = CONFLICTS_WITH.get(operation, ())
        busy: dict[int, list[int]] = {}
        for ref in refs:
            if not self.on_table(ref.table):
                continue
            owners = self._owners.get(ref.item_id, {})
            blocking = [request for request, kind in owners.items() if kind in kinds]
            if blocking:
                busy[ref.index] = blocking
        return busy

    def _claim(self, request: int, operation: str, refs: list[ItemRef]) -> float:
        """Claim the items of an admitted write; the seconds to hold it (0: none)."""
        kind = TRANSACTION_CLAIM if operation == "TransactWriteItems" else WRITE_CLAIM
        items = list(dict.fromkeys(r.item_id for r in refs if self.on_table(r.table)))
        for item in items:
            self._owners.setdefault(item, {})[request] = kind
        self._claims[request] = items
        seconds = self.hold if kind == TRANSACTION_CLAIM else self.hold_writes
        if seconds > 0:
            self._holds[request] = threading.Event()
            self.proxy._changed.notify_all()
        return seconds

    def _unclaim(self, request: int) -> None:
        for item in self._claims.pop(request, []):
            owners = self._owners.get(item, {})
            owners.pop(request, None)
            if not owners:
                self._owners.pop(item, None)
        self.proxy._changed.notify_all()

    def _release_met(
        self, busy: dict[int, list[int]], refs: list[ItemRef]
    ) -> list[tuple[str, str]]:
        """release_on_conflict: end the hold of the requests a conflict met (`busy`, from
        _busy); the conflicting items, to wait for before answering."""
        for owner in {o for owners in busy.values() for o in owners}:
            if owner in self._holds:
                self._holds[owner].set()
        return [r.item_id for r in refs if r.index in busy]

    def _transactions_on(self, items: Iterable[tuple[str, str]]) -> bool:
        return any(
            kind == TRANSACTION_CLAIM
            for item in items
            for kind in self._owners.get(item, {}).values()
        )

    # -- outside the lock ----------------------------------------------------------------

    def _hold(self, request: int, seconds: float) -> None:
        with self.proxy._lock:
            event = self._holds.get(request)
        try:
            if event is not None and not self.cancelled.is_set():
                event.wait(seconds)
        finally:
            with self.proxy._changed:
                self._holds.pop(request, None)
                self.proxy._changed.notify_all()

    def _settle(self, items: list[tuple[str, str]], timeout: float = 30.0) -> None:
        """Wait until no transaction claims `items` (they were answered by DynamoDB Local)."""
        with self.proxy._changed:
            self.proxy._changed.wait_for(lambda: not self._transactions_on(items), timeout)


class ScriptedConflict(Rule):
    """Answers chosen calls with a conflict, without a race (see `conflict_on()`)."""

    operations = (*SINGLE_WRITES, *TRANSACTIONS)

    def __init__(
        self,
        proxy: FaultProxy,
        operation: str,
        table_suffix: str | None,
        selector: Selector,
        item_index: int | None,
    ) -> None:
        super().__init__(proxy, operation, table_suffix)
        self.selector = selector
        self.item_index = item_index
        self.calls = 0


class Unprocessed(Rule):
    """Leaves a share of a batch's keys unprocessed (see `unprocessed()`)."""

    operations = BATCHES

    def __init__(
        self,
        proxy: FaultProxy,
        operation: str,
        table_suffix: str | None,
        share: float | None,
        every: int | None,
        seed: int,
    ) -> None:
        super().__init__(proxy, operation, table_suffix)
        if (share is None) == (every is None):
            raise ValueError("give exactly one of share (0..1) or every (k >= 1)")
        if share is not None and not 0.0 <= share <= 1.0:
            raise ValueError("share must be within [0, 1]")
        if every is not None and every < 1:
            raise ValueError("every must be >= 1")
        self.share = share
        self.every = every
        self._rng = random.Random(seed)
        self.left = 0  # keys left unprocessed so far

    def _leave(self, refs: list[ItemRef], skip: set[int]) -> set[int]:
        """Under the proxy's lock: the positions of `refs` this rule leaves unprocessed, besides
        those in `skip` already; never every item of the batch."""
        candidates = [r.index for r in refs if self.on_table(r.table)]
        chosen = self.choose([c for c in candidates if c not in skip])
        if chosen and len(skip | chosen) >= len(refs):
            chosen.discard(max(chosen))
        if chosen:
            self.hits += 1
            self.left += len(chosen)
        return chosen

    def choose(self, candidates: list[int]) -> set[int]:
        """The candidate positions to leave unprocessed."""
        if self.every is not None:
            return {c for n, c in enumerate(candidates, 1) if n % self.every == 0}
        count = round((self.share or 0.0) * len(candidates))
        return set(self._rng.sample(candidates, count))


class _Buckets:
    """Token buckets, one per (table, partition key value): `rate` units a second, at most
    `rate * burst_seconds` kept (a bucket starts full)."""

    def __init__(self, rate: float, burst_seconds: float) -> None:
        self.rate = rate
        self.capacity = rate * burst_seconds
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # -> (tokens, at)

    def tokens(self, partition: tuple[str, str], now: float) -> float:
        tokens, at = self._buckets.get(partition, (self.capacity, now))
        return min(self.capacity, tokens + max(0.0, now - at) * self.rate)

    def take(self, demands: Mapping[tuple[str, str], float], now: float) -> set[tuple[str, str]]:
        """Partitions whose demand does not fit; when all fit, their units are taken."""
        over = {p for p, units in demands.items() if units > self.tokens(p, now) + 1e-9}
        if not over:
            for partition, units in demands.items():
                self.charge(partition, units, now)
        return over

    def charge(self, partition: tuple[str, str], units: float, now: float) -> None:
        """Take `units` even past zero (a read's size is known once it was read)."""
        self._buckets[partition] = (self.tokens(partition, now) - units, now)


class PartitionLimit(Rule):
    """Write and read units per second per partition key, as token buckets (see
    `partition_limit()`)."""

    operations = (*WRITES, *READS)

    def __init__(
        self,
        proxy: FaultProxy,
        operation: str,
        table_suffix: str | None,
        wcu_per_second: float,
        burst_seconds: float,
        clock: Callable[[], float],
        error: str,
        rcu_per_second: float | None = None,
    ) -> None:
        super().__init__(proxy, operation, table_suffix)
        if wcu_per_second <= 0 or burst_seconds <= 0:
            raise ValueError("wcu_per_second and burst_seconds must be > 0")
        if rcu_per_second is not None and rcu_per_second <= 0:
            raise ValueError("rcu_per_second must be > 0 (None: reads not limited)")
        if error not in THROTTLE_ERRORS:
            raise ValueError(f"error must be one of {THROTTLE_ERRORS}, got {error!r}")
        self.wcu_per_second = wcu_per_second
        self.capacity = wcu_per_second * burst_seconds
        self.rcu_per_second = rcu_per_second
        self.clock = clock
        self.error = error
        self._writes = _Buckets(wcu_per_second, burst_seconds)
        self._reads = _Buckets(rcu_per_second, burst_seconds) if rcu_per_second else None
        self.throttled = 0  # write items refused so far
        self.read_throttled = 0  # read items (keys) refused so far
        self.read_units = 0.0  # read units the admitted reads took

    def applies(self, operation: str, tables: Iterable[str]) -> bool:
        if operation in READS and self._reads is None:
            return False
        return super().applies(operation, tables)

    def available(self, table: str, hash_value: Json) -> float:
        """Write units the partition key `hash_value` (e.g. {"S": "x"}) of `table` has now."""
        with self.proxy._lock:
            return self._writes.tokens((table, canonical(hash_value)), self.clock())

    def available_reads(self, table: str, hash_value: Json) -> float:
        """Read units the partition key `hash_value` of `table` has now (inf: not limited)."""
        if self._reads is None:
            return math.inf
        with self.proxy._lock:
            return self._reads.tokens((table, canonical(hash_value)), self.clock())

    # -- the verdict on one request, under the proxy's lock ------------------------------

    def _verdict(
        self, operation: str, refs: list[ItemRef], infos: Mapping[str, TableInfo | None]
    ) -> tuple[int, Json] | set[int] | None:
        """None: all fits (units taken). A full answer, or (a batch) the refused items."""
        now = self.clock()
        reading = operation in READS
        charged = [r for r in refs if _demand(r, reading) > 0 and self.on_table(r.table)]
        if operation in BATCHES:  # item by item: the ones that fit are written or read
            return self._item_by_item(refs, charged, infos, now, reading)
        return self._all_or_nothing(operation, refs, charged, infos, now, reading)

    def _buckets(self, reading: bool) -> _Buckets:
        buckets = self._reads if reading else self._writes
        assert buckets is not None  # applies() keeps reads out when they are not limited
        return buckets

    def _refused(self, count: int, reading: bool) -> None:
        self.hits += 1
        if reading:
            self.read_throttled += count
        else:
            self.throttled += count

    def _item_by_item(
        self,
        refs: list[ItemRef],
        charged: list[ItemRef],
        infos: Mapping[str, TableInfo | None],
        now: float,
        reading: bool,
    ) -> tuple[int, Json] | set[int] | None:
        """BatchWriteItem / BatchGetItem: the refused items (they go back in UnprocessedItems
        / UnprocessedKeys), or the throttling error when none was written or read; None when
        all fit."""
        buckets = self._buckets(reading)
        refused: set[int] = set()
        for ref in charged:
            if buckets.take({_partition(ref, infos): _demand(ref, reading)}, now):
                refused.add(ref.index)
            elif reading:
                self.read_units += ref.read_per_4kb
        if not refused:
            return None
        self._refused(len(refused), reading)
        if len(refused) == len(refs):  # none done: the whole call is throttled
            return self._error(charged[0].table, infos, reading)
        return refused

    def _all_or_nothing(
        self,
        operation: str,
        refs: list[ItemRef],
        charged: list[ItemRef],
        infos: Mapping[str, TableInfo | None],
        now: float,
        reading: bool,
    ) -> tuple[int, Json] | None:
        """A single write or read, or a transaction: the throttling error (a transaction:
        cancelled at the throttled items) unless every partition it writes or reads has the
        units; None when all fit."""
        demands: dict[tuple[str, str], float] = {}
        for ref in charged:
            partition = _partition(ref, infos)
            demands[partition] = demands.get(partition, 0) + _demand(ref, reading)
        over = self._buckets(reading).take(demands, now)
        if not over:
            self.read_units += sum(demands.values()) if reading else 0.0
            return None
        bad = [r for r in charged if _partition(r, infos) in over]
        self._refused(len(bad), reading)
        if operation not in TRANSACTIONS:
            return self._error(bad[0].table, infos, reading)
        bad_indexes = {r.index for r in bad}
        reasons = [
            throttle_reason(self._on_demand(infos.get(ref.table)))
            if ref.index in bad_indexes
            else {"Code": "None"}
            for ref in refs
        ]
        return 400, transaction_canceled(reasons)

    def settle_reads(
        self,
        operation: str,
        refs: list[ItemRef],
        answer: Json,
        infos: Mapping[str, TableInfo | None],
    ) -> None:
        """After a read's answer: take the units of items over 4 KB beyond the minimum their
        read was admitted on. Sizes are those of the items as returned (AWS counts the whole
        item even under a ProjectionExpression, so a projected read is counted short)."""
        if self._reads is None:
            return
        with self.proxy._lock:
            now = self.clock()
            for partition, per_4kb, item in _answered_reads(operation, refs, answer, infos):
                extra = read_units(item_size(item), per_4kb) - per_4kb
                if extra > 0 and self.on_table(partition[0]):
                    self._reads.charge(partition, extra, now)
                    self.read_units += extra

    def _on_demand(self, info: TableInfo | None) -> bool:
        """Whether the table is answered as on-demand (`error` forces one answer)."""
        if self.error != "auto":
            return self.error == "ThrottlingException"
        return info.on_demand if info else True

    def _error(
        self, table: str, infos: Mapping[str, TableInfo | None], reading: bool = False
    ) -> tuple[int, Json]:
        info = infos.get(table)
        reason = KEY_RANGE_READ_REASON if reading else KEY_RANGE_WRITE_REASON
        return key_range_throttle(self._on_demand(info), info.arn if info else table, reason)


def _demand(ref: ItemRef, reading: bool) -> float:
    """What a request's item takes from its partition's bucket when admitted: its write
    units, or for a read the minimum (an item up to 4 KB, or none)."""
    return ref.read_per_4kb if reading else ref.units


def _answered_reads(
    operation: str, refs: list[ItemRef], answer: Json, infos: Mapping[str, TableInfo | None]
) -> list[tuple[tuple[str, str], float, Json]]:
    """(partition, read units per 4 KB, item) of each item a read's answer carries."""
    if operation == "BatchGetItem":
        per_table = {ref.table: ref.read_per_4kb for ref in refs}
        found = []
        for table, items in (answer.get("Responses") or {}).items():
            info = infos.get(table)
            for item in items:
                if info is None or info.hash_key not in item:
                    continue  # projected without its key: not placed (counted short)
                ref = ItemRef(0, table, info.key_of(item), "Get", 0, per_table.get(table, 0.5))
                found.append((_partition(ref, infos), ref.read_per_4kb, item))
        return found
    entries = [answer] if operation == "GetItem" else list(answer.get("Responses") or [])
    return [
        (_partition(ref, infos), ref.read_per_4kb, entry["Item"])
        for ref, entry in zip(refs, entries, strict=False)
        if isinstance(entry, dict) and isinstance(entry.get("Item"), dict)
    ]


def _settle_reads(
    limits: list[PartitionLimit],
    operation: str,
    refs: list[ItemRef],
    infos: Mapping[str, TableInfo | None],
    status: int,
    data: bytes,
) -> None:
    """Each partition_limit() takes the units of a read's items over 4 KB (a 200 answer)."""
    if status != 200:
        return
    try:
        answer = json.loads(data)
    except ValueError:
        return
    if isinstance(answer, dict):
        for limit in limits:
            limit.settle_reads(operation, refs, answer, infos)


def _partition(ref: ItemRef, infos: Mapping[str, TableInfo | None]) -> tuple[str, str]:
    """(table, partition key value): what one partition_limit() bucket is kept for."""
    info = infos.get(ref.table)
    value = ref.key.get(info.hash_key) if info else ref.key
    return (ref.table, canonical(value or {}))


class Latency(Rule):
    """Delays forwarded requests by mean +- jitter seconds (see `latency()`)."""

    def __init__(
        self,
        proxy: FaultProxy,
        operation: str,
        table_suffix: str | None,
        mean: float,
        jitter: float,
        seed: int,
        sleep: Callable[[float], None] | None,
    ) -> None:
        super().__init__(proxy, operation, table_suffix)
        if mean < 0 or jitter < 0:
            raise ValueError("mean and jitter must be >= 0")
        self.mean = mean
        self.jitter = jitter
        self._rng = random.Random(seed)
        self._sleep = sleep
        self.delays: list[float] = []  # every delay drawn, in arrival order

    def draw(self) -> float:
        delay = max(0.0, self.mean + self._rng.uniform(-self.jitter, self.jitter))
        self.delays.append(delay)
        return delay

    def wait(self, delay: float) -> None:
        if self._sleep is not None:
            self._sleep(delay)
        else:
            self.cancelled.wait(delay)


class LazyTTL(Rule):
    """TTL switched off upstream, answered as AWS would (see `lazy_ttl()`)."""

    def __init__(self, proxy: FaultProxy, table_suffix: str | None) -> None:
        super().__init__(proxy, ANY, table_suffix)
        self._specs: dict[str, str] = {}  # table -> TTL attribute, as the caller sees it
        self._upstream_on: dict[str, str] = {}  # tables we switched off upstream
        self._checked: set[str] = set()
        self._gate = threading.Lock()
        self._headers: dict[str, str] = {}

    def attribute(self, table: str) -> str | None:
        """The TTL attribute `table` has as far as callers know (None: TTL disabled)."""
        with self.proxy._lock:
            return self._specs.get(table)

    def _adopt(self, table: str, headers: Mapping[str, str]) -> None:
        """First sight of `table`: take over its TTL (switch it off upstream)."""
        with self._gate:
            if table in self._checked or self.cancelled.is_set():
                return
            self._headers = dict(headers)
            status, answer = self.proxy._call("DescribeTimeToLive", {"TableName": table}, headers)
            description = answer.get("TimeToLiveDescription") or {}
            attribute = description.get("AttributeName")
            if (
                status == 200
                and attribute
                and description.get("TimeToLiveStatus")
                in (
                    "ENABLED",
                    "ENABLING",
                )
            ):
                spec = {"AttributeName": attribute, "Enabled": False}
                self.proxy._call(
                    "UpdateTimeToLive",
                    {"TableName": table, "TimeToLiveSpecification": spec},
                    headers,
                )
                with self.proxy._lock:
                    self._specs[table] = attribute
                    self._upstream_on[table] = attribute
            self._checked.add(table)

    def _stopped(self) -> None:
        super()._stopped()
        with self._gate:
            for table, attribute in self._upstream_on.items():
                spec = {"AttributeName": attribute, "Enabled": True}
                with contextlib.suppress(Exception):  # the table may be gone already
                    self.proxy._call(
                        "UpdateTimeToLive",
                        {"TableName": table, "TimeToLiveSpecification": spec},
                        self._headers,
                    )
            self._upstream_on.clear()


# -- the proxy ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    operation: str
    tables: tuple[str, ...]
    fault: str | None  # what was injected (a mode, or an AWS answer), None when forwarded as is
    delay: float = 0.0  # seconds of added latency
    keys: tuple[str, ...] = ()  # key_strings() of a single-item request


@dataclass
class _Plan:
    """What the proxy does with one request, decided atomically on arrival."""

    answer: tuple[int, Json] | None = None
    body: Json | None = None  # forward this instead of the raw body
    unprocessed: tuple[str, Json] | None = None  # ("UnprocessedKeys", {...}) to merge
    request: int = 0  # this request's number, under which conflicts() rules record claims
    owned: list[ConflictRace] = field(default_factory=list)  # rules this request claims items in
    holds: list[tuple[ConflictRace, float]] = field(default_factory=list)
    # conflicts(release_on_conflict=True): answer only once these items' transactions are done
    settle: tuple[ConflictRace, list[tuple[str, str]]] | None = None
    delays: list[tuple[Latency, float]] = field(default_factory=list)
    injected: str | None = None
    # partition_limit() on a read: (status, body) of DynamoDB Local's answer, for the units of
    # items over 4 KB
    read: Callable[[int, bytes], None] | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up close()
    # socketserver listens with a backlog of 5: a burst of new connections (environments
    # starting, a thread pool) would overflow it, and a dropped SYN is resent only after 1 s,
    # past the SDK's connect timeout (newsdesk.db.CONNECT_TIMEOUT, 0.5 s).
    request_queue_size = 128
    proxy: FaultProxy


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    timeout = 30  # an idle connection's thread ends eventually
    # TCP_NODELAY: an answer goes out as headers then body; with Nagle's algorithm the body
    # waits for the client's delayed ACK of the headers, 40 ms per request on Linux.
    disable_nagle_algorithm = True
    server: _Server
    upstream: http.client.HTTPConnection | None = None  # this connection's own to DynamoDB Local

    def setup(self) -> None:
        super().setup()
        self.server.proxy._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            if self.upstream is not None:
                self.upstream.close()
            self.server.proxy._closed(self.connection)

    def do_POST(self) -> None:
        self.server.proxy._handle(self)

    def do_GET(self) -> None:
        self.server.proxy._handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet


class FaultProxy:
    """Forward to `upstream` (an http:// endpoint, DynamoDB Local), injecting the faults set
    with fail() and the AWS behaviours switched on with the methods below."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self._upstream = (parts.hostname, parts.port or 80)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._faults: list[Fault] = []
        self._rules: list[Rule] = []
        self._tables: dict[str, TableInfo | None] = {}
        self._seen: list[Seen] = []
        self._sockets: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._request_ids = 0
        self.endpoint = ""

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.proxy = self
        self._server = server
        self.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="faultproxy"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def close(self) -> None:
        self.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:  # the SDK's idle pooled connections
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- control: plain faults --------------------------------------------------------------

    def fail(
        self,
        operation: str = ANY,
        mode: str = "throttle",
        table_suffix: str | None = None,
        delay: float = 3.0,
        times: int | None = None,
        key_prefix: str | None = None,
    ) -> Fault:
        """From now on, answer `operation` (e.g. "UpdateItem"; "*" for all) with `mode`; with
        `times`, only the next `times` matching requests; with `key_prefix`, only requests
        on one item whose key starts with it (e.g. "views#": an article's counter, not the
        site item in the same table)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        operation = operation.rsplit(".", 1)[-1]
        fault = Fault(operation, mode, table_suffix, delay, times, key_prefix)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """No more faults nor AWS behaviours; requests hanging in a "delay" fault, a hold or a
        latency are answered at once; TTL taken over by lazy_ttl() is switched back on."""
        with self._lock:
            faults, self._faults = self._faults, []
            rules, self._rules = self._rules, []
        for fault in faults:
            fault.cancelled.set()
        for rule in rules:
            rule._stopped()

    # -- control: AWS behaviours -------------------------------------------------------------

    def conflicts(
        self,
        operation: str = ANY,
        table_suffix: str | None = None,
        *,
        hold: float = 0.0,
        hold_writes: float = 0.0,
        release_on_conflict: bool = False,
    ) -> ConflictRace:
        """Transaction conflicts as a real race, by AWS's rule (module docstring), on
        PutItem/UpdateItem/DeleteItem, BatchWriteItem, TransactWriteItems and TransactGetItems
        (`operation` narrows it; "*" for all) on tables ending with `table_suffix`:
        - a single write to an item a forwarded TransactWriteItems includes: HTTP 400
          TransactionConflictException;
        - a TransactWriteItems with an item another forwarded TransactWriteItems includes, and
          a TransactGetItems with an item any forwarded write (single, batch or transaction)
          includes: HTTP 400 TransactionCanceledException, TransactionConflict at that item's
          index, "None" at the others;
        - everything else goes through: single writes with single writes, a TransactWriteItems
          with single or batch writes in flight, reads.
        Each admitted TransactWriteItems is held `hold` seconds before it is forwarded, each
        single or batch write `hold_writes` seconds; `wait_holding()` and `release()` on the
        handle synchronise a test with the holds. With `release_on_conflict`, a conflict ends
        the hold of the transactions it met and is answered only once they are answered, so
        the rejected request, retried at once, finds them done (as it would on AWS, where a
        transaction lasts milliseconds): a test of a retry does not depend on timing."""
        rule = ConflictRace(self, operation, table_suffix, hold, hold_writes, release_on_conflict)
        return self._add(rule)

    def conflict_on(
        self,
        operation: str,
        table_suffix: str | None = None,
        *,
        calls: Iterable[int] | None = None,
        first: int | None = None,
        every: int | None = None,
        rate: float | None = None,
        seed: int = 0,
        item_index: int | None = None,
    ) -> ScriptedConflict:
        """Scripted conflicts: the chosen matching calls of `operation` (the numbers in `calls`,
        1-based; the `first` N; `every` k-th; a `rate` drawn with random.Random(seed); all when
        none is given) are answered without reaching DynamoDB Local as if an ongoing
        TransactWriteItems (one the test does not run) included their item, the case where AWS
        rejects them: HTTP 400 TransactionConflictException for PutItem/UpdateItem/DeleteItem,
        TransactionCanceledException with TransactionConflict at `item_index` (default: the
        first item on a matching table) for a TransactWriteItems or TransactGetItems. It
        scripts AWS's answer to that race; it does not make single writes conflict with each
        other (use conflicts() for the race itself)."""
        selector = Selector(
            frozenset(calls) if calls is not None else None, first, every, rate, seed
        )
        return self._add(ScriptedConflict(self, operation, table_suffix, selector, item_index))

    def unprocessed(
        self,
        operation: str = ANY,
        *,
        share: float | None = None,
        every: int | None = None,
        seed: int = 0,
        table_suffix: str | None = None,
    ) -> Unprocessed:
        """Partial batches for BatchGetItem / BatchWriteItem (`operation`, or "*" for both):
        of the keys on tables ending with `table_suffix`, leave `share` (0..1, exactly
        round(share * n) keys, chosen with random.Random(seed)) or `every` k-th key unprocessed.
        Only the rest is forwarded; the answer carries DynamoDB Local's Responses for it and
        UnprocessedKeys / UnprocessedItems for the others (at least one key is processed)."""
        return self._add(Unprocessed(self, operation, table_suffix, share, every, seed))

    def partition_limit(
        self,
        wcu_per_second: float = 1000.0,
        *,
        rcu_per_second: float | None = 3000.0,
        clock: Callable[[], float] = time.monotonic,
        burst_seconds: float = 1.0,
        operation: str = ANY,
        table_suffix: str | None = None,
        error: str = "auto",
    ) -> PartitionLimit:
        """A write limit per partition key: each (table, partition key value) has a bucket of
        `wcu_per_second * burst_seconds` write units refilled at `wcu_per_second` by `clock`
        (seconds; inject a fake one to advance time without sleeping). A write that does not fit
        is refused with HTTP 400 ThrottlingException (on-demand table) or
        ProvisionedThroughputExceededException (provisioned; `error` forces one), reason
        TableWriteKeyRangeThroughputExceeded; a transaction is cancelled with ThrottlingError /
        ProvisionedThroughputExceeded at the throttled items; a BatchWriteItem returns them in
        UnprocessedItems (the error when none was written). Refused writes take no units.
        Reads (GetItem, BatchGetItem, TransactGetItems) likewise against `rcu_per_second`
        (None: not limited) in buckets of their own, reason TableReadKeyRangeThroughputExceeded,
        a BatchGetItem's refused keys in UnprocessedKeys; `read_throttled` counts the keys
        refused, `read_units` the units taken (module docstring: how reads are counted)."""
        rule = PartitionLimit(
            self,
            operation,
            table_suffix,
            wcu_per_second,
            burst_seconds,
            clock,
            error,
            rcu_per_second,
        )
        return self._add(rule)

    def latency(
        self,
        mean: float = 0.004,
        jitter: float = 0.002,
        seed: int = 0,
        *,
        operation: str = ANY,
        table_suffix: str | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> Latency:
        """Before each matching request is forwarded, wait mean + uniform(-jitter, +jitter)
        seconds drawn from random.Random(seed) (the handle's `delays` lists them in arrival
        order); `sleep` replaces the wait (default: a wait that clear()/remove() cut short)."""
        return self._add(Latency(self, operation, table_suffix, mean, jitter, seed, sleep))

    def lazy_ttl(self, table_suffix: str | None = None) -> LazyTTL:
        """TTL that never deletes during the run, as on AWS within a test's time: on the first
        request naming a matching table, TTL is switched off upstream (remembering its
        attribute); UpdateTimeToLive and DescribeTimeToLive on matching tables are answered by
        the proxy as AWS would, without reaching DynamoDB Local: DescribeTimeToLive ENABLED with
        the attribute, or DISABLED (never ENABLING/DISABLING); UpdateTimeToLive echoes its
        TimeToLiveSpecification, or HTTP 400 ValidationException "TimeToLive is already enabled"
        (or "... already disabled") when it changes nothing. Removing the handle switches TTL
        back on upstream."""
        return self._add(LazyTTL(self, table_suffix))

    def table_info(self, table: str) -> TableInfo | None:
        """Key schema, billing mode and ARN of `table` (DescribeTable upstream, cached); None
        when the proxy has not needed it yet."""
        with self._lock:
            return self._tables.get(table)

    # -- records ------------------------------------------------------------------------------

    def seen(
        self,
        operation: str = ANY,
        table_suffix: str | None = None,
        *,
        faulted: bool = False,
        key_prefix: str | None = None,
    ) -> int:
        """How many requests for `operation` (on a table ending with `table_suffix`; on an
        item whose key starts with `key_prefix`) arrived, forwarded or not (only the
        faulted ones with faulted=True)."""
        with self._lock:
            log = list(self._seen)
        return sum(
            1
            for s in log
            if operation in (ANY, s.operation)
            and (table_suffix is None or any(t.endswith(table_suffix) for t in s.tables))
            and (key_prefix is None or any(k.startswith(key_prefix) for k in s.keys))
            and (not faulted or s.fault is not None)
        )

    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def reset_counts(self) -> None:
        with self._lock:
            self._seen.clear()

    # -- internals: rules ------------------------------------------------------------------

    def _add(self, rule: R) -> R:
        with self._lock:
            self._rules.append(rule)
        return rule

    def _remove(self, rule: Rule) -> None:
        with self._lock:
            if rule not in self._rules:
                return
            self._rules.remove(rule)
        rule._stopped()

    def _opened(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    # -- internals: upstream ---------------------------------------------------------------

    def _call(self, operation: str, payload: Json, headers: Mapping[str, str]) -> tuple[int, Json]:
        """One request of the proxy's own to DynamoDB Local, under the caller's credentials."""
        sent = {k: v for k, v in headers.items() if k.lower() in _SIGNED}
        sent["Content-Type"] = JSON_TYPE
        sent["X-Amz-Target"] = TARGET_PREFIX + operation
        status, _, _, data = self._exchange("POST", "/", json.dumps(payload).encode(), sent)
        try:
            answer = json.loads(data) if data else {}
        except ValueError:
            answer = {}
        return status, answer if isinstance(answer, dict) else {}

    def _exchange(
        self, command: str, path: str, raw: bytes, headers: Mapping[str, str]
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """One request on a connection of its own (the proxy's look-ups)."""
        upstream = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            return self._send(upstream, command, path, raw, headers)
        finally:
            upstream.close()

    def _forward(
        self, handler: _Handler, raw: bytes, headers: Mapping[str, str]
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """A client's request on that client connection's kept-alive connection upstream. A
        reused connection that DynamoDB Local closed while idle fails before any answer: it is
        replaced and the request sent once more; any other failure is raised."""
        for _ in range(2):
            reused = handler.upstream is not None
            if handler.upstream is None:
                handler.upstream = http.client.HTTPConnection(*self._upstream, timeout=30)
            upstream = handler.upstream
            try:
                return self._send(upstream, handler.command, handler.path, raw, headers)
            except OSError as err:
                upstream.close()
                handler.upstream = None
                if not (reused and isinstance(err, ConnectionError)):
                    raise
        raise ConnectionError("DynamoDB Local closed the connection twice")

    @staticmethod
    def _send(
        upstream: http.client.HTTPConnection,
        command: str,
        path: str,
        raw: bytes,
        headers: Mapping[str, str],
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        upstream.request(command, path, body=raw, headers=dict(headers))
        response = upstream.getresponse()
        data = response.read()
        answer_headers = [
            (k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP | _SET_BY_US
        ]
        return response.status, response.reason, answer_headers, data

    def _info(self, table: str, headers: Mapping[str, str]) -> TableInfo | None:
        with self._lock:
            if table in self._tables:
                return self._tables[table]
        status, answer = self._call("DescribeTable", {"TableName": table}, headers)
        described = answer.get("Table") or {}
        info = None
        if status == 200 and described.get("KeySchema"):
            schema = sorted(described["KeySchema"], key=lambda k: k.get("KeyType") != "HASH")
            billing = (described.get("BillingModeSummary") or {}).get("BillingMode")
            info = TableInfo(
                name=table,
                key_names=tuple(k["AttributeName"] for k in schema),
                on_demand=billing == "PAY_PER_REQUEST",
                arn=described.get("TableArn", f"arn:aws:dynamodb:local:000000000000:table/{table}"),
            )
        if info is not None:  # a table not there yet is looked up again next time
            with self._lock:
                self._tables[table] = info
        return info

    # -- internals: one request ------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        target = handler.headers.get("X-Amz-Target", "")
        operation = target.rsplit(".", 1)[-1] if target else ""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        tables = tables_of(body)
        keys = key_strings(body)
        with self._lock:
            fault = next((f for f in self._faults if f.matches(operation, tables, keys)), None)
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
            rules = [r for r in self._rules if r.applies(operation, tables)]
            if fault is not None or not rules:
                self._seen.append(Seen(operation, tables, fault.mode if fault else None, keys=keys))
        try:
            if fault is not None:
                self._fault(handler, fault, raw)
            elif not rules:
                self._relay(handler, raw)
            else:
                self._apply(handler, operation, body, raw, tables, rules)
        except OSError:  # the client gave up first (read timeout): nobody to answer
            handler.close_connection = True

    def _fault(self, handler: _Handler, fault: Fault, raw: bytes) -> None:
        if fault.mode == "late":
            self._relay(handler, raw, answered=lambda: fault.cancelled.wait(fault.delay))
        elif fault.mode == "throttle":
            self._answer(handler, 400, THROTTLE_BODY)
        elif fault.mode == "table-throttle":
            self._answer(handler, 400, TABLE_THROTTLE_BODY)
        elif fault.mode == "error":
            self._answer(handler, 500, ERROR_BODY)
        elif fault.mode == "delay":
            fault.cancelled.wait(fault.delay)
            self._answer(handler, 500, ERROR_BODY)
        else:  # drop: reset the connection without a word
            handler.close_connection = True
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.connection.close()

    def _apply(
        self,
        handler: _Handler,
        operation: str,
        body: Json,
        raw: bytes,
        tables: tuple[str, ...],
        rules: list[Rule],
    ) -> None:
        infos = self._look_up(tables, rules, dict(handler.headers.items()))
        refs = item_refs(operation, body, infos.get)
        with self._lock:
            plan = self._decide(operation, body, tables, rules, refs, infos)
            self._seen.append(
                Seen(
                    operation,
                    tables,
                    plan.injected,
                    sum(d for _, d in plan.delays),
                    key_strings(body),
                )
            )
        try:
            self._carry_out(handler, operation, raw, plan)
        finally:
            self._free_items(plan)

    def _look_up(
        self, tables: tuple[str, ...], rules: list[Rule], headers: Mapping[str, str]
    ) -> dict[str, TableInfo | None]:
        """The network look-ups a request's rules need, first and outside the lock: lazy_ttl()
        takes over the TTL of tables it has not seen yet; conflicts() and partition_limit()
        need the tables' key schema (the result, by table; empty when no rule needs it)."""
        for rule in rules:
            if isinstance(rule, LazyTTL):
                for table in tables:
                    if rule.on_table(table):
                        rule._adopt(table, headers)
        if not any(isinstance(r, ConflictRace | PartitionLimit) for r in rules):
            return {}
        return {table: self._info(table, headers) for table in tables}

    def _carry_out(self, handler: _Handler, operation: str, raw: bytes, plan: _Plan) -> None:
        """Answer as `plan` says, or hold, delay and forward the request."""
        if plan.answer is not None:
            if plan.settle is not None:
                race, items = plan.settle
                race._settle(items)
            self._answer(handler, *plan.answer)
            return
        for race, seconds in plan.holds:
            race._hold(plan.request, seconds)
        for latency, delay in plan.delays:
            latency.wait(delay)
        answered = functools.partial(self._free_items, plan)
        if plan.body is None and plan.unprocessed is None:
            self._relay(handler, raw, answered, plan.read)
        else:
            self._relay_batch(handler, operation, plan, answered)

    def _free_items(self, plan: _Plan) -> None:
        """DynamoDB Local answered (or failed): the request's items are free again, before the
        client hears of it."""
        if plan.owned:
            with self._lock:
                for race in plan.owned:
                    race._unclaim(plan.request)

    # -- internals: the plan, under the lock -------------------------------------------------

    def _decide(
        self,
        operation: str,
        body: Json,
        tables: tuple[str, ...],
        rules: list[Rule],
        refs: list[ItemRef],
        infos: Mapping[str, TableInfo | None],
    ) -> _Plan:
        """Every rule's verdict on one request, taken under the lock (so the order of arrival
        decides races, call counts and seeded draws)."""
        request = self._request_ids = self._request_ids + 1
        plan = _Plan(request=request)
        live = [r for r in rules if r in self._rules]
        # 1. TTL answered as AWS would, for the tables lazy_ttl() took over
        if operation in ("UpdateTimeToLive", "DescribeTimeToLive"):
            ttl = next((r for r in live if isinstance(r, LazyTTL)), None)
            if ttl is not None:
                return self._ttl_plan(plan, operation, body, ttl)
        # 2. conflicts, scripted then racing
        conflict = self._scripted_conflict(operation, refs, live)
        if conflict is None:
            conflict = self._race_conflict(plan, operation, refs, live)
        if conflict is not None:
            return self._answered(plan, conflict)
        # 3. partial batches: the keys left unprocessed (at least one is processed)
        skip = self._unprocessed(operation, refs, live)
        # 4. partition limits, on what is still to be written
        throttled = self._partition_limits(operation, refs, live, infos, skip)
        if throttled is not None:
            return self._answered(plan, throttled)
        limits = [r for r in live if isinstance(r, PartitionLimit)]
        if operation in READS and limits:
            plan.read = functools.partial(_settle_reads, limits, operation, refs, dict(infos))
        if skip:
            self._split(plan, operation, body, skip)
        # 5. admitted: claim the written items (not those left unprocessed), holds, latency
        self._admit(plan, operation, refs, live, skip)
        return plan

    def _ttl_plan(self, plan: _Plan, operation: str, body: Json, rule: LazyTTL) -> _Plan:
        """UpdateTimeToLive / DescribeTimeToLive answered by lazy_ttl()'s `rule`."""
        rule.hits += 1
        answer = self._ttl_answer(operation, body, rule)
        if answer[0] != 200:
            return self._answered(plan, answer)
        plan.answer = answer
        plan.injected = operation
        return plan

    def _scripted_conflict(
        self, operation: str, refs: list[ItemRef], live: list[Rule]
    ) -> tuple[int, Json] | None:
        """conflict_on(): the answer when a rule picks this call (each rule counts it first)."""
        for rule in live:
            if isinstance(rule, ScriptedConflict):
                rule.calls += 1
                if rule.selector.pick(rule.calls):
                    rule.hits += 1
                    return self._conflict_answer(operation, refs, rule, None)
        return None

    def _race_conflict(
        self, plan: _Plan, operation: str, refs: list[ItemRef], live: list[Rule]
    ) -> tuple[int, Json] | None:
        """conflicts(): the answer when an item is claimed by a write in flight it conflicts
        with; with release_on_conflict, `plan.settle` says what to wait for first."""
        for rule in live:
            if isinstance(rule, ConflictRace):
                busy = rule._busy(operation, refs)
                if busy:
                    rule.hits += 1
                    rule.conflicts += 1
                    if rule.release_on_conflict:  # the transactions met end their hold now
                        plan.settle = (rule, rule._release_met(busy, refs))
                    return self._conflict_answer(operation, refs, None, set(busy))
        return None

    @staticmethod
    def _unprocessed(operation: str, refs: list[ItemRef], live: list[Rule]) -> set[int]:
        """unprocessed(): the positions of a batch's items its rules leave unprocessed."""
        skip: set[int] = set()
        if operation in BATCHES:
            for rule in live:
                if isinstance(rule, Unprocessed):
                    skip |= rule._leave(refs, skip)
        return skip

    def _partition_limits(
        self,
        operation: str,
        refs: list[ItemRef],
        live: list[Rule],
        infos: Mapping[str, TableInfo | None],
        skip: set[int],
    ) -> tuple[int, Json] | None:
        """partition_limit() on the items not in `skip`: the throttling answer, or None with
        the BatchWriteItem items refused added to `skip`."""
        for rule in live:
            if isinstance(rule, PartitionLimit):
                remaining = [r for r in refs if r.index not in skip]
                refused = rule._verdict(operation, remaining, infos)
                if isinstance(refused, tuple):
                    return refused
                skip |= refused or set()
        return None

    @staticmethod
    def _split(plan: _Plan, operation: str, body: Json, skip: set[int]) -> None:
        """Forward the batch without the items in `skip`; they come back as unprocessed."""
        done, rest = split_batch(operation, body.get("RequestItems") or {}, skip)
        plan.body = {**body, "RequestItems": done}
        name = "UnprocessedKeys" if operation == "BatchGetItem" else "UnprocessedItems"
        plan.unprocessed = (name, rest)
        plan.injected = name

    @staticmethod
    def _admit(
        plan: _Plan, operation: str, refs: list[ItemRef], live: list[Rule], skip: set[int]
    ) -> None:
        """A write claims its items (not those left unprocessed) in each conflicts() rule, with
        the hold the rule gives it; each latency() rule draws a delay."""
        for rule in live:
            if isinstance(rule, ConflictRace) and operation in WRITES:
                written = [r for r in refs if r.index not in skip]
                seconds = rule._claim(plan.request, operation, written)
                plan.owned.append(rule)
                if seconds > 0:
                    plan.holds.append((rule, seconds))
            elif isinstance(rule, Latency):
                rule.hits += 1
                plan.delays.append((rule, rule.draw()))

    @staticmethod
    def _answered(plan: _Plan, answer: tuple[int, Json]) -> _Plan:
        plan.answer = answer
        plan.injected = str(answer[1]["__type"]).split("#")[-1]
        return plan

    @staticmethod
    def _conflict_answer(
        operation: str,
        refs: list[ItemRef],
        scripted: ScriptedConflict | None,
        busy: set[int] | None,
    ) -> tuple[int, Json]:
        if operation in SINGLE_WRITES:
            return 400, aws_error("TransactionConflictException", CONFLICT_MESSAGE)
        count = len(refs)
        if busy is None:
            assert scripted is not None
            index = scripted.item_index
            if index is None:
                index = next((r.index for r in refs if scripted.on_table(r.table)), 0)
            busy = {index}
        return 400, transaction_canceled(conflict_reasons(count, busy))

    def _ttl_answer(self, operation: str, body: Json, rule: LazyTTL) -> tuple[int, Json]:
        table = body.get("TableName", "")
        if operation == "DescribeTimeToLive":
            attribute = rule._specs.get(table)
            description: Json = (
                {"TimeToLiveStatus": "ENABLED", "AttributeName": attribute}
                if attribute
                else {"TimeToLiveStatus": "DISABLED"}
            )
            return 200, {"TimeToLiveDescription": description}
        spec = body.get("TimeToLiveSpecification") or {}
        enabled = table in rule._specs
        if spec.get("Enabled"):
            if enabled:  # not idempotent on AWS (module docstring)
                return 400, aws_error("ValidationException", TTL_ALREADY_ENABLED)
            rule._specs[table] = str(spec.get("AttributeName"))
        else:
            if not enabled:  # as DynamoDB Local and dynalite word it (module docstring)
                return 400, aws_error("ValidationException", TTL_ALREADY_DISABLED)
            rule._specs.pop(table, None)
        return 200, {"TimeToLiveSpecification": spec}

    # -- internals: answers ----------------------------------------------------------------

    def _next_id(self) -> str:
        return "FAULTPROXY" + uuid.uuid4().hex.upper()

    def _answer(self, handler: _Handler, status: int, payload: Mapping[str, Any]) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", JSON_TYPE)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("x-amzn-RequestId", self._next_id())
        handler.send_header("x-amz-crc32", str(zlib.crc32(data)))
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()

    def _relay(
        self,
        handler: _Handler,
        raw: bytes,
        answered: Callable[[], object] | None = None,
        read: Callable[[int, bytes], None] | None = None,
    ) -> None:
        """Forward as it came and answer what DynamoDB Local answered, as it came;
        `answered` runs between the two, after `read` has seen the answer."""
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            status, reason, answer_headers, data = self._forward(handler, raw, headers)
        except OSError as err:
            if answered is not None:
                answered()
            self._answer(handler, 502, {"__type": "ProxyError", "message": str(err)})
            return
        if read is not None:
            read(status, data)
        if answered is not None:
            answered()
        handler.send_response(status, reason)
        for key, value in answer_headers:
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()

    def _relay_batch(
        self, handler: _Handler, operation: str, plan: _Plan, answered: Callable[[], None]
    ) -> None:
        """Forward the processed part of a batch and merge in the unprocessed rest."""
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = plan.body or {}
        try:
            status, reason, answer_headers, data = self._forward(
                handler, json.dumps(body).encode(), headers
            )
        except OSError as err:
            answered()
            self._answer(handler, 502, {"__type": "ProxyError", "message": str(err)})
            return
        if plan.read is not None:
            plan.read(status, data)
        answered()
        if status != 200 or plan.unprocessed is None:
            handler.send_response(status, reason)
            for key, value in answer_headers:
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            handler.wfile.flush()
            return
        answer = json.loads(data)
        name, rest = plan.unprocessed
        answer[name] = _merge_unprocessed(operation, answer.get(name) or {}, rest)
        if operation == "BatchGetItem":  # every requested table appears in Responses
            responses = answer.setdefault("Responses", {})
            for table in rest:
                responses.setdefault(table, [])
        self._answer(handler, 200, answer)
