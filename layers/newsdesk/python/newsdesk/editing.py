"""Editors' writes, shared by the admin API (functions/admin) and the command line: create or
update an article, publish or unpublish it, set its view count with an audit record.

Setting a count. Counted views only ever change by an atomic ADD (newsdesk.dal.counters), so a
count is set through `legacy`, the other addend of the total. One transaction writes
`SET legacy = :base - if_not_exists(views, :zero)` on the counter's first item, where :base
is the target minus what the other shards (COUNTER_SHARDS > 1) hold, together with the audit
item `audit#views#<slug>#<time>` {who, when, old, new}. The total is exactly the target at
that write, whatever views were being added: DynamoDB applies each item's updates one at a
time, so a concurrent ADD lands either before the set (and is replaced by it, like every
earlier view) or after it (and counts on top of the target). No view is lost or counted
twice. `old` is the total read (consistently) just before the write: views counted in the
few milliseconds between that read and the write are replaced by the set but are not in
`old`. The write is conditional on `legacy` being what was read, so a concurrent set-views or
import makes it re-read and retry rather than apply a stale base. With several shards, views
added to the other shards after the read count on top of the target (they are read once).
The counter records who set it and when (`set_by`, `set_at`): a later import keeps an
editor's count and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from newsdesk import dal, presence
from newsdesk.articles import DRAFT, PUBLISHED, STATUSES, forget, from_item, iso
from newsdesk.auth import AdminError
from newsdesk.config import settings
from newsdesk.dal import articles as stored
from newsdesk.dal import counters
from newsdesk.importer import InvalidArticle, Parsed, parse_json_article
from newsdesk.slugs import MAX_SLUG_LENGTH, clean_slug
from newsdesk.storing import store_one

# An article's JSON: its text and HTML bodies each fit with room in DynamoDB's 400 KB item.
MAX_ARTICLE_JSON_BYTES = 128 * 1024
MAX_VIEWS = 10**12
ATTEMPTS = 5  # optimistic writes (set-views, publish, unpublish) retried on a conflict
ARTICLE_FIELDS = frozenset(
    {
        "id",
        "slug",
        "title",
        "body",
        "body_html",
        "author",
        "byline",
        "published_at",
        "status",
        "category",
        "summary",
        "updated_at",
        "views",
    }
)
# What the admin API answers for each outcome of writing an article.
HTTP_STATUS = {"created": 201, "updated": 200, "unchanged": 200, "stale": 409}


class Invalid(AdminError):
    status = 400


class UnknownArticle(AdminError):
    status = 404


class Conflict(AdminError):
    status = 409


class IdTaken(Conflict):
    """The article's `id` is the source id of the article at another slug (`slug`)."""

    def __init__(self, message: str, slug: str) -> None:
        super().__init__(message)
        self.field = "id"
        self.slug = slug


def valid_slug(raw: str) -> str:
    """The slug exactly as stored (lower-case letters, digits, hyphens), else Invalid."""
    slug = clean_slug(raw)
    if slug is None or slug != raw:
        raise Invalid(
            f"slug {raw[:80]!r} is not lower-case letters, digits and single hyphens (at most "
            f"{MAX_SLUG_LENGTH} characters)"
        )
    return slug


# ---- articles ------------------------------------------------------------------------------


def _check_fields(slug: str, data: Mapping[str, Any]) -> None:
    """Invalid naming the field(s) when the JSON cannot be an article at `slug`."""
    unknown = sorted(set(data) - ARTICLE_FIELDS)
    if unknown:
        raise Invalid(f"unknown field(s): {', '.join(unknown)}")
    if data.get("slug") not in (None, slug):
        raise Invalid("the body's slug is not the one in the path")
    body = _body_field(data)
    if body in data and not (data.get("body") or data.get("body_html")):
        raise Invalid(f"{body!r} is empty")  # as the importer says it
    missing = [
        name
        for name, present in (
            ("title", data.get("title")),
            (_body_field(data), data.get("body") or data.get("body_html")),
            ("author", data.get("author") or data.get("byline")),
            ("published_at", data.get("published_at")),
            ("status", data.get("status")),
        )
        if not present
    ]
    if missing:
        raise Invalid(f"missing field(s): {', '.join(missing)}")
    if data["status"] not in STATUSES:
        raise Invalid(f"'status' must be one of {', '.join(STATUSES)}")


def _body_field(data: Mapping[str, Any]) -> str:
    """The body's field as the JSON names it: body_html when only that is given."""
    return "body_html" if "body_html" in data and "body" not in data else "body"


def _parsed(slug: str, data: Mapping[str, Any]) -> Parsed:
    """The article at `slug`: the path names it, so it is written there (pinned), whatever
    its `id`; a new article records that id as its source identity."""
    try:
        parsed = parse_json_article({**data, "slug": slug}, settings().tz)
        parsed = replace(parsed, pinned=True)
        parsed.article.content_hash()  # dates that exist locally but not in UTC (year 1)
    except InvalidArticle as exc:
        raise Invalid(str(exc)) from None
    except OverflowError:
        raise Invalid("a date is out of range") from None
    return parsed


def put_article(raw_slug: str, data: Mapping[str, Any], who: str) -> dict[str, Any]:
    """Create or update the article at `raw_slug` from its JSON (the import format).

    title, body (or body_html), author (or byline), published_at and status are required;
    id (its source identity, as an export gives it), category, summary and updated_at (the
    version: an older one than stored is refused as 'stale') are optional. `views` is the
    legacy count of a new article; an existing article
    keeps its count (set it with set_views). Outcome: created, updated, unchanged or stale.
    Conflict (409, nothing written) when `id` is already the id of the article at another
    slug: {"message", "field": "id", "slug": that slug}.
    """
    slug = valid_slug(raw_slug)
    _check_fields(slug, data)
    parsed = _parsed(slug, data)
    done = store_one(parsed, who=who, keep_legacy=True)
    if done.outcome == "rejected":
        raise IdTaken(done.reason, done.elsewhere)
    outcome = done.outcome
    result: dict[str, Any] = {
        "slug": slug,
        "outcome": "created" if outcome == "imported" else outcome,
        "status": parsed.article.status,
        "by": who,
    }
    if outcome == "stale":
        result["message"] = "a newer version of this article is stored (its updated_at is later)"
    return result


def set_status(raw_slug: str, status: str, who: str) -> dict[str, Any]:
    """Publish or unpublish (draft): only the status changes; the text, the count and the
    counter stay. Published with a publish time still to come, the answer has
    `visible_from` (ISO, UTC): the article shows from then on. Conditional on the article
    not changing meanwhile (else re-read, retry)."""
    slug = valid_slug(raw_slug)
    if status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}")
    for attempt in range(1, ATTEMPTS + 1):
        item = stored.get(slug, consistent=True)
        if not item:
            raise UnknownArticle(f"no article with slug {slug!r}")
        article = from_item(item)
        # A published article dated in the future shows from its publish time on.
        later = status == PUBLISHED and article.published_at > datetime.now(UTC)
        hidden = {"visible_from": iso(article.published_at)} if later else {}
        if article.status == status:
            return {"slug": slug, "status": status, "outcome": "unchanged", "by": who, **hidden}
        now = iso(datetime.now(UTC))
        # The change is a new version: an import of an older one no longer overwrites it.
        stored_version, old_hash = stored.version_of(item)
        version = max(stored_version, now)
        digest = replace(article, status=status).content_hash()
        if stored.set_status(slug, status, digest, version, now, old_hash):
            forget(slug)
            outcome = "published" if status == PUBLISHED else "unpublished"
            return {"slug": slug, "status": status, "outcome": outcome, "by": who, **hidden}
        dal.backoff(attempt)  # jitter: racing writers do not meet again
    raise Conflict(f"article {slug!r} kept changing while its status was set; retry")


def unpublish(raw_slug: str, who: str) -> dict[str, Any]:
    return set_status(raw_slug, DRAFT, who)


# ---- view counts ---------------------------------------------------------------------------


def set_views(raw_slug: str, target: Any, who: str) -> dict[str, Any]:
    """Make the article's displayed total exactly `target`, with an audit record (see the
    module's docstring for what happens to views counted meanwhile)."""
    slug = valid_slug(raw_slug)
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target <= MAX_VIEWS:
        raise Invalid(f"'views' must be a whole number from 0 to {MAX_VIEWS}")
    if not stored.exists(slug):
        raise UnknownArticle(f"no article with slug {slug!r}")
    # The site's total visits is never below a count the site shows (as after an import):
    # its floor is raised first, so a set that fails after it leaves no gap either.
    presence.total_at_least(target)
    for attempt in range(1, ATTEMPTS + 1):
        read = counters.read_for_set(slug)
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        audit: dict[str, str | int] = {"who": who, "when": when, "old": read.total, "new": target}
        if counters.set_total(slug, target, read.others, read.legacy, audit):
            return {"slug": slug, "views": target, "previous": read.total, "by": who, "when": when}
        dal.backoff(attempt)
    raise Conflict(f"the count of {slug!r} kept being set or imported meanwhile; retry")


# ---- the site's total visits ---------------------------------------------------------------


def set_site_total(target: Any, who: str, *, force: bool = False) -> dict[str, Any]:
    """Make the site's total visits (the widget's "Tổng") exactly `target`, with an audit
    record `audit#total#<time>` {who, when, old, new, forced} in the counters table: the
    operator's way back from a total that a bad import raised (it only ever goes up
    otherwise). Like set_views, it is set through `legacy_visits`, the addend no visit
    changes: legacy_visits = target - the visits counted since launch (as read just before;
    visits counted meanwhile count on top of the target). The write is conditional on
    legacy_visits being what was read (a concurrent set or import: re-read, retry).

    Invalid (400) when `target` is not a whole number from 0 to MAX_VIEWS, is below the
    visits the site counted itself, or (unless `force`) below the sum of the published
    articles' counts: the total is never below the counts the site shows. Returns
    {"total", "previous", "counted", "articles" (that sum), "by", "when", "forced"}."""
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target <= MAX_VIEWS:
        raise Invalid(f"the total must be a whole number from 0 to {MAX_VIEWS}")
    from newsdesk.catalog import list_articles

    shown = sum(int(row["views"]) for row in list_articles(PUBLISHED))
    if target < shown and not force:
        raise Invalid(
            f"the total {target} is below the sum of the published articles' counts ({shown}); "
            "lower a wrong count first (set-views), or force it (--force)"
        )
    for attempt in range(1, ATTEMPTS + 1):
        legacy = counters.legacy_visits()
        old = presence.total_visits_now()
        counted = old - legacy
        if target < counted:
            raise Invalid(f"the site itself counted {counted} visits: the total cannot be lower")
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if counters.set_legacy_visits(legacy, target - counted, who, when, old, target < shown):
            dal.backoff(attempt)  # cancelled: legacy_visits changed since it was read
            continue
        return {
            "total": target,
            "previous": old,
            "counted": counted,
            "articles": shown,
            "by": who,
            "when": when,
            "forced": target < shown,
        }
    raise Conflict("the site's total kept changing while it was set; retry")
