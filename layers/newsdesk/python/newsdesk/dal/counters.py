"""The counters table: every item in it is read and written here.

Items (partition key `id`):
- `views#<slug>` (and `views#<slug>#1` .. `#K-1` with COUNTER_SHARDS = K > 1): an article's
  view counter `{views: N, legacy: L, kind: "views", d20181127: n, ...}`. `views` only ever
  changes by an atomic `ADD`; `legacy` is the count imported from the old CMS or set by an
  editor. The count a reader sees is `legacy + views` summed over the shards, so
  re-importing an article never resets or re-adds what was counted. An editor's set-views
  also writes `set_by` and `set_at` there: an import never changes a count an editor set
  (dal.counters.import_legacy). The same UpdateItem
  also ADDs to the day's attribute (site time zone), so daily views for "most read" and the
  chart cost no extra write; buckets older than KEEP_DAYS are removed by the most-read job,
  off the page's path, so the item stays under 1 KB (one write unit). K shards take K times
  the ~1,000 writes/s of one partition; raise K only (shards above a lowered K are unread).
- `audit#views#<slug>#<time>`: who set a count, when, from what to what, and `via` what
  ("set-views", or "import" when an import changed an existing article's legacy count).
- `salt#<day>`: the day's random salt of visitor ids (newsdesk.identity), TTL'd.
- `site`: visits rolled up `{visits, rolled, rolled_size, rolled_end}`, `legacy_visits`, the
  peak of visitors online and the sampling level `{k, k_at, k_down}` (newsdesk.presence).
- `visits#<s>` (s < presence.VISIT_SHARDS): visits of readers not sampled for online-now.
- `online#<seconds>#<start>`: one online-now bucket (newsdesk.presence), TTL'd.
- `mostread`: the most-read lists, computed by the scheduled job.
- `menu`: the header's category menu `{categories: JSON}`, computed by the same job.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

import newsdesk.caches as caches
from newsdesk.caches import Cache
from newsdesk.config import settings
from newsdesk.dal import articles, db

VIEWS_KIND = "views"  # `kind` of counter items: the by-kind index lists every article's counter
KEEP_DAYS = 36  # per-day buckets kept on each counter (the stats chart shows 30)
SITE_KEY = {"id": {"S": "site"}}
MOSTREAD_KEY = {"id": {"S": "mostread"}}
MENU_KEY = {"id": {"S": "menu"}}


def _table() -> str:
    return settings().counters_table


def table_name() -> str:
    """The counters table's name (for a BatchWriteItem put together elsewhere)."""
    return _table()


# ---- view counters --------------------------------------------------------------------------


def day_attribute(day: date) -> str:
    """The counter item's attribute holding one day's views (site time zone): d20181127."""
    return f"d{day:%Y%m%d}"


def counter_key(slug: str, shard: int = 0) -> dict[str, Any]:
    return {"id": {"S": f"views#{slug}#{shard}" if shard else f"views#{slug}"}}


def counter_keys(slug: str) -> list[dict[str, Any]]:
    """Every shard's key of one article's counter, as far as this container knows them."""
    return [counter_key(slug, shard) for shard in range(shards_of(slug))]


# ---- hot articles: more shards on demand ----------------------------------------------------
#
# One partition key takes at most 1,000 write units per second (Developer Guide, "Best
# practices for designing and using partition keys effectively"): above that, DynamoDB
# answers ThrottlingException (on-demand) or ProvisionedThroughputExceededException. A view
# refused so moves its article to MAX_SHARDS-bounded wider shards at once: the writer counts
# it on a new (cold) shard and records the new number on the first shard (`shards`), which
# every reader reads anyway; readers then read the new shards too. A first shard too busy to
# take that record at once still gets it: every writer that knows more shards than the first
# shard says retries it, and the most-read job sets it from the shards it finds
# (reconcile_shards), so a view on a new shard is shown late at worst, never lost.

MAX_SHARDS = 64
SPREAD = 4  # a throttled article gets four times the shards
# Shards one view is written to before a throttle is the answer. Only a hot key's throttle
# (db.hot_key) tries another shard: a throttle of the table as a whole is the answer at once.
VIEW_ATTEMPTS = 2
# Shards known per article in this container (at least COUNTER_SHARDS), and the number the
# first shard was last seen to record.
_shards: Cache[int] = Cache("counter shards", maxsize=10_000)
_recorded: Cache[int] = Cache("counter shards recorded", maxsize=10_000)


def shards_of(slug: str) -> int:
    """How many shards the article's counter has, as far as this container knows."""
    return max(settings().counter_shards, _shards.get(slug)[1] or 1)


def _learn(items: Iterable[dict[str, Any]]) -> set[str]:
    """Note the shard counts first shards record; the articles that have more than known."""
    grown = set()
    for item in items:
        counter_id = item["id"]["S"]
        if "shards" in item and counter_id.count("#") == 1:
            slug, recorded = slug_of(counter_id), db.number(item, "shards")
            _recorded.put(slug, recorded)
            if recorded > shards_of(slug):
                _shards.put(slug, recorded)
                grown.add(slug)
    return grown


def _with_new_shards(
    items: list[dict[str, Any]], read: dict[str, int], attempts: int = db.BATCH_ATTEMPTS
) -> list[dict[str, Any]]:
    """`items` (counter items read, `read` shards per article) plus the shards their first
    shards record beyond what was read: a second BatchGetItem only when an article grew."""
    grown = _learn(items)
    keys = [
        counter_key(slug, shard)
        for slug in grown
        if slug in read
        for shard in range(read[slug], shards_of(slug))
    ]
    return items + db.batch_get(_table(), keys, attempts) if keys else items


def record_shards(slug: str, shards: int) -> None:
    """Record on the article's first shard that it has `shards` (only ever raised): one
    conditional UpdateItem; a refusal (already as many) is fine."""
    db.conditional_update(
        TableName=_table(),
        Key=counter_key(slug),
        UpdateExpression="SET shards = :n, #kind = if_not_exists(#kind, :kind)",
        ConditionExpression="attribute_not_exists(shards) OR shards < :n",
        ExpressionAttributeNames={"#kind": "kind"},
        ExpressionAttributeValues={":n": {"N": str(shards)}, ":kind": {"S": VIEWS_KIND}},
    )
    _recorded.put(slug, shards)


def reconcile_shards(items: Iterable[dict[str, Any]]) -> None:
    """The most-read job: record on each first shard the shards found beyond it."""
    found: dict[str, int] = {}
    recorded: dict[str, int] = {}
    for item in items:
        counter_id = item["id"]["S"]
        slug, shard = slug_of(counter_id), shard_of(counter_id)
        found[slug] = max(found.get(slug, 1), shard + 1)
        if shard == 0:
            recorded[slug] = max(db.number(item, "shards"), 1)
    for slug, shards in found.items():
        if shards > max(recorded.get(slug, 1), settings().counter_shards):
            record_shards(slug, shards)


def slug_of(counter_id: str) -> str:
    return counter_id.removeprefix("views#").split("#", 1)[0]


def shard_of(counter_id: str) -> int:
    """The shard number of a counter item's id: views#<slug> is 0, views#<slug>#3 is 3."""
    return int(counter_id.rsplit("#", 1)[1]) if counter_id.count("#") == 2 else 0


def total_of(item: dict[str, Any] | None) -> int:
    """Views shown for one counter item: counted plus legacy."""
    return db.number(item, "views") + db.number(item, "legacy")


def add_view(slug: str, today: date | None = None) -> int:
    """Add one view atomically (one UpdateItem, one write unit; never retried when it may
    have counted, see db.at_most_once) to the article's count and to
    `today`'s (default: the site time zone's date now) and return the article's new total.
    A view refused because the article's key is hot (db.hot_key) is counted on another
    shard (new ones while the article has fewer than MAX_SHARDS; see "hot articles" above),
    VIEW_ATTEMPTS writes at most: then, or at once when the table as a whole is throttled,
    the ClientError is raised. A sharded article's total is this
    shard's new value (the UpdateItem's answer) plus the other shards as this environment
    last read them, read again at most every SUM_SECONDS (see "a sharded article's total"
    below)."""
    today = today or datetime.now(settings().tz).date()
    shard = random.randrange(shards_of(slug))
    refused: set[int] = set()
    while True:
        try:
            response = _add_view(slug, shard, today)
            break
        except ClientError as exc:
            if not db.hot_key(exc) or len(refused) + 1 >= VIEW_ATTEMPTS:
                raise
            refused.add(shard)  # a throttled write was not applied: another shard may take it
            shard = _another_shard(slug, refused)
    attributes = response.get("Attributes", {})
    _learn([attributes] if attributes else [])
    if shards_of(slug) > (_recorded.get(slug)[1] or 1):
        with contextlib.suppress(ClientError):
            record_shards(slug, shards_of(slug))
    if shards_of(slug) > 1:
        return _sharded_total(slug, shard, attributes)
    return total_of(attributes)


def _another_shard(slug: str, refused: set[int]) -> int:
    """A shard for a view the shards in `refused` throttled: a new one, after widening the
    article to SPREAD times its shards (recorded on its first shard when that takes it);
    at MAX_SHARDS, another shard than the first (which also takes the shard records) and
    than those refused."""
    shards = shards_of(slug)
    if shards < MAX_SHARDS:
        wider = min(MAX_SHARDS, shards * SPREAD)
        _shards.put(slug, wider)
        with contextlib.suppress(ClientError), db.throttle_handled():  # busy: retried later
            record_shards(slug, wider)
        return random.randrange(shards, wider)
    return random.choice([shard for shard in range(1, shards) if shard not in refused])


def _add_view(slug: str, shard: int, today: date) -> dict[str, Any]:
    with db.at_most_once(), db.throttle_handled():
        return db.client().update_item(
            TableName=_table(),
            Key=counter_key(slug, shard),
            UpdateExpression="ADD #v :one, #day :one SET #kind = if_not_exists(#kind, :kind)",
            ExpressionAttributeNames={
                "#v": "views",
                "#day": day_attribute(today),
                "#kind": "kind",
            },
            ExpressionAttributeValues={":one": {"N": "1"}, ":kind": {"S": VIEWS_KIND}},
            ReturnValues="ALL_NEW",
        )


# ---- a sharded article's total ------------------------------------------------------------
#
# Reading every shard on every counted view would read each shard key as often as the article
# is viewed: at 10,000 views/s, 5,000 read units/s per key (eventually consistent, 0.5 unit
# per item up to 4 KB: Developer Guide, "DynamoDB read and write operations"), past the 3,000
# read units/s one partition serves ("each individual partition is limited to 1000 write
# units per second and 3000 read units per second": Developer Guide, "Understanding DynamoDB
# warm throughput" scenarios; "Burst and adaptive capacity"). So a counted view shows the
# shard it wrote as the UpdateItem answered (ReturnValues ALL_NEW: no extra request or unit)
# plus the other shards as this execution environment last saw them, and an environment reads
# every shard at most once per SUM_SECONDS: each key is read (environments / SUM_SECONDS)
# times a second whatever the traffic. What an environment has seen only grows (a shard's
# `views` only ever grows by ADD, so the larger of two sightings is the newer), so the totals
# it shows never go down, except when an editor sets a lower count, and never below the
# total of its last full read.

SUM_SECONDS = 5.0  # a counted view of a sharded article shows the total as of at most this


@dataclass(frozen=True)
class _Seen:
    """A sharded article's counter as this environment has seen it."""

    read_at: float  # caches.clock() of the last full read (or failed attempt); -inf: none
    views: dict[int, int] = field(default_factory=dict)  # shard -> largest `views` seen
    legacy: int = 0  # the first shard's legacy count, as last seen
    complete: bool = False  # every shard has been read at least once

    def with_item(self, shard: int, item: Mapping[str, Any]) -> _Seen:
        """This view plus shard `shard`'s item (read, or as an UpdateItem returned it)."""
        views = {**self.views, shard: max(self.views.get(shard, 0), db.number(item, "views"))}
        legacy = db.number(item, "legacy") if shard == 0 and item else self.legacy
        return replace(self, views=views, legacy=legacy)

    @property
    def total(self) -> int:
        return self.legacy + sum(self.views.values())


_seen: Cache[_Seen] = Cache("sharded counters seen", maxsize=1_000)


def _sharded_total(slug: str, shard: int, written: Mapping[str, Any]) -> int:
    """The total a counted view on shard `shard` (whose new item is `written`) shows: one
    BatchGetItem of every shard when this environment's last is SUM_SECONDS old, else none.
    A failed read shows what was seen (at least the written shard: the view IS counted,
    and must not look like a refused add, which would close the reader's window and count
    their reload again) and is tried again SUM_SECONDS later."""
    seen = _fresh_seen(slug, with_failures=True).with_item(shard, written)
    _seen.put(slug, seen)
    return seen.total


def _fresh_seen(slug: str, with_failures: bool) -> _Seen:
    """This environment's view of the article's shards, read again (one BatchGetItem, two
    when the article grew) when SUM_SECONDS old. `with_failures`: a failed read keeps what
    was seen (until SUM_SECONDS later) instead of raising ClientError/BotoCoreError."""
    now = caches.clock()
    seen = _seen.get(slug)[1] or _Seen(-math.inf)
    # a total shown without counting (with_failures False) is never a partial sum
    if now - seen.read_at < SUM_SECONDS and (seen.complete or with_failures):
        return seen
    try:
        items = _shard_items(slug)
    except (ClientError, BotoCoreError):
        if not with_failures:
            raise
        seen = replace(seen, read_at=now)
        _seen.put(slug, seen)
        return seen
    seen = replace(seen, read_at=now, complete=True)
    for item in items:
        seen = seen.with_item(shard_of(item["id"]["S"]), item)
    _seen.put(slug, seen)
    return seen


def _shard_items(slug: str) -> list[dict[str, Any]]:
    """Every shard's item of the article's counter (eventually consistent BatchGetItem)."""
    return _with_new_shards(db.batch_get(_table(), counter_keys(slug)), {slug: shards_of(slug)})


def shown_total(slug: str) -> int:
    """The total to show for one article without counting a view (a bot's request, a repeat
    view): views_of([slug]) for an article this environment knows as unsharded (one
    BatchGetItem, as before); for a sharded one, as a counted view shows it (every shard
    read at most once per SUM_SECONDS per environment). Raises ClientError/BotoCoreError
    when the store fails."""
    if shards_of(slug) == 1:
        return views_of([slug])[slug]
    return _fresh_seen(slug, with_failures=False).total


def views_of(slugs: Iterable[str], job: bool = False) -> dict[str, int]:
    """Current totals (all shards summed; missing counters are 0), 100 keys per BatchGetItem:
    one request for a listing page of unsharded counters. `job`: off the page path, so
    unprocessed keys get db.JOB_ATTEMPTS tries."""
    wanted = list(dict.fromkeys(slugs))
    totals = dict.fromkeys(wanted, 0)
    read = {slug: shards_of(slug) for slug in wanted}
    keys = [key for slug in wanted for key in counter_keys(slug)]
    attempts = db.JOB_ATTEMPTS if job else db.BATCH_ATTEMPTS
    for item in _with_new_shards(db.batch_get(_table(), keys, attempts), read, attempts):
        totals[slug_of(item["id"]["S"])] += total_of(item)
    return totals


def day_counts(item: dict[str, Any], days: list[str]) -> list[int]:
    """Views in one counter item on each of `days` (day attributes, see day_attribute)."""
    return [db.number(item, day) for day in days]


def views_with_headline(slug: str) -> tuple[dict[str, Any] | None, int]:
    """The article's headline item (newsdesk.dal.articles.headline_request; None when there
    is no such article) and its total, read together: one BatchGetItem over both tables,
    consistent with each other to the moment of the read."""
    found = db.batch_get_tables(
        {**articles.headline_request([slug]), _table(): {"Keys": counter_keys(slug)}}
    )
    headlines = articles.headlines_in(found)
    items = _with_new_shards(found[_table()], {slug: len(counter_keys(slug))})
    return (headlines[0] if headlines else None), sum(total_of(item) for item in items)


def daily_views(slug: str, days: list[date]) -> tuple[list[int], int]:
    """Views of `slug` on each of `days` and its all-time total: one BatchGetItem over the
    counter's shards."""
    items = _with_new_shards(db.batch_get(_table(), counter_keys(slug)), {slug: shards_of(slug)})
    per_day = [sum(db.number(item, day_attribute(day)) for item in items) for day in days]
    return per_day, sum(total_of(item) for item in items)


def counter_ids() -> list[str]:
    """The id of every counter item (all shards), from the KEYS_ONLY by-kind index."""
    rows = db.query(
        TableName=_table(),
        IndexName="by-kind",
        KeyConditionExpression="#k = :views",
        ExpressionAttributeNames={"#k": "kind"},
        ExpressionAttributeValues={":views": {"S": VIEWS_KIND}},
    )
    return [row["id"]["S"] for row in rows]


def counter_items(ids: list[str]) -> list[dict[str, Any]]:
    """The counter items with these ids (BatchGetItem; the most-read job)."""
    keys = [{"id": {"S": counter_id}} for counter_id in ids]
    return db.batch_get(_table(), keys, db.JOB_ATTEMPTS)


def remove_day_buckets(counter_id: str, names: list[str]) -> None:
    """Drop per-day attributes from one counter item (housekeeping)."""
    placeholders = {f"#d{i}": name for i, name in enumerate(names)}
    db.client().update_item(
        TableName=_table(),
        Key={"id": {"S": counter_id}},
        UpdateExpression="REMOVE " + ", ".join(placeholders),
        ExpressionAttributeNames=placeholders,
    )


# ---- setting a count: the editor's set-views and the importer's legacy count ----------------


@dataclass(frozen=True)
class Snapshot:
    """An article's counter read consistently, before setting its count."""

    total: int  # the displayed total, all shards
    others: int  # what the shards other than the first hold
    legacy: str | None  # the first item's legacy count as stored (None: none yet)


def read_for_set(slug: str) -> Snapshot:
    keys = counter_keys(slug)
    items = _with_new_shards(db.batch_get(_table(), keys, ConsistentRead=True), {slug: len(keys)})
    first_id = keys[0]["id"]["S"]
    first = next((item for item in items if item["id"]["S"] == first_id), None)
    others = sum(total_of(item) for item in items if item["id"]["S"] != first_id)
    legacy = (first or {}).get("legacy", {}).get("N")
    return Snapshot(total_of(first) + others, others, legacy)


def audit_id(slug: str, when: str) -> str:
    return f"audit#views#{slug}#{when}"


def total_audit_id(when: str) -> str:
    """The audit record of a change of the site's total visits (set_legacy_visits)."""
    return f"audit#total#{when}"


def _audit_put(slug: str, audit: dict[str, str | int]) -> dict[str, Any]:
    """The TransactWriteItems action that stores one audit record {who, when, old, new, via}
    (a new item: refused if one exists at that time)."""
    record: dict[str, Any] = {
        "id": {"S": audit_id(slug, str(audit["when"]))},
        "slug": {"S": slug},
        **{name: {"S": str(audit[name])} for name in ("who", "when", "via") if name in audit},
        **{name: {"N": str(audit[name])} for name in ("old", "new")},
    }
    return {
        "Put": {
            "TableName": _table(),
            "Item": record,
            "ConditionExpression": "attribute_not_exists(id)",
        }
    }


def _legacy_as_read(legacy: str | None, values: dict[str, Any]) -> str:
    """The condition that the first counter item's legacy count is still `legacy` (as read;
    None: none), its value added to `values`."""
    if legacy is None:
        return "attribute_not_exists(legacy)"
    values[":legacy"] = {"N": legacy}
    return "legacy = :legacy"


def set_total(
    slug: str, target: int, others: int, legacy: str | None, audit: dict[str, str | int]
) -> bool:
    """One transaction: `legacy = target - others - views` on the first counter item (so the
    total is `target` at that write, whatever views were being added), conditional on
    `legacy` still being what was read, marked as set by `audit["who"]` at `audit["when"]`
    (`set_by`, `set_at`: later imports keep it), and the audit item `audit` {who, when, old,
    new}. False when the condition failed (a concurrent set or import: re-read and retry)."""
    values: dict[str, Any] = {
        ":base": {"N": str(target - others)},
        ":zero": {"N": "0"},
        ":who": {"S": str(audit["who"])},
        ":when": {"S": str(audit["when"])},
    }
    unchanged = _legacy_as_read(legacy, values)
    cancelled = db.transact_write(
        [
            {
                "Update": {
                    "TableName": _table(),
                    "Key": counter_key(slug),
                    "UpdateExpression": (
                        "SET legacy = :base - if_not_exists(#v, :zero), "
                        "set_by = :who, set_at = :when"
                    ),
                    "ConditionExpression": unchanged,
                    "ExpressionAttributeNames": {"#v": "views"},
                    "ExpressionAttributeValues": values,
                }
            },
            _audit_put(slug, {**audit, "via": "set-views"}),
        ]
    )
    return cancelled is None


def stored_legacy(slug: str) -> int | None:
    """The legacy count stored on the article's counter item (None: no counter item, or
    one without a legacy count): one consistent read (BatchGetItem, as set-views reads)."""
    items = db.batch_get(
        _table(), [counter_key(slug)], ConsistentRead=True, ProjectionExpression="legacy"
    )
    return db.number(items[0], "legacy") if items and "legacy" in items[0] else None


@dataclass(frozen=True)
class Count:
    """An article's counter as an import sees it, read consistently before changing it."""

    legacy: str | None  # the first item's legacy count as stored (None: none)
    total: int  # the displayed total, all shards
    set_by: str = ""  # who set the count with set-views ("": nobody)
    set_at: str = ""  # when (ISO 8601)


def counts(slugs: Iterable[str]) -> dict[str, Count]:
    """The counter of each article (every shard; a missing counter is Count(None, 0)):
    consistent BatchGetItem, 100 keys per request, retried as a job's (db.JOB_ATTEMPTS)."""
    wanted = list(dict.fromkeys(slugs))
    keys = [key for slug in wanted for key in counter_keys(slug)]
    read = {slug: shards_of(slug) for slug in wanted}
    items = db.batch_get(_table(), keys, db.JOB_ATTEMPTS, ConsistentRead=True)
    items = _with_new_shards(items, read, db.JOB_ATTEMPTS)
    totals = dict.fromkeys(wanted, 0)
    firsts: dict[str, dict[str, Any]] = {}
    for item in items:
        counter_id = item["id"]["S"]
        totals[slug_of(counter_id)] += total_of(item)
        if counter_id.count("#") == 1:  # views#<slug>: the first shard
            firsts[slug_of(counter_id)] = item
    found = {}
    for slug in wanted:
        first = firsts.get(slug, {})
        legacy = first.get("legacy", {}).get("N")
        found[slug] = Count(
            legacy, totals[slug], db.text(first, "set_by"), db.text(first, "set_at")
        )
    return found


def import_legacy(
    slug: str, legacy: int, read: Count, audit: dict[str, str | int] | None
) -> list[dict[str, Any]]:
    """The TransactWriteItems actions that store an imported legacy count on the article's
    counter: conditional on no editor having set the count (set_at) and on the legacy
    count still being as `read`, so a set-views or another import meanwhile cancels the
    transaction (re-read: an editor's count is then kept). With `audit` {who, when, old,
    new}, the change's audit record (via "import") goes with it."""
    values: dict[str, Any] = {":new": {"N": str(legacy)}, ":kind": {"S": VIEWS_KIND}}
    condition = f"attribute_not_exists(set_at) AND {_legacy_as_read(read.legacy, values)}"
    update = {
        "Update": {
            "TableName": _table(),
            "Key": counter_key(slug),
            "UpdateExpression": "SET legacy = :new, #kind = :kind",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#kind": "kind"},
            "ExpressionAttributeValues": values,
        }
    }
    return [update, _audit_put(slug, {**audit, "via": "import"})] if audit else [update]


def new_counter(slug: str, legacy: int) -> dict[str, Any]:
    """The item import_legacy() makes of an article's counter where none is (its first
    shard), for a BatchWriteItem Put."""
    return {**counter_key(slug), "legacy": {"N": str(legacy)}, "kind": {"S": VIEWS_KIND}}


def legacy_action(slug: str, legacy: int, keep_existing: bool) -> dict[str, Any]:
    """The TransactWriteItems action that stores an imported legacy count on the article's
    counter (with keep_existing, an existing legacy count stays)."""
    value = "if_not_exists(legacy, :legacy)" if keep_existing else ":legacy"
    return {
        "Update": {
            "TableName": _table(),
            "Key": counter_key(slug),
            "UpdateExpression": f"SET legacy = {value}, #kind = :kind",
            "ExpressionAttributeNames": {"#kind": "kind"},
            "ExpressionAttributeValues": {
                ":legacy": {"N": str(legacy)},
                ":kind": {"S": VIEWS_KIND},
            },
        }
    }


# ---- set-views made before they marked the counter (import parts) ---------------------------

# On the site item: when the audit trail was last read for them (mark_old_set_views).
EDITOR_MARKS = "editor_marks_at"


@dataclass(frozen=True)
class Audit:
    """One audit record of a count (see audit_id)."""

    slug: str
    who: str
    when: str  # ISO 8601 with microseconds
    via: str  # "set-views" or "import"; "" in records written before `via` (set-views only)


def editor_marks_read() -> bool:
    """Whether the audit trail was read for set-views older than their marks: one GetItem."""
    item = (
        db.client()
        .get_item(TableName=_table(), Key=SITE_KEY, ProjectionExpression=EDITOR_MARKS)
        .get("Item")
    )
    return bool(item and EDITOR_MARKS in item)


def audits() -> Iterator[Audit]:
    """Every audit record of a count: a Scan of the counters table, filtered, every page.
    For the one-time mark_old_set_views only (the records have no index)."""
    items = db.scan(
        TableName=_table(),
        ConsistentRead=True,
        FilterExpression="begins_with(id, :audit)",
        ProjectionExpression="slug, who, #w, via",
        ExpressionAttributeNames={"#w": "when"},
        ExpressionAttributeValues={":audit": {"S": "audit#views#"}},
    )
    for item in items:
        yield Audit(
            db.text(item, "slug"),
            db.text(item, "who"),
            db.text(item, "when"),
            db.text(item, "via"),
        )


def mark_set(slug: str, who: str, when: str) -> bool:
    """Mark an article's counter as set by `who` at `when` (as set_total does), unless it is
    marked already or absent: one conditional UpdateItem. False when it was not marked."""
    return db.conditional_update(
        TableName=_table(),
        Key=counter_key(slug),
        UpdateExpression="SET set_by = :who, set_at = :when",
        ConditionExpression="attribute_exists(id) AND attribute_not_exists(set_at)",
        ExpressionAttributeValues={":who": {"S": who}, ":when": {"S": when}},
    )


def editor_marks_done(now: str) -> None:
    """Record on the site item that the audit trail was read (mark_old_set_views)."""
    db.client().update_item(
        TableName=_table(),
        Key=SITE_KEY,
        UpdateExpression=f"SET {EDITOR_MARKS} = :now",
        ExpressionAttributeValues={":now": {"S": now}},
    )


# ---- the daily salt of visitor ids ----------------------------------------------------------


def _salt_key(day: date) -> dict[str, Any]:
    return {"id": {"S": f"salt#{day.isoformat()}"}}


def read_salt(day: date) -> bytes | None:
    """The salt of `day` (None when not created yet): one consistent GetItem."""
    response = db.client().get_item(TableName=_table(), Key=_salt_key(day), ConsistentRead=True)
    item = response.get("Item")
    return bytes(item["salt"]["B"]) if item else None


def create_salt(day: date, salt: bytes, expires_at: int) -> bytes:
    """Store `salt` as the salt of `day` unless one exists (then that one is returned:
    another container created it first), expiring at `expires_at` (epoch s, TTL); deletes
    the salt of two days before."""
    try:
        db.client().put_item(
            TableName=_table(),
            Item={**_salt_key(day), "salt": {"B": salt}, "expires_at": {"N": str(expires_at)}},
            ConditionExpression="attribute_not_exists(id)",
        )
    except ClientError as exc:
        if not db.condition_failed(exc):
            raise
        winner = read_salt(day)
        if winner is None:
            raise
        return winner
    db.client().delete_item(TableName=_table(), Key=_salt_key(day - timedelta(days=2)))
    return salt


# ---- the site item, visit shards and online-now buckets ---------------------------------------


@dataclass(frozen=True)
class Site:
    total_visits: int  # visits counted since launch plus the legacy total (see presence)
    peak: int  # most visitors online at once
    peak_at: str | None  # when (ISO 8601, UTC)
    rolled: int | None = None  # buckets up to this start (epoch s) are in `visits`
    rolled_size: int | None = None  # the length (s) of the buckets `rolled` refers to
    rolled_end: int | None = None  # when the last length change rolled up (epoch s): buckets
    # of the length before it, up to the one holding this time, are in `visits`
    level: int | None = None  # the sampling level K (None: never set, see newsdesk.presence)
    level_at: int | None = None  # when it last changed (epoch s), or a lowering began
    lowering: bool = False  # K - 1 is being filled in (newsdesk.presence.next_level)


def site_of(item: dict[str, Any]) -> Site:
    def optional(name: str) -> int | None:
        return db.number(item, name) if name in item else None

    return Site(
        total_visits(item),
        db.number(item, "peak"),
        item.get("peak_at", {}).get("S"),
        optional("rolled"),
        optional("rolled_size"),
        optional("rolled_end"),
        optional("k"),
        optional("k_at"),
        bool(db.number(item, "k_down")),
    )


def site() -> Site:
    """The site item alone (zeros before the first visit): one GetItem. Total visits here
    leave out the visit shards and the buckets not rolled up yet: newsdesk.presence reads
    the whole figure."""
    return site_of(db.client().get_item(TableName=_table(), Key=SITE_KEY).get("Item") or {})


def total_visits(item: dict[str, Any]) -> int:
    return db.number(item, "visits") + db.number(item, "legacy_visits")


def visit_shard_key(shard: int) -> dict[str, Any]:
    return {"id": {"S": f"visits#{shard}"}}


def bucket_key(seconds: int, start: int) -> dict[str, Any]:
    """The online-now bucket of `seconds` seconds starting at `start` (epoch s)."""
    return {"id": {"S": f"online#{seconds}#{start}"}}


def add_visit(shard: int) -> None:
    """Count one visit on visit shard `shard` (one atomic ADD, 1 write unit, never retried
    when it may have counted): readers who are not sampled for online-now."""
    with db.at_most_once():
        db.client().update_item(
            TableName=_table(),
            Key=visit_shard_key(shard),
            UpdateExpression="ADD visits :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )


def add_to_bucket(key: dict[str, Any], counts: dict[str, int], expires_at: int) -> None:
    """ADD `counts` (attribute -> n) to an online-now bucket item, which TTL removes at
    `expires_at` (epoch s): one UpdateItem, 1 write unit, never retried when it may have
    counted."""
    names = {f"#c{i}": name for i, name in enumerate(counts)}
    values: dict[str, Any] = {f":c{i}": {"N": str(n)} for i, n in enumerate(counts.values())}
    values[":exp"] = {"N": str(expires_at)}
    with db.at_most_once():
        db.client().update_item(
            TableName=_table(),
            Key=key,
            UpdateExpression="ADD "
            + ", ".join(f"#c{i} :c{i}" for i in range(len(names)))
            + " SET expires_at = if_not_exists(expires_at, :exp)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )


def read_items(keys: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Items of this table by id (missing ones left out): BatchGetItem, 100 keys a
    request, eventually consistent (0.5 read unit per item up to 4 KB)."""
    return {item["id"]["S"]: item for item in db.batch_get(_table(), keys)}


def roll_up(
    rolled: int | None, to: int, visits: int, size: int, rolled_end: int | None = None
) -> bool:
    """Move `visits` counted in buckets after `rolled` up to `to` (bucket starts, epoch s;
    `to` on the grid of `size`-second buckets) into the site item's `visits`: one
    conditional UpdateItem, refused (False) when another container moved them first.
    `rolled_end` (after a change of the bucket length, epoch s): every bucket of the old
    length up to the one holding this time is in `visits` now."""
    numbers = {":to": str(to), ":v": str(visits), ":size": str(size)}
    update = "SET rolled = :to, rolled_size = :size"
    if rolled_end is not None:
        update += ", rolled_end = :end"
        numbers[":end"] = str(rolled_end)
    return _update_site_if("rolled", rolled, update + " ADD visits :v", numbers)


def set_level(level: int, lowering: bool, at: int, was_at: int | None) -> bool:
    """Set the sampling level (`k`), whether K - 1 is being filled in (`k_down`) and when
    (`k_at`, epoch s), unless another container changed them since `was_at` (their `k_at`
    as read; None: never set): one conditional UpdateItem, False when refused."""
    return _update_site_if(
        "k_at",
        was_at,
        "SET k = :k, k_down = :down, k_at = :at",
        {":k": str(level), ":down": "1" if lowering else "0", ":at": str(at)},
    )


def _update_site_if(attribute: str, was: int | None, update: str, numbers: dict[str, str]) -> bool:
    """Apply `update` (its values: `numbers`, placeholder -> number) to the site item only
    if its number `attribute` is still `was` (None: still absent): one conditional
    UpdateItem, False when another container changed it first."""
    values = {name: {"N": number} for name, number in numbers.items()}
    if was is None:
        condition = f"attribute_not_exists({attribute})"
    else:
        condition = f"{attribute} = :was"
        values[":was"] = {"N": str(was)}
    return db.conditional_update(
        TableName=_table(),
        Key=SITE_KEY,
        UpdateExpression=update,
        ConditionExpression=condition,
        ExpressionAttributeValues=values,
    )


def number(item: dict[str, Any] | None, name: str) -> int:
    """The whole number in attribute `name` of an item of this table (0 when absent)."""
    return db.number(item, name)


def raise_total_floor(at_least: int, total: int) -> None:
    """Make total visits at least `at_least` when they are `total` now (as
    newsdesk.presence reads them), by adding what is missing to legacy_visits: one
    UpdateItem when the total is behind. Racing raises can only leave it slightly above."""
    if at_least > total:
        db.client().update_item(
            TableName=_table(),
            Key=SITE_KEY,
            UpdateExpression="ADD legacy_visits :missing",
            ExpressionAttributeValues={":missing": {"N": str(at_least - total)}},
        )


def raise_site(name: str, value: int, also: dict[str, str] | None = None) -> bool:
    """Set the site item's `name` to `value` only if that raises it (one conditional
    write; `also` are strings set with it). False when it was already as high."""
    sets = {name: {"N": str(value)}, **{k: {"S": v} for k, v in (also or {}).items()}}
    names = {f"#a{i}": key for i, key in enumerate(sets)}
    return db.conditional_update(
        TableName=_table(),
        Key=SITE_KEY,
        UpdateExpression="SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(sets))),
        ConditionExpression="attribute_not_exists(#a0) OR #a0 < :a0",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={f":a{i}": v for i, v in enumerate(sets.values())},
    )


# ---- the most-read lists --------------------------------------------------------------------


def most_read() -> dict[str, list[dict[str, Any]]] | None:
    """The stored most-read lists (None before the job first ran): one GetItem."""
    item = db.client().get_item(TableName=_table(), Key=MOSTREAD_KEY).get("Item")
    return json.loads(item["lists"]["S"]) if item else None


def store_most_read(lists: dict[str, list[dict[str, Any]]], computed_at: str) -> None:
    db.client().put_item(
        TableName=_table(),
        Item={
            **MOSTREAD_KEY,
            "lists": {"S": json.dumps(lists, ensure_ascii=False)},
            "computed_at": {"S": computed_at},
        },
    )


def menu() -> list[dict[str, Any]] | None:
    """The stored category menu (None before the job first ran): one GetItem."""
    item = db.client().get_item(TableName=_table(), Key=MENU_KEY).get("Item")
    return json.loads(item["categories"]["S"]) if item else None


def store_menu(categories: list[dict[str, Any]], computed_at: str) -> None:
    """Replace the category menu (the scheduled job): one PutItem."""
    db.client().put_item(
        TableName=_table(),
        Item={
            **MENU_KEY,
            "categories": {"S": json.dumps(categories, ensure_ascii=False)},
            "computed_at": {"S": computed_at},
        },
    )


def legacy_visits() -> int:
    """The site item's legacy_visits (strongly consistent GetItem)."""
    item = db.client().get_item(TableName=_table(), Key=SITE_KEY, ConsistentRead=True).get("Item")
    return db.number(item, "legacy_visits")


def set_legacy_visits(
    legacy: int, new_legacy: int, who: str, when: str, old: int, forced: bool
) -> db.Cancelled | None:
    """Set the site item's legacy_visits from `legacy` to `new_legacy` with the audit item
    `audit#total#<when>` {who, when, old, new, forced}: one TransactWriteItems. None when
    written, Cancelled when legacy_visits changed since it was read (re-read and retry)."""
    return db.transact_write(_total_actions(legacy, new_legacy, who, when, old, forced))


def _total_actions(
    legacy: int, new_legacy: int, who: str, when: str, old: int, forced: bool
) -> list[dict[str, Any]]:
    """The site item's legacy_visits set from `legacy` to `new_legacy`, and the audit item."""
    values: dict[str, Any] = {":new": {"N": str(new_legacy)}, ":old": {"N": str(legacy)}}
    condition = "legacy_visits = :old" + (
        " OR attribute_not_exists(legacy_visits)" if not legacy else ""
    )
    table = _table()
    audit = {
        "id": {"S": total_audit_id(when)},
        "who": {"S": who},
        "when": {"S": when},
        "old": {"N": str(old)},
        "new": {"N": str(old - legacy + new_legacy)},
        "forced": {"BOOL": forced},
    }
    return [
        {
            "Update": {
                "TableName": table,
                "Key": SITE_KEY,
                "UpdateExpression": "SET legacy_visits = :new",
                "ConditionExpression": condition,
                "ExpressionAttributeValues": values,
            }
        },
        {"Put": {"TableName": table, "Item": audit}},
    ]
