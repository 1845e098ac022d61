"""Where a view is counted: the rules (bots, prefetches) and failure handling around the
atomic counter in `counters`. Counting never breaks reading."""

from __future__ import annotations

from collections.abc import Mapping

from botocore.exceptions import BotoCoreError, ClientError

from newsdesk import counters
from newsdesk.observability import MetricUnit, logger, metrics
from newsdesk.visitors import is_countable

# Last total seen per article in this container: shown when the counter cannot be reached.
_last_known: dict[str, int] = {}


def record_view(slug: str, headers: Mapping[str, str]) -> int | None:
    """Count one view of `slug` if a reader is asking, and return the total to show.

    Bots and prefetches are not counted; they get the current total (one read).
    If DynamoDB fails or throttles, the failure is logged and counted in a metric and
    the last known total (or None) is returned, so the page still renders.
    """
    countable = is_countable(headers)
    try:
        if countable:
            total = counters.count_view(slug)
            metrics.add_metric(name="ViewsCounted", unit=MetricUnit.Count, value=1)
        else:
            metrics.add_metric(name="BotViewsSkipped", unit=MetricUnit.Count, value=1)
            total = counters.views_of([slug])[slug]
    except (ClientError, BotoCoreError) as exc:
        code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
        logger.warning("view counter unavailable", extra={"slug": slug, "error": code or str(exc)})
        metrics.add_metric(name="CounterWriteFailures", unit=MetricUnit.Count, value=1)
        return _last_known.get(slug)
    _last_known[slug] = total
    return total
