"""The only Logger, Tracer and Metrics of the service (Powertools), shared by every function.

X-Ray: the template turns on Lambda's active tracing, which records every invocation and
cold start (initialisation, invocation, overhead) at no cost to the code. The X-Ray SDK's
subsegments for each DynamoDB call come from Powertools Tracer only with
SDK_TRACING=true (template parameter SdkTracing): importing the SDK adds ~165 ms to every
cold start (make bench), which a news page pays on its first reader.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

F = TypeVar("F", bound=Callable[..., Any])


class _NoSdkTracer:
    """Tracer's decorators as no-ops, without importing the X-Ray SDK."""

    def capture_lambda_handler(self, handler: F) -> F:
        return handler

    def capture_method(self, method: F) -> F:
        return method


def _tracer() -> Any:
    if os.environ.get("SDK_TRACING", "").strip().lower() != "true":
        return _NoSdkTracer()
    from aws_lambda_powertools import Tracer

    return Tracer()


logger = Logger()
tracer = _tracer()
metrics = Metrics()

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]

# Pages that count nothing (the index, 404s) legitimately flush no metrics.
warnings.filterwarnings("ignore", message="No application metrics to publish")
