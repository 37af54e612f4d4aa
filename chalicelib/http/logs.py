"""Structured logs and metrics for every request (Powertools), shared by the HTTP edge.

The logger is built at import (every request logs); the metrics client only when metrics are on
(they are off on the local stage and in tests), so a cold start does not load it for nothing.
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

logger = Logger(service="onagawa-points")


@functools.cache
def _metrics() -> Any:
    from aws_lambda_powertools.metrics import Metrics

    return Metrics(namespace="OnagawaPoints", service="onagawa-points")


def metrics_error(code: str) -> None:
    if not is_metrics_disabled():
        from aws_lambda_powertools.metrics import MetricUnit

        _metrics().add_metric(name=f"Error_{code}", unit=MetricUnit.Count, value=1)


def metrics_latency(elapsed_ms: float) -> None:
    # When metrics are disabled (local stage, tests) nothing is added: Powertools would otherwise
    # keep the values and print them itself once a metric holds 100 of them.
    if is_metrics_disabled():
        return
    from aws_lambda_powertools.metrics import MetricUnit

    metrics = _metrics()
    metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    try:
        metrics.flush_metrics(raise_on_empty_metrics=False)
    except Exception:  # metrics must never break a response
        logger.warning("metrics flush failed")


def publish_metric(name: str, value: float) -> None:
    """One value of a job's metric, flushed at once (jobs are not requests: nothing else flushes)."""
    if is_metrics_disabled():
        return
    from aws_lambda_powertools.metrics import MetricUnit

    metrics = _metrics()
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    metrics.flush_metrics(raise_on_empty_metrics=False)
