"""Live visitors ("Đang truy cập") and total visits ("Tổng"), at a cost that does not grow
with the audience.

A reader's request makes one write to their visitor item (newsdesk.dal.connections): it
carries presence, the repeat-view windows and the visit gap, and the old values it returns
decide what else to count:

- **Online now** comes from time buckets (BUCKETS_PER_WINDOW in a presence window, items
  `online#<seconds>#<start>` of the counters table). A reader is recorded in the bucket of
  their latest request: the write into the new bucket adds an arrival `n<j>` and, if they
  were recorded in an earlier bucket d buckets ago, a move `m<d>_<j>`. The readers whose
  latest bucket is x are then `n(x)` minus the moves out of x recorded later, so "online
  now" is read from the window's buckets alone: one BatchGetItem of at most
  BUCKETS_PER_WINDOW + 2 small items, the same at 10 readers and at 1,000,000. The oldest
  bucket counts for the part of it still inside the window (arrivals spread evenly).
- **Sampling.** Once the audience passes SAMPLED_READERS, only readers whose hashed id has
  at least K leading zero bits (a 2^-K sample) are recorded in buckets and send a
  heartbeat every HEARTBEAT_SECONDS; the figure is the sample's count times 2^K (binomial
  sampling: relative error about 1/sqrt(sample), 0.6% at 32,768). The others send a
  keep-alive every KEEP_ALIVE_SECONDS, under the visit gap. K follows the current
  audience (next_level, stored on the site item): writers record levels K and K+1, so K
  can rise one step as soon as the audience passes what level K samples, complete at
  once; to lower it, level K-1 is recorded too for a keep-alive interval and a window
  (every reader of that level has been asked for heartbeats by then), then K drops. A
  bucket item takes the sample's writes only: under 1,000 writes/s at any audience (AWS's
  per-partition limit, Developer Guide, "Best practices for designing and using partition
  keys effectively").
- **Total visits** = the site item's `visits` (rolled-up) + `legacy_visits` + the visit
  shards `visits#<s>` (visits of readers not sampled, spread over VISIT_SHARDS items) + the
  visits `v` in buckets not rolled up yet. A sampled reader's new visit is counted in the
  same bucket write as their presence, so the first view of a visit costs 3 write units:
  visitor item, bucket, counter. Whoever reads the figures moves visits out of buckets
  about to leave the window into the site item (one conditional write every few minutes;
  the scheduled job does it too), so nothing is lost when the window moves on.

A visit is a reader's first request after VISIT_GAP_SECONDS (30 minutes) without one.
Figures are cached per container for STATS_CACHE_SECONDS; between refreshes an arrival or a
visit this container saw is added to its cached figures.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from newsdesk import dal
from newsdesk.articles import iso
from newsdesk.caches import Cache
from newsdesk.config import settings
from newsdesk.dal import connections, counters
from newsdesk.dal.connections import Marker, Seen
from newsdesk.observability import logger

WRITE_INTERVAL = 30  # a heartbeat writes at most once per visitor per 30 s
VISIT_GAP_SECONDS = 1800
HEARTBEAT_SECONDS = 60  # sampled readers' heartbeat
KEEP_ALIVE_SECONDS = 1200  # the others' keep-alive: under the visit gap, so visits are exact
SAMPLED_READERS = 1 << 15  # at most about this many readers are recorded in buckets
BUCKETS_PER_WINDOW = 10
MIN_BUCKET_SECONDS = 30
VISIT_SHARDS = 7  # ~460 visits/s each at 1,000,000 online, under 1,000 writes/s
BUCKET_TTL_SECONDS = 7 * 86400  # the scheduled job rolls visits up every 5 minutes
MAX_GAP_BUCKETS = 600  # at most 6 BatchGetItem calls (5 hours of buckets) in one request
MAX_LEVEL = 30
# Levels recorded when K is unknown (see _plan): K of an audience up to 8.4 million online.
UNKNOWN_LEVELS = 8


@dataclass(frozen=True)
class Level:
    """The sampling level in force: readers with at least `k` leading zero bits in their
    hashed id are counted; while `lowering`, those with k - 1 are recorded (and asked for
    heartbeats) too, so that level k - 1 is complete when k drops."""

    k: int = 0
    lowering: bool = False

    @property
    def lowest(self) -> int:
        """The lowest level recorded: readers below it send only keep-alives."""
        return self.k - 1 if self.lowering else self.k


@dataclass(frozen=True)
class Figures:
    """The visitor widget's figures: visitors online now, total visits, the peak (GET
    /api/stats and POST /api/visits answer them as public())."""

    online: int
    total: int
    peak: int
    peak_at: str | None
    as_of: float  # epoch seconds the online figure was computed at
    level: Level = Level()  # the sampling level the writers use (not shown)

    def public(self) -> dict[str, Any]:
        return {
            "online": self.online,
            "total": self.total,
            "peak": {"online": self.peak, "at": self.peak_at},
            "window_seconds": settings().presence_window_seconds,
        }


# This container's last figures (fresh for STATS_CACHE_SECONDS of the caller's clock), and
# when it last wrote each visitor's presence (epoch seconds; the least recent are dropped
# first, so a memo that forgot a visitor costs one refused conditional write, nothing more).
_figures: Cache[Figures] = Cache("presence figures", maxsize=1)
_last_write: Cache[float] = Cache("presence writes", maxsize=50_000)


# ---- sampling and buckets --------------------------------------------------------------------


def sampling_level(audience: int) -> int:
    """K: readers with at least K leading zero bits in their hashed id are sampled (2^-K of
    them), so that about SAMPLED_READERS at most are sampled at this audience."""
    if audience <= SAMPLED_READERS:
        return 0
    return min(MAX_LEVEL, math.ceil(math.log2(audience / SAMPLED_READERS)))


def site_level(site: counters.Site) -> Level:
    """The level stored on the site item; a site item from before levels were stored has
    its writers on the level of its all-time peak."""
    if site.level is None:
        return Level(sampling_level(site.peak))
    return Level(site.level, site.lowering)


def _settle_seconds() -> int:
    """How long after writers learn a level every bucket in the window has it recorded:
    the window, a bucket, and the figures' cache (writers' view of the level)."""
    return settings().presence_window_seconds + bucket_seconds() + settings().stats_cache_seconds


def next_level(level: Level, since: float | None, online: int, epoch: float) -> Level | None:
    """The sampling level to set at `epoch` (None: keep it), from the audience `online`
    counted at `level`, in force since `since` (epoch s; None: long ago).

    - Up one step when `online` passes what level k samples (SAMPLED_READERS * 2^k): the
      writers have recorded k + 1 too, for at least a window once the level settled.
    - Down: when `online` is under half of what level k - 1 samples, k - 1 is recorded
      too (`lowering`) for KEEP_ALIVE_SECONDS and a window, so every reader of that level
      has been told to send heartbeats and sits in the window's buckets; then k drops.
      The audience coming back above level k - 1's size stops the lowering.
    """
    k = level.k
    waited = math.inf if since is None else epoch - since
    if level.lowering:
        if online > SAMPLED_READERS << (k - 1):
            return Level(k)
        if waited >= KEEP_ALIVE_SECONDS + _settle_seconds():
            return Level(k - 1)
        return None
    if waited < _settle_seconds():
        return None
    if k < MAX_LEVEL and online > SAMPLED_READERS << k:
        return Level(k + 1)
    if k > 0 and 2 * online < SAMPLED_READERS << (k - 1):
        return Level(k, lowering=True)
    return None


def level_of(visitor: str) -> int:
    """Leading zero bits of a 32-bit BLAKE2b of the visitor id (geometric: 2^-j have >= j)."""
    bits = int.from_bytes(hashlib.blake2b(visitor.encode(), digest_size=4).digest(), "big")
    return min(MAX_LEVEL, 32 - bits.bit_length())


def bucket_seconds() -> int:
    """Bucket length: a tenth of the presence window, at least 30 s (60 s buckets halve the
    moves a page view writes but miss the small-audience target: 94% of samples within
    max(5%, 1) in tests/integration/test_presence_simulation.py, against 99%)."""
    window = settings().presence_window_seconds
    return max(MIN_BUCKET_SECONDS, math.ceil(window / BUCKETS_PER_WINDOW))


def _window_buckets(epoch: float) -> tuple[list[int], float]:
    """Starts of the buckets overlapping the window ending at `epoch`, oldest first, and
    the share of the oldest one inside the window."""
    size = bucket_seconds()
    begin = epoch - settings().presence_window_seconds
    first, last = int(begin // size) * size, int(epoch // size) * size
    return list(range(first, last + 1, size)), (first + size - begin) / size


def heartbeat_seconds(visitor: str, figures: Figures | None) -> int:
    """How often this reader's page sends a heartbeat (answered to the widget)."""
    level = figures.level if figures else Level()
    if level_of(visitor) < level.lowest:
        return KEEP_ALIVE_SECONDS
    # under the presence window, so an open page never drops out between heartbeats
    return min(HEARTBEAT_SECONDS, max(WRITE_INTERVAL, settings().presence_window_seconds // 2))


# ---- reading the figures ---------------------------------------------------------------------


def _estimate(items: dict[str, dict[str, Any]], starts: list[int], share: float, k: int) -> int:
    """Readers whose latest bucket is in the window, at level k, times 2^k."""
    size = bucket_seconds()
    latest: dict[int, float] = {}
    for x in starts:
        found = counters.bucket_key(size, x)["id"]["S"]
        latest[x] = counters.number(items.get(found), f"n{k}")
    for b in starts:
        item = items.get(counters.bucket_key(size, b)["id"]["S"]) or {}
        for x in starts:
            if x < b:
                latest[x] -= counters.number(item, f"m{(b - x) // size}_{k}")
    counted = sum(latest[x] for x in starts[1:]) + share * latest[starts[0]]
    return max(0, round(counted * (1 << k)))


def _bucket_visits(
    items: dict[str, dict[str, Any]], starts: list[int], after: int | None, size: int = 0
) -> int:
    size = size or bucket_seconds()
    return sum(
        counters.number(items.get(counters.bucket_key(size, b)["id"]["S"]), "v")
        for b in starts
        if after is None or b > after
    )


def count_online(now: datetime) -> int:
    """The online-now figure at `now`, read from the buckets (no cache)."""
    return _read(now.timestamp())[0]


def _read(epoch: float) -> tuple[int, counters.Site, int, Level]:
    """(online, the site item, total visits, the sampling level now) at `epoch`: one
    BatchGetItem of the site item, the visit shards and the window's buckets; visits about
    to leave the window are rolled up (see module docstring), and the level moved when the
    audience calls for it (next_level: a conditional write, rare)."""
    size = bucket_seconds()
    starts, share = _window_buckets(epoch)
    keys = [counters.SITE_KEY]
    keys += [counters.visit_shard_key(s) for s in range(VISIT_SHARDS)]
    keys += [counters.bucket_key(size, b) for b in starts]
    items = counters.read_items(keys)
    site = counters.site_of(items.get("site", {}))
    level = site_level(site)
    online = _estimate(items, starts, share, level.k)
    shards = sum(counters.number(items.get(f"visits#{s}"), "visits") for s in range(VISIT_SHARDS))
    unrolled = _bucket_visits(items, starts, _rolled(site, starts))
    unrolled += _roll_up(site, starts, items, epoch)
    moved = next_level(level, site.level_at, online, epoch)
    # k_at rounded up: a settle time measured from it is never cut short by the rounding
    if moved is not None and counters.set_level(
        moved.k, moved.lowering, math.ceil(epoch), site.level_at
    ):
        level = moved
    return online, site, site.total_visits + shards + unrolled, level


def _rolled(site: counters.Site, starts: list[int]) -> int | None:
    """The start of the last bucket of this length (on the window's grid) whose visits are
    in the site item. After a change of the window, so of the bucket length, `rolled` is a
    start on the other grid: then none before the window, except those a change before
    rolled up (a length changed and changed back within a window: `rolled_end`)."""
    if site.rolled_size in (None, bucket_seconds()):
        return site.rolled
    return _rolled_after_change(site, starts)


def _rolled_after_change(site: counters.Site, starts: list[int]) -> int:
    size = bucket_seconds()
    rolled = starts[0] - size
    if site.rolled_end is not None:  # the bucket of this length holding the change before
        rolled = max(rolled, site.rolled_end // size * size)
    return rolled


def _roll_up(
    site: counters.Site, starts: list[int], items: dict[str, dict[str, Any]], epoch: float
) -> int:
    """Move visits out of buckets that will soon leave the window (up to two buckets
    before now: later writes land in the current one) into the site item. Returns visits
    found in buckets older than the window that were not rolled up yet (after an idle
    spell), which the caller adds to the total."""
    size = bucket_seconds()
    to = starts[-1] - 2 * size
    if site.rolled is None:
        counters.roll_up(
            None, to, _bucket_visits(items, [b for b in starts if b <= to], None), size
        )
        return 0
    if site.rolled_size not in (None, size):
        return _roll_up_other_length(site, starts, epoch)
    if site.rolled > starts[0] + size:
        return 0  # every bucket not rolled up is inside the window, with room to spare
    gap = list(range(site.rolled + size, starts[0], size))
    if len(gap) > MAX_GAP_BUCKETS:
        # Nobody read the figures and the scheduled job (every 5 minutes) did not run for
        # hours: read a bounded stretch, so no request walks days of buckets (a Lambda
        # timeout would leave `rolled` where it is, and every request would time out).
        logger.warning(
            "visits older than the last buckets not rolled up",
            extra={"buckets_skipped": len(gap) - MAX_GAP_BUCKETS},
        )
        gap = gap[-MAX_GAP_BUCKETS:]
    older = _read_visits(size, gap)
    moving = older + _bucket_visits(items, [b for b in starts if b <= to], site.rolled)
    counters.roll_up(site.rolled, max(to, site.rolled), moving, size)
    return older


def _read_visits(size: int, starts: list[int]) -> int:
    """Visits `v` in the `size`-second buckets starting at `starts` (100 keys a call)."""
    found = 0
    for i in range(0, len(starts), 100):
        chunk = [counters.bucket_key(size, b) for b in starts[i : i + 100]]
        found += _bucket_visits(counters.read_items(chunk), starts[i : i + 100], None, size)
    return found


def _roll_up_other_length(site: counters.Site, starts: list[int], epoch: float) -> int:
    """The window (PRESENCE_WINDOW_SECONDS) changed, so the bucket length did: the visits
    in buckets of the old length not rolled up yet (up to now) move into the site item, and
    `rolled` starts again on the new grid, before the window (every bucket of the new
    length in it counts: see _rolled). Returns the visits moved (the caller adds them to
    this read's total). Readers recorded in buckets of the old length are not online now
    until their next request (at most a heartbeat later)."""
    assert site.rolled is not None and site.rolled_size is not None
    size, old = bucket_seconds(), site.rolled_size
    # every bucket of the old length up to the one holding now; `rolled_end` says when
    gap = list(range(site.rolled + old, int(epoch // old) * old + 1, old))[-MAX_GAP_BUCKETS:]
    moving = _read_visits(old, gap)
    rolled = _rolled_after_change(site, starts)
    counters.roll_up(site.rolled, rolled, moving, size, rolled_end=int(epoch))
    logger.info(
        "bucket length changed: visits rolled up",
        extra={"from_seconds": old, "to_seconds": size, "visits": moving},
    )
    return moving


def roll_up_visits(now: datetime | None = None) -> None:
    """The scheduled job's share: read the figures (rolling visits up) every run."""
    _read((now or datetime.now(UTC)).timestamp())


def total_visits_now() -> int:
    """Total visits as the widget shows them, read now."""
    return _read(datetime.now(UTC).timestamp())[2]


def _record_peak(online: int, now: datetime, known_peak: int) -> tuple[int, str | None]:
    """Raise the all-time peak if `online` beats it (a conditional write, rare)."""
    at = iso(now)
    if counters.raise_site("peak", online, {"peak_at": at}):
        return online, at
    return known_peak, None  # someone else recorded a higher one; next refresh shows it


def cached_figures() -> Figures | None:
    """The last figures this container computed, however old (None before the first)."""
    return _figures.get("site")[1]


def current_figures(now: datetime | None = None) -> Figures:
    """The widget's figures, from the per-container cache when it is fresh enough: else
    one BatchGetItem (at most 20 items, 10 read units)."""
    now = now or datetime.now(UTC)
    cached = cached_figures()
    if cached is not None and now.timestamp() - cached.as_of < settings().stats_cache_seconds:
        return cached
    online, site, total, level = _read(now.timestamp())
    peak, peak_at = site.peak, site.peak_at
    # the higher of online now and the peak this container last showed (its own arrivals
    # folded in, see _fold): recorded here, at most one write per container and refresh,
    # so the peak a reader was shown is not lower at the next refresh
    seen = cached if cached is not None and cached.peak > online else None
    best, best_at = (seen.peak, seen.peak_at) if seen else (online, None)
    if best > peak:
        when = datetime.fromisoformat(best_at) if best_at else now
        peak, new_at = _record_peak(best, when, peak)
        peak_at = new_at or peak_at
    return _keep(Figures(online, total, peak, peak_at, now.timestamp(), level))


def _keep(figures: Figures) -> Figures:
    _figures.put("site", figures)
    return figures


# ---- recording a reader ----------------------------------------------------------------------


def lookback_seconds() -> int:
    """How long after local midnight a reader's item under yesterday's id still matters:
    the presence window or the visit gap, whichever is longer."""
    return max(settings().presence_window_seconds, VISIT_GAP_SECONDS)


def _written_recently(visitor: str, epoch: float) -> bool:
    """True when this container wrote `visitor`'s presence under WRITE_INTERVAL ago; else
    notes the write about to be made (one atomic step)."""
    fresh = _last_write.put_unless(visitor, epoch, lambda last: epoch - last < WRITE_INTERVAL)
    return not fresh


def _figures_before(now: datetime, soft: bool) -> Figures | None:
    """The figures before a write (they give the sampling level): refreshed if stale. If
    DynamoDB fails (or already failed in this request), this container's last ones when
    `soft` (a view goes on, logged), else the error is raised (a heartbeat answers it)."""
    if dal.degraded():
        return cached_figures()
    try:
        return current_figures(now)
    except (ClientError, BotoCoreError) as exc:
        if not soft:
            raise
        logger.warning("visitor figures unavailable", extra={"error": str(exc)})
        return cached_figures()


@dataclass(frozen=True)
class _Plan:
    """Where one reader's write goes: their bucket if sampled, and the levels recorded."""

    epoch: float
    bucket: int | None
    levels: tuple[int, ...]
    figures: Figures | None


def _plan(visitor: str, now: datetime, soft: bool = False) -> _Plan:
    """Where the reader's write goes: their bucket, at the levels their id has among K
    (K - 1 too while lowering) and K + 1. With no figures (their read failed, none cached)
    K is unknown: every level their id has up to UNKNOWN_LEVELS, so the reader counts
    whatever K is (still one write; an id has level j or more with odds 2^-j)."""
    figures = _figures_before(now, soft)
    level = level_of(visitor)
    if figures is None:
        levels = tuple(range(min(level, UNKNOWN_LEVELS) + 1))
    else:
        sampling = figures.level
        levels = tuple(j for j in range(sampling.lowest, sampling.k + 2) if j <= level)
    epoch = now.timestamp()
    size = bucket_seconds()
    return _Plan(epoch, int(epoch // size) * size if levels else None, levels, figures)


def _keep_seconds() -> int:
    return lookback_seconds() + 3600


def heartbeat(visitor: str, now: datetime | None = None, previous: str | None = None) -> Figures:
    """Register `visitor` as present now (register()) and answer the site figures."""
    now = now or datetime.now(UTC)
    register(visitor, now, previous)
    return current_figures(now)


def register(visitor: str, now: datetime | None = None, previous: str | None = None) -> None:
    """A heartbeat: `visitor` is present now; a visit is counted if they were away 30
    minutes. At most one write per visitor per WRITE_INTERVAL (this container's memo, then
    the write's condition across containers). `previous` is the same reader's id under
    yesterday's salt, shortly after midnight (identity.previous_visitor_id): their item is
    taken over the first time `visitor` is seen. Raises ClientError/BotoCoreError when
    DynamoDB fails (nothing is then remembered)."""
    now = now or datetime.now(UTC)
    if _written_recently(visitor, now.timestamp()):
        return
    plan = _plan(visitor, now)
    try:
        old = connections.record(
            visitor,
            int(plan.epoch),
            _keep_seconds(),
            bucket=plan.bucket,
            bucket_size=bucket_seconds(),
            write_interval=WRITE_INTERVAL,
        )
    except connections.RecentlySeen:
        return  # written by another container moments ago
    except (ClientError, BotoCoreError):
        _last_write.pop(visitor)  # not written: the next heartbeat must try again
        raise
    old = _taken_over(visitor, old, previous, int(plan.epoch * 1000))
    _count(visitor, plan, old)


def view(
    visitor: str, slug: str, window: int, now: datetime | None = None, previous: str | None = None
) -> Marker | None:
    """A reader's view of `slug`: present now, a visit if away 30 minutes, and the view's
    repeat-view window of `window` seconds opened. Returns the window opened (the view is
    to be counted) or None (a repeat within an open window, also under yesterday's id
    just after midnight: not counted). With `window` 0 every view is returned as counted
    (a Marker that opens nothing). Usually one write to the visitor item plus, for a new
    visit or a sampled reader in a new bucket, one to a bucket or visit shard. Raises
    ClientError/BotoCoreError when the reader's write fails; a failed bucket or visit-shard
    write after it is logged, not raised: the view counts, a new visit goes on a visit
    shard, and online now misses the reader until their next request."""
    now = now or datetime.now(UTC)
    plan = _plan(visitor, now, soft=True)
    now_ms = int(plan.epoch * 1000)
    marker = Marker(connections.marker_name(slug), now_ms, now_ms + window * 1000)
    try:
        old = connections.record(
            visitor,
            int(plan.epoch),
            _keep_seconds(),
            bucket=plan.bucket,
            bucket_size=bucket_seconds(),
            marker=marker if window else None,
        )
    except connections.RepeatView as repeat:
        if repeat.seen.last_seen is None or repeat.seen.last_seen <= plan.epoch - WRITE_INTERVAL:
            register(visitor, now, previous)  # a reader back on a page keeps present
        return None
    _last_write.put(visitor, plan.epoch)
    try:
        old = _taken_over(visitor, old, previous, now_ms)
        _count(visitor, plan, old)
    except (ClientError, BotoCoreError) as exc:
        # Yesterday's item, the bucket or the visit shard refused or failed: the view is
        # still the reader's and counts (its window is open); online now misses them until
        # their next request.
        logger.warning("presence not recorded", extra={"error": dal.failure(exc)})
    if window and old.markers.get(marker.name, 0) > now_ms:
        return None  # viewed under yesterday's id, window still open
    return marker


def _taken_over(visitor: str, old: Seen, previous: str | None, now_ms: int) -> Seen:
    """A first write under today's id just after midnight: take yesterday's item over
    (presence, visit gap, open windows), so the reader is one visitor, one visit and no
    second view within a window."""
    if old.last_seen is not None or previous is None:
        return old
    before = connections.take(previous)
    if before.last_seen is None:
        return old
    live = {name: until for name, until in before.markers.items() if until > now_ms}
    if live:
        connections.keep_windows(visitor, live)
    return before


def _count(visitor: str, plan: _Plan, old: Seen) -> None:
    """After the visitor write: the bucket write (a sampled reader's arrival or move, and
    their new visit) or the visit shard's (a new visit of a reader not sampled); then this
    container's figures take the arrival and the visit."""
    new_visit = old.last_seen is None or old.last_seen <= plan.epoch - VISIT_GAP_SECONDS
    size = bucket_seconds()
    moving = old.bucket != plan.bucket or old.bucket_size not in (None, size)
    if plan.bucket is not None and moving:
        counts = {f"n{j}": 1 for j in plan.levels}
        moved = (plan.bucket - old.bucket) // size if old.bucket else 0
        # a bucket of another length (recorded before PRESENCE_WINDOW_SECONDS changed) is
        # not one of the buckets read now: no move out of it is recorded
        same_grid = (
            old.bucket_size in (None, size) and (plan.bucket - (old.bucket or 0)) % size == 0
        )
        if old.bucket and same_grid and 0 < moved <= 12:
            counts.update({f"m{moved}_{j}": 1 for j in plan.levels})
        if new_visit:
            counts["v"] = 1
        key = counters.bucket_key(size, plan.bucket)
        try:
            counters.add_to_bucket(key, counts, plan.bucket + BUCKET_TTL_SECONDS)
        except ClientError as exc:
            # Refused (throttled, say: nothing was added): the reader's item must not say
            # they are in this bucket, or their next move would take them out of a bucket
            # that never counted them. After a 5xx the write may have counted: left as is.
            if dal.refused(exc):
                with contextlib.suppress(ClientError, BotoCoreError):
                    connections.put_back_bucket(visitor, plan.bucket, old.bucket, old.bucket_size)
                if new_visit:  # the visit goes on a visit shard instead: never lost
                    with contextlib.suppress(ClientError, BotoCoreError):
                        _add_visit(visitor)
            raise
    elif new_visit:
        _add_visit(visitor)
    arrived = (
        old.last_seen is None or old.last_seen <= plan.epoch - settings().presence_window_seconds
    )
    _fold(plan, arrived, new_visit)


def level_shard(visitor: str) -> int:
    return int(hashlib.blake2b(visitor.encode(), digest_size=2).hexdigest(), 16) % VISIT_SHARDS


def _add_visit(visitor: str) -> None:
    """Count a visit on the reader's visit shard, or on the next one when that refused it
    (a refused ADD was not applied: throttled past a key's write units, say)."""
    shard = level_shard(visitor)
    try:
        counters.add_visit(shard)
    except ClientError as exc:
        if not dal.refused(exc):
            raise
        counters.add_visit((shard + 1) % VISIT_SHARDS)


def _fold(plan: _Plan, arrived: bool, new_visit: bool) -> None:
    """This container's figures (read before the write) take this reader's arrival and
    visit; the peak shown beside them is never below them (the next refresh records it,
    current_figures, so the peak never goes down between answers: no write here, which
    would be one per arrival while the audience is at a record)."""
    figures = plan.figures or cached_figures()
    if figures is None:
        return
    if new_visit:
        figures = replace(figures, total=figures.total + 1)
    if arrived:
        online = figures.online + 1
        if online > figures.peak:
            at = iso(datetime.fromtimestamp(plan.epoch, UTC))
            figures = replace(figures, peak=online, peak_at=at)
        figures = replace(figures, online=online)
    _keep(figures)


def close_window(visitor: str, marker: Marker) -> None:
    """Close a window view() opened for a view that could not be counted."""
    if marker.until_ms > marker.now_ms:
        connections.close_window(visitor, marker)


# ---- showing the figures ---------------------------------------------------------------------


def shown_figures() -> Figures | None:
    """The figures to show beside a page or a beacon's answer: current ones, else this
    container's last (however old), else None; a DynamoDB failure is logged, not raised."""
    if dal.degraded():  # DynamoDB already failed in this request: do not wait on it again
        return cached_figures()
    try:
        return current_figures()
    except (ClientError, BotoCoreError) as exc:
        logger.warning("visitor figures unavailable", extra={"error": str(exc)})
        return cached_figures()


def total_at_least(count: int) -> None:
    """Make total visits at least `count`, an article's view count just read (a reader
    whose visit could not be recorded, an editor's count): nothing when the figures (the
    ones the page shows beside it, so no extra read) already show that much, else the
    missing visits are added to the site's legacy total (counters.raise_total_floor) and
    the figures kept here follow, so a page never shows a total below a count beside it."""
    if dal.degraded():  # DynamoDB already failed in this request: checked next time
        return
    figures = current_figures()
    if figures.total >= count:
        return
    counters.raise_total_floor(count, total_visits_now())  # a fresh read: rare
    _keep(replace(figures, total=count))
