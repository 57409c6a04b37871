"""inmet_pipeline.rules: the one definition of a valid file, as the validator applies it, as
the notification parser applies it, and as the generated SQL states it (run on DuckDB through
sqlglot's Snowflake→DuckDB translation, the same translation fakesnow uses)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from inmet_pipeline import rules
from inmet_pipeline.notifications import LoadNotification, NotificationError
from inmet_pipeline.reader import validate
from tests.crafted import crafted_files
from tests.helpers import small_file
from tests.paths import real_file

pytestmark = [pytest.mark.unit]

BASES = {"B-latin1": small_file("B").data, "A-utf8": small_file("A", encoding="utf-8").data}


@pytest.mark.parametrize("base", sorted(BASES))
@pytest.mark.parametrize("name", sorted(crafted_files(BASES["B-latin1"])))
def test_each_crafted_file_is_refused_with_its_code_and_line(base: str, name: str) -> None:
    crafted = crafted_files(BASES[base])[name]
    report = validate(crafted.data)
    assert not report.valid, name
    first = report.errors[0]
    assert (first.code, first.line) == (crafted.code, crafted.line), first
    assert "U+" in first.message or first.code in ("date_out_of_range", "bad_metadata_value")


@pytest.mark.real_data
def test_the_real_file_of_the_issue_with_arabic_indic_latitude(real_dir: Path) -> None:
    data = real_file(real_dir, "INMET_CO_DF_A001_BRASILIA").read_bytes()
    assert validate(data).valid
    crafted = crafted_files(data)["arabic_indic_latitude"]
    first = validate(crafted.data).errors[0]
    assert first.code == "bad_metadata_value"
    assert first.line == 5
    assert "ARABIC-INDIC DIGIT ONE" in first.message


def test_plain_spaces_around_values_are_what_sql_trims() -> None:
    lines = BASES["B-latin1"].split(b"\n")
    lines[3] = b"CODIGO (WMO):;  a001  "
    report = validate(b"\n".join(lines))
    assert report.valid, report.errors
    assert report.station is not None
    assert report.station.station_id == "A001"


def test_a_file_of_millions_of_blank_lines_is_refused_early() -> None:
    huge = BASES["B-latin1"] + b"\n" * 3_000_000
    report = validate(huge)
    assert report.errors[-1].code == "too_many_lines"
    assert report.size_bytes < len(BASES["B-latin1"]) + 20_000  # stopped reading early


def test_the_notification_parser_uses_the_same_years_and_station_pattern() -> None:
    def message(station: str, year: int) -> dict[str, object]:
        return {
            "event": "inmet.clean.loaded",
            "batch_id": "b",
            "files": [],
            "partitions": [{"station_id": station, "year": year, "rows": 1}],
            "loaded_at": "2024-01-01T00:00:00Z",
        }

    LoadNotification.parse(message("A001", rules.YEAR_MIN))
    LoadNotification.parse(message("A001", rules.YEAR_MAX))
    for station, year in (("A001", rules.YEAR_MIN - 1), ("A001", rules.YEAR_MAX + 1)):
        with pytest.raises(NotificationError):
            LoadNotification.parse(message(station, year))
    with pytest.raises(NotificationError):
        LoadNotification.parse(message("A\uff10\uff10\uff11", 2024))


# --- the generated SQL agrees with the validator ----------------------------------------------


def _as_loaded(text: str) -> tuple[str, str | None]:
    """What the pipe loads of a metadata line's text after its key: the second field (c02) and
    the first non-empty later field (COALESCE(c03, …): the file format loads empty fields as
    NULL, EMPTY_FIELD_AS_NULL = TRUE)."""
    value, *later = text.split(";")
    return value, next((f for f in later if f != ""), None)


def _sql_verdicts(values: list[tuple[int, str]]) -> list[str | None]:
    """The generated Snowflake CASE, run on DuckDB (sqlglot's translation, as in fakesnow), on
    each (line, text after the key) as the pipe loads it."""
    expression = rules.sql_metadata_violations("TRIM(v)", "n", "m")
    sql = sqlglot.transpile(
        f"SELECT {expression} FROM t ORDER BY i", read="snowflake", write="duckdb"
    )[0]
    with duckdb.connect() as conn:
        conn.execute("CREATE TABLE t (i INTEGER, n INTEGER, v VARCHAR, m VARCHAR)")
        conn.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?)",
            [(i, n, *_as_loaded(v)) for i, (n, v) in enumerate(values)],
        )
        return [row[0] for row in conn.execute(sql).fetchall()]


def _python_verdict(line: int, value: str) -> bool:
    """True when the validator accepts ``value`` on metadata line ``line`` of a valid file."""
    lines = BASES["B-latin1"].decode("latin-1").split("\n")
    key = lines[line - 1].split(";", 1)[0]
    lines[line - 1] = f"{key};{value}"
    return validate("\n".join(lines).encode("utf-8")).valid


_ALPHABET = st.sampled_from(
    [
        *"0123456789,.-+ AaBbCcDdEeNnOoSsFPRTZ=@;\\'",
        *("\u0661", "\uff10", "\u00a0", "\u2009", "\u0131", "\u00c7", "\U0001f327"),
    ]
)
_VALUES = st.one_of(
    st.text(_ALPHABET, max_size=14),
    st.sampled_from(["-15,78944444", "-47,92583332", "1160,96", "A001", "DF", "co", "SE"]),
    st.decimals(-200, 4000, places=3, allow_nan=False).map(lambda d: str(d).replace(".", ",")),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([1, 2, 3, 4, 5, 6, 7]), _VALUES), min_size=1, max_size=20)
)
def test_what_the_validator_accepts_the_sql_rules_accept(values: list[tuple[int, str]]) -> None:
    """Differential: a metadata value the validator accepts passes the SQL rules (which the
    warehouse's quarantine check applies); the SQL never refuses what Python accepts. (The
    SQL may accept more — C1 and Unicode spaces are the validator's alone — never less.)"""
    for (line, value), verdict in zip(values, _sql_verdicts(values), strict=True):
        if _python_verdict(line, value):
            assert verdict is None, (line, value, verdict)


def test_the_sql_refuses_each_crafted_metadata_value() -> None:
    cases = [(5, "-\u0661\u0665,\u0667"), (4, "A\uff10\uff10\uff11"), (5, "48,85"), (7, "1e3")]
    cases += [(5, "-000000015,5"), (1, "XX"), (2, "ZZ"), (6, ""), (4, "AB12")]
    assert all(v is not None for v in _sql_verdicts(cases))
    assert (
        _sql_verdicts([(5, "-15,78944444"), (4, "a001"), (1, "co"), (7, "1160,96")]) == [None] * 4
    )


def test_the_generated_sql_file_is_current() -> None:
    """snowflake_sql/task/file_violations.sql is what rules.py generates (regenerate with
    `python -m inmet_pipeline.rules > snowflake_sql/task/file_violations.sql`)."""
    path = Path(__file__).resolve().parents[2] / "snowflake_sql" / rules.GENERATED_SQL_PATH
    assert path.read_text(encoding="utf-8") == rules.violations_view_sql()


# --- the station name no spreadsheet runs and no stage cuts ------------------------------------

# (text after 'ESTACAO:;', refused): formula triggers (OWASP, "CSV Injection"), the CSV's NULL
# marker, a name cut at ';', and names that must pass.
HOSTILE_NAMES = [
    ("=1+2", True),
    ("+5511999999999", True),
    ("-CURITIBA", True),
    ("@SUM(A1:A9)", True),
    ('=HYPERLINK("http://x")', True),
    ("\\N", True),
    ("SAO JOSE;DOS CAMPOS", True),
    ("CURITIBA; ", True),
    ("  =1", True),  # after the ASCII spaces the warehouse trims
    ("'=1", True),
    ("CURITIBA", False),
    ("CURITIBA;", False),  # an empty field after the name drops nothing
    ("SÃO FÉLIX  DO ARAGUAIA", False),
    ("Ó-BIDOS - A+B", False),  # only the first character is a formula trigger
    ("1 DE MAIO", False),
    ("Estação 🌧 Chuva", False),
]


@pytest.mark.parametrize(("text", "refused"), HOSTILE_NAMES)
def test_the_station_name_rule_in_the_validator_and_the_sql(text: str, refused: bool) -> None:
    """One rule, one message, in the validator and in the SQL generated from rules.py: the
    upload refuses the file (422) before the warehouse could quarantine it."""
    lines = BASES["B-latin1"].decode("latin-1").split("\n")
    lines[2] = "ESTACAO:;" + text
    report = validate("\n".join(lines).encode("utf-8"))
    [sql] = _sql_verdicts([(3, text)])
    if refused:
        first = report.errors[0]
        assert (first.code, first.line) == (rules.NAME_RULE_CODE, 3), first
        assert "must begin with a letter or a digit" in first.message
        assert sql is not None
        assert "must begin with a letter or a digit" in sql
    else:
        assert report.valid, report.errors
        assert sql is None


def test_the_forbidden_first_characters_are_all_of_ascii_punctuation() -> None:
    import string

    assert set(rules.NAME_FIRST_FORBIDDEN) == set(string.punctuation)
    for char in rules.NAME_FIRST_FORBIDDEN:
        assert _sql_verdicts([(3, f"{char}X")]) != [None], char
