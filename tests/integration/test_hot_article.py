"""Issue 15, item 3: a hot article. One partition key takes at most 1,000 write units and
3,000 read units per second on AWS (Developer Guide, "Best practices for designing and using
partition keys effectively", "Burst and adaptive capacity"); DynamoDB Local takes any number,
so the fault proxy's partition_limit() puts AWS's limits back, with a clock the test advances
instead of waiting (the package's caches run on the same clock).

The test runs AWS's situation (10,000 views a second on one article) scaled down a hundred
times, so that it runs in a minute on a loaded machine: per-key limits of 10 write units and
30 read units per second and 100 counted views per second of one article (ten times what one
key takes), from several containers (each with its own caches, as Lambda execution
environments have). Every view must be counted, the total shown must be exact, no read may
be refused (reading every shard on every view takes 50 read units per second of each key),
and the limit must have refused writes (the test is not vacuous)."""

from __future__ import annotations

import os
import random
from typing import Any

import pytest
from botocore.exceptions import ClientError
from newsdesk import caches, mostread
from newsdesk.dal import counters

from tests.faultproxy import ManualClock
from tests.support import SLUG, import_fixture

LIMIT = 10  # write units per second per key: AWS's 1,000, scaled down a hundred times
READ_LIMIT = 30  # read units per second per key: AWS's 3,000, scaled down likewise
RATE = 100  # counted views per second: ten times what one key takes
SECONDS = 3
CONTAINERS = 5
SEED = int(os.environ.get("HOT_ARTICLE_SEED", "2"))  # shards drawn: reproducible, any seed passes
CRAWLER_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def _sharded_article(monkeypatch: pytest.MonkeyPatch, shards: int) -> tuple[ManualClock, int]:
    """The fixture article spread over `shards` shards (recorded on its first shard), the
    package's caches on a manual clock: (that clock, the article's total)."""
    import_fixture()
    clock = ManualClock()
    monkeypatch.setattr(caches, "clock", clock)
    counters._shards.put(SLUG, shards)
    counters.record_shards(SLUG, shards)
    return clock, counters.views_of([SLUG])[SLUG]


@pytest.mark.usefixtures("ddb_local_tables")
def test_a_hot_article_counts_every_view_under_the_per_key_limits(
    dynamodb_proxy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_fixture()
    before = counters.views_of([SLUG])[SLUG]
    clock = ManualClock()
    monkeypatch.setattr(caches, "clock", clock)
    monkeypatch.setattr(counters, "random", random.Random(SEED))
    limit = dynamodb_proxy.partition_limit(
        wcu_per_second=LIMIT, rcu_per_second=READ_LIMIT, clock=clock, table_suffix="-counters"
    )
    shown: dict[str, list[int]] = {}
    try:
        for n in range(RATE * SECONDS):
            container = f"c{n % CONTAINERS}"
            caches.use_environment(container)
            shown.setdefault(container, []).append(counters.add_view(SLUG))
            clock.advance(1 / RATE)
    finally:
        caches.use_environment("default")
    assert limit.throttled > 0, "the per-key limit never refused a write: nothing was hot"
    assert limit.read_throttled == 0  # no shard key read past its read units
    for totals in shown.values():  # what one environment shows never goes down
        assert totals == sorted(totals)
    assert max(max(totals) for totals in shown.values()) <= before + RATE * SECONDS

    clock.advance(1.0)
    caches.clear_all()  # a container that has never seen the article
    assert counters.views_of([SLUG])[SLUG] == before + RATE * SECONDS  # exact, none lost
    shards = counters.shards_of(SLUG)
    assert RATE / LIMIT <= shards <= counters.MAX_SHARDS  # spread enough, not without bound
    assert mostread.refresh()["all"][0]["slug"] == SLUG  # the job sums every shard too


@pytest.mark.usefixtures("ddb_local_tables")
def test_views_on_shards_the_first_shard_does_not_record_yet_are_found_by_the_job() -> None:
    """A first shard too busy to record a new shard count: the views on the new shards are
    shown once the most-read job records it, never lost."""
    import_fixture()
    before = counters.views_of([SLUG])[SLUG]
    counters._shards.put(SLUG, 4)  # a container that spread the article
    counters._recorded.put(SLUG, 4)  # ... and believes the first shard says so (it does not)
    for _ in range(40):
        counters.add_view(SLUG)
    caches.clear_all()
    assert counters.views_of([SLUG])[SLUG] < before + 40  # some are on shards not recorded
    mostread.refresh()
    caches.clear_all()
    assert counters.views_of([SLUG])[SLUG] == before + 40


@pytest.mark.usefixtures("ddb_local_tables")
def test_a_view_whose_total_cannot_be_read_back_is_counted_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fresh-clone finding (issue 15): on a sharded article the view was added, then the
    read-back of the shards was throttled and taken for a refused add; the view was
    counted, the reader's window closed, and their reload counted again."""
    from botocore.exceptions import ClientError
    from newsdesk import dal, page_views

    from tests.support import PHONE_UA

    import_fixture()
    before = counters.views_of([SLUG])[SLUG]
    counters._shards.put(SLUG, 4)

    def throttled(*_: object, **__: object) -> dict[str, int]:
        error = {"Code": "ThrottlingException", "Message": "Throughput exceeds the limit"}
        raise ClientError(
            {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}, "BatchGetItem"
        )

    headers = {"user-agent": PHONE_UA, "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
    with monkeypatch.context() as patched:
        patched.setattr(counters, "_shard_items", throttled)
        dal.start_request()  # each request starts undegraded, as the handlers do
        first = page_views.record_view(SLUG, headers, "203.0.113.9")
    assert first.counted
    dal.start_request()
    again = page_views.record_view(SLUG, headers, "203.0.113.9")  # a reload in the window
    assert not again.counted
    caches.clear_all()
    counters._shards.put(SLUG, 4)
    assert counters.views_of([SLUG])[SLUG] == before + 1


@pytest.mark.usefixtures("ddb_local_tables")
def test_a_sharded_article_reads_its_shards_at_most_once_per_sum_seconds(
    dynamodb_proxy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A counted view of a sharded article shows the shard it wrote as the UpdateItem
    answered plus the others as the environment last read them, read again only after
    SUM_SECONDS: one UpdateItem per view and one BatchGetItem per environment and period."""
    clock, before = _sharded_article(monkeypatch, 4)
    dynamodb_proxy.reset_counts()

    shown = [counters.add_view(SLUG) for _ in range(20)]
    assert shown == list(range(before + 1, before + 21))  # exact: nobody else counted
    assert dynamodb_proxy.seen("UpdateItem", "-counters") == 20
    assert dynamodb_proxy.seen("BatchGetItem", "-counters") == 1

    caches.use_environment("other")  # another environment counts 10 views meanwhile
    for _ in range(10):
        counters.add_view(SLUG)
    caches.use_environment("default")
    clock.advance(counters.SUM_SECONDS / 2)
    stale = counters.add_view(SLUG)  # the others' views are not read yet: no read
    assert before + 21 <= stale < before + 32
    assert dynamodb_proxy.seen("BatchGetItem", "-counters") == 1 + 1  # the other's first
    clock.advance(counters.SUM_SECONDS / 2)
    assert counters.add_view(SLUG) == before + 32  # read again: every view
    assert dynamodb_proxy.seen("BatchGetItem", "-counters") == 3
    assert counters.shown_total(SLUG) == before + 32  # a bot's request: no read either
    assert dynamodb_proxy.seen("BatchGetItem", "-counters") == 3


@pytest.mark.usefixtures("ddb_local_tables")
def test_an_unsharded_articles_counted_view_is_one_update_and_no_read(
    dynamodb_proxy: Any,
) -> None:
    """Almost every article: the UpdateItem's answer (ALL_NEW) is the total, no read."""
    import_fixture()
    before = counters.views_of([SLUG])[SLUG]
    dynamodb_proxy.reset_counts()
    assert [counters.add_view(SLUG) for _ in range(5)] == list(range(before + 1, before + 6))
    requests = [(seen.operation, seen.tables) for seen in dynamodb_proxy.requests()]
    assert [operation for operation, _ in requests] == ["UpdateItem"] * 5


@pytest.mark.usefixtures("ddb_local_tables")
def test_crawlers_on_a_hot_article_are_shown_its_total_without_reading_every_shard_each_time(
    dynamodb_proxy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hot article's page requested by crawlers (not counted: they are shown the total)
    at the scaled-down 100 requests a second: reading all 16 shards on each would take 50
    read units a second of each shard key, past the 30 it has; read at most once per
    SUM_SECONDS per environment, nothing is refused and every crawler is shown the total."""
    from newsdesk import bots, dal, page_views

    clock, total = _sharded_article(monkeypatch, 16)
    caches.clear_all()
    limit = dynamodb_proxy.partition_limit(
        wcu_per_second=LIMIT, rcu_per_second=READ_LIMIT, clock=clock, table_suffix="-counters"
    )
    crawler = {"user-agent": CRAWLER_UA}
    shown = []
    try:
        for n in range(RATE * SECONDS):
            caches.use_environment(f"c{n % CONTAINERS}")
            dal.start_request()
            view = page_views.record_view(SLUG, crawler, "66.249.66.1", bots.PAGE)
            assert not view.counted
            shown.append(view.views)
            clock.advance(1 / RATE)
    finally:
        caches.use_environment("default")
    assert limit.read_throttled == 0  # no shard key read past its read units
    assert shown == [total] * (RATE * SECONDS)  # every crawler shown the whole total


@pytest.mark.usefixtures("ddb_local_tables")
def test_crawlers_are_shown_the_whole_total_after_a_counted_views_shard_read_failed(
    dynamodb_proxy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A counted view whose read of the other shards failed keeps what it saw (its own
    shard) for SUM_SECONDS, shown to that reader only: a crawler or a cacheable page
    right after is shown the whole total, read afresh (fresh-clone review, stop 22)."""
    from newsdesk import bots, dal, page_views

    _, total = _sharded_article(monkeypatch, 16)
    monkeypatch.setattr(counters, "random", random.Random(SEED))
    caches.clear_all()
    counters._shards.put(SLUG, 16)
    dynamodb_proxy.fail("BatchGetItem", mode="error", table_suffix="-counters")
    dal.start_request()
    counters.add_view(SLUG)  # counted; its read of the other shards failed
    dynamodb_proxy.clear()
    dal.start_request()
    crawler = {"user-agent": CRAWLER_UA}
    view = page_views.record_view(SLUG, crawler, "66.249.66.1", bots.PAGE)
    assert (view.views, page_views.shown_views(SLUG)) == (total + 1, total + 1)


@pytest.mark.usefixtures("ddb_local_tables")
def test_a_throttle_of_the_whole_table_does_not_spread_an_article(dynamodb_proxy: Any) -> None:
    """An on-demand table past its maximum throughput refuses every key alike (its
    ThrottlingReason names the table, not a key range): more shards would not help, and
    they would stay, each later read of the article reading them all. The view is refused
    after one write; the article keeps one shard (the fresh-clone review, stop 22, found 64
    after three such views)."""
    import_fixture()
    before = counters.views_of([SLUG])[SLUG]
    caches.clear_all()
    dynamodb_proxy.reset_counts()
    dynamodb_proxy.fail("UpdateItem", mode="table-throttle", table_suffix="-counters")
    for _ in range(3):
        with pytest.raises(ClientError):
            counters.add_view(SLUG)
    assert dynamodb_proxy.seen("UpdateItem", "-counters") == 3  # one write each
    dynamodb_proxy.clear()
    assert counters.add_view(SLUG) == before + 1
    caches.clear_all()
    assert counters.views_of([SLUG])[SLUG] == before + 1
    assert counters.shards_of(SLUG) == 1
