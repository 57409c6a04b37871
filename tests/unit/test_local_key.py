"""`inmet upload` and `inmet status` find the running local stack's API key (stack.json)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from inmet_local.invoke import local_api_key

pytestmark = [pytest.mark.unit]


def test_the_running_stacks_key_is_used_for_its_url_only(tmp_path: Path) -> None:
    state = {"pid": os.getpid(), "api_url": "http://127.0.0.1:8123", "api_key": "k-123"}
    (tmp_path / "stack.json").write_text(json.dumps(state))
    assert local_api_key("http://127.0.0.1:8123/", tmp_path) == "k-123"
    assert local_api_key("https://api.example.com", tmp_path) is None
    assert local_api_key("http://127.0.0.1:8123", tmp_path / "none") is None
    state["pid"] = 0  # a stack that is not running any more
    (tmp_path / "stack.json").write_text(json.dumps(state))
    assert local_api_key("http://127.0.0.1:8123", tmp_path) is None
