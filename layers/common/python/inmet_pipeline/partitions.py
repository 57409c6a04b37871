"""A CLEAN partition as the export writes it: its S3 key, its query, Snowflake's unload
statement for it (and the REMOVE of an emptied one), and the contract CSV the local unload
writes (docs/contracts.md §3.1).

Statements and bytes only, no I/O: the export use case (exports.py) decides what to write, the
Snowflake adapter runs these statements, the local unload writes csv_lines. ``exports``
re-exports these names, so both import paths work.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from inmet_pipeline.columns import CLEAN_COLUMNS, DAILY_COLUMNS

PROCESSED_PREFIX: Final = "processed/inmet_clean/"
PARTITION_FILE: Final = "inmet_clean.csv"
# The daily values (CLEAN.DAILY, docs/contracts.md §3.2), partitioned the same way beside them:
# one file per station and year of its local dates.
DAILY_PREFIX: Final = "processed/inmet_daily/"
DAILY_FILE: Final = "inmet_daily.csv"
DAILY_TABLE: Final = "DAILY"  # in the CLEAN schema
DAILY_STAGE: Final = "DAILY_EXPORT_STAGE"  # in the CLEAN schema, at DAILY_PREFIX


def partition_key(station_id: str, year: int, prefix: str = PROCESSED_PREFIX) -> str:
    return f"{prefix}station={station_id}/year={year:04d}/{PARTITION_FILE}"


def daily_partition_key(station_id: str, year: int, prefix: str = DAILY_PREFIX) -> str:
    return f"{prefix}station={station_id}/year={year:04d}/{DAILY_FILE}"


def daily_partitions_of(station_years: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """The daily partitions a batch's (station, year) partitions change: the same year, and the
    year before, whose last local day (31 December) ends with the first hours of 1 January UTC
    (an hour belongs to the local date of observed_at - 30 min at UTC-2 to UTC-5)."""
    found = set()
    for station_id, year in station_years:
        found.add((station_id, year))
        if year > 1000:
            found.add((station_id, year - 1))
    return sorted(found)


def _daily_select_columns(quoted_names: bool = False) -> str:
    """The daily CSV's columns (docs/contracts.md §3.2); local_date as ISO text YYYY-MM-DD."""
    return _columns(
        DAILY_COLUMNS, "local_date", "TO_VARCHAR(local_date, 'YYYY-MM-DD')", quoted_names
    )


def daily_stations_select(
    table: str, station_ids: Sequence[str], first_year: int, last_year: int
) -> tuple[str, list[Any]]:
    """Several stations' daily rows over a span of years, sorted by station then date (the
    local unload writes each partition of the result)."""
    marks = ", ".join("?" for _ in station_ids)
    sql = (
        f"SELECT {_daily_select_columns()} FROM {table} "  # noqa: S608 - names from settings
        f"WHERE station_id IN ({marks}) AND local_date >= ? AND local_date < ? "
        "ORDER BY station_id, local_date"
    )
    return sql, [*station_ids, f"{first_year:04d}-01-01", f"{last_year + 1:04d}-01-01"]


def daily_partition_select(
    table: str, station_id: str, year: int, *, quoted_names: bool = False
) -> tuple[str, list[Any]]:
    """One daily partition: the station's rows of the year's local dates, sorted by date."""
    sql = (
        f"SELECT {_daily_select_columns(quoted_names)} FROM {table} "  # noqa: S608
        "WHERE station_id = ? AND local_date >= ? AND local_date < ? "
        "ORDER BY local_date"
    )
    return sql, [station_id, f"{year:04d}-01-01", f"{year + 1:04d}-01-01"]


def _select_columns(quoted_names: bool = False) -> str:
    """The contract's columns; observed_at as ISO 8601 UTC, written without quoted format
    literals (fakesnow mishandles them)."""
    observed_at = "REPLACE(TO_VARCHAR(observed_at, 'YYYY-MM-DD HH24:MI:SS'), ' ', 'T') || 'Z'"
    return _columns(CLEAN_COLUMNS, "observed_at", observed_at, quoted_names)


def _columns(columns: Sequence[str], time_column: str, as_text: str, quoted_names: bool) -> str:
    """``columns`` as a SELECT list, ``time_column`` written by the expression ``as_text``.
    ``quoted_names`` aliases each with its double-quoted lower-case name, so that Snowflake's
    HEADER = TRUE writes the contract's header (see UNLOAD_FILE_FORMAT)."""
    expressions = []
    for column in columns:
        expression = as_text if column == time_column else column
        if quoted_names:
            expression += f' AS "{column}"'
        elif column == time_column:
            expression += f" AS {time_column}"
        expressions.append(expression)
    return ", ".join(expressions)


def stations_select(
    view: str, station_ids: Sequence[str], first_year: int, last_year: int
) -> tuple[str, list[Any]]:
    """Several stations' rows over a span of years, sorted by station then time: the local
    unload adapter runs it once for a group of partitions and writes each partition's file."""
    marks = ", ".join("?" for _ in station_ids)
    sql = (
        f"SELECT {_select_columns()} FROM {view} "  # noqa: S608 - names from settings
        f"WHERE station_id IN ({marks}) AND observed_at >= ? AND observed_at < ? "
        "ORDER BY station_id, observed_at"
    )
    return sql, [
        *station_ids,
        f"{first_year:04d}-01-01 00:00:00",
        f"{last_year + 1:04d}-01-01 00:00:00",
    ]


def partition_select(
    view: str, station_id: str, year: int, *, quoted_names: bool = False
) -> tuple[str, list[Any]]:
    """The contract columns of one partition, in order, sorted (docs/contracts.md §3).

    ``observed_at`` is written as ISO 8601 UTC. The time range (not YEAR()) lets Snowflake prune
    micro-partitions (OBSERVATIONS is naturally clustered by its load order, one station-year a
    file): the cost follows the partition, not the table.
    """
    # The view name comes from settings; the values are bound.
    sql = (
        f"SELECT {_select_columns(quoted_names)} FROM {view} "  # noqa: S608
        "WHERE station_id = ? AND observed_at >= ? AND observed_at < ? "
        "ORDER BY observed_at"
    )
    return sql, [station_id, f"{year:04d}-01-01 00:00:00", f"{year + 1:04d}-01-01 00:00:00"]


def _literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _check_partition(station_id: str, year: int) -> None:
    # Literals are inlined in COPY and REMOVE (they take no bind variables): only a WMO code and
    # a plain year ever get there.
    if not (len(station_id) == 4 and station_id[0].isalpha() and station_id[1:].isdigit()):
        raise ValueError(f"not a WMO station code: {station_id!r}")
    if not (isinstance(year, int) and 1000 <= year <= 9999):
        raise ValueError(f"not a four-digit year: {year!r}")


# The unload's file format, option by option, with the documentation each rests on. The
# exported partition must be byte for byte what the local unload writes (csv_lines over the
# same rows): tests/unit/test_unload_format.py states Snowflake's output for these options and
# compares. "COPY INTO <location>" (docs.snowflake.com/en/sql-reference/sql/copy-into-location)
# and "Data unloading considerations" (docs.snowflake.com/en/user-guide/data-unload-considerations):
# - FIELD_OPTIONALLY_ENCLOSED_BY = NONE: strings are written unenclosed ("Enclosing string values
#   in quotes while unloading data is not required"). With '"', every string value would be
#   quoted, unlike the contract's minimal quoting. No CLEAN text value ever needs quoting:
#   station_id, region and state come from closed sets, observed_at is formatted below, and a
#   station name with a character CSV would quote (columns.CSV_QUOTED_CHARACTERS) is refused at
#   upload (reader.py), so unenclosed and minimally-quoted output are the same bytes.
# - ESCAPE_UNENCLOSED_FIELD = NONE: the unload default ('\\') would escape characters in
#   unenclosed fields; none occur, and none must be added.
# - NULL_IF = ('') with EMPTY_FIELD_AS_NULL = FALSE: SQL NULL is written as the first NULL_IF
#   value, an empty field, as the contract says (the default would write \\N).
# - HEADER = TRUE writes the query's output column names: unquoted identifiers resolve to upper
#   case ("Identifier requirements"), so every column is aliased with a double-quoted lower-case
#   name, the contract's header exactly.
# - SINGLE = TRUE, OVERWRITE = TRUE, COMPRESSION = NONE: one object named exactly as the path,
#   replaced whole on re-export (an S3 PUT: readers see the old file or the new one).
UNLOAD_FILE_FORMAT: Final = (
    "TYPE = CSV FIELD_DELIMITER = ',' RECORD_DELIMITER = '\\n' COMPRESSION = NONE "
    "FIELD_OPTIONALLY_ENCLOSED_BY = NONE ESCAPE_UNENCLOSED_FIELD = NONE "
    "NULL_IF = ('') EMPTY_FIELD_AS_NULL = FALSE"
)
UNLOAD_COPY_OPTIONS: Final = (
    "HEADER = TRUE SINGLE = TRUE OVERWRITE = TRUE MAX_FILE_SIZE = 268435456"
)


def _stage_path(stage: str, path: str) -> str:
    """A stage path as a quoted literal: the partition paths hold '=' (station=A001/year=2024),
    and the documented safe form for a path with special characters is the whole location in
    single quotes ("COPY INTO <location>", "REMOVE": "enclose the … path in single quotes")."""
    return _literal(f"@{stage}/{path}")


def copy_into_statement(stage: str, view: str, station_id: str, year: int) -> str:
    """Snowflake's unload of one partition to the export stage (see UNLOAD_FILE_FORMAT)."""
    _check_partition(station_id, year)
    select, params = partition_select(view, station_id, year, quoted_names=True)
    return _copy_into(stage, partition_key(station_id, year, prefix=""), select, params)


def daily_copy_into_statement(stage: str, table: str, station_id: str, year: int) -> str:
    """Snowflake's unload of one daily partition, with the hourly partitions' file format and
    options (UNLOAD_FILE_FORMAT, UNLOAD_COPY_OPTIONS: the same bytes rules). A partition with no
    row writes no file: "If the source table contains 0 rows, then the COPY operation does not
    unload a data file" ("COPY INTO <location>", usage notes,
    docs.snowflake.com/en/sql-reference/sql/copy-into-location); the export then removes the
    partition's old file (daily_remove_statement)."""
    _check_partition(station_id, year)
    select, params = daily_partition_select(table, station_id, year, quoted_names=True)
    return _copy_into(stage, daily_partition_key(station_id, year, prefix=""), select, params)


def _copy_into(stage: str, path: str, select: str, params: Sequence[Any]) -> str:
    """COPY INTO the stage path from ``select`` with its values written in as literals (a
    Snowflake unload takes no bind variables in the scripts that run it)."""
    for value in params:
        select = select.replace("?", _literal(value), 1)
    return (
        f"COPY INTO {_stage_path(stage, path)} FROM ({select}) "
        f"FILE_FORMAT = ({UNLOAD_FILE_FORMAT}) {UNLOAD_COPY_OPTIONS}"
    )


def daily_remove_statement(stage: str, station_id: str, year: int) -> str:
    """REMOVE of one daily partition's file (a partition left with no row)."""
    _check_partition(station_id, year)
    return f"REMOVE {_stage_path(stage, daily_partition_key(station_id, year, prefix=''))}"


def remove_statement(stage: str, station_id: str, year: int) -> str:
    """REMOVE of one partition's file from the export stage (a partition that became empty)."""
    _check_partition(station_id, year)
    return f"REMOVE {_stage_path(stage, partition_key(station_id, year, prefix=''))}"


def csv_field(value: Any) -> str:
    """One value as the contract CSV writes it: '.' decimals, ISO UTC times, '' for NULL."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_lines(
    rows: Iterable[Sequence[Any]], header: bool = True, columns: Sequence[str] = CLEAN_COLUMNS
) -> Iterator[str]:
    """The contract CSV, line by line (UTF-8 text, ',' separated, minimal quoting); ``columns``
    is the header's (DAILY_COLUMNS for the daily CSV)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_field(v) for v in row])
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
