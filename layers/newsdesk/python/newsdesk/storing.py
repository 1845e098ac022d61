"""Storing parsed articles (the importer and the admin API): where each one goes, what its
count becomes, and the writes, one article at a time or in bulk.

Where an article goes. An article is the same article only when its source identity
matches: the source's `id` ("id:<id>"), else its title and publish time ("title:<published
ISO> <title>"), stored as the item's `source`. It goes to its slug (the one its source gave,
else the one made from its title) when that slug is free or holds the same article; else to
`<slug>-<short id>` (newsdesk.slugs.unique_slug, derived from the identity, so the same on
every run). Titles that differ only by tone marks, đ/d, punctuation or case, or share their
first 100 slug characters, and two pages with the same title published at different times,
get two URLs, both reported; no count is lost. An article stored before identities were
(no `source`) is the same article as one published at the same time, so live URLs stay.
A slug given without an id (a JSON export, the admin API's path) names the article: it is
written there whatever was there ("pinned"), keeping the stored identity.

Counts. A new article's counter gets the imported legacy count. For an existing article an
import changes the legacy count only when it differs, with an audit record (via "import"),
and never when an editor set the count (set-views marks the counter): that count is kept
and reported. A save that leaves the count as stored leaves the counter item out of its
transaction, so views counted meanwhile never meet it (on AWS a single write to an item a
transaction holds is refused with TransactionConflictException).

Bulk. Articles are planned 100 at a time (one consistent BatchGetItem of their slots, one
of their counters), and written in groups: one TransactWriteItems of up to 100 actions
(each article whole: its item, its counter's legacy count, an audit record), on a small
thread pool. A group that a condition cancels (someone wrote one of its articles meanwhile)
is written again one article at a time, each read afresh. The site's total visits is raised
once per 100 articles, before their writes.
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from newsdesk import dal, presence
from newsdesk.articles import Article, forget, iso, to_item
from newsdesk.dal import articles as stored
from newsdesk.dal import counters
from newsdesk.slugs import unique_slug

if TYPE_CHECKING:
    from newsdesk.importer import Parsed


class Source(Protocol):
    """An article as read from its source, maybe not parsed yet (newsdesk.importer's Parsed,
    or a legacy Page): what placing it needs, and parse() for the article itself."""

    @property
    def identity(self) -> str: ...
    @property
    def slug(self) -> str: ...  # the slug it asks for
    @property
    def published_at(self) -> datetime: ...
    @property
    def pinned(self) -> bool: ...
    @property
    def source_digest(self) -> str: ...  # its bytes as read ("" when not known)

    def parse(self) -> Parsed: ...


ATTEMPTS = 5  # one article's write, re-read and retried when someone wrote it meanwhile
CHUNK = 100  # articles planned together: BatchGetItem takes 100 keys
# TransactWriteItems "groups up to 100 action requests ... The aggregate size of the items in
# the transaction cannot exceed 4 MB" (DynamoDB API Reference, TransactWriteItems).
GROUP_ACTIONS = 100
GROUP_BYTES = 3_500_000
WORKERS = 4  # groups written at once (DynamoDB Local serialises transactions; AWS does not)


class StoreConflict(RuntimeError):
    """An article kept being written by someone else while it was stored: retry."""


@dataclass(frozen=True)
class Outcome:
    """What storing one article did. `outcome`: imported, updated, unchanged, stale (a newer
    version is stored) or rejected (`reason` says why)."""

    label: str  # where the article came from: "[3/12] pages/a.txt", "list.json[41] 'Title'"
    outcome: str
    slug: str = ""
    wanted: str = ""  # the slug it would have had, when another article has it
    kept: str = ""  # the editor's count it kept: "5 (set by cli:an on 2026-12-01T...)"
    reason: str = ""

    def line(self) -> str:
        """One line of the import's report."""
        if self.outcome == "rejected":
            return f"{self.label}: rejected: {self.reason}"
        notes = []
        if self.wanted:
            notes.append(f"slug {self.wanted} is another article's")
        if self.kept:
            notes.append(f"kept the count an editor set: {self.kept}")
        return f"{self.label}: {self.outcome} {self.slug}" + (
            f" ({'; '.join(notes)})" if notes else ""
        )

    @property
    def notable(self) -> bool:
        """Worth a line even when routine lines are not shown."""
        moved = bool(self.wanted) and self.outcome in ("imported", "updated")
        return self.outcome in ("rejected", "stale") or moved or bool(self.kept)


# ---- where an article goes -------------------------------------------------------------------


def candidates(parsed: Source) -> list[str]:
    """The slugs the article may take, in order."""
    slug = parsed.slug
    return [slug] if parsed.pinned else [slug, unique_slug(slug, parsed.identity)]


def same_article(parsed: Source, holder: stored.Slot) -> bool:
    """Whether the article stored at a slug is this one (see the module docstring)."""
    if holder.source:
        return holder.source == parsed.identity
    return holder.published_at == iso(parsed.published_at)


def place(
    parsed: Source, found: Mapping[str, stored.Slot | None], claims: Mapping[str, str]
) -> tuple[str, str]:
    """Where the article goes, from the slots read so far (`found`: slug -> what is there)
    and the slugs this run has given to other identities (`claims`): ("at", slug), or
    ("read", slug) when that slot must be read first, or ("taken", "") when every slug it may
    take holds another article."""
    if parsed.pinned:
        slug = parsed.slug
        return ("at", slug) if slug in found else ("read", slug)
    for slug in candidates(parsed):
        if claims.get(slug, parsed.identity) != parsed.identity:
            continue
        if slug not in found:
            return "read", slug
        holder = found[slug]
        if holder is None or same_article(parsed, holder):
            return "at", slug
    return "taken", ""


def _taken(label: str, parsed: Source) -> Outcome:
    slugs = " and ".join(candidates(parsed))
    return Outcome(label, "rejected", reason=f"slug {slugs} hold(s) other articles")


# ---- what to write -----------------------------------------------------------------------------


@dataclass
class Write:
    """One article's planned write: its transaction actions and what it will have done."""

    parsed: Parsed
    done: Outcome
    actions: list[dict[str, Any]]
    size: int
    floor: int = 0  # the site's total visits must reach at least this (its count)


def _now() -> str:
    return iso(datetime.now(UTC))


def _audit_time() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _count_actions(
    parsed: Parsed, slug: str, holder: stored.Slot | None, count: counters.Count, who: str
) -> tuple[list[dict[str, Any]], str]:
    """The counter's actions of an import (none when the count stays) and the editor's
    count kept ("" when none)."""
    if count.set_at:
        return [], f"{count.total} (set by {count.set_by} on {count.set_at})"
    if count.legacy is not None and int(count.legacy) == parsed.legacy_views:
        return [], ""
    audit: dict[str, str | int] | None = None
    if holder is not None:  # an existing article's count changes: on the record
        new = count.total - int(count.legacy or 0) + parsed.legacy_views
        audit = {"who": who, "when": _audit_time(), "old": count.total, "new": new}
    return counters.import_legacy(slug, parsed.legacy_views, count, audit), ""


def _kept_legacy_actions(
    parsed: Parsed, slug: str, holder: stored.Slot | None, count: counters.Count
) -> list[dict[str, Any]]:
    """The admin API's save: an existing count stays (only set-views changes it)."""
    if holder is not None and count.legacy is not None:
        return []
    return [counters.legacy_action(slug, parsed.legacy_views, keep_existing=True)]


def plan(
    label: str,
    parsed: Parsed,
    slug: str,
    holder: stored.Slot | None,
    count: counters.Count | None,
    *,
    who: str,
    keep_legacy: bool = False,
    now: str = "",
) -> Write | Outcome:
    """The write that stores `parsed` at `slug` (where `holder` is, with its counter
    `count`, None: not read yet), or the Outcome when nothing is to be written (unchanged,
    or a newer version stored). Counts: see the module docstring. `now`: the time written
    (ISO; default: now), also the version of an article without one."""
    now = now or _now()
    article = stored_as(parsed, slug)
    digest = parsed.digest if article is parsed.article else article.content_hash()
    version = parsed.version or now
    wanted = "" if slug == parsed.article.slug else parsed.article.slug
    if holder is not None and holder.content_hash == digest:
        return Outcome(label, "unchanged", slug, wanted)
    if holder is not None and holder.version > version:
        return Outcome(label, "stale", slug, wanted)
    count = count or counters.Count(None, 0)
    if keep_legacy:
        counter, kept = _kept_legacy_actions(parsed, slug, holder, count), ""
    else:
        counter, kept = _count_actions(parsed, slug, holder, count, who)
    fields = to_item(article)
    action = stored.write_action(
        fields, digest, version, now, parsed.identity, parsed.source_digest, pinned=parsed.pinned
    )
    done = Outcome(label, "updated" if holder else "imported", slug, wanted, kept)
    floor = parsed.legacy_views if counter and not keep_legacy else 0
    return Write(parsed, done, [action, *counter], stored.item_bytes(fields), floor)


def stored_as(parsed: Parsed, slug: str) -> Article:
    """The article as stored at `slug` (its slug is part of its content hash)."""
    return parsed.article if slug == parsed.article.slug else replace(parsed.article, slug=slug)


def digest_at(parsed: Parsed, slug: str) -> str:
    """The content hash of the article stored at `slug`."""
    return parsed.digest if slug == parsed.article.slug else stored_as(parsed, slug).content_hash()


def raise_floors(legacy_total: int, views: int) -> None:
    """The site's total visits is never behind what the old site showed: its widget's total
    (`legacy_total`) nor any one article's count (`views`: each counted view was someone's
    visit). Raised before the writes, so a rerun after a failure in between still raises it."""
    if legacy_total:
        counters.raise_site("legacy_visits", legacy_total)
    if views:
        presence.total_at_least(views)


# ---- one article -------------------------------------------------------------------------------


def _locate(parsed: Parsed, claims: Mapping[str, str]) -> tuple[str, dict[str, stored.Slot | None]]:
    """Where the article goes ("" when every slug it may take is another article's) and
    the slots read: consistent GetItems."""
    found: dict[str, stored.Slot | None] = {}
    status, slug = place(parsed, found, claims)
    while status == "read":
        found[slug] = stored.slot(slug)
        status, slug = place(parsed, found, claims)
    return slug, found


def store_one(
    parsed: Parsed,
    label: str = "",
    *,
    who: str = "import",
    keep_legacy: bool = False,
    claims: Mapping[str, str] | None = None,
) -> Outcome:
    """Store one article whole (its item and its count in one transaction), read afresh:
    placed as the module docstring says, unchanged and older versions left alone. With
    keep_legacy (the admin API), an existing count stays. Raises StoreConflict when others
    keep writing it."""
    label = label or parsed.article.slug
    for attempt in range(1, ATTEMPTS + 1):
        slug, found = _locate(parsed, claims or {})
        if not slug:
            return _taken(label, parsed)
        count = counters.counts([slug])[slug]
        write = plan(label, parsed, slug, found[slug], count, who=who, keep_legacy=keep_legacy)
        if isinstance(write, Outcome):
            return write
        if parsed.legacy_total or write.floor:
            raise_floors(parsed.legacy_total, write.floor)
        refused = stored.write_together(write.actions)
        if refused is None:
            forget(slug)
            return write.done
        code, item = refused[0]
        if code == "ConditionalCheckFailed":  # the article changed since it was read
            outcome = _refused_by(parsed, stored.slot_of(item), write.done)
            if outcome is not None:
                return outcome
        dal.backoff(attempt)  # else its counter changed (set-views, an import): re-read
    raise StoreConflict("the article kept changing while it was stored: import it again")


def _refused_by(parsed: Parsed, holder: stored.Slot, planned: Outcome) -> Outcome | None:
    """What the article found at its slug means when its write was refused: unchanged, a
    newer version, or None (another article took the slot, or it changed: read again)."""
    if not same_article(parsed, holder) and not parsed.pinned:
        return None
    if holder.content_hash == digest_at(parsed, planned.slug):
        return Outcome(planned.label, "unchanged", planned.slug, planned.wanted)
    if holder.version > (parsed.version or _now()):
        return Outcome(planned.label, "stale", planned.slug, planned.wanted)
    return None


# ---- in bulk -----------------------------------------------------------------------------------


def pack(writes: Iterable[Write]) -> list[list[Write]]:
    """Writes in groups that fit one TransactWriteItems (GROUP_ACTIONS actions, GROUP_BYTES)."""
    groups: list[list[Write]] = []
    actions = size = 0
    for write in writes:
        if (
            not groups
            or actions + len(write.actions) > GROUP_ACTIONS
            or (size + write.size > GROUP_BYTES)
        ):
            groups.append([])
            actions = size = 0
        groups[-1].append(write)
        actions += len(write.actions)
        size += write.size
    return groups


@dataclass
class Bulk:
    """Stores many articles fast: add() them in order, then finish(); close() in a finally.
    The caller's thread parses while one planner thread reads slots and counters, 100
    articles at a time, and `workers` threads write the groups. Each Outcome goes to `done`,
    called in the caller's thread (from add(), finish() and close())."""

    done: Callable[[Outcome], None]
    who: str = "import"
    workers: int = WORKERS
    claims: dict[str, str] = field(default_factory=dict)  # slug -> identity this run put there
    _chunk: list[tuple[str, Source]] = field(default_factory=list)
    _keys: set[str] = field(default_factory=set)  # articles planned this run
    _later: list[tuple[str, Source]] = field(default_factory=list)  # seen twice: in the end
    _results: queue.SimpleQueue[Outcome] = field(default_factory=queue.SimpleQueue)
    _planned: deque[Future[None]] = field(default_factory=deque)  # chunks being planned
    _pending: deque[Future[None]] = field(default_factory=deque)  # groups being written
    _planner: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="import-plan")
    )
    _reader: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(2, thread_name_prefix="import-read")
    )
    _pool: ThreadPoolExecutor | None = None
    _raised: tuple[int, int] = (0, 0)  # the site floors this run raised (legacy total, views)

    def add(self, label: str, item: Source) -> None:
        self._chunk.append((label, item))
        if len(self._chunk) >= CHUNK:
            self.flush()
        self._report()

    def flush(self) -> None:
        """Plan the articles added so far (in the planner thread) and start their writes."""
        chunk, self._chunk = self._chunk, []
        if not chunk:
            return
        while len(self._planned) >= 2:  # parse at most two chunks ahead of the planner
            self._planned.popleft().result()
            self._report()
        # Each article's own slot is read ahead (it does not depend on the articles before
        # it: those of this run are in `claims`), while the planner places the chunk before.
        slugs = [item.slug for _, item in chunk]
        ahead = self._reader.submit(stored.slots, slugs)
        self._planned.append(self._planner.submit(self._plan_and_write, chunk, ahead))

    def finish(self) -> None:
        """Write what is left, wait for every write, then the articles seen twice."""
        self.flush()
        for queued in (self._planned, self._pending):
            while queued:
                queued.popleft().result()
                self._report()
        for label, item in self._later:
            try:
                self._results.put(store_one(item.parse(), label, who=self.who))
            except (ValueError, StoreConflict) as exc:  # the page's InvalidArticle, say
                self._results.put(Outcome(label, "rejected", reason=str(exc)))
            self._report()
        self._later.clear()

    def close(self) -> None:
        """Stop: articles not yet planned or written are dropped, writes under way end (each
        article whole), and their outcomes are reported: the counts are what was stored."""
        self._planner.shutdown(wait=True, cancel_futures=True)
        self._reader.shutdown(wait=True, cancel_futures=True)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._report()

    # -- inside --

    def _report(self) -> None:
        while True:
            try:
                outcome = self._results.get_nowait()
            except queue.Empty:
                return
            self.done(outcome)

    def _plan_and_write(
        self, chunk: list[tuple[str, Source]], ahead: Future[dict[str, stored.Slot | None]]
    ) -> None:
        """(The planner thread.) Plan a chunk, raise the site's floors, submit its groups."""
        writes = self._plan(chunk, ahead.result())
        legacy_total = max((w.parsed.legacy_total for w in writes), default=0)
        floor = max((w.floor for w in writes), default=0)
        raised_total, raised_floor = self._raised
        if legacy_total > raised_total or floor > raised_floor:  # else this run raised them
            raise_floors(legacy_total if legacy_total > raised_total else 0, floor)
            self._raised = (max(legacy_total, raised_total), max(floor, raised_floor))
        for group in pack(writes):
            self._submit(group)

    def _submit(self, group: list[Write]) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="import-write")
        while len(self._pending) >= 2 * self.workers:  # bounded memory: wait for the oldest
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._write, group))

    def _write(self, group: list[Write]) -> None:
        """(A writer thread.) One transaction for the group; each article alone if refused."""
        actions = [action for write in group for action in write.actions]
        if stored.write_together(actions) is None:
            for write in group:
                forget(write.done.slug)
                self._results.put(write.done)
            return
        for write in group:  # a condition refused the group: each article on its own
            try:
                outcome = store_one(
                    write.parsed, write.done.label, who=self.who, claims=self.claims
                )
            except StoreConflict as exc:
                outcome = Outcome(write.done.label, "rejected", reason=f"{exc}")
            self._results.put(outcome)

    def _key(self, item: Source) -> str:
        return f"slug:{item.slug}" if item.pinned else item.identity

    def _plan(
        self, chunk: list[tuple[str, Source]], found: dict[str, stored.Slot | None]
    ) -> list[Write]:
        placed = self._parsed(self._place(chunk, found), found)
        # Counters of the articles to update (a new article's is absent: its write says so in
        # its condition, and a counter that is there after all cancels the group).
        slugs = [slug for _, p, slug in placed if found[slug] and _changed(p, slug, found[slug])]
        counts = counters.counts(slugs) if slugs else {}
        now = _now()
        writes = []
        for label, parsed, slug in placed:
            planned = plan(
                label, parsed, slug, found[slug], counts.get(slug), who=self.who, now=now
            )
            if isinstance(planned, Outcome):
                self._results.put(planned)
            elif planned.size + stored.ITEM_MARGIN > stored.MAX_ITEM_BYTES:
                reason = f"the article is {planned.size // 1024} KB; DynamoDB holds 400 KB"
                self._results.put(Outcome(label, "rejected", reason=reason))
            else:
                writes.append(planned)
        return writes

    def _parsed(
        self, placed: list[tuple[str, Source, str]], found: dict[str, stored.Slot | None]
    ) -> list[tuple[str, Parsed, str]]:
        """The placed articles to plan, parsed; a page whose bytes are those stored (its
        source digest) is unchanged without being parsed."""
        parsed = []
        for label, item, slug in placed:
            holder = found[slug]
            if holder and item.source_digest and holder.source_digest == item.source_digest:
                wanted = "" if slug == item.slug else item.slug
                self._results.put(Outcome(label, "unchanged", slug, wanted))
                continue
            try:
                parsed.append((label, item.parse(), slug))
            except ValueError as exc:  # the page's InvalidArticle
                self._results.put(Outcome(label, "rejected", reason=str(exc)))
        return parsed

    def _place(
        self, chunk: list[tuple[str, Source]], found: dict[str, stored.Slot | None]
    ) -> list[tuple[str, Source, str]]:
        """Each article's slug, in order, from the slots read (`found`, completed here: one
        BatchGetItem per round for the unique slugs of articles whose slug is another's)."""
        placed: list[tuple[str, Source, str]] = []
        todo = [item for item in chunk if not self._seen_twice(item)]
        while todo:
            unread, wanted = [], set()
            for label, parsed in todo:
                status, slug = place(parsed, found, self.claims)
                if status == "read":
                    unread.append((label, parsed))
                    wanted.add(slug)
                elif status == "taken":
                    self._results.put(_taken(label, parsed))
                elif self._claim(parsed, slug, found[slug]):
                    placed.append((label, parsed, slug))
                else:
                    self._later.append((label, parsed))
            if wanted:
                found.update(stored.slots(wanted))
            todo = unread
        return placed

    def _seen_twice(self, item: tuple[str, Source]) -> bool:
        """An article already planned in this run waits for the end (one write at a time)."""
        key = self._key(item[1])
        if key in self._keys:
            self._later.append(item)
            return True
        self._keys.add(key)
        return False

    def _claim(self, parsed: Source, slug: str, holder: stored.Slot | None) -> bool:
        """Give `slug` to the article for this run; False when a pinned article's slug went
        to another article of this run (it is that article: written at the end)."""
        if parsed.pinned and slug in self.claims:
            return False
        source = holder.source if parsed.pinned and holder and holder.source else parsed.identity
        self.claims[slug] = source
        return True


def _changed(parsed: Parsed, slug: str, holder: stored.Slot | None) -> bool:
    return holder is None or holder.content_hash != digest_at(parsed, slug)


__all__ = ["Bulk", "Outcome", "StoreConflict", "candidates", "place", "plan", "store_one"]
