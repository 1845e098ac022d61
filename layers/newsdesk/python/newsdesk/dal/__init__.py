"""The data access layer: the only modules that talk to DynamoDB.

- `db`: the client, the failure budget, and the one helper per mechanism (batch reads with
  backoff, paginated queries, attribute values, transaction cancellation reasons);
- `articles`: the articles table (articles, the by-published and by-category indexes);
- `counters`: the counters table (view counters, repeat-view markers, audit records, the
  site item with total visits and the peak, the most-read lists);
- `connections`: the connections table (presence: one item per visitor).

Everything else calls named functions here; tests/unit/test_layers.py fails if another
module imports the client.
"""

from newsdesk.dal.db import backoff, degraded, refused, start_request, use_operator_client

__all__ = ["backoff", "degraded", "refused", "start_request", "use_operator_client"]
