"""The one place that creates the DynamoDB client; only the data modules import it."""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config

# Bounded timeouts and standard retries: a page view never hangs on DynamoDB for long.
_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "max_attempts": 3},
    tcp_keepalive=True,
)


@cache
def client() -> Any:
    """A low-level DynamoDB client; the endpoint follows AWS_ENDPOINT_URL_DYNAMODB."""
    import boto3

    return boto3.session.Session().client("dynamodb", config=_CONFIG)


def reset() -> None:
    """Forget the cached client and settings (tests switch endpoints and tables)."""
    from newsdesk.config import settings

    client.cache_clear()
    settings.cache_clear()
