"""The view counter AWS samples and tutorials teach, as a yardstick for `make bench`
(issue 15): API Gateway -> Lambda -> `UpdateItem ADD` on the page's item, then `GetItem` of
it. No bot filter, no repeat-view rule, no presence, no visits: every request is a view.

Not part of the service: scripts/bench.py builds it on DynamoDB Local beside newsdesk's
counted view and compares DynamoDB requests, capacity units and warm latency.
"""

from __future__ import annotations

import json
from typing import Any


def make_handler(client: Any, table: str) -> Any:
    """A Lambda handler (payload 2.0 event -> response) counting on `table`'s items
    `{"id": "peer#<slug>", "views": N}` with `client` (created at init, as a tutorial's
    module-level client is)."""

    def handler(event: dict[str, Any], _context: Any = None) -> dict[str, Any]:
        key = {"id": {"S": f"peer#{event['pathParameters']['slug']}"}}
        client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="ADD #views :one",
            ExpressionAttributeNames={"#views": "views"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        item = client.get_item(TableName=table, Key=key)["Item"]
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": json.dumps({"views": int(item["views"]["N"])}),
        }

    return handler
