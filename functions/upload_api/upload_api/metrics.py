"""CloudWatch metrics (Powertools, EMF): accepted, duplicate, rejected by code, failed.

The names are what template.yaml's alarms and dashboard watch (tests/unit/test_template_aws.py
checks the emitted EMF against them). Powertools adds the dimension ``service`` =
POWERTOOLS_SERVICE_NAME to each metric.
"""

from __future__ import annotations

from typing import Final

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE: Final = "InmetPipeline"
ACCEPTED: Final = "UploadAccepted"
DUPLICATE: Final = "UploadDuplicate"
REJECTED: Final = "UploadRejected"
# An upload the API could not store: 503 (S3/DynamoDB unavailable) or 500 (a bug, a missing
# setting). The app answers these itself, so Lambda's Errors metric never counts them.
FAILED: Final = "UploadFailed"
metrics = Metrics(namespace=NAMESPACE)


def record_outcome(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def record_rejection(code: str) -> None:
    metrics.add_metric(name=REJECTED, unit=MetricUnit.Count, value=1)  # the total
    # A metric of its own so that the code can be a dimension without tagging the others.
    with single_metric(
        name=REJECTED, unit=MetricUnit.Count, value=1, namespace=NAMESPACE
    ) as metric:
        metric.add_dimension(name="code", value=code)


def record_failure() -> None:
    metrics.add_metric(name=FAILED, unit=MetricUnit.Count, value=1)
