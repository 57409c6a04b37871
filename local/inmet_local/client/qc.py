"""Quality control as the warehouse states it (docs/qc.md): the count of flagged values per
station, year, test and measure, and the reason for each flag (CLEAN.QC_FLAGS) as a CSV.

The queries are plain SQL over CLEAN.QC_FLAGS and CLEAN.OBSERVATIONS, the same on Snowflake and
the local warehouse; `inmet qc` and benchmarks/qc_counts.py run them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from inmet_pipeline.partitions import csv_field

# The detail CSV's columns: one line a flag (a value can have several, one a test).
DETAIL_COLUMNS: Final = (
    "station_id",
    "observed_at",
    "measure",
    "test",
    "flag",
    "value_written",
    "reference",
    "source_file",
)


@dataclass(frozen=True, slots=True)
class QcCount:
    """How many values of one measure one test flagged in one station-year."""

    station_id: str
    year: int
    test: str
    measure: str
    flag: int  # the highest: 1 suspect, 2 erroneous
    values: int
    hours: int  # the station-year's rows in CLEAN

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def summary_select(clean: str) -> str:
    """Flags per station, year, test and measure, with the station-year's hours in CLEAN.
    ``clean`` is the CLEAN schema's full name (a setting, never user input)."""
    return (
        "SELECT q.station_id, YEAR(q.observed_at) AS year, q.test, q.measure, "  # noqa: S608
        "MAX(q.flag), "
        f"COUNT(*), MAX(t.total) FROM {clean}.QC_FLAGS q "
        "JOIN (SELECT station_id, YEAR(observed_at) AS year, COUNT(*) AS total "
        f"FROM {clean}.OBSERVATIONS GROUP BY 1, 2) t "
        "ON t.station_id = q.station_id AND t.year = YEAR(q.observed_at) "
        "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
    )


def summary(rows: Iterable[Sequence[Any]]) -> list[QcCount]:
    """The rows of summary_select as counts."""
    return [
        QcCount(str(s), int(y), str(t), str(m), int(f), int(n), int(h))
        for s, y, t, m, f, n, h in rows
    ]


def qc_summary(conn: Any, clean: str) -> list[QcCount]:
    cursor = conn.cursor()
    try:
        cursor.execute(summary_select(clean))
        return summary(cursor.fetchall())
    finally:
        cursor.close()


@dataclass(frozen=True, slots=True)
class StationTest:
    """One line of the summary: what one test flagged at one station (all years together)."""

    station_id: str
    test: str
    flag: int  # the highest: 1 suspect, 2 erroneous
    measures: tuple[str, ...]
    values: int
    hours: int  # the station's rows in CLEAN, in the years where anything is flagged


def per_station(counts: Iterable[QcCount]) -> list[StationTest]:
    """The counts per station and test, sorted by station, then by values flagged (most
    first)."""
    groups: dict[tuple[str, str], list[QcCount]] = {}
    hours: dict[str, dict[int, int]] = {}
    for c in counts:
        groups.setdefault((c.station_id, c.test), []).append(c)
        hours.setdefault(c.station_id, {})[c.year] = c.hours
    lines = [
        StationTest(
            station,
            test,
            max(c.flag for c in group),
            tuple(sorted({c.measure for c in group})),
            sum(c.values for c in group),
            sum(hours[station].values()),
        )
        for (station, test), group in groups.items()
    ]
    return sorted(lines, key=lambda line: (line.station_id, -line.values, line.test))


def _value(value: Any) -> str:
    """The value as the file wrote it: without the column's padding zeros (5500, not
    5500.00000000)."""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return csv_field(value)


def write_details(conn: Any, clean: str, out: Path, batch_rows: int = 20_000) -> int:
    """CLEAN.QC_FLAGS as a CSV (DETAIL_COLUMNS, sorted by station, hour, measure and test);
    written whole or not at all. Returns the lines written, less the header."""
    cursor = conn.cursor()
    rows = 0
    partial = out.with_name(out.name + ".partial")
    try:
        cursor.execute(
            f"SELECT {', '.join(DETAIL_COLUMNS)} FROM {clean}.QC_FLAGS "  # noqa: S608
            "ORDER BY station_id, observed_at, measure, test"
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(DETAIL_COLUMNS)
            while batch := cursor.fetchmany(batch_rows):
                for s, at, m, t, f, written, ref, source in batch:
                    fields = [s, csv_field(at), m, t, csv_field(f), _value(written)]
                    writer.writerow([*fields, csv_field(ref), source])
                rows += len(batch)
        partial.replace(out)
    finally:
        cursor.close()
        partial.unlink(missing_ok=True)
    return rows
