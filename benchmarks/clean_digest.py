"""Print a digest of CLEAN built from a folder of INMET files: load every file through the
local warehouse (the pipe's COPY, then the task's statements), and hash the export view's rows
in the contract's order and CSV form. Two commits that give the same digest give the same
CLEAN, byte for byte; used to show that a change to the SQL leaves CLEAN unchanged.
The digest covers the quality-control flags too; ``--values-only`` hashes the 25 value columns
alone, to compare with a commit from before the flags.

    python benchmarks/clean_digest.py ../shared/data/inmet_real
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import uuid
from pathlib import Path

from inmet_local.emulator.servers import fakesnow_server, fakesnow_server_kwargs
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.snowflake.sqlproject import variables
from inmet_pipeline.columns import CLEAN_COLUMNS, VALUE_COLUMNS
from inmet_pipeline.exports import csv_lines
from inmet_pipeline.uploads import raw_object


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder of INMET CSV files")
    parser.add_argument(
        "--values-only",
        action="store_true",
        help="hash the 25 value columns only (no quality-control flags)",
    )
    args = parser.parse_args()
    files = sorted(p for p in args.folder.iterdir() if p.suffix.upper() == ".CSV")
    if not files:
        raise SystemExit(f"no .CSV files in {args.folder}")
    with tempfile.TemporaryDirectory() as tmp:
        server = fakesnow_server(log_path=Path(tmp) / "fakesnow.log").start()
        try:
            values = variables({"database": f"D{uuid.uuid4().hex[:8].upper()}"})
            kwargs = fakesnow_server_kwargs(server)
            with LocalWarehouse(kwargs, values=values, work_dir=Path(tmp) / "pipe") as wh:
                wh.deploy()
                for path in files:  # one file a batch, in name order
                    wh.load_objects([raw_object(path.read_bytes())])
                    wh.run_task()
                columns = ", ".join(VALUE_COLUMNS if args.values_only else CLEAN_COLUMNS)
                rows = wh.execute(
                    f"SELECT {columns} FROM {wh.clean}.INMET_CLEAN ORDER BY station_id, observed_at"
                )
        finally:
            server.stop()
    digest = hashlib.sha256()
    if args.values_only:  # the header as version 1 of the contract wrote it
        digest.update((",".join(VALUE_COLUMNS) + "\n").encode("utf-8"))
    for chunk in csv_lines(rows, header=not args.values_only):
        digest.update(chunk.encode("utf-8"))
    print(f"{len(files)} files, {len(rows)} CLEAN rows, sha256 {digest.hexdigest()}")


if __name__ == "__main__":
    main()
