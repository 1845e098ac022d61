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

Bulk. Articles are planned 100 at a time (one consistent BatchGetItem of their slots and
source key items, one of the counters of those not unchanged, both read a chunk ahead of
the planner), and written in groups on a small thread pool. New
articles (slot, counter and source key item all read absent) go by BatchWriteItem, counters
and key items first, the articles' own items after them (Bulk._put_new); the others in one
TransactWriteItems of up to 100 actions (each article whole: its item, its counter's legacy
count, an audit record). A group that a condition cancels (someone wrote one of its
articles meanwhile) is written again one article at a time, each read afresh. The site's
total visits is raised once per 100 articles, before their writes, to the highest count
they will show (legacy count plus the views counted here).
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
    unusable: str = ""  # the slug its source gave, which cannot be a URL (not stored)
    elsewhere: str = ""  # the slug its source now gives (or its new title makes): URL kept
    duplicate: str = ""  # the article it may be a copy of (possible_duplicate)

    def line(self) -> str:
        """One line of the import's report."""
        if self.outcome == "rejected":
            return f"{self.label}: rejected: {self.reason}"
        notes = []
        if self.wanted:
            notes.append(f"slug {self.wanted} is another article's")
        if self.kept:
            notes.append(f"kept the count an editor set: {self.kept}")
        if self.unusable:
            notes.append(f"its slug {self.unusable!r} cannot be a URL")
        if self.duplicate:
            notes.append(f"possible duplicate of {self.duplicate}: {DUPLICATE_NOTE}")
        if self.elsewhere:
            notes.append(f"its source now gives it slug {self.elsewhere}: its URL stays")
        return f"{self.label}: {self.outcome} {self.slug}" + (
            f" ({'; '.join(notes)})" if notes else ""
        )

    @property
    def notable(self) -> bool:
        """Worth a line even when routine lines are not shown."""
        moved = bool(self.wanted or self.unusable or self.elsewhere) and self.outcome in (
            "imported",
            "updated",
        )
        return self.outcome in ("rejected", "stale") or moved or bool(self.kept or self.duplicate)


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


def home_of(parsed: Source) -> str:
    """The key of the source key item that finds the article by its source id
    (newsdesk.dal.articles.home_key), "" for an article without one (a legacy page, whose
    identity is its title and time). A pinned article has one only when it gives an id: the
    admin API's, whose path names it (an import pins only articles without an id)."""
    if not parsed.identity.startswith("id:"):
        return ""
    return stored.home_key(parsed.identity)


def _at_home(
    parsed: Source, key: str, found: Mapping[str, stored.Slot | None], claims: Mapping[str, str]
) -> tuple[str, str] | None:
    """("read", key or slug) while the source key item or the slot it names is unread,
    ("at", slug) when that slot holds this article, else None (place by slug)."""
    if key not in found:
        return "read", key
    home = found[key]
    target = home.article if home else ""
    if not target or claims.get(target, parsed.identity) != parsed.identity:
        return None
    if target not in found:
        return "read", target
    holder = found[target]
    return ("at", target) if holder is not None and same_article(parsed, holder) else None


def place(
    parsed: Source, found: Mapping[str, stored.Slot | None], claims: Mapping[str, str]
) -> tuple[str, str]:
    """Where the article goes, from the slots read so far (`found`: slug -> what is there,
    source key items included) and the slugs this run has given to other identities
    (`claims`): ("at", slug), or ("read", slug) when that slot must be read first, or
    ("taken", "") when every slug it may take holds another article. An article with a
    source id goes where its source key item says when that slot holds it (its title,
    and so the slug made from it, may have changed at the source: its URL stays)."""
    if parsed.pinned:
        slug, key = parsed.slug, home_of(parsed)
        if key and key not in found:  # its id may be another slug's article: see plan
            return "read", key
        return ("at", slug) if slug in found else ("read", slug)
    key = home_of(parsed)
    at_home = _at_home(parsed, key, found, claims) if key else None
    if at_home is not None:
        return at_home
    for slug in candidates(parsed):
        if claims.get(slug, parsed.identity) != parsed.identity:
            continue
        if slug not in found:
            return "read", slug
        holder = found[slug]
        if holder is None or same_article(parsed, holder):
            return "at", slug
    return "taken", ""


DUPLICATE_NOTE = "same publish time, title differs only in case or punctuation"


def _spelled(title: str) -> str:
    """A title without case, punctuation, symbols or spaces (its diacritics kept)."""
    import unicodedata

    text = unicodedata.normalize("NFC", title).casefold()
    return "".join(c for c in text if unicodedata.category(c)[0] in "LMN")


def possible_duplicate(parsed: Source, other: stored.Slot | None) -> bool:
    """Whether the article at the slug this one asked for is probably the same page with
    its title corrected at the source: both identified by title and publish time, the same
    time, titles equal but for case and punctuation. They stay two articles (the identity
    rule); the import reports it so an editor can unpublish the copy."""
    if other is None or not other.source.startswith("title:"):
        return False
    mine, theirs = parsed.identity.split(" ", 1), other.source.split(" ", 1)
    return (
        len(mine) == len(theirs) == 2
        and mine[0] == theirs[0]
        and mine[1] != theirs[1]
        and _spelled(mine[1]) == _spelled(theirs[1])
    )


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
    floor: int = 0  # the site's total visits must reach at least this (its count once written)
    # A new article where nothing is (its slot, counter and source key item read absent):
    # the same write as (table, item) Puts for BatchWriteItem, the article's item last.
    puts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


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
    if not _count_differs(parsed, count):
        return [], ""
    audit: dict[str, str | int] | None = None
    if holder is not None:  # an existing article's count changes: on the record
        new = shown_after(parsed, count)
        audit = {"who": who, "when": _audit_time(), "old": count.total, "new": new}
    return counters.import_legacy(slug, parsed.legacy_views, count, audit), ""


def shown_after(parsed: Parsed, count: counters.Count) -> int:
    """The article's total once the source's legacy count replaces the stored one (or is
    added, where none is): the views counted here stay. What the site's total visits must
    then reach (Write.floor)."""
    return count.total - int(count.legacy or 0) + parsed.legacy_views


def _count_differs(parsed: Parsed, count: counters.Count) -> bool:
    """Whether the source's count says something new: neither the legacy count stored nor
    the total the site shows (what newsdesk's own export writes: importing an export back
    changes nothing)."""
    if count.legacy is None:
        return True
    return parsed.legacy_views not in (int(count.legacy), count.total)


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
    home: stored.Slot | None = None,
    bulk: bool = False,
    other: stored.Slot | None = None,
) -> Write | Outcome:
    """The write that stores `parsed` at `slug` (where `holder` is, with its counter
    `count`, None: not read yet), or the Outcome when nothing is to be written (unchanged,
    or a newer version stored). Counts: see the module docstring. `now`: the time written
    (ISO; default: now), also the version of an article without one. `home`: the
    article's source key item as read (home_of; None: absent), written with the article
    when it does not name `slug` yet (an unchanged article stored before source keys were
    gets it alone). `bulk` (Bulk): a new article's Write has its puts and no transaction
    actions (Bulk writes it by BatchWriteItem; store_one needs the actions). `other`: what
    holds the slug it asked for (reported when it may be the same article: possible_duplicate)."""
    now = now or _now()
    if parsed.pinned and home is not None and home.article not in ("", slug):
        # The admin API's article at `slug` gives the id of the article at another slug.
        reason = f"'id' {parsed.identity[3:]!r} is already the id of article {home.article}"
        return Outcome(label, "rejected", slug, reason=reason, elsewhere=home.article)
    counted = count is not None  # read (absent: Count(None, 0)), not only unknown
    article = stored_as(parsed, slug)
    digest = parsed.digest if article is parsed.article else article.content_hash()
    version = parsed.version or now
    kept_url = home is not None and home.article == slug  # found by its source id
    wanted = "" if slug == parsed.article.slug or kept_url else parsed.article.slug
    keyed = [] if kept_url or not home_of(parsed) else [_home_action(parsed, slug, home)]
    count = count or counters.Count(None, 0)
    elsewhere = parsed.article.slug if kept_url and slug != parsed.article.slug else ""
    if holder is not None and _same_version(parsed, holder, digest, version):
        only = _count_only(label, parsed, slug, holder, count, wanted, keyed, who, keep_legacy)
        if isinstance(only, Write) and only.done.outcome == "updated":
            only.done = replace(only.done, elsewhere=elsewhere)
        return only
    if holder is not None and not parsed.undated and holder.version > version:
        return Outcome(label, "stale", slug, wanted)
    if keep_legacy:
        counter, kept = _kept_legacy_actions(parsed, slug, holder, count), ""
    else:
        counter, kept = _count_actions(parsed, slug, holder, count, who)
    fields = to_item(article)
    done = Outcome(
        label,
        "updated" if holder else "imported",
        slug,
        wanted,
        kept,
        unusable=parsed.unusable_slug,
        elsewhere=elsewhere,
        duplicate=wanted if wanted and possible_duplicate(parsed, other) else "",
    )
    floor = shown_after(parsed, count) if counter else 0  # the count it will show
    # A new article where nothing is: its slot, counter and source key item all read absent.
    fresh = (holder, count, keep_legacy) == (None, counters.Count(None, 0), False) and (
        counted and (home is None or not keyed)
    )
    puts = _puts(parsed, slug, fields, digest, version, now, bool(keyed)) if fresh else []
    write = Write(parsed, done, [], stored.item_bytes(fields), floor, puts)
    if not (bulk and write.puts):
        write.actions = [_write_action(parsed, fields, digest, version, now), *counter, *keyed]
    return write


def _write_action(
    parsed: Parsed, fields: dict[str, Any], digest: str, version: str, now: str
) -> dict[str, Any]:
    """The transaction action that writes the article's item (stored.write_action)."""
    return stored.write_action(
        fields,
        digest,
        version,
        now,
        parsed.identity,
        parsed.source_digest,
        pinned=parsed.pinned,
        undated=parsed.undated,
    )


def _puts(
    parsed: Parsed,
    slug: str,
    fields: dict[str, Any],
    digest: str,
    version: str,
    now: str,
    keyed: bool,
) -> list[tuple[str, dict[str, Any]]]:
    """A new article's write as BatchWriteItem Puts: its counter and source key item first,
    its own item last (see Bulk._put_new)."""
    articles_table = stored.table_name()
    puts = [(counters.table_name(), counters.new_counter(slug, parsed.legacy_views))]
    if keyed:
        puts.append((articles_table, stored.home_item(parsed.identity, slug)))
    item = stored.new_item(fields, digest, version, now, parsed.identity, parsed.source_digest)
    return [*puts, (articles_table, item)]


def _count_only(
    label: str,
    parsed: Parsed,
    slug: str,
    holder: stored.Slot,
    count: counters.Count,
    wanted: str,
    keyed: list[dict[str, Any]],
    who: str,
    keep_legacy: bool,
) -> Write | Outcome:
    """An article stored as it is: "unchanged", or "updated" when only its legacy count
    changed at the source (a site re-exported the night before the move: the views since
    the first export count), written with its audit record; an editor's count is kept and
    reported instead. Its source key item goes with it when missing (see plan)."""
    counter: list[dict[str, Any]] = []
    kept = ""
    if not keep_legacy and _count_differs(parsed, count):
        counter, kept = _count_actions(parsed, slug, holder, count, who)
    done = Outcome(label, "updated" if counter else "unchanged", slug, wanted, kept)
    actions = [*counter, *keyed]
    if not actions:
        return done
    return Write(parsed, done, actions, 0, shown_after(parsed, count) if counter else 0)


def _same_version(parsed: Parsed, holder: stored.Slot, digest: str, version: str) -> bool:
    """Whether the stored article is this one: the same content (and, for a source without
    edit times, the same version: its publish time, not an older import's file time)."""
    return holder.content_hash == digest and (not parsed.undated or holder.version == version)


def _home_action(parsed: Source, slug: str, home: stored.Slot | None) -> dict[str, Any]:
    return stored.home_action(parsed.identity, slug, home.article if home else None)


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
        home = found.get(home_of(parsed))
        write = plan(
            label,
            parsed,
            slug,
            found[slug],
            count,
            who=who,
            keep_legacy=keep_legacy,
            home=home,
            other=found.get(parsed.article.slug),
        )
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
    if _same_version(parsed, holder, digest_at(parsed, planned.slug), parsed.version):
        return Outcome(planned.label, "unchanged", planned.slug, planned.wanted)
    if not parsed.undated and holder.version > (parsed.version or _now()):
        return Outcome(planned.label, "stale", planned.slug, planned.wanted)
    return None


# ---- set-views made before they marked the counter ----------------------------------------------

_MARKS_READ: set[str] = set()  # counters tables whose audit trail this process has read


def mark_old_set_views(now: str = "") -> list[str]:
    """Mark the counters whose count an editor set before set-views marked them (before
    2026-12), so that imports keep those counts as they keep later ones; one line per
    article for the import's summary. Once per table: the site item records it, so a
    Scan of the counters table's audit records (they have no index) runs on the first
    import after the upgrade only, and one GetItem per later import process.

    An article counts as editor-set when its latest audit record is a set-views (`via`
    "set-views", or none: older imports wrote no record) later than any import's record, and
    newsdesk has not written the article since (an import of that time rewrote the count
    with the article, so after such a write the count may be the import's: left unmarked,
    and said so)."""
    table = counters.table_name()
    if table in _MARKS_READ or counters.editor_marks_read():
        _MARKS_READ.add(table)
        return []
    latest: dict[str, counters.Audit] = {}
    imported: dict[str, str] = {}
    for audit in counters.audits():
        if audit.via == "import":
            imported[audit.slug] = max(imported.get(audit.slug, ""), audit.when)
        elif audit.slug not in latest or audit.when > latest[audit.slug].when:
            latest[audit.slug] = audit
    edits = {slug: a for slug, a in latest.items() if a.when > imported.get(slug, "")}
    written = stored.written_times(sorted(edits)) if edits else {}
    notes = []
    for slug, audit in sorted(edits.items()):
        set_by = f"the count {slug} was set to by {audit.who} on {audit.when}"
        if written.get(slug, "")[:19] > audit.when[:19]:  # whole seconds, as written_at
            notes.append(f"{set_by} is not kept: the article was written after it")
        elif counters.mark_set(slug, audit.who, audit.when):
            notes.append(f"{set_by} is kept by imports from now on")
    counters.editor_marks_done(now or _now())
    _MARKS_READ.add(table)
    return notes


# ---- in bulk -----------------------------------------------------------------------------------


def pack(writes: Iterable[Write]) -> list[list[Write]]:
    """Writes in groups that fit one TransactWriteItems (GROUP_ACTIONS actions, GROUP_BYTES;
    a new article's puts count as its actions would: one a put)."""
    groups: list[list[Write]] = []
    actions = size = 0
    for write in writes:
        weight = len(write.actions) or len(write.puts)
        if not groups or actions + weight > GROUP_ACTIONS or (size + write.size > GROUP_BYTES):
            groups.append([])
            actions = size = 0
        groups[-1].append(write)
        actions += weight
        size += write.size
    return groups


Read = tuple[dict[str, stored.Slot | None], dict[str, counters.Count]]


def read_ahead(chunk: list[tuple[str, Source]]) -> Read:
    """A chunk's reads, made before the planner takes it: its articles' own slots (and
    source key items), then the counters of those whose slot does not hold their page as
    it is (unchanged(): those are not written)."""
    slugs = [item.slug for _, item in chunk]
    found = stored.slots(slugs + [key for _, item in chunk if (key := home_of(item))])
    changed = [item.slug for _, item in chunk if not unchanged(item, found[item.slug])]
    return found, counters.counts(changed) if changed else {}


def unchanged(item: Source, holder: stored.Slot | None) -> bool:
    """Whether `holder` is the page `item` as read (its source digest): left alone unparsed."""
    return bool(holder and item.source_digest and holder.source_digest == item.source_digest)


@dataclass
class Bulk:
    """Stores many articles fast: add() them in order, then finish(); close() in a finally.
    The caller's thread reads the pages' first lines while a reader thread reads their slots
    and counters (read_ahead) and one planner thread parses and plans them, 100 articles at
    a time, and `workers` threads write the groups. Each Outcome goes to `done`,
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
        # Each article's own slot and counter are read ahead (they do not depend on the
        # articles before it: those of this run are in `claims`) while the planner places the
        # chunk before: it waits for no read but those of articles that go to another slug.
        ahead = self._reader.submit(read_ahead, chunk)
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

    def _plan_and_write(self, chunk: list[tuple[str, Source]], ahead: Future[Read]) -> None:
        """(The planner thread.) Plan a chunk, raise the site's floors, submit its groups."""
        writes = self._plan(chunk, *ahead.result())
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
        """(A writer thread.) New articles by BatchWriteItem (_put_new); the others in one
        transaction; each article alone if a condition refused it."""
        new = [write for write in group if write.puts]
        if new:
            self._put_new(new)
        group = [write for write in group if not write.puts]
        if not group:
            return
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

    def _put_new(self, writes: list[Write]) -> None:
        """New articles, where the planner read nothing (slot, counter, source key item):
        BatchWriteItem, not a transaction (DynamoDB Local runs transactions one at a time,
        about 2.9 ms an article here; AWS bills a transactional write twice). Their counters
        and source key items first, then, once those are written, the articles' own items:
        a reader never sees an article without its counter, and a run stopped in between
        leaves only items no page shows, which a re-run finds (a counter read present sends
        the article to a transaction) and completes. Puts have no condition: the planner's
        consistent reads stand in for one, and two imports writing the same new article at
        the same moment write the same source's article (the last one stays)."""
        stored.put_all([put for write in writes for put in write.puts[:-1]])
        stored.put_all([write.puts[-1] for write in writes])
        for write in writes:
            forget(write.done.slug)
            self._results.put(write.done)

    def _key(self, item: Source) -> str:
        return f"slug:{item.slug}" if item.pinned else item.identity

    def _plan(
        self,
        chunk: list[tuple[str, Source]],
        found: dict[str, stored.Slot | None],
        counts: dict[str, counters.Count],
    ) -> list[Write]:
        """The chunk's writes, from the slots (`found`) and counters (`counts`) read ahead."""
        placed = self._place(chunk, found)
        # Every article's counter, consistently: a stored article's count alone may have
        # changed at the source; a new article's counter read absent lets it be written by
        # BatchWriteItem (Write.puts), one read present sends it to a transaction. Read
        # ahead with the slots, but for articles placed at another slug.
        unread = [slug for _, _, slug in placed if slug not in counts]
        if unread:
            counts = {**counts, **counters.counts(unread)}
        now = _now()
        writes = []
        for label, parsed, slug in placed:
            home = found.get(home_of(parsed))
            holder, count = found[slug], counts.get(slug)
            planned = plan(
                label,
                parsed,
                slug,
                holder,
                count,
                who=self.who,
                now=now,
                home=home,
                bulk=True,
                other=found.get(parsed.article.slug),
            )
            if isinstance(planned, Outcome):
                self._results.put(planned)
            elif planned.size + stored.ITEM_MARGIN > stored.MAX_ITEM_BYTES:
                reason = f"the article is {planned.size // 1024} KB; DynamoDB holds 400 KB"
                self._results.put(Outcome(label, "rejected", reason=reason))
            else:
                writes.append(planned)
        return writes

    def _place(
        self, chunk: list[tuple[str, Source]], found: dict[str, stored.Slot | None]
    ) -> list[tuple[str, Parsed, str]]:
        """The articles to plan, parsed, each with its slug, in order, from the slots read
        (`found`, completed here: one BatchGetItem per round for the unique slugs of articles
        whose slug is another's). A page whose bytes are those stored (its source digest) is
        unchanged without being parsed; a page that does not parse is rejected before it
        claims a slug, so it takes no URL from an article after it."""
        placed: list[tuple[str, Parsed, str]] = []
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
                else:
                    self._ready(label, parsed, slug, found[slug], placed)
            if wanted:
                found.update(stored.slots(wanted))
            todo = unread
        return placed

    def _ready(
        self,
        label: str,
        item: Source,
        slug: str,
        holder: stored.Slot | None,
        placed: list[tuple[str, Parsed, str]],
    ) -> None:
        """`item` at `slug`: reported unchanged, or rejected, or parsed into `placed`, or
        left for the end of the run (_claim)."""
        if unchanged(item, holder):
            if self._claim(item, slug, holder):
                self._results.put(
                    Outcome(label, "unchanged", slug, "" if slug == item.slug else item.slug)
                )
            else:
                self._later.append((label, item))
            return
        try:
            parsed = item.parse()
        except ValueError as exc:  # the page's InvalidArticle
            self._results.put(Outcome(label, "rejected", reason=str(exc)))
            return
        if self._claim(item, slug, holder):
            placed.append((label, parsed, slug))
        else:
            self._later.append((label, item))

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


__all__ = ["Bulk", "Outcome", "StoreConflict", "candidates", "place", "plan", "store_one"]
