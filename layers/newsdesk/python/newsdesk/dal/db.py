"""The one place that creates the DynamoDB client; only the data modules import it.

Failure budget: every call has a 0.5 s connect and 1 s read timeout and the SDK's standard
retry mode with 2 attempts (one retry, jittered backoff under 1 s), so one failing call
gives up within ~4 s. After the first failed call of a request, `degraded()` is true and
the optional work (counting, presence, widget figures) is skipped, so a request makes at
most two failing calls: ~8 s, inside the functions' 15 s timeout (template.yaml;
tests/integration/test_faults.py checks the arithmetic and the behaviour).
"""

from __future__ import annotations

import contextvars
from functools import cache
from typing import Any

from botocore.config import Config

CONNECT_TIMEOUT = 0.5
READ_TIMEOUT = 1.0
MAX_ATTEMPTS = 2

_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT,
    read_timeout=READ_TIMEOUT,
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    tcp_keepalive=True,
)

_degraded: contextvars.ContextVar[bool] = contextvars.ContextVar("degraded", default=False)


def _mark_failed(**_: Any) -> None:
    _degraded.set(True)


@cache
def client() -> Any:
    """A low-level DynamoDB client; the endpoint follows AWS_ENDPOINT_URL_DYNAMODB."""
    import boto3

    dynamodb = boto3.session.Session().client("dynamodb", config=_CONFIG)
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


def condition_failed(exc: Exception) -> bool:
    """A conditional write DynamoDB refused: an answer (already counted, someone else won),
    not a failure of the store."""
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return code == "ConditionalCheckFailedException"


def degraded() -> bool:
    """True once a DynamoDB call of the current request has failed: skip optional work."""
    return _degraded.get()


def start_request() -> None:
    """Each invocation starts healthy (called by the handlers' middleware)."""
    _degraded.set(False)


def reset() -> None:
    """Forget the cached client and settings (tests switch endpoints and tables)."""
    from newsdesk.config import settings

    client.cache_clear()
    settings.cache_clear()
