"""Acceptance of issue 15 over HTTP on `inmet local up`: the crafted files (Arabic-Indic digits
in LATITUDE, a tab before the WMO code, Unicode spaces and control characters in metadata,
full-width digits in the station code, years far out of range) each get a 4xx with a readable
reason; the files uploaded before and after them end `exported`; no 5xx; nothing stays
`received`."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from inmet_local.emulator.servers import free_port
from tests.crafted import crafted_files
from tests.helpers import small_file
from tests.integration.test_local_stack import RunningStack, _wait_exported
from tests.paths import REAL_DIR

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _good_files() -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """(before, after): real files when the folder is there, generated ones otherwise."""
    real = sorted(REAL_DIR.glob("*.CSV")) if REAL_DIR.is_dir() else []
    by_name = {p.name.split("_01-01-")[0]: p for p in real}
    picks = ["INMET_CO_DF_A001_BRASILIA", "INMET_S_PR_A807_CURITIBA", "INMET_NE_SE_A409_ARACAJU"]
    if all(p in by_name for p in picks):
        files = [(by_name[p].name, by_name[p].read_bytes()) for p in picks]
    else:
        files = [(f"synth_{i}.CSV", small_file("B", station=i, days=3).data) for i in range(3)]
    return files[:2], files[2:]


def test_crafted_files_are_refused_alone_and_the_pipeline_goes_on(tmp_path: Path) -> None:
    before, after = _good_files()
    crafted = crafted_files(before[0][1])  # the files: variants of a real station file
    stack = RunningStack(tmp_path / "local", free_port(), tmp_path / "up.log")
    seen: list[int] = []

    def post(name: str, data: bytes) -> httpx.Response:
        response = httpx.post(
            f"{stack.url}/uploads",
            files={"file": (name, data, "text/csv")},
            headers=stack.headers,
            timeout=60,
        )
        seen.append(response.status_code)
        return response

    try:
        ids = []
        for name, data in before:
            answer = post(name, data)
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["upload_id"])
        for name, case in crafted.items():
            answer = post(f"INMET_{name}.CSV", case.data)
            assert 400 <= answer.status_code < 500, (name, answer.status_code, answer.text)
            error = answer.json()["error"]
            assert (error["code"], error["line"]) == (case.code, case.line), (name, error)
            assert len(error["message"]) > 20, error  # a sentence, not a bare code
        for name, data in after:
            answer = post(name, data)
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["upload_id"])

        docs = _wait_exported(stack, ids)
        assert {i: d["status"] for i, d in docs.items()} == dict.fromkeys(ids, "exported")
        assert all(d["rows_clean"] and d["export_keys"] for d in docs.values())
        assert not [s for s in seen if s >= 500]
    finally:
        stack.stop()
    assert "HTTP 500" not in (tmp_path / "local" / "logs" / "functions.log").read_text()
