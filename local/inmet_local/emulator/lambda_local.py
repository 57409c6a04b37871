"""Lambda, played in-process by the local stack: the context object, the SNS event, the
subscriptions template.yaml declares (read by ``inmet_local.emulator.invoke.sns_subscriptions``)
and the functions' environment and logs."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import IO, Any

from inmet_local.emulator.invoke import FunctionSpec


@dataclass(slots=True)
class LocalLambdaContext:
    """The context object Lambda passes to a handler (what Powertools reads of it)."""

    function_name: str
    aws_request_id: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    log_group_name: str = "/local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000

    @classmethod
    def for_function(cls, name: str) -> LocalLambdaContext:
        import uuid

        return cls(function_name=name, aws_request_id=str(uuid.uuid4()))


@dataclass(frozen=True, slots=True)
class Subscription:
    """An SNS topic's Lambda subscription, played locally: a queue subscribed to the topic and
    the function template.yaml subscribes (inmet_local.emulator.invoke.sns_subscriptions)."""

    queue_url: str
    function: FunctionSpec


def sns_event(topic_arn: str, message: str) -> dict[str, Any]:
    """The event Lambda receives from an SNS subscription (the shape of events/*.json)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:local",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "local",
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": message,
                    "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                    "SignatureVersion": "1",
                    "Signature": "",
                    "SigningCertUrl": "",
                    "UnsubscribeUrl": "",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def handler_named(name: str) -> Callable[..., Any]:
    """The handler template.yaml names ("package.module.attribute"), imported in-process."""
    module_name, attr = name.rsplit(".", 1)
    handler: Callable[..., Any] = getattr(importlib.import_module(module_name), attr)
    return handler


def redirect_function_logs(
    handlers: Iterable[Callable[..., Any]], stream: IO[str]
) -> list[tuple[logging.StreamHandler[Any], IO[str]]]:
    """Point each handler module's Powertools logger at ``stream``; what to restore."""
    redirected: list[tuple[logging.StreamHandler[Any], IO[str]]] = []
    modules: dict[str, ModuleType] = {}
    for handler in handlers:
        modules.setdefault(handler.__module__, importlib.import_module(handler.__module__))
    for module in modules.values():
        logger = getattr(module, "logger", None)
        registered = getattr(logger, "registered_handler", None)
        if isinstance(registered, logging.StreamHandler):
            previous = registered.setStream(stream)
            if previous is not None:
                redirected.append((registered, previous))
    return redirected


@contextlib.contextmanager
def function_environment(env: Mapping[str, str]) -> Iterator[None]:
    """The functions' environment, for in-process handler calls (restored after)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
