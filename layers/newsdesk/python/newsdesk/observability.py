"""The only Logger, Tracer and Metrics of the service (Powertools), shared by every function."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer()
metrics = Metrics()

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]

# Pages that count nothing (the index, 404s) legitimately flush no metrics.
warnings.filterwarnings("ignore", message="No application metrics to publish")
