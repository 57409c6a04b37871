"""docs/contracts.md §3 as one plain DuckDB query over raw files: the yardstick the benchmarks
compare the pipeline with (bench_warehouse.py, bench_local_run.py, bench_peers.py). Not used by the
pipeline itself, whose rules live in snowflake_sql/.

Rule 7 as the warehouse applies it (snowflake_sql/R__views.sql, OPEN_BATCH_OBSERVATIONS.is_latest,
and step 3b of task/process_batch.sql): of two lines for one station and hour, the most recently
*uploaded* file's wins, by the raw object's S3 LastModified, then its name. Here the raw files
are local files, so LastModified is the file's modification time (DuckDB's read_blob reads it
without reading the contents) and the name is its path. DuckDB gives no line numbers: the
warehouse's last tie-break (the later line of one file) has no equivalent, and is not needed
(an INMET file holds each hour once; tests/unit/test_baseline.py)."""

from __future__ import annotations

from inmet_pipeline.columns import MEASURES

_MEASURES = [(m.name, m.low, m.high) for m in MEASURES]


def duckdb_query(glob: str) -> str:
    """One statement: CLEAN's rows (rules 1-7) from the raw files, written to a table ``clean``
    (the pipeline writes CLEAN too, so the yardstick materialises its result; counting alone
    would let DuckDB skip work the pipeline cannot)."""
    columns = "{" + ", ".join(f"'c{i:02d}': 'VARCHAR'" for i in range(1, 21)) + "}"
    parsed = ",\n".join(
        f"TRY_CAST(REPLACE(NULLIF(NULLIF(TRIM(c{i + 3:02d}), ''), '-9999'), ',', '.') "
        f"AS DECIMAL(12,3)) AS {name}"
        for i, (name, _, _) in enumerate(_MEASURES)
    )
    checked = ",\n".join(
        f"IF({n} BETWEEN {lo} AND {hi}, {n}, NULL) AS {n}" for n, lo, hi in _MEASURES
    )
    all_null = " AND ".join(f"{n} IS NULL" for n, _, _ in _MEASURES)
    return f"""
    WITH lines AS (
      SELECT *
      FROM read_csv('{glob}', delim=';', header=false, quote='', escape='', columns={columns},
                    null_padding=true, filename=true, auto_detect=false)
    ),
    -- (DuckDB gives no line numbers, so the metadata line is found by its key.)
    stations AS (SELECT filename, MAX(IF(c01 LIKE 'CODIGO%', TRIM(c02), NULL)) AS station_id
                 FROM lines GROUP BY filename),
    uploads AS (SELECT filename, last_modified FROM read_blob('{glob}')),
    parsed AS (
      SELECT s.station_id, l.filename, u.last_modified,
             TRY_CAST(REPLACE(l.c01, '/', '-') || ' ' || LEFT(l.c02, 2) || ':00:00' AS TIMESTAMP)
               AS observed_at,
             {parsed}
      FROM lines l JOIN stations s USING (filename) JOIN uploads u USING (filename)
    ),
    checked AS (SELECT station_id, observed_at, filename, last_modified, {checked} FROM parsed
                WHERE observed_at IS NOT NULL),
    -- Rule 7 before rule 6, as in the warehouse: a newer upload whose hour is all missing
    -- removes that hour (it is the latest line, and then not in CLEAN).
    latest AS (
      SELECT * FROM checked
      QUALIFY row_number() OVER (
        PARTITION BY station_id, observed_at ORDER BY last_modified DESC, filename DESC
      ) = 1
    )
    SELECT * EXCLUDE (filename, last_modified) FROM latest WHERE NOT ({all_null})
    """


def duckdb_clean_rows(con: object, glob: str) -> int:
    """Run the yardstick on a DuckDB connection: CREATE TABLE clean AS …; its row count."""
    execute = con.execute  # type: ignore[attr-defined]
    execute(f"CREATE OR REPLACE TABLE clean AS {duckdb_query(glob)}")
    return int(execute("SELECT COUNT(*) FROM clean").fetchone()[0])
