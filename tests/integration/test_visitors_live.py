"""The visitor widget's figures and the one-view-per-reader rule, against DynamoDB Local:
cookieless identity, presence with bounded writes, total visits, peak, repeat views."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import boto3
import pytest
from newsdesk import caches, identity, presence
from newsdesk.articles import iso
from newsdesk.config import settings
from time_machine import TimeMachineFixture

from tests.clock import tomorrow_at_ten
from tests.support import PHONE_UA, SLUG, Calls, event, import_fixture, invoke, reader

# Presence items get a TTL from their simulated time, and DynamoDB Local really deletes
# expired items within seconds: simulated presence happens tomorrow, so nothing expires
# under a test's feet.
SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


@pytest.fixture
def t0(ddb_local_tables: dict[str, str], time_machine: TimeMachineFixture) -> datetime:
    """10:00 tomorrow, site time: every test here starts its clock there (ticking), so no
    midnight (a new daily salt) falls inside a test, and the salts' TTLs are in the real
    future (DynamoDB Local deletes expired items within seconds)."""
    start = tomorrow_at_ten()
    time_machine.move_to(start, tick=True)
    return start


@pytest.fixture(autouse=True)
def fresh(ddb_local_tables: dict[str, str], t0: datetime) -> Iterator[dict[str, str]]:
    caches.clear_all()
    yield ddb_local_tables
    caches.clear_all()


def scan_all(tables: dict[str, str]) -> list[dict]:
    client = boto3.client("dynamodb")
    return [item for name in tables.values() for item in client.scan(TableName=name)["Items"]]


def api(name: str, **changes: object) -> dict:
    response = invoke("api", event(name, **changes))
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


# identity


def test_visitor_id_is_stable_per_day_and_differs_by_browser_and_day(
    monkeypatch: pytest.MonkeyPatch, t0: datetime
) -> None:
    monkeypatch.setenv("MAX_VISITORS_PER_ADDRESS", "1000000")  # no bucket collisions here
    settings.cache_clear()
    a = identity.visitor_id("203.0.113.7", PHONE_UA, t0)
    assert a == identity.visitor_id("203.0.113.7", PHONE_UA, t0 + timedelta(hours=5))
    assert a != identity.visitor_id("203.0.113.7", PHONE_UA + " Firefox", t0)
    assert a != identity.visitor_id("203.0.113.8", PHONE_UA, t0)
    assert a != identity.visitor_id("203.0.113.7", PHONE_UA, t0 + timedelta(days=1))


def test_concurrent_containers_agree_on_one_salt(fresh: dict[str, str], t0: datetime) -> None:
    ids: list[str] = []
    barrier = threading.Barrier(12)

    def new_container() -> None:
        barrier.wait()
        caches.clear_all()
        ids.append(identity.visitor_id("203.0.113.7", PHONE_UA, t0))

    threads = [threading.Thread(target=new_container) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1
    salts = [i for i in scan_all(fresh) if i["id"]["S"].startswith("salt#")]
    assert len(salts) == 1


def test_old_salts_are_forgotten_within_48_hours(fresh: dict[str, str], t0: datetime) -> None:
    for day in range(4):
        caches.clear_all()
        identity.visitor_id("203.0.113.7", PHONE_UA, t0 + timedelta(days=day))
    salts = sorted(i["id"]["S"] for i in scan_all(fresh) if i["id"]["S"].startswith("salt#"))
    # Only today's and yesterday's remain after day 3's salt is created.
    day2, day3 = (t0.date() + timedelta(days=n) for n in (2, 3))
    assert salts == [f"salt#{day2.isoformat()}", f"salt#{day3.isoformat()}"]
    newest = next(i for i in scan_all(fresh) if i["id"]["S"] == f"salt#{day3.isoformat()}")
    expires = datetime.fromtimestamp(int(newest["expires_at"]["N"]), UTC)
    day_start = datetime.combine(day3, time(), tzinfo=settings().tz)
    assert expires - day_start == timedelta(hours=48)


def test_no_raw_ip_or_user_agent_is_stored(fresh: dict[str, str]) -> None:
    import_fixture()
    invoke("pages", reader(7))
    api("visits", source_ip="198.51.0.8")
    api("article-view-beacon", source_ip="198.51.0.9")
    stored = json.dumps(scan_all(fresh), default=str)
    for secret in ("198.51.0.8", "198.51.0.9", "198.51.0.8", "iPhone", "Safari"):
        assert secret not in stored


def test_one_address_is_at_most_the_cap_of_visitors(
    monkeypatch: pytest.MonkeyPatch, t0: datetime
) -> None:
    """Rotating User-Agents from one address cannot inflate counts past the cap."""
    monkeypatch.setenv("MAX_VISITORS_PER_ADDRESS", "8")
    settings.cache_clear()
    import_fixture()
    agents = [f"{PHONE_UA} Build/{n}" for n in range(200)]
    ids = {identity.visitor_id("203.0.113.7", ua, t0) for ua in agents}
    assert len(ids) == 8
    for ua in agents[:60]:
        invoke("pages", event("article", headers={"user-agent": ua}))
        api("visits", headers={"user-agent": ua})
    assert 9574 < api("article-views")["views"] <= 9574 + 8
    assert api("stats")["online"] <= 8
    other = api("visits", source_ip="198.51.0.77")  # another address still counts
    assert other["online"] <= 9


# presence and visits


def test_a_heartbeat_flood_writes_once_per_30_seconds() -> None:
    calls = Calls()
    visitor = identity.visitor_id("203.0.113.7", PHONE_UA, SOON)
    for second in range(0, 30):
        presence.heartbeat(visitor, SOON + timedelta(seconds=second))
    assert calls.count("UpdateItem", "-connections") == 1
    caches.clear_all()  # another container: the conditional write still holds it back
    presence.heartbeat(visitor, SOON + timedelta(seconds=20))
    assert calls.count("UpdateItem", "-connections") == 2  # attempted, condition refused it
    presence.heartbeat(visitor, SOON + timedelta(seconds=31))  # 11 s after that attempt
    assert calls.count("UpdateItem", "-connections") == 2
    presence.heartbeat(visitor, SOON + timedelta(seconds=51))
    assert calls.count("UpdateItem", "-connections") == 3
    assert presence.current_figures(SOON + timedelta(seconds=51)).total == 1  # one visit


def test_a_visit_is_the_first_heartbeat_after_30_minutes_away() -> None:
    v = "a" * 32
    totals = [presence.heartbeat(v, SOON + timedelta(minutes=m)).total for m in (0, 1, 29, 58)]
    assert totals == [1, 1, 1, 1]  # never 30 minutes without a heartbeat
    assert presence.heartbeat(v, SOON + timedelta(minutes=88, seconds=1)).total == 2


def test_online_counts_only_visitors_inside_the_window(fresh: dict[str, str]) -> None:
    """A reader counts from their request until the presence window (300 s) has passed
    since their last one: exactly, give or take the 30 s bucket the oldest requests fall in
    (counted for the share of it inside the window)."""
    start = SOON.replace(second=0)  # at the start of a bucket
    for n in range(3):
        presence.heartbeat(f"{n:032x}", start)
    presence.heartbeat(f"{0:032x}", start + timedelta(seconds=200))
    presence.heartbeat(f"{1:032x}", start + timedelta(seconds=200))
    assert presence.count_online(start + timedelta(seconds=200)) == 3
    assert presence.count_online(start + timedelta(seconds=299)) == 3
    assert presence.count_online(start + timedelta(seconds=330)) == 2  # visitor 2 left
    assert presence.count_online(start + timedelta(seconds=530)) == 0


def test_peak_is_kept_with_its_date() -> None:
    for n in range(3):
        presence.heartbeat(f"{n:032x}", SOON)
    caches.clear_all()
    first = presence.current_figures(SOON + timedelta(seconds=1))
    assert (first.online, first.peak, first.peak_at) == (3, 3, iso(SOON + timedelta(seconds=1)))
    caches.clear_all()
    later = presence.current_figures(SOON + timedelta(hours=2))
    assert (later.online, later.peak, later.peak_at) == (0, 3, iso(SOON + timedelta(seconds=1)))


def test_the_peak_shown_is_never_below_online_now() -> None:
    """Arrivals between two counts are added to the cached figure; the peak in the same
    answer follows it and is stored, so a fresh read never shows a lower peak than an
    answer already did (BREAK15 finding 5)."""
    answers = [presence.heartbeat(f"{n:032x}", SOON + timedelta(seconds=n)) for n in range(3)]
    assert [(f.online, f.peak) for f in answers] == [(1, 1), (2, 2), (3, 3)]
    # this container's next refresh records the peak it showed, even when the buckets
    # (read afresh) say fewer are online by then
    refreshed = presence.current_figures(SOON + timedelta(seconds=2 + 400))
    assert (refreshed.online, refreshed.peak) == (0, 3)
    caches.clear_all()  # another container, reading afresh
    assert presence.current_figures(SOON + timedelta(seconds=2 + 401)).peak == 3


def _beat(readers: list[str], at: datetime, due: dict[str, datetime]) -> None:
    """Each reader whose heartbeat is due sends it; the answer sets when the next is due
    (what the widget does with heartbeat_seconds)."""
    for r in readers:
        if due.get(r, at) <= at:
            figures = presence.heartbeat(r, at)
            due[r] = at + timedelta(seconds=presence.heartbeat_seconds(r, figures))


def test_the_sampling_level_follows_the_audience_down_and_up(
    fresh: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a big night (the level K stored high), a small audience is shown exactly once
    the level has come down (a keep-alive interval and a window a step), not for ever at
    2^K per sampled reader (BREAK15 finding 2); a large audience raises it again. The
    sample size is made small (16) so that a few hundred readers need K = 3."""
    monkeypatch.setattr(presence, "SAMPLED_READERS", 16)
    start = SOON.replace(second=0)
    boto3.client("dynamodb").put_item(
        TableName=fresh["COUNTERS_TABLE"],
        Item={"id": {"S": "site"}, "peak": {"N": "400"}, "k": {"N": "3"}, "k_at": {"N": "0"}},
    )
    few = [f"a{n:031x}" for n in range(6)]
    due: dict[str, datetime] = {}
    at = start
    shown = []
    while at < start + timedelta(hours=3):
        _beat(few, at, due)
        shown.append(presence.current_figures(at).online)
        at += timedelta(seconds=30)
    assert presence.current_figures(at).level == presence.Level(0)
    assert shown[-20:] == [6] * 20  # every reader counted, none scaled
    many = [f"b{n:031x}" for n in range(300)]
    due = {}
    levels = set()
    for _ in range(40):  # 20 minutes of heartbeats
        _beat(many, at, due)
        levels.add(presence.current_figures(at).level.k)
        at += timedelta(seconds=30)
    # step by step, each once the last one settled: 306 readers are past what K = 3
    # samples (16 * 2^3), so the level goes up at least to 4
    assert sorted(levels)[:2] == [0, 1] and max(levels) >= 4


def test_visits_api_and_stats(fresh: dict[str, str]) -> None:
    import_fixture()
    first = api("visits", source_ip="198.51.0.1")
    assert (first["online"], first["total"]) == (1, 9575)  # legacy floor 9574 + this visit
    second = api("visits", source_ip="198.51.0.2")
    assert (second["online"], second["total"]) == (2, 9576)
    again = api("visits", source_ip="198.51.0.1")
    assert (again["online"], again["total"]) == (2, 9576)
    stats = api("stats")
    assert stats["online"] == 2 and stats["total"] == 9576
    assert stats["peak"]["online"] >= 1 and stats["window_seconds"] == 300


def test_bots_and_prefetches_are_not_present() -> None:
    api("visits", headers={"user-agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"})
    api("visits", headers={"sec-purpose": "prefetch"})
    caches.clear_all()
    assert api("stats")["online"] == 0
    assert api("stats")["total"] == 0


def figures_on(page: str) -> tuple[str, str, str]:
    """(views, online, total) as the page shows them."""
    views = page.split("<span data-views>", 1)[1].split("<", 1)[0]
    online = page.split("Đang truy cập: <span data-online>", 1)[1].split("<", 1)[0]
    total = page.split("Tổng: <span data-total>", 1)[1].split("<", 1)[0]
    return views, online, total


def test_a_counted_view_is_a_visit_and_the_reader_is_online() -> None:
    """The seed page showed 'Tổng: 0' beside 9.574 views: the import floors the total, and
    a reader whose browser sends no heartbeat (no JavaScript) is counted on the article, as
    a visit and as online, by the page's own request."""
    import_fixture()
    assert api("stats")["total"] == 9574
    page = invoke("pages", reader(1))["body"]
    assert figures_on(page) == ("9.575", "1", "9.575")
    assert " data-present" in page  # so the page's script sends no heartbeat on load
    caches.clear_all()  # another container, counting afresh
    stats = api("stats")
    assert (stats["online"], stats["total"]) == (1, 9575)


def test_a_repeat_view_keeps_the_reader_present_without_a_second_visit() -> None:
    import_fixture()
    invoke("pages", reader(1))
    again = invoke("pages", reader(1))["body"]
    assert figures_on(again) == ("9.575", "1", "9.575")
    assert " data-present" in again


def test_views_within_one_visit_never_pass_the_total(
    monkeypatch: pytest.MonkeyPatch, time_machine: TimeMachineFixture, t0: datetime
) -> None:
    """A reader who stays (heartbeats every minute) and reads the article again after a
    short repeat-view window makes two views in one visit: on a site whose total equals
    that article's count, the total is raised with the view, never shown below it."""
    monkeypatch.setenv("VIEW_DEDUPE_SECONDS", "60")
    settings.cache_clear()
    time_machine.move_to(t0, tick=False)
    import_fixture()
    invoke("pages", reader(1))
    time_machine.shift(50)
    api("visits", source_ip="198.51.0.2")  # reader(1)'s address: the same visit goes on
    time_machine.shift(20)
    page = invoke("pages", reader(1))["body"]
    assert figures_on(page) == ("9.576", "1", "9.576")
    caches.clear_all()
    assert api("stats")["total"] == 9576 == api("article-views")["views"]


# one view per reader


def test_repeat_views_within_the_window_count_once() -> None:
    import_fixture()
    calls = Calls()
    shown = [invoke("pages", reader(1))["body"].count("9.575") for _ in range(3)]
    assert all(shown)
    assert api("article-views")["views"] == 9575
    invoke("pages", reader(2))
    assert api("article-views")["views"] == 9576
    assert calls.count("UpdateItem", "-counters", key_prefix="views#") == 2
    # a visit each, counted in the online-now bucket with the reader's presence
    assert calls.count("UpdateItem", "-counters", key_prefix="online#") >= 2


def test_dedupe_disabled_counts_every_view(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIEW_DEDUPE_SECONDS", "0")
    settings.cache_clear()
    import_fixture()
    for _ in range(3):
        invoke("pages", reader(1))
    assert api("article-views")["views"] == 9577


def test_a_view_after_the_window_counts_again(
    monkeypatch: pytest.MonkeyPatch, time_machine: TimeMachineFixture, t0: datetime
) -> None:
    """The window is exact to the millisecond: a reload one second before it ends is a
    repeat, one at its end counts (the clock is moved, not waited for)."""
    window = 600
    monkeypatch.setenv("VIEW_DEDUPE_SECONDS", str(window))
    settings.cache_clear()
    time_machine.move_to(t0, tick=False)
    import_fixture()
    invoke("pages", reader(1))
    invoke("pages", reader(1))
    assert api("article-views")["views"] == 9575
    time_machine.shift(window - 1)
    invoke("pages", reader(1))
    assert api("article-views")["views"] == 9575
    time_machine.shift(1)
    invoke("pages", reader(1))
    assert api("article-views")["views"] == 9576
    invoke("pages", reader(1))  # a new window started with that view
    assert api("article-views")["views"] == 9576


# cacheable (beacon) mode


@pytest.fixture
def beacon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNT_MODE", "beacon")
    settings.cache_clear()
    import_fixture()


@pytest.mark.usefixtures("beacon")
def test_beacon_pages_are_cacheable_and_do_not_count() -> None:
    first = invoke("pages", reader(1))
    assert first["statusCode"] == 200
    headers = first["headers"]
    assert headers["Cache-Control"] == "public, max-age=0, s-maxage=60"
    assert headers["ETag"].startswith('"')
    assert 'data-slug="' + SLUG + '"' in first["body"]
    assert "<span data-views>9.574</span>" in first["body"]
    again = invoke("pages", reader(2, headers={"if-none-match": headers["ETag"]}))
    assert again["statusCode"] == 304 and again["body"] == ""
    assert api("article-views")["views"] == 9574
    index = invoke("pages", event("index"))
    assert index["headers"]["Cache-Control"].startswith("public")


@pytest.mark.usefixtures("beacon")
def test_a_beacon_without_a_heartbeat_is_a_visit_and_the_reader_is_online() -> None:
    """Beacon mode on a fresh site: one beacon from a browser and no heartbeat. Its answer
    carries the figures (the script sends no first heartbeat), and the page then shows a
    total that is not behind the article's count."""
    answer = api("article-view-beacon", source_ip="198.51.0.1")
    assert (answer["views"], answer["present"], answer["online"], answer["total"]) == (
        9575,
        True,
        1,
        9575,
    )
    caches.clear_all()
    page = invoke("pages", reader(2))["body"]  # a cacheable page: counts nothing
    assert figures_on(page) == ("9.575", "1", "9.575")
    assert " data-present" not in page  # its script counts and registers through the beacon


@pytest.mark.usefixtures("beacon")
def test_the_beacon_counts_under_the_same_rules() -> None:
    first = api("article-view-beacon", source_ip="198.51.0.1")
    assert {k: first[k] for k in ("slug", "views", "counted", "present")} == {
        "slug": SLUG,
        "views": 9575,
        "counted": True,
        "present": True,
    }
    assert api("article-view-beacon", source_ip="198.51.0.1")["counted"] is False
    assert api("article-view-beacon", source_ip="198.51.0.2")["views"] == 9576
    bot = api("article-view-beacon", headers={"user-agent": "facebookexternalhit/1.1"})
    assert bot["counted"] is False and bot["views"] == 9576
    missing = invoke(
        "api",
        event(
            "article-view-beacon",
            rawPath="/api/articles/nope/views",
            pathParameters={"slug": "nope"},
        ),
    )
    assert missing["statusCode"] == 404
    assert api("article-views")["views"] == 9576


def test_render_mode_pages_are_never_cached() -> None:
    """No shared cache keeps a counted page, and the browser asks again before reusing it
    (it may keep it for back and forward: tests/e2e/test_back_forward.py)."""
    import_fixture()
    response = invoke("pages", reader(1))
    assert response["headers"]["Cache-Control"] == "private, no-cache"
    assert "ETag" not in response["headers"]
    assert "data-slug" not in response["body"]


# local midnight: one reader stays one reader


def just_before_midnight(t0: datetime, seconds: int) -> datetime:
    """`seconds` before the local midnight that ends t0's day (in the real future, so the
    salts' and markers' TTLs are too)."""
    midnight = datetime.combine(t0.date() + timedelta(days=1), time(), tzinfo=settings().tz)
    return midnight - timedelta(seconds=seconds)


@pytest.mark.parametrize("containers", ["one container", "two containers"])
def test_a_reader_across_midnight_is_one_view_one_visitor_one_visit(
    time_machine: TimeMachineFixture, t0: datetime, containers: str
) -> None:
    """Same address and browser at 23:59:20 and at 00:00:10 local time (a new day's salt,
    so a new id): 1 view (inside VIEW_DEDUPE_SECONDS), 1 online, 1 visit."""
    import_fixture()
    evening = just_before_midnight(t0, 40)
    time_machine.move_to(evening, tick=False)
    assert figures_on(invoke("pages", reader(1))["body"]) == ("9.575", "1", "9.575")
    time_machine.move_to(evening + timedelta(seconds=50), tick=False)
    if containers == "two containers":
        caches.use_environment("after midnight")
    after = invoke("pages", reader(1))["body"]
    assert figures_on(after) == ("9.575", "1", "9.575")
    caches.clear_all()
    stats = api("stats")
    assert (stats["online"], stats["total"]) == (1, 9575)
    assert api("article-views")["views"] == 9575
    # Guard: the reader's id did change at midnight.
    ip, ua = "198.51.0.2", event("article")["headers"]["user-agent"]
    assert identity.visitor_id(ip, ua, evening) != identity.visitor_id(
        ip, ua, evening + timedelta(seconds=50)
    )


def test_heartbeats_across_midnight_are_one_visitor_and_one_visit(
    time_machine: TimeMachineFixture, t0: datetime
) -> None:
    import_fixture()
    evening = just_before_midnight(t0, 30)
    time_machine.move_to(evening, tick=False)
    assert (api("visits")["online"], api("visits")["total"]) == (1, 9575)
    time_machine.move_to(evening + timedelta(seconds=60), tick=False)
    caches.clear_all()
    after = api("visits")
    assert (after["online"], after["total"]) == (1, 9575)


def test_a_repeat_view_window_open_at_midnight_holds_after_it(
    time_machine: TimeMachineFixture, t0: datetime
) -> None:
    """Viewed at 23:45 (no heartbeat since), again at 00:10: 25 minutes, inside the
    30-minute window and visit gap: still 1 view and 1 visit; at 00:16 (31 minutes) the view
    counts again, in the same visit (the total follows the count)."""
    import_fixture()
    first = just_before_midnight(t0, 15 * 60)
    time_machine.move_to(first, tick=False)
    invoke("pages", reader(1))
    time_machine.move_to(first + timedelta(minutes=25), tick=False)
    caches.clear_all()
    assert figures_on(invoke("pages", reader(1))["body"]) == ("9.575", "1", "9.575")
    time_machine.move_to(first + timedelta(minutes=31), tick=False)
    caches.clear_all()
    assert figures_on(invoke("pages", reader(1))["body"]) == ("9.576", "1", "9.576")


def test_a_reader_gone_before_midnight_is_a_new_visit_after_it(
    time_machine: TimeMachineFixture, t0: datetime
) -> None:
    """Continuity lasts only while the windows are open: read at 23:40, back at 00:15."""
    import_fixture()
    first = just_before_midnight(t0, 20 * 60)
    time_machine.move_to(first, tick=False)
    invoke("pages", reader(1))
    time_machine.move_to(first + timedelta(minutes=35), tick=False)
    caches.clear_all()
    assert figures_on(invoke("pages", reader(1))["body"]) == ("9.576", "1", "9.576")


def test_yesterdays_salt_is_read_not_created(
    fresh: dict[str, str], time_machine: TimeMachineFixture, t0: datetime
) -> None:
    """Just after midnight with nobody the day before: no salt is made for yesterday."""
    midnight = just_before_midnight(t0, 0)
    time_machine.move_to(midnight + timedelta(seconds=10), tick=False)
    import_fixture()
    invoke("pages", reader(1))
    ids = [item["id"]["S"] for item in scan_all(fresh) if "id" in item]
    assert sorted(i for i in ids if i.startswith("salt#")) == [f"salt#{midnight.date()}"]


# issue 15: the same cost at any audience, sampling, visits that outlive the window


def test_reading_online_now_is_one_request_at_any_audience(fresh: dict[str, str]) -> None:
    """Online now and total visits for 10 readers and for 300 cost the same read: one
    BatchGetItem of at most 20 small items (site, 7 visit shards, 11-12 buckets), 10 read
    units at most (issue 15: at most 2 requests and 10 read units a refresh)."""
    start = SOON.replace(second=0)
    batches = []
    for audience in (10, 300):
        for n in range(audience):
            presence.heartbeat(f"{audience:04x}{n:028x}", start)
        caches.clear_all()  # a container that reads afresh
        calls = Calls()
        figures = presence.current_figures(start + timedelta(seconds=5))
        assert figures.online == audience + (10 if audience == 300 else 0)
        batches.append((calls.count("BatchGetItem"), calls.count()))
        start += timedelta(seconds=1)
    # one read; at most one write with it (a new peak, or visits rolled up)
    assert [reads for reads, _ in batches] == [1, 1]
    assert all(requests <= 2 for _, requests in batches)
    assert len(presence._window_buckets(start.timestamp())[0]) + 1 + presence.VISIT_SHARDS <= 20


def test_a_sample_of_readers_stands_for_a_large_audience(
    fresh: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past SAMPLED_READERS at the peak, only readers with K leading zero bits in their
    hashed id are recorded (and asked for a heartbeat a minute); the figure is their count
    times 2^K. Here the sample size is made small (16) so that 400 readers need K = 5."""
    monkeypatch.setattr(presence, "SAMPLED_READERS", 16)
    start = SOON.replace(second=0)
    boto3.client("dynamodb").put_item(
        TableName=fresh["COUNTERS_TABLE"],
        # the level a site of this audience has, set just now (settling: it stays)
        Item={
            "id": {"S": "site"},
            "peak": {"N": "400"},
            "k": {"N": "5"},
            "k_at": {"N": str(int(start.timestamp()))},
        },
    )
    k = presence.sampling_level(400)
    assert k == 5
    readers = [f"{n:032x}" for n in range(400)]
    sampled = [r for r in readers if presence.level_of(r) >= k]
    calls = Calls()
    answers = [presence.heartbeat(r, start) for r in readers]
    caches.clear_all()
    assert presence.current_figures(start + timedelta(seconds=5)).online == len(sampled) * 2**k
    # only the sample writes the bucket (one write each); every visit is counted
    assert calls.count("UpdateItem", "-counters", key_prefix="online#") == len(sampled)
    assert presence.current_figures(start + timedelta(seconds=5)).total == 400
    every = {r: presence.heartbeat_seconds(r, answers[-1]) for r in readers}
    assert {every[r] for r in sampled} == {presence.HEARTBEAT_SECONDS}
    assert set(every.values()) == {presence.HEARTBEAT_SECONDS, presence.KEEP_ALIVE_SECONDS}


def test_visits_stay_in_the_total_after_their_bucket_leaves_the_window() -> None:
    """A visit counted in an online-now bucket is still in "Tổng" an hour later, whether
    nobody read the figures meanwhile (the next reader rolls it up) or the scheduled job did."""
    presence.heartbeat("a" * 32, SOON)
    presence.heartbeat("b" * 32, SOON + timedelta(seconds=40))
    caches.clear_all()
    assert presence.current_figures(SOON + timedelta(hours=1)).total == 2  # idle: rolled up now
    presence.heartbeat("c" * 32, SOON + timedelta(hours=1, seconds=10))
    presence.roll_up_visits(SOON + timedelta(hours=3))  # the job, with nobody reading
    caches.clear_all()
    assert presence.current_figures(SOON + timedelta(hours=5)).total == 3


def test_a_refused_bucket_write_leaves_the_reader_out_of_that_bucket(
    fresh: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A throttled bucket write added nothing: the reader's item must not name that
    bucket, or their next move would subtract them from a bucket that never counted them
    (online now would stay low while they read)."""
    from botocore.exceptions import ClientError
    from newsdesk.dal import counters

    start = SOON.replace(second=0)
    real = counters.add_to_bucket

    def throttled(*_: object, **__: object) -> None:
        error = {"Code": "ThrottlingException", "Message": "Throughput exceeds the limit"}
        raise ClientError(
            {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}, "UpdateItem"
        )

    monkeypatch.setattr(counters, "add_to_bucket", throttled)
    with pytest.raises(ClientError):
        presence.heartbeat("d" * 32, start)
    item = boto3.client("dynamodb").get_item(
        TableName=fresh["CONNECTIONS_TABLE"], Key={"visitor": {"S": "d" * 32}}
    )["Item"]
    assert "b" not in item  # put back: no bucket counts them
    monkeypatch.setattr(counters, "add_to_bucket", real)
    caches.clear_all()
    presence.heartbeat("d" * 32, start + timedelta(seconds=60))
    caches.clear_all()
    assert presence.count_online(start + timedelta(seconds=70)) == 1  # counted once, not 0


def test_after_a_long_idle_spell_a_figure_read_stays_bounded(fresh: dict[str, str]) -> None:
    """Fresh-clone finding (issue 15): after weeks with nobody reading the figures and no
    scheduled job, the first read walked every 30 s bucket since (a Lambda timeout, then
    the same again at every request). The walk is bounded: at most MAX_GAP_BUCKETS."""
    presence.heartbeat("e" * 32, SOON)
    caches.clear_all()
    presence.current_figures(SOON + timedelta(seconds=40))  # `rolled` is set
    calls = Calls()
    caches.clear_all()
    figures = presence.current_figures(SOON + timedelta(days=45))
    reads = calls.count("BatchGetItem")
    assert reads <= 1 + presence.MAX_GAP_BUCKETS // 100
    assert figures.online == 0
    caches.clear_all()
    calls = Calls()
    presence.current_figures(SOON + timedelta(days=45, seconds=20))  # caught up: one read
    assert calls.count("BatchGetItem") == 1


def test_an_open_page_stays_online_under_a_short_presence_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fresh-clone finding (issue 15): with PRESENCE_WINDOW_SECONDS=60 the widget was told
    to send a heartbeat every 60 s, so an open tab dropped out between two."""
    monkeypatch.setenv("PRESENCE_WINDOW_SECONDS", "60")
    settings.cache_clear()
    figures = presence.heartbeat("f" * 32, SOON)
    assert presence.heartbeat_seconds("f" * 32, figures) == 30
    monkeypatch.delenv("PRESENCE_WINDOW_SECONDS")
    settings.cache_clear()
    assert presence.heartbeat_seconds("f" * 32, figures) == 60


def test_changing_the_window_keeps_every_visit(monkeypatch: pytest.MonkeyPatch) -> None:
    """PRESENCE_WINDOW_SECONDS sets the buckets' length: visits in buckets of the old
    length, and those counted after the change, stay in "Tổng" through a change and back
    (BREAK15 finding 3)."""
    start = SOON.replace(second=0)
    for n in range(30):
        presence.heartbeat(f"c{n:031x}", start)
    caches.clear_all()
    assert presence.current_figures(start + timedelta(seconds=240)).total == 30

    def window(seconds: int) -> None:
        monkeypatch.setenv("PRESENCE_WINDOW_SECONDS", str(seconds))
        settings.cache_clear()
        caches.clear_all()  # new containers, as a changed setting gives

    window(3600)
    assert presence.current_figures(start + timedelta(seconds=250)).total == 30
    for n in range(10):
        presence.heartbeat(f"d{n:031x}", start + timedelta(seconds=260))
    caches.clear_all()
    assert presence.current_figures(start + timedelta(seconds=270)).total == 40
    window(300)
    assert presence.current_figures(start + timedelta(hours=2)).total == 40
    caches.clear_all()
    assert presence.current_figures(start + timedelta(hours=3)).total == 40


def _window(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    """PRESENCE_WINDOW_SECONDS changed: new containers, as a changed setting gives."""
    monkeypatch.setenv("PRESENCE_WINDOW_SECONDS", str(seconds))
    settings.cache_clear()
    caches.clear_all()


def test_a_window_changed_and_changed_back_within_a_window_counts_each_visit_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An operator who changes PRESENCE_WINDOW_SECONDS and puts it back a minute later:
    the visits in buckets of the first length, rolled up at the first change, are still
    inside the window when that length returns, and must not be counted again; visits
    after the change back must (the fresh-clone review found them lost when the first
    roll-up was taken to reach the end of the then current long bucket)."""
    start = _HOUR  # on both grids: the long bucket then ends 6 minutes after the change
    for n in range(30):
        presence.heartbeat(f"c{n:031x}", start)
    caches.clear_all()
    assert presence.current_figures(start + timedelta(seconds=20)).total == 30
    _window(monkeypatch, 3600)
    assert presence.current_figures(start + timedelta(seconds=40)).total == 30
    for n in range(10):
        presence.heartbeat(f"d{n:031x}", start + timedelta(seconds=50))
    _window(monkeypatch, 300)
    assert presence.current_figures(start + timedelta(seconds=70)).total == 40
    caches.clear_all()
    assert presence.current_figures(start + timedelta(seconds=75)).total == 40
    for n in range(5):  # readers after the window is back: their visits count too
        presence.heartbeat(f"e{n:031x}", start + timedelta(seconds=80))
    caches.clear_all()
    assert presence.current_figures(start + timedelta(seconds=100)).total == 45
    caches.clear_all()
    assert presence.current_figures(start + timedelta(hours=1)).total == 45


def test_a_reader_recorded_before_a_window_change_moves_without_taking_another_reader_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reader recorded in a 30 s bucket whose start is also a 360 s bucket's start: after
    the window becomes an hour (360 s buckets) their next heartbeat must not count as a move
    out of the 360 s bucket of that start, which never counted them but counts others."""
    epoch = int((SOON + timedelta(hours=1)).timestamp()) // 3600 * 3600  # on both grids
    start = datetime.fromtimestamp(epoch, UTC)
    presence.heartbeat("a" * 32, start + timedelta(seconds=5))  # 30 s bucket at `start`
    _window(monkeypatch, 3600)
    others = [f"e{n:031x}" for n in range(5)]
    for visitor in others:  # in the 360 s bucket at `start`
        presence.heartbeat(visitor, start + timedelta(seconds=10))
    presence.heartbeat("a" * 32, start + timedelta(seconds=370))  # the next 360 s bucket
    caches.clear_all()
    assert presence.current_figures(start + timedelta(seconds=380)).online == 6


def test_a_view_in_a_container_that_cannot_read_the_sampling_level_is_still_counted_online(
    fresh: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A container whose figures read fails, with none cached, does not know the sampling
    level: it records the reader at every level their id has, so whatever K is in force the
    reader counts in online now (it recorded levels 0 and 1 only: at K = 3, nobody)."""
    from botocore.exceptions import ClientError

    monkeypatch.setattr(presence, "SAMPLED_READERS", 16)
    start = SOON.replace(second=0)
    boto3.client("dynamodb").put_item(
        TableName=fresh["COUNTERS_TABLE"],
        Item={"id": {"S": "site"}, "k": {"N": "3"}, "k_at": {"N": str(int(start.timestamp()))}},
    )
    reader_id = next(f"{n:032x}" for n in range(10_000) if presence.level_of(f"{n:032x}") >= 3)

    def unreadable(*_: object, **__: object) -> presence.Figures:
        error = {"Code": "InternalServerError", "Message": "injected"}
        raise ClientError(
            {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 500}}, "BatchGetItem"
        )

    with monkeypatch.context() as failing:
        failing.setattr(presence, "current_figures", unreadable)
        assert presence.view(reader_id, SLUG, 1800, start) is not None  # counted
    caches.clear_all()
    assert presence.current_figures(start + timedelta(seconds=5)).online == 2**3


_HOUR = datetime.fromtimestamp(int((SOON + timedelta(hours=1)).timestamp()) // 3600 * 3600, UTC)


def test_a_reader_whose_bucket_after_a_window_change_starts_where_their_old_one_did_is_online(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reader in the 30 s bucket at an hour boundary; the window becomes an hour (360 s
    buckets), and their next heartbeat falls in the 360 s bucket of the same start: it is
    another bucket (another length), so they are recorded in it and online now."""
    presence.heartbeat("a" * 32, _HOUR + timedelta(seconds=5))
    _window(monkeypatch, 3600)
    presence.heartbeat("a" * 32, _HOUR + timedelta(seconds=40))
    caches.clear_all()
    assert presence.current_figures(_HOUR + timedelta(seconds=50)).online == 1


def test_a_refused_bucket_write_puts_the_readers_bucket_and_its_length_back(
    dynamodb_proxy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bucket write refused after a window change: the reader's item gets its old bucket
    back with its old length, so their next move takes nothing out of the new-length
    bucket of the same start (which counts 5 others)."""
    from botocore.exceptions import ClientError

    presence.heartbeat("a" * 32, _HOUR + timedelta(seconds=5))  # 30 s bucket at _HOUR
    _window(monkeypatch, 3600)
    for n in range(5):  # the 360 s bucket at _HOUR
        presence.heartbeat(f"e{n:031x}", _HOUR + timedelta(seconds=10))
    caches.clear_all()
    presence.current_figures(_HOUR + timedelta(seconds=360))  # fresh figures for the next
    dynamodb_proxy.fail(
        "UpdateItem", mode="throttle", table_suffix="-counters", key_prefix="online#"
    )
    with pytest.raises(ClientError):  # a heartbeat answers the failure
        presence.register("a" * 32, _HOUR + timedelta(seconds=370))
    dynamodb_proxy.clear()
    presence.register("a" * 32, _HOUR + timedelta(seconds=405))  # 360 s bucket _HOUR + 360
    caches.clear_all()
    assert presence.current_figures(_HOUR + timedelta(seconds=410)).online == 6


def test_a_view_whose_midnight_take_over_fails_still_counts(dynamodb_proxy: Any) -> None:
    """Just after midnight the reader's write opens the view's window, then taking
    yesterday's item over is refused: the view still counts (it is the reader's, its
    window is open); it raised, and the reload inside the window was not counted either."""
    now = SOON.replace(second=0)
    visitor, previous = "a" * 32, "b" * 32
    presence.heartbeat(previous, now - timedelta(minutes=2))  # yesterday's id has an item
    caches.clear_all()
    dynamodb_proxy.fail("DeleteItem", mode="throttle", table_suffix="-connections")
    assert presence.view(visitor, SLUG, 1800, now, previous) is not None  # counted
    dynamodb_proxy.clear()
    assert presence.view(visitor, SLUG, 1800, now + timedelta(seconds=60), previous) is None
