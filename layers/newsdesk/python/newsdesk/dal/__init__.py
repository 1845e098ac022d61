"""The data access layer: the only modules that talk to DynamoDB.

- `db`: the client, the failure budget, and the one helper per mechanism (batch reads with
  backoff, paginated queries, attribute values, transaction cancellation reasons);
- `articles`: the articles table (articles, the by-published and by-category indexes);
- `counters`: the counters table (view counters and their shards, audit records, the site
  item, visit shards and online-now buckets, the most-read lists and the menu);
- `connections`: the connections table (one item per visitor: presence, repeat-view
  windows, the visit gap).

Everything else calls named functions here; tests/unit/test_layers.py fails if another
module imports the client.
"""

from newsdesk.dal.db import (
    backoff,
    degraded,
    failure,
    refused,
    start_request,
    use_operator_client,
)


def warm() -> None:
    """Create the DynamoDB client now: called at a function's init, so Lambda's init phase
    (before the first request's clock) pays for it."""
    from botocore.exceptions import BotoCoreError

    from newsdesk.dal import db

    try:
        db.client()
    except BotoCoreError:  # no region here (a test's import): the first request says so
        db.client.cache_clear()


__all__ = [
    "backoff",
    "degraded",
    "failure",
    "refused",
    "start_request",
    "use_operator_client",
    "warm",
]
