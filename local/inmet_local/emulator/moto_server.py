"""moto, as the local stack runs it: moto server with three fixes, two for speed and one for
DynamoDB's conditional writes.

**SQS.** moto 5.x checks each message it hands out by ReceiveMessage against the queue's retention
period through ``get_queue_attributes(queue, ["MessageRetentionPeriod"])``, which builds
*every* attribute of the queue first, and two of those count all the queue's messages (with
two clock reads per message). Receiving costs O(n) per message, so draining a queue of n
messages costs O(n²): the 564 S3 events of a year of INMET files took 19 of the 31 s of the
warehouse benchmark's pipe poll, in moto, not in the pipeline. ``apply_fixes`` makes the check
read the one attribute it needs; what it decides is unchanged (tests/unit/test_moto_server.py).

**Every request.** moto's server finds the service of each request by testing whether the host
names one of moto's modules: ``moto.backends.list_of_moto_modules`` lists moto's package folder
and tests each entry with ``os.path.isdir``, every time: ~150 system calls, about 1 ms a request.
A year's local run sends moto about 5,500 requests, and the listing took about 5 s of the moto
server's CPU. The folder does not change while the server runs: ``apply_fixes`` lists it once.

**Conditional writes.** DynamoDB applies a write's condition expression and the write as one
step: of two concurrent ``PutItem`` calls with ``attribute_not_exists``, one succeeds ("Condition
expressions", docs.aws.amazon.com/amazondynamodb/latest/developerguide/
Expressions.SpecifyingConditions.html; the upload API's claim of an upload id rests on it).
moto checks and writes in two steps without a lock: two threads of one process (the functional
tests' concurrent uploads on ``mock_aws``) can both pass the check. ``apply_fixes`` runs moto's
DynamoDB writes one at a time (``DYNAMODB_WRITES_LOCK``). The moto server's state layer
(aws_state) already serialises them there.

**The request log.** werkzeug writes a line for each request; with colorama installed (a
dependency of other tools in this environment), it writes through colorama's ANSI-stripping
wrapper, which scans every line. ``main`` gives the ``werkzeug`` logger a plain handler on
stderr first (werkzeug adds its own only when the logger has none): the same lines, in
``logs/moto.log``, without the wrapper.

Run as ``python -m inmet_local.emulator.moto_server -H 127.0.0.1 -p PORT``; in-process users of
``mock_aws`` call ``apply_fixes()`` first. The application is moto server's, wrapped in
``inmet_local.emulator.aws_state`` (the bucket and the status table kept on disk, the stack's
access key required) when the environment names a state folder or a key.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

# moto's DynamoDB writes run one at a time under this lock (see the module's docstring). An
# RLock: a transaction's writes may call the single-item writes.
DYNAMODB_WRITES_LOCK = threading.RLock()
_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")


def _one_at_a_time(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with DYNAMODB_WRITES_LOCK:
            return write(self, *args, **kwargs)

    locked._inmet_fixed = True  # type: ignore[attr-defined]
    return locked


def _fixed(target: Any) -> bool:
    return bool(getattr(target, "_inmet_fixed", False))


def apply_fixes() -> None:
    """The fixes of the module's docstring, each applied once (each is marked ``_inmet_fixed``
    where it is installed, so a test that puts moto's original back gets the fix again)."""
    from moto import backends
    from moto.core.utils import unix_time
    from moto.dynamodb.models import DynamoDBBackend
    from moto.sqs.models import SQSBackend

    for name in _DYNAMODB_WRITES:
        if not _fixed(getattr(DynamoDBBackend, name)):
            setattr(DynamoDBBackend, name, _one_at_a_time(getattr(DynamoDBBackend, name)))

    if not _fixed(backends.list_of_moto_modules):
        modules = tuple(backends.list_of_moto_modules())

        @functools.wraps(backends.list_of_moto_modules)
        def listed_once() -> tuple[str, ...]:
            return modules

        listed_once._inmet_fixed = True  # type: ignore[attr-defined]
        backends.list_of_moto_modules = listed_once

    if not _fixed(SQSBackend.is_message_valid_based_on_retention_period):

        def is_message_valid_based_on_retention_period(
            self: Any, queue_name: str, message: Any
        ) -> bool:
            retention_period = int(self.get_queue(queue_name).message_retention_period)
            return bool(retention_period + message.sent_timestamp / 1000 > unix_time())

        is_message_valid_based_on_retention_period._inmet_fixed = True  # type: ignore[attr-defined]
        SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
            is_message_valid_based_on_retention_period
        )


def plain_request_log() -> logging.StreamHandler[TextIO]:
    """The ``werkzeug`` logger's handler: plain stderr, INFO (see the module's docstring)."""
    logger = logging.getLogger("werkzeug")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return handler


def main(argv: list[str] | None = None) -> None:
    """moto server's own ``main`` (moto.server), with the application wrapped."""
    import argparse
    import os
    import signal

    apply_fixes()
    plain_request_log()
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    from inmet_local.emulator.aws_state import wrap

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        wrap(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
