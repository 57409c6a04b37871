"""The exported partition's bytes: what Snowflake's COPY INTO @stage writes with the options
the export uses, stated as a model of the documented behaviour, and the local unload (the
fakesnow server's stand-in) writing exactly those bytes for the same rows.

The model (``snowflake_unload``) follows "COPY INTO <location>"
(docs.snowflake.com/en/sql-reference/sql/copy-into-location) and "Data unloading
considerations" (docs.snowflake.com/en/user-guide/data-unload-considerations):
- HEADER = TRUE writes the output column names: a double-quoted identifier keeps its case, an
  unquoted one resolves to upper case ("Identifier requirements").
- FIELD_OPTIONALLY_ENCLOSED_BY = NONE and ESCAPE_UNENCLOSED_FIELD = NONE: values are written as
  they are, unenclosed and unescaped; with '"' every string value would be enclosed.
- NULL_IF = ('') : SQL NULL is written as the first NULL_IF value, the empty string.
- Fixed-point numbers are written with their scale's digits; text as stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from inmet_local.emulator.unload import unload_partitions
from inmet_pipeline.columns import (
    CLEAN_COLUMNS,
    CSV_QUOTED_CHARACTERS,
    MEASURE_NAMES,
    QC_COLUMNS,
)
from inmet_pipeline.exports import copy_into_statement, csv_lines, stations_select

pytestmark = [pytest.mark.unit]

EXPECTED_FORMAT = {
    "TYPE": "CSV",
    "FIELD_DELIMITER": "','",
    "RECORD_DELIMITER": "'\\n'",
    "COMPRESSION": "NONE",
    "FIELD_OPTIONALLY_ENCLOSED_BY": "NONE",
    "ESCAPE_UNENCLOSED_FIELD": "NONE",
    "NULL_IF": "('')",
    "EMPTY_FIELD_AS_NULL": "FALSE",
}


def _format_options(copy_sql: str) -> dict[str, str]:
    body = re.search(r"FILE_FORMAT = \((.*)\) HEADER", copy_sql)
    assert body is not None
    pairs = re.findall(r"(\w+) = ('[^']*'|\([^)]*\)|\w+)", body.group(1))
    return dict(pairs)


def _header(copy_sql: str) -> list[str]:
    """The output column names as Snowflake resolves them."""
    select = sqlglot.parse_one(copy_sql, read="snowflake").find(exp.Select)
    assert select is not None
    names = []
    for projection in select.expressions:
        identifier = projection.args["alias"] if isinstance(projection, exp.Alias) else None
        if identifier is None:
            names.append(projection.alias_or_name.upper())
        else:
            names.append(identifier.name if identifier.quoted else identifier.name.upper())
    return names


def snowflake_unload(copy_sql: str, rows: list[tuple[Any, ...]]) -> bytes:
    """The bytes COPY INTO @stage writes for ``rows`` with ``copy_sql``'s options."""
    options = _format_options(copy_sql)
    assert options == EXPECTED_FORMAT, "the model covers exactly the options the export uses"
    assert "HEADER = TRUE" in copy_sql

    def field(value: Any) -> str:
        if value is None:
            return ""  # NULL_IF's first value
        if isinstance(value, Decimal):
            return format(value, "f")
        return str(value)  # unenclosed, unescaped

    lines = [",".join(_header(copy_sql))] + [",".join(field(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_the_header_is_the_contracts_lower_case_names() -> None:
    sql = copy_into_statement("DB.CLEAN.EXPORT_STAGE", "DB.CLEAN.INMET_CLEAN", "A001", 2024)
    assert _header(sql) == list(CLEAN_COLUMNS)
    # The defect the quoted aliases fix: unquoted names come out upper case.
    assert _header("COPY INTO '@s/x' FROM (SELECT station_id, a AS b FROM t)") == [
        "STATION_ID",
        "B",
    ]


def test_the_options_are_the_ones_the_model_states() -> None:
    sql = copy_into_statement("DB.CLEAN.EXPORT_STAGE", "DB.CLEAN.INMET_CLEAN", "A001", 2024)
    assert _format_options(sql) == EXPECTED_FORMAT
    for option in ("SINGLE = TRUE", "OVERWRITE = TRUE", "HEADER = TRUE"):
        assert option in sql


@pytest.fixture
def clean_view() -> Iterator[Any]:
    """An in-process fakesnow with CLEAN's export view shape and rows that exercise every
    kind of value: NULLs, negative and trailing-zero decimals, names with spaces, accents and
    apostrophes."""
    from fakesnow.instance import FakeSnow

    instance = FakeSnow()
    conn = instance.connect("DB", "CLEAN")
    cur = conn.cursor()
    types = {
        "station_id": "VARCHAR(4)",
        "station_name": "VARCHAR",
        "region": "VARCHAR(2)",
        "state": "VARCHAR(2)",
        "latitude": "NUMBER(10,8)",
        "longitude": "NUMBER(11,8)",
        "altitude_m": "NUMBER(7,2)",
        "observed_at": "TIMESTAMP_NTZ",
    }
    # The flags (V1.9.0): NUMBER(1,0), written as the model writes any fixed-point number, with
    # its column's scale (0: "2"). "COPY INTO <location>" and "Data unloading considerations"
    # (docs.snowflake.com) state no number format of their own for CSV, as for the measures'
    # NUMBER(p,1); this model's rule for them is not yet confirmed on a live account.
    types.update(dict.fromkeys(QC_COLUMNS, "NUMBER(1,0)"))
    columns = ", ".join(f"{c} {types.get(c, 'NUMBER(6,1)')}" for c in CLEAN_COLUMNS)
    cur.execute(f"CREATE TABLE INMET_CLEAN ({columns})")
    measures = len(MEASURE_NAMES)
    brasilia = ("A001", "BRASILIA", "CO", "DF", "-15.78944444", "-47.92583332", "1160.96")
    # Each row: its 17 values, then their 17 flags (empty where the file had no value; a value
    # flagged 2 is NULL beside its flag).
    rows = [
        (
            *(*brasilia, "2024-01-01 00:00:00", *(["-0.9"] + [None] * (measures - 1))),
            *(["0"] + [None] * (measures - 1)),
        ),
        (
            *(*brasilia, "2024-01-01 01:00:00", *(["20.0", "885.7"] + ["0.2"] * (measures - 2))),
            *(["1", "0", "0", "0", "2"] + ["0"] * (measures - 5)),
        ),
        (
            *("A921", "SAO FELIX  DO ARAGUAIA", "CO", "MT", "-11.61888888", "-50.72777777"),
            *("218.00", "2024-03-05 13:00:00", *([None] * (measures - 1) + ["100.0"])),
            *([None] * (measures - 1) + ["0"]),
        ),
        (
            *("A999", "SÃO JOSÉ D'OESTE", "S", "SC", "-27.1", "-52.0", "-5.00"),
            *("2024-12-31 23:00:00", *(["1"] * measures)),
            *(["0"] * measures),
        ),
    ]
    marks = ", ".join("%s" for _ in CLEAN_COLUMNS)
    for row in rows:
        cur.execute(f"INSERT INTO INMET_CLEAN VALUES ({marks})", row)
    yield instance
    conn.close()


def test_the_local_unload_writes_exactly_what_snowflake_writes(
    clean_view: Any, tmp_path: Path
) -> None:
    view = "DB.CLEAN.INMET_CLEAN"
    stations = ["A001", "A921", "A999"]
    sql, params = stations_select(view, stations, 2024, 2024)
    conn = clean_view.connect("DB", "CLEAN")
    cur = conn.cursor()
    for station in stations:
        # What Snowflake would unload for the partition: the export's own statement, its rows.
        copy_sql = copy_into_statement("DB.CLEAN.EXPORT_STAGE", view, station, 2024)
        select = re.search(r"FROM \((SELECT .*)\) FILE_FORMAT", copy_sql)
        assert select is not None
        cur.execute(select.group(1))
        rows = cur.fetchall()
        assert rows
        expected = snowflake_unload(copy_sql, rows)
        # What the local unload writes: the adapter's file behind the contract header, as
        # LocalExporter puts it in S3.
        path = tmp_path / f"{station}.csv"
        unload_partitions(clean_view, sql, params, [(station, 2024, path)])
        local = (",".join(CLEAN_COLUMNS) + "\n").encode() + path.read_bytes()
        assert local == expected, station
        # And both are the contract CSV (minimal quoting) of the same rows.
        assert "".join(csv_lines(rows)).encode() == expected


def test_no_clean_text_value_could_need_quoting() -> None:
    """The unenclosed unload equals minimal quoting only while no text value holds a character
    CSV would quote: the station name is the one free-text column, refused at upload when it
    holds one (reader.py), the others come from closed sets."""
    assert set(CSV_QUOTED_CHARACTERS) == {",", '"', "\r", "\n"}
    for character in (",", '"', "\n"):  # what the contract's writer quotes; \r is a control
        # character, refused in every line of an upload
        assert "".join(csv_lines([("A001", f"A{character}B")], header=False)).startswith('A001,"')
