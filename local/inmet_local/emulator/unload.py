"""The local unload adapter: what Snowflake's ``COPY INTO @stage`` does, for the fakesnow server.

fakesnow cannot unload. Before this adapter the local export asked the warehouse for each
partition's CSV text (LISTAGG of SQL-formatted lines) and received it through fakesnow's HTTP
protocol: a year of 564 stations is ~750 MB of CSV, sent as base64 Arrow inside JSON and decoded
by the connector. That hop cost more than everything else the export does.

Here the fakesnow server process writes the files itself, as Snowflake writes to its stage:

1. the exporter's SELECT (Snowflake SQL, the partitions of several stations sorted by station
   and time: ``inmet_pipeline.exports.stations_select``) runs through fakesnow's own
   translation on the shared warehouse, so the rows are exactly what a query would return;
2. DuckDB's CSV writer (``,`` separated, minimal quoting, empty field for NULL, ``\\n`` line
   ends) writes the whole result once, straight from the query (``COPY (query) TO``), and each
   (station, year) partition's lines are cut from it into the file the caller named, without a
   header (the caller owns the contract's header line). A result it cannot cut line by line (a
   value holding a line break) takes the slower way: the rows through Arrow, one COPY a file.

The route is ``POST /inmet-local/unload`` on the fakesnow server (``fakesnow_server.py`` mounts
it). Body: ``{"sql": ..., "params": [...], "partitions": [{"station_id", "year", "path"}],
"time_column": 7}`` (the year column's index: 7 for CLEAN, 1 for DAILY);
answer ``{"rows": {path: n}}``, or ``{"error": message}`` with status 400 (bad request or SQL
error), 401 (no token), 415 (not JSON) or 500. The paths must lie inside the server's unload
folder (``--unload-dir``): the caller and the server share this machine and that folder.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inmet_local.emulator.local_adapter import LOCAL_UNLOAD_ROUTE

STATION_COLUMN = 0  # CLEAN's column order (docs/contracts.md §3): station_id first,
OBSERVED_AT_COLUMN = 7  # observed_at eighth, as ISO text 'YYYY-MM-DDTHH:MI:SSZ'


class UnloadError(ValueError):
    """The request cannot be served; the message says why."""


def _partitions(raw: Any, root: Path) -> list[tuple[str, int, Path]]:
    """The requested partitions; every path must lie inside ``root`` (the stack's unload
    folder): the route writes files, so it writes nowhere else."""
    if not isinstance(raw, list):
        raise UnloadError("'partitions' must be a list of {station_id, year, path}")
    base = root.resolve()
    parts = []
    for item in raw:
        try:
            station, year, path = str(item["station_id"]), int(item["year"]), Path(item["path"])
        except (KeyError, TypeError, ValueError) as exc:
            raise UnloadError(f"bad partition {item!r}: needs station_id, year, path") from exc
        target = (base / path).resolve()  # an absolute path replaces base; '..' is resolved
        if not target.is_relative_to(base) or target == base:
            raise UnloadError(f"{path}: outside the unload folder {base}")
        if not target.parent.is_dir():
            raise UnloadError(f"{path}: its folder does not exist")
        parts.append((station, year, target))
    return parts


def unload_partitions(
    fs: Any,
    sql: str,
    params: Sequence[Any],
    partitions: Sequence[tuple[str, int, Path]],
    time_column: int = OBSERVED_AT_COLUMN,
) -> dict[str, int]:
    """Run ``sql`` on the fakesnow instance ``fs`` and write each partition's rows to its path.

    ``time_column``: the index of the ISO text column whose first four characters are the
    partition's year (observed_at for CLEAN, 7; local_date for DAILY, 1).
    Returns the rows written by path (0 for a partition with no rows: its file is empty).
    """
    import duckdb
    import snowflake.connector.errors

    conn = fs.connect()
    try:
        cursor = conn.cursor()
        if partitions:
            written = _unload_direct(cursor, sql, params, partitions, time_column)
            if written is not None:
                return written
        try:
            # As fakesnow's server passes a request's bindings.
            cursor.execute(sql, binding_params=tuple(params), server=True)
        except snowflake.connector.errors.Error as exc:
            raise UnloadError(f"the unload query failed: {exc}") from exc
        table = cursor._arrow_table  # the result fakesnow already holds, as Arrow
    finally:
        conn.close()
    if table is None or table.num_columns <= time_column:
        raise UnloadError("the unload query must select the contract's columns in order")
    names = table.column_names
    station, observed = names[STATION_COLUMN], names[time_column]
    writer = duckdb.connect()
    try:
        # The result is sorted by station and time, so each (station, year) partition is one
        # run of rows: find the runs once, then write each as a zero-copy slice. (Filtering the
        # whole result per partition converted all of it from Arrow for every file: 27 ms a
        # file, 15 s for a year.)
        writer.register("result", table)
        runs = writer.execute(
            f'SELECT "{station}", LEFT("{observed}", 4), COUNT(*) FROM result '  # noqa: S608
            "GROUP BY ALL ORDER BY 1, 2"
        ).fetchall()
        writer.unregister("result")
        slices: dict[tuple[str, int], tuple[int, int]] = {}
        offset = 0
        for station_id, year, count in runs:
            slices[(str(station_id), int(year))] = (offset, int(count))
            offset += int(count)
        if offset != table.num_rows:
            raise UnloadError("the unload query must sort by station_id, observed_at")
        wanted: list[tuple[Path, int, int]] = []
        for station_id, year, path in partitions:
            start, count = slices.get((station_id, year), (0, 0))
            part = table.slice(start, count)
            if count and not (
                part[station].unique().to_pylist() == [station_id]
                and part[observed][0].as_py().startswith(f"{year:04d}-")
                and part[observed][count - 1].as_py().startswith(f"{year:04d}-")
            ):
                raise UnloadError("the unload query must sort by station_id, observed_at")
            wanted.append((path, start, count))
        written = _write_split(writer, table, wanted)
        if written is None:
            written = {}
            for path, start, count in wanted:
                written[str(path)] = _copy(writer, table.slice(start, count), path)
    finally:
        writer.close()
    return written


def _duckdb_text(cursor: Any, sql: str, params: Sequence[Any]) -> str | None:
    """The DuckDB text fakesnow runs for ``sql`` when it is one plain query (its own parse and
    transforms, as ``FakeSnowflakeCursor.execute`` applies them), else None."""
    from fakesnow.dialect import parse_one
    from sqlglot import exp

    statements = list(cursor._transform_explode(parse_one(cursor._inline_variables(sql))))
    if len(statements) != 1:
        return None
    transformed = cursor._transform(statements[0], list(params))
    if not isinstance(transformed, exp.Query) or any(
        transformed.args.get(arg) for arg in ("seed", "result_scan_sfqid")
    ):
        return None
    text: str = transformed.sql(dialect="duckdb")
    return text


def _line_key(line: bytes, time_column: int) -> tuple[str, str]:
    """(station_id, year text) of one CSV line of the result."""
    fields = next(csv.reader([line.decode("utf-8")]))
    return fields[STATION_COLUMN], fields[time_column][:4]


def _unload_direct(
    cursor: Any,
    sql: str,
    params: Sequence[Any],
    partitions: Sequence[tuple[str, int, Path]],
    time_column: int,
) -> dict[str, int] | None:
    """Every partition's file cut from one CSV that DuckDB writes straight from the query: the
    rows never pass through Arrow (the other way converted a group's ~400,000 rows of 42
    columns to Arrow and back, a fifth of the export's time on the local warehouse). None when
    this way cannot serve the request exactly; the caller then takes the Arrow way, which also
    gives the query's own error."""
    try:
        text = _duckdb_text(cursor, sql, params)
        if text is None:
            return None
        duck = cursor._duck_conn
        bound = list(params) or None
        columns = duck.execute(f"SELECT * FROM ({text}) LIMIT 0", bound).description  # noqa: S608
        if columns is None or len(columns) <= time_column:
            return None
        with tempfile.TemporaryDirectory(prefix="whole-", dir=partitions[0][2].parent) as tmp:
            whole = Path(tmp, "whole.csv")
            target = "'" + str(whole).replace("'", "''") + "'"
            copied = duck.execute(f"COPY ({text}) TO {target} (FORMAT CSV, HEADER false)", bound)
            result = copied.fetchall()
            rows = int(result[0][0]) if result else 0
            data = whole.read_bytes()
    except Exception:  # the Arrow way runs the query again and says what failed
        return None
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) != rows:  # a value with a line break: the lines do not count the rows
        return None
    # Sorted by station, then time: the stations never go back, and each partition is one run
    # of lines, found by bisection on (station, year); its first and last line are checked.
    stations = [line.partition(b",")[0] for line in lines]
    if any(b < a for a, b in itertools.pairwise(stations)):
        raise UnloadError("the unload query must sort by station_id, observed_at")
    written: dict[str, int] = {}
    for station_id, year, path in partitions:
        wanted = (station_id, f"{year:04d}")
        start = bisect.bisect_left(lines, wanted, key=lambda line: _line_key(line, time_column))
        end = bisect.bisect_right(
            lines, wanted, lo=start, key=lambda line: _line_key(line, time_column)
        )
        chunk = lines[start:end]
        if chunk and not (
            _line_key(chunk[0], time_column) == wanted == _line_key(chunk[-1], time_column)
        ):
            raise UnloadError("the unload query must sort by station_id, observed_at")
        path.write_bytes(b"\n".join(chunk) + b"\n" if chunk else b"")
        written[str(path)] = len(chunk)
    return written


def _copy(writer: Any, part: Any, path: Path) -> int:
    """``part`` (Arrow) written to ``path`` by DuckDB's CSV writer, no header; its row count."""
    writer.register("part", part)
    try:
        # The path is quoted as a SQL literal: COPY takes no parameter for its target.
        target = "'" + str(path).replace("'", "''") + "'"
        rows = writer.execute(f"COPY part TO {target} (FORMAT CSV, HEADER false)").fetchall()
    finally:
        writer.unregister("part")
    return int(rows[0][0]) if rows else 0


def _write_split(
    writer: Any, table: Any, wanted: Sequence[tuple[Path, int, int]]
) -> dict[str, int] | None:
    """Every partition's file cut from one CSV of the whole result: the writer runs once instead
    of once a file (a COPY costs ~5 ms before its first row, which a daily partition of 365
    rows does not repay; a year's export writes ~1,700 files). The same writer writes the same
    bytes for a row wherever it stands, so the cut is the per-file COPY's output. It needs a
    row per line: None (the caller writes file by file) when a value holds a line break, which
    the writer quotes onto two lines (no INMET value can: RAW holds a file's lines)."""
    if not wanted:
        return {}
    with tempfile.TemporaryDirectory(prefix="whole-", dir=wanted[0][0].parent) as tmp:
        whole = Path(tmp, "whole.csv")
        _copy(writer, table, whole)
        data = whole.read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) != table.num_rows:
        return None
    written: dict[str, int] = {}
    for path, start, count in wanted:
        chunk = lines[start : start + count]
        path.write_bytes(b"\n".join(chunk) + b"\n" if chunk else b"")
        written[str(path)] = count
    return written


def route(fs_of: Any, unload_dir: Path, token: str) -> Any:
    """The Starlette route; ``fs_of()`` gives the server's shared FakeSnow instance.

    It writes files, so it is closed to anyone but the stack's own exporter: a request must
    carry ``Authorization: Bearer <token>`` (the stack's secret, passed to the server in its
    environment), be ``application/json`` (a web page's form or ``text/plain`` POST, which
    needs no CORS preflight, is refused), and name paths inside ``unload_dir`` only."""
    import hmac

    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    expected = f"Bearer {token}".encode()

    async def unload(request: Request) -> JSONResponse:
        given = request.headers.get("authorization", "").encode("latin-1", "replace")
        if not hmac.compare_digest(given, expected):
            return JSONResponse({"error": "a valid unload token is required"}, status_code=401)
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/json":
            return JSONResponse({"error": "the body must be application/json"}, status_code=415)
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict) or not isinstance(body.get("sql"), str):
                raise UnloadError("the body must be a JSON object with 'sql'")
            params = body.get("params") or []
            parts = _partitions(body.get("partitions"), unload_dir)
            time_column = int(body.get("time_column", OBSERVED_AT_COLUMN))
            rows = await run_in_threadpool(
                unload_partitions, fs_of(), body["sql"], params, parts, time_column
            )
        except (UnloadError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except Exception as exc:  # a bug or a disk error: say what, keep serving
            return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=500)
        return JSONResponse({"rows": rows})

    return Route(LOCAL_UNLOAD_ROUTE, unload, methods=["POST"])
