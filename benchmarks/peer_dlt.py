"""The dlt contender of benchmarks/bench_peers.py: what a data engineer would write instead of
this pipeline. pandas reads each station file (both layouts, either encoding, decimal commas,
``-9999``) and applies the CLEAN rules of docs/contracts.md §3 (rules 1-6); one Arrow table per
file goes to dlt's DuckDB destination with ``write_disposition="merge"`` on (station_id,
observed_at) (rule 7); the CLEAN CSV is written from DuckDB, the same deliverable as the local
run. dlt comes from the ``bench`` extra and is imported only here.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# The peer has no quality control: it writes the 25 value columns (contract version 1).
from inmet_pipeline.columns import MEASURES
from inmet_pipeline.columns import VALUE_COLUMNS as CLEAN_COLUMNS

_MEASURE_NAMES = [m.name for m in MEASURES]


def clean_frame(data: bytes) -> Any:
    """One station file → its CLEAN rows as pandas would do it (rules 1-6 of §3)."""
    import pandas as pd

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    lines = text.split("\n", 9)
    meta = [line.split(";")[1].strip() if ";" in line else "" for line in lines[:8]]

    def number(value: str) -> float | None:
        try:
            return float(value.replace(",", "."))
        except ValueError:
            return None

    # What a data engineer writes: pandas' C parser reads the decimal comma (",2" too) and the
    # missing marker itself; a column it could not read as numbers is coerced after.
    frame = pd.read_csv(
        io.StringIO(lines[9] if len(lines) > 9 else ""),
        sep=";",
        header=None,
        usecols=range(19),
        names=["date", "hour", *_MEASURE_NAMES],
        dtype={"date": str, "hour": str},
        decimal=",",
        na_values=["-9999"],
        engine="c",
    )
    observed = pd.to_datetime(
        frame["date"].str.replace("/", "-", regex=False) + " " + frame["hour"].str[:2],
        format="%Y-%m-%d %H",
        errors="coerce",
    )
    out = pd.DataFrame({"observed_at": observed})
    for measure in MEASURES:
        values = frame[measure.name]
        if values.dtype.kind not in "fi":
            text_values = values.astype(str).str.strip().str.replace(",", ".", regex=False)
            values = pd.to_numeric(text_values, errors="coerce")
        out[measure.name] = values.where(values.between(measure.low, measure.high))
    out = out[out["observed_at"].notna() & out[_MEASURE_NAMES].notna().any(axis=1)]
    out.insert(0, "station_id", meta[3].upper())
    out.insert(1, "station_name", meta[2])
    out.insert(2, "region", meta[0].upper())
    out.insert(3, "state", meta[1].upper())
    out.insert(4, "latitude", number(meta[4]))
    out.insert(5, "longitude", number(meta[5]))
    out.insert(6, "altitude_m", number(meta[6]))
    return out[list(CLEAN_COLUMNS)]


def run_dlt(folder: Path, out: Path) -> int:
    """pandas per file → Arrow → dlt's DuckDB destination, merged on (station, hour) → CSV."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    import dlt
    import duckdb
    import pyarrow as pa

    paths = sorted(folder.glob("*.CSV"))
    # One schema for every file: pandas would infer another (an all-missing column, its own
    # metadata) and dlt refuses to concatenate differing Arrow schemas.
    schema = pa.schema(
        [(name, pa.string()) for name in CLEAN_COLUMNS[:4]]
        + [(name, pa.float64()) for name in CLEAN_COLUMNS[4:7]]
        + [("observed_at", pa.timestamp("us"))]
        + [(name, pa.float64()) for name in CLEAN_COLUMNS[8:]]
    )

    @dlt.resource(  # type: ignore[untyped-decorator,unused-ignore]
        name="inmet_clean",
        write_disposition="merge",
        primary_key=("station_id", "observed_at"),
    )
    def stations() -> Iterator[Any]:
        for path in paths:
            frame = clean_frame(path.read_bytes())
            if len(frame):
                yield pa.Table.from_pandas(
                    frame, schema=schema, preserve_index=False
                ).replace_schema_metadata(None)

    database = out.parent / "dlt.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name="inmet_bench",
        pipelines_dir=str(out.parent / "dlt_pipelines"),
        destination=dlt.destinations.duckdb(str(database)),
        dataset_name="inmet",
    )
    pipeline.run(stations())
    con = duckdb.connect(str(database))
    columns = ", ".join(CLEAN_COLUMNS)
    con.execute(
        f"COPY (SELECT {columns} FROM inmet.inmet_clean ORDER BY station_id, observed_at) "
        f"TO '{out}' (HEADER, DELIMITER ',')"
    )
    return int(con.execute("SELECT COUNT(*) FROM inmet.inmet_clean").fetchone()[0])  # type: ignore[index]
