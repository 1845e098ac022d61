"""The DynamoDB client, and one helper per mechanism that every data module uses.

Only the modules of `newsdesk.dal` import this one. It holds:
- `client()`: the one low-level client (timeouts, retries, the failure budget below);
- `batch_get()` / `batch_get_tables()`: BatchGetItem in chunks of 100 keys, unprocessed
  keys retried with capped exponential backoff and full jitter, `UnprocessedKeysError`
  when some stay unprocessed (never a silent partial answer);
- `query()` / `count()`: botocore's Query paginator (every page, `LastEvaluatedKey` followed);
- `number()` / `text()`: one attribute of a low-level item (whole items are turned into
  values by newsdesk.articles.from_item, and written through boto3's TypeSerializer);
- `transact_write()`: TransactWriteItems, its cancellation reasons read one way;
- `conditional_update()`: a conditional UpdateItem answered True/False, a refused
  condition being an answer; `condition_failed()`, `degraded()`, `start_request()`.

Failure budget: every call has a 0.5 s connect and 1 s read timeout and the SDK's standard
retry mode with 2 attempts (one retry, jittered backoff under 1 s), so one failing call
gives up within ~4 s. After the first failed call of a request, `degraded()` is true and
the optional work (counting, presence, widget figures) is skipped, so a request makes at
most two failing calls: ~8 s, inside the functions' 15 s timeout (template.yaml;
tests/integration/test_faults.py checks the arithmetic and the behaviour). Exceptions: an ADD
that may have been applied is not retried (at_most_once); a write refused by a transaction
conflict gets up to CONFLICT_ATTEMPTS short-spaced tries; a batch read up to BATCH_ATTEMPTS requests
per 100 keys when keys come back unprocessed (about 0.4 s of waiting on average).
"""

from __future__ import annotations

import contextlib
import contextvars
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

CONNECT_TIMEOUT = 0.5
READ_TIMEOUT = 1.0
MAX_ATTEMPTS = 2

_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT,
    read_timeout=READ_TIMEOUT,
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    tcp_keepalive=True,
)

# Operator commands (`python -m newsdesk import/export/set-views...`) run from a terminal or a
# script, with nobody waiting on a page: a slow or throttled answer is waited for and retried
# (the standard retry mode's backoff: up to 20 s a wait), and the import's threads each get a
# connection (botocore's default pool is 10). Parameters are not validated on the client
# (DynamoDB validates every request; botocore's check of a 100-action transaction costs more
# CPU than sending it).
OPERATOR_CONNECT_TIMEOUT = 10.0
OPERATOR_READ_TIMEOUT = 60.0
OPERATOR_MAX_ATTEMPTS = 10
OPERATOR_CONFIG = Config(
    connect_timeout=OPERATOR_CONNECT_TIMEOUT,
    read_timeout=OPERATOR_READ_TIMEOUT,
    retries={"mode": "standard", "total_max_attempts": OPERATOR_MAX_ATTEMPTS},
    tcp_keepalive=True,
    max_pool_connections=32,
    parameter_validation=False,
)
_config: dict[str, Any] = {"config": _CONFIG, "attempts": MAX_ATTEMPTS}

_degraded: contextvars.ContextVar[bool] = contextvars.ContextVar("degraded", default=False)
_at_most_once: contextvars.ContextVar[bool] = contextvars.ContextVar("at_most_once", default=False)


@contextlib.contextmanager
def at_most_once() -> Iterator[None]:
    """Calls in this block that add to a count (UpdateItem ADD) are retried only when
    DynamoDB certainly did not apply them: a 4xx answer (throttling, say) is a refusal. After
    a read timeout, a dropped connection or a 5xx, the write may have been applied with its
    answer lost, and an UpdateItem carries no idempotency token (only TransactWriteItems
    does: "Providing a ClientRequestToken makes the call to TransactWriteItems idempotent",
    DynamoDB API Reference), so the SDK's retry would count one view twice. Seen on DynamoDB
    Local under load: four views counted twice in 480 (tests/integration/test_admin.py)."""
    token = _at_most_once.set(True)
    try:
        yield
    finally:
        _at_most_once.reset(token)


_throttle_handled: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "throttle_handled", default=False
)
THROTTLED = ("ThrottlingException", "ProvisionedThroughputExceededException")


@contextlib.contextmanager
def throttle_handled() -> Iterator[None]:
    """Calls in this block that are throttled are not retried by the SDK: the caller has a
    better answer than waiting (a hot article's view moves to new shards at once)."""
    token = _throttle_handled.set(True)
    try:
        yield
    finally:
        _throttle_handled.reset(token)


def error_code(exc: BaseException) -> str | None:
    """The DynamoDB error code of a ClientError (ThrottlingException, ...); None for any
    other exception (a timeout, a dropped connection)."""
    if not isinstance(exc, ClientError):
        return None
    code = exc.response.get("Error", {}).get("Code")
    return str(code) if code is not None else None


def failure(exc: BaseException) -> str:
    """What a log line says of a failed DynamoDB call: its error code, else its text."""
    return error_code(exc) or str(exc)


def throttled(exc: Exception) -> bool:
    """DynamoDB refused the request for throughput (a hot key, say)."""
    return error_code(exc) in THROTTLED


def hot_key(exc: Exception) -> bool:
    """DynamoDB refused the request because its partition key is past the partition's
    limits: a ThrottlingReason ending in KeyRangeThroughputExceeded, or a throttle that
    gives no reason (answers from before reasons existed). Not when the reasons name the
    table or index as a whole (ProvisionedThroughputExceeded, AccountLimitExceeded,
    MaxOnDemandThroughputExceeded): more keys would not help then. API Reference,
    "ThrottlingReason" (ThrottlingException: throttlingReasons;
    ProvisionedThroughputExceededException: ThrottlingReasons)."""
    if not throttled(exc):
        return False
    response = getattr(exc, "response", {})
    reasons = response.get("throttlingReasons") or response.get("ThrottlingReasons") or []
    return not reasons or any(
        str(reason.get("reason", "")).endswith("KeyRangeThroughputExceeded") for reason in reasons
    )


def _maybe_applied(caught_exception: Exception | None, response: Any) -> bool:
    """A failed attempt that DynamoDB may have applied all the same: any failure but a
    refusal (a 4xx) or a connection that was never made (nothing was sent)."""
    if caught_exception is not None:
        return not isinstance(caught_exception, (EndpointConnectionError, ConnectTimeoutError))
    return response is not None and response[0].status_code >= 500


def refused(exc: Exception) -> bool:
    """DynamoDB answered this error with a 4xx: the request was certainly not applied
    (throttled, a failed condition, a transaction conflict), unlike a 5xx or a timeout."""
    if not isinstance(exc, ClientError):
        return False
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)) < 500


# A single-item write to an item that a TransactWriteItems is writing at that moment is
# refused with TransactionConflictException ("When a PutItem, UpdateItem, or DeleteItem
# request is rejected, the request fails with a TransactionConflictException", Developer
# Guide, "Transaction conflict handling in DynamoDB"). The SDK's standard mode does not retry
# it, so a reader's view meeting an editor's save would be lost. It is a refusal (nothing
# applied), so it is retried, up to CONFLICT_ATTEMPTS tries. A transaction holds its items
# for milliseconds, but an import or an editor's script may save the same article back to
# back, so the waits are short and many: full jitter from 10 ms, capped at 200 ms (at most
# 1.3 s in all, about 0.65 s on average, for a view that meets 9 saves in a row).
CONFLICT_ATTEMPTS = 10
CONFLICT_BACKOFF_BASE = 0.01  # seconds
CONFLICT_BACKOFF_CAP = 0.2  # seconds


def conflict_delay(attempt: int) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...) of a write refused by a
    transaction conflict: full jitter, capped."""
    return random.uniform(0, min(CONFLICT_BACKOFF_CAP, CONFLICT_BACKOFF_BASE * 2 ** (attempt - 1)))


def _conflict(response: Any) -> bool:
    if response is None:
        return False
    return bool(response[1].get("Error", {}).get("Code") == "TransactionConflictException")


def _retry_only_when_safe(dynamodb: Any) -> None:
    """Wrap the SDK's standard retry handler (botocore.retries.standard, registered on the
    client's needs-retry event): at_most_once() calls skip retries that could apply twice,
    and a write refused by a transaction conflict is retried."""
    from botocore.retries import standard

    events = dynamodb.meta.events
    event, unique_id = "needs-retry.dynamodb", "retry-config-dynamodb"
    events.unregister(event, unique_id=unique_id)
    handler = standard.register_retry_handler(dynamodb, max_attempts=int(_config["attempts"]))
    events.unregister(event, unique_id=unique_id)

    def needs_retry(**kwargs: Any) -> float | None:
        response, attempts = kwargs.get("response"), int(kwargs.get("attempts", 1))
        if _at_most_once.get() and _maybe_applied(kwargs.get("caught_exception"), response):
            return None  # no retry: the error goes to the caller
        error = response[1].get("Error", {}).get("Code") if response is not None else None
        if _throttle_handled.get() and error in THROTTLED:
            return None  # the caller handles it
        if _conflict(response):
            return conflict_delay(attempts) if attempts < CONFLICT_ATTEMPTS else None
        delay: float | None = handler.needs_retry(**kwargs)
        return delay

    events.register(event, needs_retry, unique_id=unique_id)


def _mark_failed(**_: Any) -> None:
    _degraded.set(True)


@cache
def client() -> Any:
    """A low-level DynamoDB client; the endpoint follows AWS_ENDPOINT_URL_DYNAMODB."""
    from botocore.session import get_session

    # botocore's session, not boto3's: boto3 would import s3transfer too (about 70 ms of a
    # cold start) for nothing a low-level client uses; boto3.Session.client makes this same
    # call (region, credentials and AWS_ENDPOINT_URL_DYNAMODB all come from botocore).
    dynamodb = get_session().create_client("dynamodb", config=_config["config"])
    _retry_only_when_safe(dynamodb)
    # Any call that ends in an error (after retries) marks this request degraded.
    dynamodb.meta.events.register("after-call-error.dynamodb", _mark_failed)
    dynamodb.meta.events.register("after-call.dynamodb", _after_call)
    return dynamodb


def _after_call(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
    error = parsed.get("Error", {}).get("Code", "")
    # A refused condition is an answer, not a failure of the store.
    if http_response.status_code >= 500 or (
        error and error not in ("ConditionalCheckFailedException", "TransactionCanceledException")
    ):
        _degraded.set(True)


# BatchGetItem: "If DynamoDB returns any unprocessed items, you should retry the batch
# operation on those items. However, we strongly recommend that you use an exponential
# backoff algorithm" (DynamoDB API Reference, BatchGetItem). Full jitter, capped, as in the
# AWS Architecture Blog's "Exponential Backoff and Jitter": at most BATCH_ATTEMPTS requests
# per chunk, waits of up to 50, 100, 200, 400 ms (about 0.4 s on average in all).
BATCH_LIMIT = 100  # keys per BatchGetItem (more: ValidationException)
BATCH_ATTEMPTS = 5
JOB_ATTEMPTS = 12  # off the page path (the most-read job, export): up to ~6 s of waiting
BACKOFF_BASE = 0.05  # seconds
BACKOFF_CAP = 1.0  # seconds
sleep = time.sleep  # tests may replace it


class UnprocessedKeysError(BotoCoreError):
    """Some keys of a BatchGetItem stayed unprocessed after BATCH_ATTEMPTS requests: the
    answer would be partial, so there is none (callers treat it as the store failing)."""

    fmt = "{count} key(s) of {table} stayed unprocessed after {attempts} BatchGetItem requests"


def backoff_delay(attempt: int) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): full jitter, capped."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))


def backoff(attempt: int) -> None:
    sleep(backoff_delay(attempt))


def batch_get(
    table: str, keys: list[dict[str, Any]], attempts: int = BATCH_ATTEMPTS, **options: Any
) -> list[dict[str, Any]]:
    """Every existing item of `keys` in `table` (any order; missing ones are left out), by
    BatchGetItem of up to 100 keys. `options` go with the keys (ProjectionExpression,
    ExpressionAttributeNames, ConsistentRead); `attempts` requests at most per 100 keys
    (more for jobs off the page path). Raises UnprocessedKeysError when keys stay
    unprocessed, ClientError/BotoCoreError when the store fails."""
    return batch_get_tables({table: {"Keys": keys, **options}}, attempts)[table]


def batch_get_tables(
    request: Mapping[str, Mapping[str, Any]], attempts: int = BATCH_ATTEMPTS
) -> dict[str, list[dict[str, Any]]]:
    """BatchGetItem over several tables ({table: {"Keys": [...], options}}): {table: items}.
    Requests of up to 100 keys in all, each retried as batch_get() says."""
    found: dict[str, list[dict[str, Any]]] = {table: [] for table in request}
    pairs = [(table, key) for table, spec in request.items() for key in spec["Keys"]]
    for start in range(0, len(pairs), BATCH_LIMIT):
        chunk: dict[str, dict[str, Any]] = {}
        for table, key in pairs[start : start + BATCH_LIMIT]:
            spec = chunk.setdefault(table, {**request[table], "Keys": []})
            spec["Keys"].append(key)
        for table, items in _batch_get_chunk(chunk, attempts).items():
            found[table] += items
    return found


def _batch_get_chunk(
    request: Mapping[str, Mapping[str, Any]], attempts: int
) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {table: [] for table in request}
    pending: Mapping[str, Any] = request
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            backoff(attempt - 1)
        response = client().batch_get_item(RequestItems=pending)
        for table, items in response.get("Responses", {}).items():
            found[table] += items
        pending = response.get("UnprocessedKeys") or {}
        if not pending:
            return found
    _degraded.set(True)
    left = sum(len(spec["Keys"]) for spec in pending.values())
    raise UnprocessedKeysError(count=left, table=", ".join(pending), attempts=attempts)


def query(**params: Any) -> Iterator[dict[str, Any]]:
    """Every item a Query matches, page after page (botocore's paginator follows
    LastEvaluatedKey). `params` are Query's own."""
    for page in client().get_paginator("query").paginate(**params):
        yield from page.get("Items", [])


def scan(**params: Any) -> Iterator[dict[str, Any]]:
    """Every item a Scan returns, page after page (botocore's paginator follows
    LastEvaluatedKey). For rare operator work only: a Scan reads the whole table."""
    for page in client().get_paginator("scan").paginate(**params):
        yield from page.get("Items", [])


def count(**params: Any) -> int:
    """How many items a Query matches (Select=COUNT over every page)."""
    pages = client().get_paginator("query").paginate(Select="COUNT", **params)
    return sum(int(page.get("Count", 0)) for page in pages)


def number(item: Mapping[str, Any] | None, name: str) -> int:
    """The whole number in attribute `name` of a low-level item (0 when absent)."""
    return int((item or {}).get(name, {}).get("N", "0"))


def text(item: Mapping[str, Any] | None, name: str, default: str = "") -> str:
    """The string in attribute `name` of a low-level item (`default` when absent)."""
    return str((item or {}).get(name, {}).get("S", default))


@dataclass(frozen=True)
class Cancelled:
    """A TransactWriteItems that DynamoDB cancelled because a condition failed: the reason
    code of each action, in request order ("None" for an action that did not fail;
    "ConditionalCheckFailed", ...), and the item each action returned with
    ReturnValuesOnConditionCheckFailure=ALL_OLD ({} without). DynamoDB API Reference,
    TransactWriteItems, CancellationReasons."""

    codes: list[str]
    items: list[dict[str, Any]]


def transact_write(actions: list[dict[str, Any]]) -> Cancelled | None:
    """Run one TransactWriteItems: None when written, Cancelled when a condition refused it.

    A transaction cancelled only because another request was writing one of its items
    (reason TransactionConflict: "the transaction is cancelled ... none of the actions are
    applied", Developer Guide, "Transaction conflict handling in DynamoDB") is sent again,
    up to CONFLICT_ATTEMPTS times, as a single write refused by a conflict is. Any other
    cancellation, a conflict that lasts, or a failure raises."""
    dynamodb = client()
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            dynamodb.transact_write_items(TransactItems=actions)
        except dynamodb.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            codes = [str(reason.get("Code", "None")) for reason in reasons]
            if "ConditionalCheckFailed" in codes:
                return Cancelled(codes, [dict(reason.get("Item", {})) for reason in reasons])
            if "TransactionConflict" not in codes or attempt == CONFLICT_ATTEMPTS:
                raise
            sleep(conflict_delay(attempt))
            continue
        return None
    raise AssertionError("unreachable")  # the last attempt returns or raises


def conditional_update(**params: Any) -> bool:
    """One UpdateItem with a ConditionExpression: True when applied, False when DynamoDB
    refused the condition (an answer, not a failure); other errors are raised."""
    try:
        client().update_item(**params)
    except ClientError as exc:
        if not condition_failed(exc):
            raise
        return False
    return True


def condition_failed(exc: Exception) -> bool:
    """A conditional write DynamoDB refused: an answer (already counted, someone else won),
    not a failure of the store."""
    return error_code(exc) == "ConditionalCheckFailedException"


def degraded() -> bool:
    """True once a DynamoDB call of the current request has failed: skip optional work."""
    return _degraded.get()


def start_request() -> None:
    """Each invocation starts healthy (called by the handlers' middleware)."""
    _degraded.set(False)


def use_operator_client() -> None:
    """From now on, client() is the operator commands' client (OPERATOR_CONFIG: generous
    timeouts and retries) instead of the pages' (a request's failure budget above). Called
    by `python -m newsdesk` before anything else; reset() goes back."""
    _config.update(config=OPERATOR_CONFIG, attempts=OPERATOR_MAX_ATTEMPTS)
    client.cache_clear()


def reset() -> None:
    """Forget the cached client and settings (tests switch endpoints and tables), and use
    the pages' client again."""
    from newsdesk.config import settings

    _config.update(config=_CONFIG, attempts=MAX_ATTEMPTS)
    client.cache_clear()
    settings.cache_clear()
