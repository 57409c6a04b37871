"""Quality-control counts on the real INMET files: loads them into a local warehouse (the same SQL
as Snowflake) and prints, per station, year and test, how many values CLEAN.QC_FLAGS flags, as
the Markdown table of docs/qc.md.

Run: `.venv/bin/python benchmarks/qc_counts.py [folder ...]` (default: the real-data folder,
INMET_REAL_DATA or ../shared/data/inmet_real, and its curitiba_years/). About 2 minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from inmet_local.client.qc import summary_select
from inmet_local.emulator.servers import fakesnow_server, fakesnow_server_kwargs
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_pipeline.uploads import raw_object

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.paths import real_data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--json", action="store_true", help="also print every row as JSON")
    args = parser.parse_args()
    folders = args.folders or [real_data_dir(), real_data_dir() / "curitiba_years"]
    paths = sorted(p for folder in folders for p in folder.glob("*.CSV"))
    if not paths:
        sys.exit(f"no INMET files in {', '.join(map(str, folders))}")
    with tempfile.TemporaryDirectory() as tmp:
        server = fakesnow_server(log_path=Path(tmp) / "fakesnow.log").start()
        try:
            with LocalWarehouse(fakesnow_server_kwargs(server), work_dir=Path(tmp) / "pipe") as wh:
                wh.deploy()
                wh.load_objects([raw_object(p.read_bytes()) for p in paths])
                wh.run_task()
                rows = wh.execute(summary_select(wh.clean))  # the query `inmet qc` runs
        finally:
            server.stop()
    tests = sorted({r[2] for r in rows})
    table: dict[tuple[str, int], dict[str, int]] = {}
    hours: dict[tuple[str, int], int] = {}
    for station, year, test, _measure, _flag, count, total in rows:
        counts = table.setdefault((station, year), {})
        counts[test] = counts.get(test, 0) + count
        hours[(station, year)] = total
    print(f"{len(paths)} files; values flagged per station-year and test (all measures)\n")
    print("| station | year | hours | " + " | ".join(tests) + " |")
    print("|---|---|---|" + "---|" * len(tests))
    for (station, year), counts in sorted(table.items()):
        cells = " | ".join(f"{counts.get(t, 0):,}" for t in tests)
        print(f"| {station} | {year} | {hours[(station, year)]:,} | {cells} |")
    if args.json:
        print(json.dumps([list(map(str, r)) for r in rows]))


if __name__ == "__main__":
    main()
