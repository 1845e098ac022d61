"""Fault injection: DynamoDB throttling, timing out, failing or dropping connections, injected
at the HTTP level by tests/faultproxy.py between the SDK and DynamoDB Local.

What a reader notices: a failing counter write leaves the article page 200 without a new count;
a failing article read gives an HTML 503 with Retry-After, never a traceback; heartbeats fail
soft. What an operator relies on: standard retries with bounded timeouts keep every request
inside the function timeout of template.yaml, and every fault is logged exactly once with the
request's correlation id (API Gateway's requestContext.requestId).

No test here reads a clock: the time a request can take is bounded by counting, not timing.
The SDK's configuration bounds one attempt (connect and read timeouts) and the number of
attempts of a call; `test_worst_case_...` checks that two failing calls fit in the function
timeout; each fault test checks how many attempts the request made and how each ended (an
answer, or the SDK's own timeout, never a hang waited out). Latency is `make bench`'s job.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from markupsafe import escape
from newsdesk import articles
from newsdesk.dal import db
from newsdesk.observability import logger as service_logger

from local.tables import load_template
from tests.faultproxy import FaultProxy
from tests.support import ROOT, SLUG, event, import_fixture, invoke, reader

LEGACY_VIEWS = 9574  # the fixture's cms-view-count: its first counted view shows 9.575
# An article's counter item (dal.counters.counter_key), not the site item of total visits
# in the same table, which a reader's first view also updates.
COUNTER = "views#"
COUNT = re.compile(r"<span data-views>([^<]*)</span>")
# Whatever a client must never see of a failure's insides.
LEAKS = (
    "Traceback",
    "botocore",
    "ClientError",
    "ProvisionedThroughputExceeded",
    "InternalServerError",
    "ReadTimeout",
    "ConnectionClosed",
    "Exception",
    'File "',
)


def function_timeout() -> float:
    """The smallest Timeout any function gets from template.yaml (Globals or its own)."""
    template = load_template(ROOT / "template.yaml")
    timeouts = [float(template["Globals"]["Function"]["Timeout"])]
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            own = resource.get("Properties", {}).get("Timeout")
            if isinstance(own, int | float):
                timeouts.append(float(own))
    return min(timeouts)


def retry_backoff_bound(attempts: int) -> float:
    """Upper bound of the SDK's standard-mode waits between `attempts` tries: the i-th retry
    waits rand(0, 1) * min(2 ** (i - 1), 20) seconds (throttling scale, the largest)."""
    return float(sum(min(2 ** (i - 1), 20) for i in range(1, attempts)))


def worst_failing_call() -> float:
    """Seconds one DynamoDB call can take before the SDK gives up."""
    return db.MAX_ATTEMPTS * (db.CONNECT_TIMEOUT + db.READ_TIMEOUT) + retry_backoff_bound(
        db.MAX_ATTEMPTS
    )


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def faulty_dynamodb(dynamodb_proxy: FaultProxy) -> FaultProxy:
    """The template's tables in DynamoDB Local, reached only through the dynamodb_proxy
    fixture's fault-injecting proxy (a fresh container's caches; faults cleared after the
    test), with the fixture article imported (no faults) and the proxy's counts reset."""
    from newsdesk import caches

    import_fixture()
    written = dynamodb_proxy.seen("TransactWriteItems") + dynamodb_proxy.seen("BatchWriteItem")
    assert written >= 1, "the import did not go through"
    caches.clear_all()  # the import ran elsewhere (an operator's command)
    dynamodb_proxy.reset_counts()
    return dynamodb_proxy


class ServiceLog(logging.Handler):
    """The service logger's records as Powertools writes them (JSON, with correlation_id)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.entries: list[tuple[int, dict[str, Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Formatted now: the correlation id is the formatter's state during this request.
        formatted = service_logger.registered_formatter.format(record)
        self.entries.append((record.levelno, json.loads(formatted)))

    def problems(self, request_id: str | None = None) -> list[dict[str, Any]]:
        """WARNING-or-above entries (of one request when `request_id` is given)."""
        return [
            entry
            for level, entry in self.entries
            if level >= logging.WARNING
            and (request_id is None or entry.get("correlation_id") == request_id)
        ]


@pytest.fixture
def service_log() -> Iterator[ServiceLog]:
    handler = ServiceLog()
    target = logging.getLogger(service_logger.service)
    target.addHandler(handler)
    try:
        yield handler
    finally:
        target.removeHandler(handler)


# -- helpers --------------------------------------------------------------------------------


def request(function: str, data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Invoke `function` with `data` under a request id of its own: (response, id)."""
    request_id = f"fault-{uuid.uuid4().hex[:12]}"
    data["requestContext"]["requestId"] = request_id
    return invoke(function, data), request_id


class Attempts:
    """How each attempt of the SDK ended from now on, in order: (operation, outcome), the
    outcome being the error code DynamoDB (or the proxy) answered, the exception's class name
    when there was no answer (ReadTimeoutError: the SDK's read timeout fired), or "ok".
    botocore emits needs-retry after every attempt, the last one included."""

    def __init__(self) -> None:
        self.made: list[tuple[str, str]] = []
        db.client().meta.events.register("needs-retry.dynamodb", self._record)

    def _record(
        self,
        operation: Any,
        response: Any = None,
        caught_exception: Exception | None = None,
        **_: Any,
    ) -> None:
        if caught_exception is not None:
            outcome = type(caught_exception).__name__
        else:
            outcome = response[1].get("Error", {}).get("Code") or "ok"
        self.made.append((operation.name, outcome))

    def failed(self, operation: str | None = None) -> list[str]:
        """The outcomes of the attempts that failed (of one operation when given)."""
        return [
            outcome
            for name, outcome in self.made
            if outcome != "ok" and (operation is None or name == operation)
        ]


@pytest.fixture
def attempts(faulty_dynamodb: FaultProxy) -> Attempts:
    return Attempts()


def assert_inside_the_failure_budget(attempts: Attempts) -> None:
    """The request's time is bounded without timing it: at most two calls failed (after the
    first, db.degraded() skips the optional work), each after at most MAX_ATTEMPTS attempts,
    each attempt ended by an answer or by the SDK's timeouts (the hangs the proxy injects
    outlast the function timeout: an attempt that waited one out would end with its late 500,
    InternalServerError). test_worst_case_... shows that this fits in the function timeout."""
    failed = attempts.failed()
    assert len(failed) <= 2 * db.MAX_ATTEMPTS, attempts.made


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in (response.get("headers") or {}).items()}


def shown_count(body: str) -> str | None:
    found = COUNT.search(body)
    return found.group(1) if found else None


def api_views() -> int:
    response = invoke("api", event("article-views"))
    assert response["statusCode"] == 200, response
    return int(json.loads(response["body"])["views"])


def assert_logged_once(log: ServiceLog, request_id: str, what: str) -> dict[str, Any]:
    """Exactly one WARNING-or-above record, carrying the request's correlation id, and no
    other WARNING-or-above record at all (none without the id, none for another request)."""
    mine = log.problems(request_id)
    assert len(mine) == 1, f"{what}: expected one warning for {request_id}, got {mine}"
    assert log.problems() == mine, f"{what}: other warnings were logged: {log.problems()}"
    return mine[0]


def assert_storage_503_page(response: dict[str, Any]) -> None:
    headers = headers_of(response)
    assert response["statusCode"] == 503, response
    assert headers.get("retry-after", "").isdigit(), headers
    assert headers.get("content-type", "").startswith("text/html"), headers
    body = response["body"]
    assert body.lstrip().lower().startswith("<!doctype html"), body[:200]
    for leak in LEAKS:
        assert leak not in body, f"{leak!r} shown to the reader"


# -- 0. the injected faults, as DynamoDB answers them -----------------------------------------

# DynamoDB's own answers (sources in tests/faultproxy.py's docstring: the botocore model's
# shapes, and the messages DynamoDB sends as quoted in public reports).
DYNAMODB_ANSWERS = {
    "throttle": (
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            "message": "The level of configured provisioned throughput for the table was "
            "exceeded. Consider increasing your provisioning level with the UpdateTable API.",
        },
    ),
    "error": (
        500,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
            "message": "Internal server error",
        },
    ),
    # the model's ThrottlingException member throttlingReasons (API Reference,
    # "ThrottlingReason"): the table as a whole, not a key range
    "table-throttle": (
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
            "message": "Throughput exceeds the current capacity of your table or index. "
            "DynamoDB is automatically scaling your table or index so please try again "
            "shortly. If exceptions persist, check if you have a hot key: "
            "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
            "bp-partition-key-design.html",
            "throttlingReasons": [
                {
                    "reason": "TableWriteMaxOnDemandThroughputExceeded",
                    "resource": "arn:aws:dynamodb:us-east-1:000000000000:table/throttled",
                }
            ],
        },
    ),
}


@pytest.mark.parametrize("mode", list(DYNAMODB_ANSWERS))
def test_injected_faults_are_answered_as_dynamodb_answers(
    faulty_dynamodb: FaultProxy, ddb_local_tables: dict[str, str], mode: str
) -> None:
    """Status, __type, message, content type and the x-amz-crc32 botocore checks, as DynamoDB
    sends them; botocore reads the modeled error code and message from it."""
    status, body = DYNAMODB_ANSWERS[mode]
    faulty_dynamodb.fail("GetItem", mode=mode, table_suffix="-articles")
    host, port = faulty_dynamodb.endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    request = json.dumps({"TableName": "x-articles", "Key": {"slug": {"S": SLUG}}})
    connection.request(
        "POST",
        "/",
        body=request,
        headers={
            "X-Amz-Target": "DynamoDB_20120810.GetItem",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    answer = connection.getresponse()
    data = answer.read()
    connection.close()
    assert answer.status == status
    assert json.loads(data) == body
    assert answer.getheader("Content-Type") == "application/x-amz-json-1.0"
    assert answer.getheader("x-amz-crc32") == str(zlib.crc32(data))

    client = boto3.client(
        "dynamodb",
        endpoint_url=faulty_dynamodb.endpoint,
        config=Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as caught:
        client.get_item(TableName=ddb_local_tables["ARTICLES_TABLE"], Key={"slug": {"S": SLUG}})
    code = body["__type"].split("#")[1]
    assert caught.value.response["Error"] == {"Code": code, "Message": body["message"]}
    for member, value in body.items():  # modeled members, where newsdesk.dal.db reads them
        if member not in ("__type", "message"):
            assert caught.value.response[member] == value
    assert db.hot_key(caught.value) == (mode == "throttle")  # no reason given: a hot key
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


# -- 1. a throttled counter write ----------------------------------------------------------


def test_throttled_counter_write_on_a_fresh_container_shows_the_page_without_a_count(
    faulty_dynamodb: FaultProxy, service_log: ServiceLog
) -> None:
    proxy = faulty_dynamodb
    title = articles.get_article(SLUG).title
    articles.forget()  # a fresh container: the page reads the article itself
    proxy.reset_counts()
    proxy.fail("UpdateItem", mode="throttle", table_suffix="-counters", key_prefix=COUNTER)

    response, request_id = request("pages", reader(1))

    assert response["statusCode"] == 200, response
    assert f"<h1>{escape(title)}</h1>" in response["body"]
    assert "data-views" not in response["body"]  # no count rather than a wrong one
    # A throttled view is not retried on its hot key: it moves to a new shard at once (and
    # tries to record the new shards on the first one), then gives up (dal.counters).
    assert proxy.seen("UpdateItem", "-counters", key_prefix=COUNTER) == THROTTLED_VIEW_TRIES
    assert (
        proxy.seen("UpdateItem", "-counters", faulted=True, key_prefix=COUNTER)
        == THROTTLED_VIEW_TRIES
    )
    entry = assert_logged_once(service_log, request_id, "throttled counter write")
    assert entry["level"] == "WARNING"
    assert "ProvisionedThroughputExceededException" in json.dumps(entry)

    proxy.clear()
    assert api_views() == LEGACY_VIEWS  # nothing was counted


def test_throttled_counter_write_after_a_counted_view_shows_the_previous_number(
    faulty_dynamodb: FaultProxy, service_log: ServiceLog
) -> None:
    proxy = faulty_dynamodb
    first, first_id = request("pages", reader(1))
    assert first["statusCode"] == 200
    assert shown_count(first["body"]) == "9.575"
    assert service_log.problems() == []  # a healthy request logs no warning

    proxy.reset_counts()
    proxy.fail("UpdateItem", mode="throttle", table_suffix="-counters", key_prefix=COUNTER)
    response, request_id = request("pages", reader(2))  # another reader: would count

    assert response["statusCode"] == 200, response
    assert shown_count(response["body"]) == "9.575"  # the last count, not a new one
    assert proxy.seen("UpdateItem", "-counters", key_prefix=COUNTER) == THROTTLED_VIEW_TRIES
    assert_logged_once(service_log, request_id, "throttled counter write")
    assert service_log.problems(first_id) == []

    proxy.clear()
    assert api_views() == LEGACY_VIEWS + 1  # only the first view counted


# -- 2. a counter write timing out --------------------------------------------------------


def test_counter_write_timing_out_still_answers_200_after_the_sdk_gives_up(
    faulty_dynamodb: FaultProxy, service_log: ServiceLog, attempts: Attempts
) -> None:
    proxy = faulty_dynamodb
    # A hang longer than the function timeout: only the SDK's read timeout can end it.
    proxy.fail(
        "UpdateItem",
        mode="delay",
        table_suffix="-counters",
        delay=function_timeout(),
        key_prefix=COUNTER,
    )

    response, request_id = request("pages", reader(1))

    assert response["statusCode"] == 200, response
    assert "data-views" not in response["body"]
    # The attempt was ended by the SDK's read timeout (the bound is the SDK's, not the
    # server's) and not retried: it may have counted (dal.db.at_most_once).
    assert proxy.seen("UpdateItem", "-counters", key_prefix=COUNTER) == 1
    assert attempts.failed() == ["ReadTimeoutError"], attempts.made
    assert_inside_the_failure_budget(attempts)
    entry = assert_logged_once(service_log, request_id, "counter write timing out")
    assert entry["level"] == "WARNING"
    assert "timeout" in json.dumps(entry).lower()

    proxy.clear()
    assert api_views() == LEGACY_VIEWS


# -- 3. a failing article read ---------------------------------------------------------------


# How an attempt ends under each injected fault, as botocore reports it.
OUTCOME = {
    "error": "InternalServerError",
    "throttle": "ProvisionedThroughputExceededException",
    "drop": "ConnectionClosedError",
}


@pytest.mark.parametrize("mode", ["error", "throttle", "drop"])
def test_failing_article_read_gives_an_html_503_with_retry_after(
    faulty_dynamodb: FaultProxy, service_log: ServiceLog, attempts: Attempts, mode: str
) -> None:
    proxy = faulty_dynamodb
    proxy.fail("GetItem", mode=mode, table_suffix="-articles")

    response, request_id = request("pages", reader(1))

    assert_storage_503_page(response)
    assert proxy.seen("GetItem", "-articles") == db.MAX_ATTEMPTS  # retried
    assert proxy.seen("UpdateItem") == 0  # nothing counted for a page not shown
    assert attempts.failed() == [OUTCOME[mode]] * db.MAX_ATTEMPTS, attempts.made
    assert_inside_the_failure_budget(attempts)
    entry = assert_logged_once(service_log, request_id, f"article read ({mode})")
    assert entry["level"] == "ERROR"

    proxy.clear()
    assert api_views() == LEGACY_VIEWS


# -- 4. heartbeats fail soft ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ["throttle", "drop"])
def test_failing_heartbeat_after_a_good_one_answers_the_cached_figures_as_stale(
    faulty_dynamodb: FaultProxy, service_log: ServiceLog, attempts: Attempts, mode: str
) -> None:
    proxy = faulty_dynamodb
    good, good_id = request("api", reader(1, "visits"))
    assert good["statusCode"] == 200, good
    figures = json.loads(good["body"])
    assert figures["online"] == 1 and "stale" not in figures

    proxy.reset_counts()
    proxy.fail("UpdateItem", mode=mode, table_suffix="-connections")
    response, request_id = request("api", reader(2, "visits"))  # another visitor

    assert response["statusCode"] == 200, response
    assert headers_of(response)["content-type"].startswith("application/json")
    answer = json.loads(response["body"])
    assert answer == {**figures, "stale": True}  # the container's last figures
    assert proxy.seen("UpdateItem", "-connections") == db.MAX_ATTEMPTS
    assert attempts.failed() == [OUTCOME[mode]] * db.MAX_ATTEMPTS, attempts.made
    entry = assert_logged_once(service_log, request_id, f"heartbeat ({mode}), cached figures")
    assert entry["level"] == "WARNING"
    assert service_log.problems(good_id) == []


def test_failing_heartbeat_with_nothing_cached_answers_a_json_503(
    faulty_dynamodb: FaultProxy, service_log: ServiceLog, attempts: Attempts
) -> None:
    """The figures cannot be read and none were read before: nothing to answer, and no
    write is attempted in a request whose DynamoDB already failed."""
    proxy = faulty_dynamodb
    proxy.fail("BatchGetItem", mode="error", table_suffix="-counters", key_prefix=FIGURES)

    response, request_id = request("api", reader(1, "visits"))

    headers = headers_of(response)
    assert response["statusCode"] == 503, response
    assert headers.get("retry-after", "").isdigit(), headers
    assert headers.get("content-type", "").startswith("application/json"), headers
    answer = json.loads(response["body"])
    assert set(answer) == {"message"} and isinstance(answer["message"], str), answer
    for leak in LEAKS:
        assert leak not in response["body"]
    assert proxy.seen("BatchGetItem", "-counters", key_prefix=FIGURES) == db.MAX_ATTEMPTS
    assert proxy.seen("UpdateItem", "-connections") == 0
    assert_inside_the_failure_budget(attempts)
    assert_logged_once(service_log, request_id, "heartbeat, nothing cached")

    # The widget script keeps its figures on any non-OK answer (it reads JSON only if r.ok).
    script = (ROOT / "templates" / "widget.js").read_text("utf-8")
    assert re.search(r"r\.ok\s*\?\s*r\.json\(\)\s*:\s*null", script), "widget reads non-OK bodies"


# -- 5. the failure budget -----------------------------------------------------------------


def test_worst_case_of_two_failing_calls_fits_in_the_function_timeout() -> None:
    timeout = function_timeout()
    assert 0 < db.CONNECT_TIMEOUT <= 1 and 0 < db.READ_TIMEOUT <= 2, "unbounded SDK timeouts"
    assert db.MAX_ATTEMPTS >= 2, "no retry at all: one blip fails the request"
    per_call = worst_failing_call()  # 2 x (0.5 + 1) + 1 s backoff = 4 s today
    assert 2 * per_call < timeout, (per_call, timeout)


def test_the_client_really_uses_standard_retries_and_bounded_timeouts(
    faulty_dynamodb: FaultProxy,
) -> None:
    """What the SDK does, not what db.py's constants say: botocore normalises its retry
    settings into total_max_attempts (tries including the first)."""
    config = db.client().meta.config
    assert db.client().meta.endpoint_url == faulty_dynamodb.endpoint
    assert config.connect_timeout == db.CONNECT_TIMEOUT
    assert config.read_timeout == db.READ_TIMEOUT
    assert config.retries["mode"] == "standard"
    attempts = config.retries["total_max_attempts"]
    worst = 2 * (attempts * (db.CONNECT_TIMEOUT + db.READ_TIMEOUT) + retry_backoff_bound(attempts))
    assert attempts == db.MAX_ATTEMPTS, (
        f"the SDK makes {attempts} tries per call, db.py budgets {db.MAX_ATTEMPTS}: "
        f"two failing calls can take {worst:.1f} s against a {function_timeout():.0f} s timeout"
    )
    assert worst < function_timeout()


def test_with_every_dynamodb_call_hanging_the_article_page_is_a_503_inside_the_timeout(
    faulty_dynamodb: FaultProxy, service_log: ServiceLog, attempts: Attempts
) -> None:
    proxy = faulty_dynamodb
    proxy.fail("*", mode="delay", delay=function_timeout())  # nothing ever answers in time

    response, request_id = request("pages", reader(1))

    assert_storage_503_page(response)
    # The article read failed, so nothing else was attempted: one failing call, each of its
    # attempts ended by the SDK's read timeout.
    assert proxy.seen() == proxy.seen("GetItem", "-articles") == db.MAX_ATTEMPTS
    assert attempts.made == [("GetItem", "ReadTimeoutError")] * db.MAX_ATTEMPTS
    assert_inside_the_failure_budget(attempts)
    assert_logged_once(service_log, request_id, "every call hanging")


def test_after_one_failing_call_the_optional_work_is_skipped(
    faulty_dynamodb: FaultProxy, service_log: ServiceLog, attempts: Attempts
) -> None:
    """Every counters and connections call hangs: the article (one good read) is shown after
    ONE failing call; the visitor widget's reads are never attempted."""
    proxy = faulty_dynamodb
    proxy.fail("*", mode="delay", table_suffix="-counters", delay=function_timeout())
    proxy.fail("*", mode="delay", table_suffix="-connections", delay=function_timeout())

    response, request_id = request("pages", reader(1))

    assert response["statusCode"] == 200, response
    assert "data-views" not in response["body"]
    assert proxy.seen(faulted=True) == db.MAX_ATTEMPTS  # one call (the day's salt)
    assert proxy.seen("Query", "-connections") == 0  # widget figures skipped
    assert attempts.failed() == ["ReadTimeoutError"] * db.MAX_ATTEMPTS, attempts.made
    assert_inside_the_failure_budget(attempts)
    assert_logged_once(service_log, request_id, "counters and connections hanging")


# -- 6. one log record per fault (the other tests check it per scenario) ----------------------


def test_successive_faults_each_log_once_with_their_own_request_id(
    faulty_dynamodb: FaultProxy, service_log: ServiceLog
) -> None:
    """Two requests in a row on one container: each fault carries its own request's id."""
    proxy = faulty_dynamodb
    proxy.fail("UpdateItem", mode="error", table_suffix="-counters", key_prefix=COUNTER)
    _, first_id = request("pages", reader(1))
    _, second_id = request("pages", reader(2))
    assert first_id != second_id
    assert [e["correlation_id"] for e in service_log.problems()] == [first_id, second_id]


# A throttled view: its shard, the record of new shards on the first one, a new shard.
THROTTLED_VIEW_TRIES = 3
# The widget's figures: one BatchGetItem of the site item, visit shards and online-now buckets.
FIGURES = "online#"


# Other paths a DynamoDB failure can take; each must be logged once with its request's id.
OTHER_PATHS = {
    "index listing": ("pages", "index", "Query", "-articles", 503, "text/html"),
    "views API read": ("api", "article-views", "BatchGetItem", None, 503, "application/json"),
    "stats, nothing cached": (
        "api",
        "stats",
        "BatchGetItem",
        ("-counters", FIGURES),
        503,
        "application/json",
    ),
    "beacon counter write": (
        "api",
        "article-view-beacon",
        "UpdateItem",
        ("-counters", COUNTER),
        200,
        "application/json",
    ),
    "article, daily salt read": ("pages", "article", "GetItem", "-counters", 200, "text/html"),
    "article, widget figures": (
        "pages",
        "article",
        "BatchGetItem",
        ("-counters", FIGURES),
        200,
        "text/html",
    ),
}
# A 500 to an ADD may come after the view was counted: sent once (dal.db.at_most_once).
SENT_ONCE = {"beacon counter write"}


@pytest.mark.parametrize("path", list(OTHER_PATHS))
def test_every_other_failure_path_is_logged_once_and_answers_cleanly(
    faulty_dynamodb: FaultProxy, service_log: ServiceLog, attempts: Attempts, path: str
) -> None:
    function, name, operation, target, status, content_type = OTHER_PATHS[path]
    table_suffix, key_prefix = target if isinstance(target, tuple) else (target, None)
    faulty_dynamodb.fail(operation, mode="error", table_suffix=table_suffix, key_prefix=key_prefix)

    response, request_id = request(function, reader(1, name))

    assert response["statusCode"] == status, (path, response)
    headers = headers_of(response)
    assert headers.get("content-type", "").startswith(content_type), headers
    if status == 503:
        assert headers.get("retry-after", "").isdigit(), headers
    for leak in LEAKS:
        assert leak not in response["body"], f"{path}: {leak!r} shown to the client"
    tries = 1 if path in SENT_ONCE else db.MAX_ATTEMPTS
    assert (
        faulty_dynamodb.seen(operation, table_suffix, faulted=True, key_prefix=key_prefix) == tries
    )
    assert attempts.failed() == ["InternalServerError"] * tries, attempts.made
    assert_logged_once(service_log, request_id, path)


def test_log_capture_sees_the_service_logger(service_log: ServiceLog) -> None:
    """Guard for the checks above: a warning through the service logger is captured."""
    service_logger.warning("probe")
    assert [e["message"] for e in service_log.problems()] == ["probe"]


# -- a fault does not cost the reader a later count ------------------------------------------


def test_a_reader_whose_view_failed_to_count_is_counted_on_the_next_view(
    faulty_dynamodb: FaultProxy,
) -> None:
    """The repeat-view marker is taken back when the counter write fails, so the reload
    counts instead of being taken for a repeat of a view that was never counted."""
    proxy = faulty_dynamodb
    proxy.fail("UpdateItem", mode="throttle", table_suffix="-counters", key_prefix=COUNTER)
    failed, _ = request("pages", reader(1))
    assert failed["statusCode"] == 200
    proxy.clear()
    again, _ = request("pages", reader(1))
    assert shown_count(again["body"]) == "9.575"
    assert api_views() == LEGACY_VIEWS + 1


def test_a_view_whose_online_now_bucket_is_throttled_still_counts_and_keeps_the_visit(
    faulty_dynamodb: FaultProxy, service_log: ServiceLog
) -> None:
    """Presence is the view's second write: when DynamoDB refuses it (a throttled bucket
    key), the view still counts (it is the reader's, and its window is open), the visit is
    counted on a visit shard instead, and the failure is logged once."""
    from newsdesk import caches, presence

    total = presence.total_visits_now()
    faulty_dynamodb.fail(
        "UpdateItem", mode="throttle", table_suffix="-counters", key_prefix="online#"
    )
    response, request_id = request("pages", reader(1))
    assert response["statusCode"] == 200
    assert shown_count(response["body"]) == "9.575"  # counted
    assert_logged_once(service_log, request_id, "presence not recorded")
    faulty_dynamodb.clear()
    assert api_views() == LEGACY_VIEWS + 1
    caches.clear_all()
    assert presence.total_visits_now() == total + 1  # the reader's visit, on a shard


def test_a_failed_heartbeat_does_not_hold_back_the_next_one(
    faulty_dynamodb: FaultProxy,
) -> None:
    """The per-container 30 s write memo only remembers writes that happened."""
    proxy = faulty_dynamodb
    request("api", reader(9, "visits"))  # figures cached, so the failure answers stale
    proxy.fail("UpdateItem", mode="throttle", table_suffix="-connections")
    failed, _ = request("api", reader(1, "visits"))
    assert json.loads(failed["body"]).get("stale") is True
    proxy.clear()
    proxy.reset_counts()
    retried, _ = request("api", reader(1, "visits"))
    assert "stale" not in json.loads(retried["body"])
    assert proxy.seen("UpdateItem", "-connections") == 1  # written now, not in 30 s


def test_the_index_lists_articles_when_their_counts_cannot_be_read(
    faulty_dynamodb: FaultProxy,
) -> None:
    faulty_dynamodb.fail("BatchGetItem", mode="throttle", table_suffix="-counters")
    response, _ = request("pages", event("index"))
    assert response["statusCode"] == 200
    assert f"/articles/{SLUG}" in response["body"]
    assert "Lượt xem: —" in response["body"]


def test_a_counter_write_whose_answer_is_lost_is_counted_once_not_twice(
    faulty_dynamodb: FaultProxy, attempts: Attempts
) -> None:
    """The counter's ADD reaches DynamoDB but its answer comes after the SDK's read timeout:
    the view may well be counted, so it is not sent again (the SDK's retry would add a
    second view). The reader still gets the page."""
    proxy = faulty_dynamodb
    proxy.fail(
        "UpdateItem",
        mode="late",
        table_suffix="-counters",
        delay=function_timeout(),
        key_prefix=COUNTER,
    )

    response, _ = request("pages", reader(1))

    assert response["statusCode"] == 200, response
    assert proxy.seen("UpdateItem", "-counters", key_prefix=COUNTER) == 1  # sent once
    assert attempts.failed() == ["ReadTimeoutError"], attempts.made
    proxy.clear()
    assert api_views() == LEGACY_VIEWS + 1  # counted once: a retry would have made it +2


def test_a_repeat_view_marker_whose_answer_is_lost_still_lets_the_view_count(
    faulty_dynamodb: FaultProxy, attempts: Attempts
) -> None:
    """The reader's write (presence and the repeat-view window) is applied but its answer
    comes too late; the SDK sends it again and must not find its own window and take the
    view for a repeat."""
    proxy = faulty_dynamodb
    proxy.fail(
        "UpdateItem", mode="late", table_suffix="-connections", delay=function_timeout(), times=1
    )

    response, _ = request("pages", reader(1))

    assert response["statusCode"] == 200, response
    assert proxy.seen("UpdateItem", "-connections") == db.MAX_ATTEMPTS  # the retry was sent
    assert shown_count(response["body"]) == "9.575"
    proxy.clear()
    assert api_views() == LEGACY_VIEWS + 1


def test_a_presence_write_whose_answer_is_lost_still_counts_the_visit(
    faulty_dynamodb: FaultProxy, attempts: Attempts
) -> None:
    """A new reader's presence write is applied but its answer comes too late; the SDK
    sends it again, its condition fails on the item the first try wrote, and the reader
    must still be one new visit (not taken for someone seen a moment ago)."""
    proxy = faulty_dynamodb
    proxy.fail(
        "UpdateItem", mode="late", table_suffix="-connections", delay=function_timeout(), times=1
    )

    response, _ = request("api", reader(1, "visits"))

    assert response["statusCode"] == 200, response
    assert proxy.seen("UpdateItem", "-connections") == db.MAX_ATTEMPTS  # the retry was sent
    assert attempts.failed() == ["ReadTimeoutError", "ConditionalCheckFailedException"]
    figures = json.loads(response["body"])
    assert (figures["online"], figures["total"]) == (1, LEGACY_VIEWS + 1)


# -- partial batches (UnprocessedKeys) -------------------------------------------------------


def sharded(monkeypatch: pytest.MonkeyPatch, shards: int) -> None:
    from newsdesk.config import settings

    monkeypatch.setenv("COUNTER_SHARDS", str(shards))
    settings.cache_clear()


def test_a_count_read_in_partial_batches_is_still_exact(
    faulty_dynamodb: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BatchGetItem leaves half the shards of a counter unprocessed each time (seeded): the
    read retries them with backoff and shows the exact total, never a partial sum."""
    from newsdesk.dal import counters

    sharded(monkeypatch, 4)
    for _ in range(40):
        counters.add_view(SLUG)  # spread over the 4 shards at random
    rule = faulty_dynamodb.unprocessed("BatchGetItem", share=0.5, seed=3, table_suffix="-counters")

    assert api_views() == LEGACY_VIEWS + 40
    assert rule.hits >= 1  # the partial answers did happen


def test_a_count_that_stays_unreadable_is_shown_as_unknown_not_as_zero(
    faulty_dynamodb: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys still unprocessed after db.BATCH_ATTEMPTS requests: the article page shows no
    count (not 0, not a partial sum) and the views API answers 503, never a wrong number."""
    sharded(monkeypatch, 12)  # 12 keys, at most 1 processed per request: 5 requests leave 7
    faulty_dynamodb.unprocessed("BatchGetItem", share=0.95, seed=1, table_suffix="-counters")

    page, _ = request("pages", reader(1, "article-bot"))  # a bot: one read, nothing counted
    assert page["statusCode"] == 200, page
    assert "data-views" not in page["body"]
    views, _ = request("api", reader(1, "article-views"))
    assert views["statusCode"] == 503, views
    assert faulty_dynamodb.seen("BatchGetItem", "-counters") == 2 * db.BATCH_ATTEMPTS
