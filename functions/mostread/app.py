"""Scheduled: recompute the "most read" lists (EventBridge, every 5 minutes)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from newsdesk.config import settings

# A setting out of range fails Lambda's INIT here, naming it (newsdesk/config.py), instead of
# every request answering 500; before newsdesk.observability, whose Logger reads
# POWERTOOLS_LOG_LEVEL.
settings()

from newsdesk import dal, mostread, presence  # noqa: E402
from newsdesk.observability import MetricUnit, logger, metrics, tracer  # noqa: E402


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    dal.start_request()
    try:
        lists = mostread.refresh()
    finally:
        presence.roll_up_visits()  # visits leave the online-now buckets even when nobody reads
    metrics.add_metric(name="MostReadRefreshes", unit=MetricUnit.Count, value=1)
    logger.info("most read lists refreshed", extra={p: len(v) for p, v in lists.items()})
    return {period: [entry["slug"] for entry in entries] for period, entries in lists.items()}
