"""Load the events/ JSON that `sam local invoke -e` takes, and a fake Lambda context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inmet_local.emulator.stack import LocalLambdaContext

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))
    return data


REQUEST_ID = "52fdfc07-2182-154f-163f-5f0f9a621d72"


def lambda_context() -> LocalLambdaContext:
    """The context Lambda passes to a handler (the local runtime's own stand-in)."""
    return LocalLambdaContext(function_name="test-function", aws_request_id=REQUEST_ID)
