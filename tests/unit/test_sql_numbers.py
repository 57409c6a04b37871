"""One definition of an INMET number (inmet_format.number_pattern), read alike by the reader,
the rules, the generated SQL and the SQL modules: the forms INMET writes near the equator
(",03499999", "-,98722221") and with a dropped leading zero (",5", "-,5") parse to the right
number everywhere; and the range rule (rule 5) compares the value as written, never a rounded
one ("100,0004" % and "-0,0004" mm are outside their ranges)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlglot

from inmet_local.snowflake.sqlproject import render
from inmet_local.synth.synth import generate_station_year, station_catalogue
from inmet_pipeline import rules
from inmet_pipeline.columns import MEASURES
from inmet_pipeline.inmet_format import NUMBER_RE, format_metadata_number, parse_value
from inmet_pipeline.reader import validate
from tests.helpers import join, lines_of, small_file

pytestmark = [pytest.mark.unit]

FORMS = {
    ",03499999": Decimal("0.03499999"),
    "-,98722221": Decimal("-0.98722221"),
    ",5": Decimal("0.5"),
    "-,5": Decimal("-0.5"),
    "-15,78944444": Decimal("-15.78944444"),
    "1160,96": Decimal("1160.96"),
    "0": Decimal(0),
    "-0,0004": Decimal("-0.0004"),
    "100,0004": Decimal("100.0004"),
}


def _duckdb(expression: str, values: list[str | None]) -> list[object]:
    """A Snowflake expression over column ``v``, run on DuckDB through sqlglot's translation
    (the one fakesnow, the local warehouse, uses)."""
    sql = sqlglot.transpile(
        f"SELECT {expression} FROM t ORDER BY i", read="snowflake", write="duckdb"
    )[0]
    with duckdb.connect() as conn:
        conn.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
        return [row[0] for row in conn.execute(sql).fetchall()]


def _module_macro(tmp_path: Path, call: str) -> str:
    """A call of a macro of snowflake_sql/modules/, rendered as schemachange renders it."""
    (tmp_path / "call.sql").write_text(call, encoding="utf-8")
    return render("call.sql", {}, root=tmp_path).strip()


@pytest.mark.parametrize(("text", "number"), sorted(FORMS.items()))
def test_every_form_is_an_inmet_number_in_python(text: str, number: Decimal) -> None:
    assert NUMBER_RE.fullmatch(text.encode())
    assert parse_value(text.encode()) == float(number)
    if abs(number) < 10_000:
        assert rules.parse_number(text) == float(number)


def test_the_metadata_rule_accepts_what_the_equator_files_hold() -> None:
    """The 2024 archive's Macapá-area files were refused: LATITUDE ',03499999'."""
    for text in (",03499999", "-,98722221", ",5", "-,5", ".5", "-.5"):
        assert rules.NUMBER_RE.fullmatch(text), text
    for text in (",", "-", "-,", "1,", ",123456789", "12345", "1,2,3", "--1", "+1"):
        assert not rules.NUMBER_RE.fullmatch(text), text


def test_the_sql_reads_every_form_as_python_does() -> None:
    texts = sorted(FORMS)
    parsed = _duckdb(rules.sql_number("v", 28, 8), [*texts, None, "x"])
    assert parsed[: len(texts)] == [FORMS[t] for t in texts]
    assert parsed[len(texts) :] == [None, None]


def test_the_sql_module_states_the_same_expression_as_the_rules(tmp_path: Path) -> None:
    call = "{% from 'modules/numbers.sql' import inmet_number %}{{ inmet_number('v', 12, 8) }}"
    assert _module_macro(tmp_path, call) == rules.sql_number("v", 12, 8)


def test_the_generated_quarantine_check_accepts_equatorial_coordinates() -> None:
    expression = rules.sql_metadata_violations("TRIM(v)", "5")
    assert _duckdb(expression, [",03499999", "-,98722221", "-15,78944444"]) == [None] * 3
    assert _duckdb(expression, [",123456789"]) != [None]


def test_the_generator_writes_inmet_s_equatorial_form() -> None:
    assert format_metadata_number(0.03499999) == ",03499999"
    assert format_metadata_number(-0.98722221) == "-,98722221"
    assert format_metadata_number(-15.78944444) == "-15,78944444"
    assert format_metadata_number(0.0) == "0"
    macapa = next(s for s in station_catalogue(30) if s.station_id == "A249")
    data = generate_station_year(macapa, 2024, partial_until=None).data
    assert b"LATITUDE:;,03499999\n" in data
    report = validate(data)
    assert report.valid, report.errors
    assert report.station is not None
    assert report.station.latitude == pytest.approx(0.03499999)
    # The demo's sample (5 stations of 2024) holds it.
    assert "A249" in {s.station_id for s in station_catalogue(5)}


# --- rule 5 on the value as written -------------------------------------------------------


def _range_checked_sql(tmp_path: Path, measure: str) -> str:
    """modules/measures.sql's rule 5 for one measure, over a RAW column named ``v``."""
    call = (
        "{% from 'modules/measures.sql' import MEASURES, parsed, range_checked %}"
        "{% for m in MEASURES if m.name == '" + measure + "' %}"
        "{% set col = dict(m, column='v') %}"
        "IFF({{ parsed(col, 'r') }} BETWEEN {{ m.low }} AND {{ m.high }}, "
        "{{ parsed(col, 'r') }}, NULL)::{{ m.type }}"
        "{% endfor %}"
    )
    return _module_macro(tmp_path, call).replace("r.v", "v")


@pytest.mark.parametrize(
    ("measure", "text", "expected"),
    [
        ("humidity_pct", "100,0004", None),
        ("humidity_pct", "100", Decimal("100.0")),
        ("humidity_pct", "99,96", Decimal("100.0")),  # in range as written; then rounded
        ("precipitation_mm", "-0,0004", None),
        ("precipitation_mm", "-,0004", None),
        ("precipitation_mm", ",04", Decimal("0.0")),
        ("air_temp_c", "60,00000001", None),
        ("air_temp_c", "-40,00000001", None),
    ],
)
def test_the_range_rule_compares_the_value_as_written(
    tmp_path: Path, measure: str, text: str, expected: Decimal | None
) -> None:
    sql = _range_checked_sql(tmp_path, measure)
    assert _duckdb(sql, [text]) == [expected]
    m = next(m for m in MEASURES if m.name == measure)
    value = parse_value(text.encode())
    assert value is not None
    assert (m.low <= value <= m.high) == (expected is not None)


def test_the_upload_warns_about_exactly_the_values_the_sql_empties() -> None:
    lines = lines_of(small_file("B").data)
    fields = lines[9].split(b";")
    humidity = 2 + [m.name for m in MEASURES].index("humidity_pct")
    fields[humidity] = b"100,0004"
    fields[2] = b"-0,0004"  # precipitation_mm
    lines[9] = b";".join(fields)
    report = validate(join(lines))
    assert report.valid, report.errors
    assert report.out_of_range == {"humidity_pct": 1, "precipitation_mm": 1}
    assert any(w.code == "out_of_range" for w in report.warnings)


def test_a_value_with_more_decimals_than_any_stage_reads_exactly_is_refused() -> None:
    lines = lines_of(small_file("B").data)
    fields = lines[9].split(b";")
    fields[2] = b"0,000000001"  # 9 decimals
    lines[9] = b";".join(fields)
    report = validate(join(lines))
    assert not report.valid
    assert report.errors[0].code == "invalid_value"
