"""CloudWatch metrics (Powertools, EMF): accepted, duplicate, rejected by code."""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "InmetPipeline"
metrics = Metrics(namespace=NAMESPACE)


def record_outcome(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def record_rejection(code: str) -> None:
    metrics.add_metric(name="UploadRejected", unit=MetricUnit.Count, value=1)  # the total
    # A metric of its own so that the code can be a dimension without tagging the others.
    with single_metric(
        name="UploadRejected", unit=MetricUnit.Count, value=1, namespace=NAMESPACE
    ) as metric:
        metric.add_dimension(name="code", value=code)
