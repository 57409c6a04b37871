"""The export function needs no pandas (its layers do not ship it): importing it and running a
whole export, hourly and daily partitions, loads no pandas module."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.modules["pandas"] = None  # an import of pandas anywhere below fails
    from export_clean import app  # noqa: F401
    from inmet_pipeline.adapters import snowflake  # noqa: F401
    from inmet_pipeline.exports import ExportService
    from inmet_pipeline.notifications import LoadNotification
    from tests.fakes import FakeExportWarehouse

    class Recording(FakeExportWarehouse):
        daily = []
        def export_daily_partitions(self, partitions):
            self.daily += [k for _, _, k in partitions]
            return super().export_daily_partitions(partitions)

    class Statuses:
        def get(self, upload_id):
            return None

    exporter = Recording()
    result = ExportService(exporter, Statuses()).export_batch(
        LoadNotification.parse({
            "event": "inmet.clean.loaded", "batch_id": "b1", "files": [],
            "partitions": [{"station_id": "A001", "year": 2024, "rows": 10}],
            "loaded_at": "2026-12-05T00:00:00Z",
        })
    )
    assert exporter.daily == [
        "processed/inmet_daily/station=A001/year=2023/inmet_daily.csv",
        "processed/inmet_daily/station=A001/year=2024/inmet_daily.csv",
    ], exporter.daily
    loaded = sorted(
        m for m, mod in sys.modules.items()
        if mod is not None and m.split(".")[0] in ("pandas", "numpy")
    )
    print(loaded)
    """
)


def test_the_export_runs_hourly_and_daily_partitions_without_pandas() -> None:
    paths = ["layers/common/python", "functions/export_clean", "."]
    env = {"PYTHONPATH": ":".join(str(REPO_ROOT / p) for p in paths), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"  # no pandas (nor numpy) was loaded
