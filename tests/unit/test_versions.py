"""The upload sequence (inmet_pipeline.upload_objects): strictly increasing, fixed width, so
its text sorts as the time of acceptance does; and the SQL's reading of it from a raw/ file
name (snowflake_sql/modules/versions.sql) agrees with Python's, with or without a stage
prefix before the name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import sqlglot

from inmet_local.snowflake.sqlproject import render
from inmet_pipeline.upload_objects import RAW_NAME_RE, UploadSequence, raw_key_for

pytestmark = [pytest.mark.unit]

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
SHA = "ab" * 32


def test_sequences_are_strictly_increasing_even_within_one_microsecond() -> None:
    stamps = iter([T0, T0, T0 - timedelta(seconds=1), T0 + timedelta(microseconds=5)])
    sequence = UploadSequence(lambda: next(stamps))
    values = [sequence() for _ in range(4)]
    assert values == [
        "20260101T120000000000Z",
        "20260101T120000000001Z",
        "20260101T120000000002Z",  # the clock stepped back: still later than the last
        "20260101T120000000005Z",
    ]


def test_the_text_sorts_as_the_time() -> None:
    times = [T0 + timedelta(microseconds=n) for n in (0, 1, 999_999, 1_000_000, 86_400_000_000)]
    texts = [UploadSequence(lambda t=t: t)() for t in times]  # type: ignore[misc]
    assert texts == sorted(texts)
    assert len({len(t) for t in texts}) == 1


def _sql_sequence(tmp_path: Path, names: list[str]) -> list[str]:
    (tmp_path / "call.sql").write_text(
        "{% from 'modules/versions.sql' import upload_sequence %}{{ upload_sequence('v') }}",
        encoding="utf-8",
    )
    expression = render("call.sql", {}, root=tmp_path).strip()
    sql = sqlglot.transpile(
        f"SELECT {expression} FROM t ORDER BY i", read="snowflake", write="duckdb"
    )[0]
    with duckdb.connect() as conn:
        conn.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(names)))
        return [row[0] for row in conn.execute(sql).fetchall()]


def test_the_sql_reads_the_sequence_as_python_does(tmp_path: Path) -> None:
    key = raw_key_for("raw/inmet", "A001", 2024, SHA, "20260101T120000000001Z")
    names = [
        key,  # the whole key
        key.removeprefix("raw/inmet/"),  # METADATA$FILENAME relative to the stage's URL
        key.rsplit("/", 1)[1],
        f"station=A001/year=2024/{SHA}.csv",  # a name from before sequences: none
        f"station=A001/year=2024/20260101T120000000001Z-{SHA}.csv.gz",
    ]
    expected = []
    for name in names:
        match = RAW_NAME_RE.fullmatch(name.rsplit("/", 1)[-1])
        expected.append(match["sequence"] if match else "")
    assert _sql_sequence(tmp_path, names) == expected
    assert expected[:3] == ["20260101T120000000001Z"] * 3
