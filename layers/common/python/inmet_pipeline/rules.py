"""What a valid INMET station file is: every rule that more than one stage must agree on, once.

The validator (``reader``), the warehouse (the task's quarantine check in snowflake_sql/, whose
SQL is generated from here by ``sql_metadata_violations``) and the notification parser
(``notifications``) all take their rules from this module, and a differential test
(tests/unit/test_rules.py, tests/integration/test_valid_file_fuzz.py) keeps them agreeing. The
rule is: **whatever the validator accepts, the warehouse loads and the export exports.**

The rules, and why:

- **Canonical ASCII metadata.** The warehouse reads a metadata value as the second
  ``;``-separated field with ``TRIM`` (which removes ASCII spaces only) and
  ``TRY_TO_DECIMAL``; Python's ``str.strip``, ``\\d`` and ``float()`` accept every Unicode space
  and digit (``-١٥,٧٨٩`` is a float to Python and NULL to Snowflake). So codes and numbers are
  matched by ASCII-only patterns, and only ASCII spaces around a value are ignored.
- **Closed sets**: the region (N, NE, CO, SE, S) and the 27 UF codes; the WMO code is one letter
  and three digits (``^[A-Z][0-9]{3}$``), the ``VARCHAR(4)`` of STATIONS.station_id. Codes are
  compared after ASCII upper-casing, as the SQL's ``UPPER`` does.
- **No control characters.** No line may hold a C0 control character or DEL (a tab, a NUL, a
  vertical tab …): the pipe's file format keeps them and no later stage means them. Metadata
  values (which reach typed columns and the export) also may not hold C1 controls, Unicode
  spaces other than U+0020, or invisible format characters (zero-width space, BOM). The header
  line is allowed C1 characters: a real INMET file (Curitiba 2004) has a double-encoded header
  (``PRECIPITAÃ\\x87Ã\\x83O``); the header reaches no typed column.
- **Coordinates and altitude** inside Brazil's plausible bounds (islands included: Fernando de
  Noronha, Trindade, São Pedro e São Paulo) and inside the column types of CLEAN.STATIONS
  (``NUMBER(10,8)``, ``NUMBER(11,8)``, ``NUMBER(7,2)``): at most 4 integer digits and 8 decimals,
  so that ``TRY_TO_DECIMAL(value, 12, 8)`` never gives NULL for an accepted value.
- **A station name no spreadsheet runs and no stage cuts.** The export writes the name into
  every row of its station (unquoted, exports.UNLOAD_FILE_FORMAT). A cell beginning with ``=``,
  ``+``, ``-`` or ``@`` is run as a formula by spreadsheets that open the CSV (OWASP, "CSV
  Injection", https://owasp.org/www-community/attacks/CSV_Injection); ``\\N`` is the NULL
  marker of Snowflake's CSV (NULL_IF's default, "CREATE FILE FORMAT",
  https://docs.snowflake.com/en/sql-reference/sql/create-file-format), so that name would
  load as NULL; and a
  ``;`` ends the name where the warehouse reads it (the second field), dropping the rest
  without a word. One rule covers them: the name begins with a letter or a digit (no ASCII
  punctuation first: ``NAME_FIRST_FORBIDDEN``) and is the last field of its line.
- **Dates** in years ``YEAR_MIN``..``YEAR_MAX``: INMET's yearly archive of automatic stations
  starts in 2000; a fixed upper bound keeps the rule the same whenever it is checked. The load
  notification's partitions use the same range.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from inmet_pipeline.inmet_format import MAX_DECIMALS, number_pattern

REGIONS: Final = ("N", "NE", "CO", "SE", "S")
STATES: Final = (
    "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
    "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
)  # fmt: skip

# ASCII only: [0-9], never \d (which is Unicode-aware in str patterns).
WMO_PATTERN: Final = "^[A-Z][0-9]{3}$"
WMO_RE: Final = re.compile(WMO_PATTERN)
REGION_PATTERN: Final = "^[A-Za-z]{1,2}$"
STATE_PATTERN: Final = "^[A-Za-z]{2}$"

YEAR_MIN: Final = 2000
YEAR_MAX: Final = 2100

# Metadata numbers: INMET's number (inmet_format.number_pattern, the definition the data values
# use too) with 1-4 integer digits, 1-8 decimals and a decimal comma (or point); the leading
# zero may be absent (",03499999", "-,98722221": stations within 1 degree of the equator).
# 12 digits at most: the precision of sql_number(value, 12, 8) in the SQL.
METADATA_INTEGER_DIGITS: Final = 4
NUMBER_PATTERN: Final = f"^{number_pattern(METADATA_INTEGER_DIGITS, MAX_DECIMALS, ',.')}$"
NUMBER_RE: Final = re.compile(NUMBER_PATTERN)

MAX_STATION_NAME_CHARS: Final = 100  # INMET's longest is ~40; the export carries the name
# The characters a station name may not begin with: every ASCII punctuation character (=, +,
# -, @ and the backslash of \N among them). ASCII spaces are trimmed and control characters
# refused by the other rules; a non-ASCII first character (Á, Ç …) is a letter of a real name.
NAME_FIRST_FORBIDDEN: Final = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
NAME_RULE_CODE: Final = "unsafe_station_name"


def station_name_unsafe(name: str, later_fields: list[str]) -> bool:
    """True when the station name ``name`` (line 3's second field, trimmed) begins with an
    ASCII punctuation character, or when the line has a non-empty field after it
    (``later_fields``: the line's fields after the name, as split on ``;``)."""
    first_forbidden = name != "" and name[0] in NAME_FIRST_FORBIDDEN
    return first_forbidden or any(later_fields)


def station_name_message(label: str, shown: str) -> str:
    """The rule's one message; ``shown``: what line 3 holds after its key, quoted."""
    return (
        f"{label} (line 3), the station name, is {shown}: a station name must begin with a "
        "letter or a digit and be the last field of its line. Spreadsheets run a cell that "
        "begins with =, +, - or @ as a formula (every exported row carries the name), \\N is "
        "the CSV's NULL marker, and text after a ';' would be dropped."
    )


@dataclass(frozen=True, slots=True)
class NumberRule:
    """One numeric metadata value: its line, its label, its bounds (inclusive)."""

    field: str  # StationMeta / CLEAN.STATIONS column
    label: str
    line: int
    low: float
    high: float
    scale: int  # decimals of the CLEAN.STATIONS column (SQL rounds to it)


COORDINATES: Final = (
    # Brazil: 5.27 N (Monte Caburaí) to 33.75 S (Chuí); 73.99 W (Serra do Divisor) to 28.85 W
    # (Martim Vaz); with a small margin. Altitude: the coast to Pico da Neblina (2,995 m).
    NumberRule("latitude", "LATITUDE", 5, -35.0, 6.0, 8),
    NumberRule("longitude", "LONGITUDE", 6, -75.0, -28.0, 8),
    NumberRule("altitude_m", "ALTITUDE", 7, -100.0, 3100.0, 2),
)

# C0 controls and DEL: never in any line.
_C0: Final = frozenset(range(0x20)) | {0x7F}
C0_BYTES_RE: Final = re.compile(rb"[\x00-\x1f\x7f]")
C0_TEXT_RE: Final = re.compile(r"[\x00-\x1f\x7f]")
# Not in a metadata value: controls (C0, C1), separators other than U+0020, format characters,
# surrogates, private use, unassigned.
_BAD_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})


def describe_char(char: str) -> str:
    """``U+0009 (CHARACTER TABULATION)``: a character a person can identify."""
    names = {"\t": "TAB", "\x00": "NUL", "\x0b": "VERTICAL TAB", "\x0c": "FORM FEED"}
    name = names.get(char) or unicodedata.name(char, "") or unicodedata.category(char)
    return f"U+{ord(char):04X} ({name})"


def first_control_byte(line: bytes) -> int | None:
    """The 0-based position of the first C0 control or DEL in ``line``, or None."""
    match = C0_BYTES_RE.search(line)
    return match.start() if match else None


def first_control_char(text: str) -> int | None:
    match = C0_TEXT_RE.search(text)
    return match.start() if match else None


def first_bad_value_char(value: str) -> int | None:
    """Position of the first character not allowed in a metadata value (see module doc)."""
    for i, char in enumerate(value):
        if char == " ":
            continue
        if ord(char) < 0x80:
            if ord(char) in _C0:
                return i
            continue
        if unicodedata.category(char) in _BAD_CATEGORIES:
            return i
    return None


def trim(value: str) -> str:
    """What the SQL's TRIM does: ASCII spaces only (Snowflake's default characters)."""
    return value.strip(" ")


def first_non_ascii(value: str) -> int | None:
    for i, char in enumerate(value):
        if ord(char) > 0x7F:
            return i
    return None


def parse_number(value: str) -> float | None:
    """A metadata number as the warehouse reads it, or None when it would not."""
    if not NUMBER_RE.fullmatch(value):
        return None
    return float(value.replace(",", "."))


def sql_number(text: str, precision: int, scale: int) -> str:
    """A Snowflake SQL expression: the INMET number ``text`` (already matched by the number
    pattern, or NULL) as NUMBER(precision, scale), NULL when it is not one. Every number the
    warehouse reads from a file goes through this one expression (the metadata here and in
    R__views.sql, the 17 values in modules/measures.sql; tests/unit/test_sql_numbers.py holds
    them to it).

    The decimal comma becomes a point and a dropped leading zero is put back (",5" -> "0.5",
    "-,98722221" -> "-0.98722221"), so TRY_TO_DECIMAL only ever sees the plain form its
    documentation shows ('345.123'); it returns NULL for what it cannot convert, and rounds
    to ``scale`` decimals ("TRY_TO_DECIMAL, TRY_TO_NUMBER, TRY_TO_NUMERIC",
    https://docs.snowflake.com/en/sql-reference/functions/try_to_decimal; rounding: "TO_DECIMAL,
    TO_NUMBER, TO_NUMERIC", https://docs.snowflake.com/sql-reference/functions/to_decimal). With
    ``scale`` = MAX_DECIMALS no accepted number is rounded."""
    point = f"REPLACE({text}, ',', '.')"
    plain = (
        f"IFF(STARTSWITH({point}, '.'), '0' || {point}, "
        f"IFF(STARTSWITH({point}, '-.'), '-0' || SUBSTR({point}, 2), {point}))"
    )
    return f"TRY_TO_DECIMAL({plain}, {precision}, {scale})"


def year_ok(year: int) -> bool:
    return YEAR_MIN <= year <= YEAR_MAX


# --------------------------------------------------------------------------------------------
# SQL, generated: the same rules as Snowflake predicates over the RAW metadata lines
# --------------------------------------------------------------------------------------------


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _sql_text(char: str) -> str:
    """``char`` as a Snowflake string literal (quote doubled, backslash escaped)."""
    return "'" + char.replace("\\", "\\\\").replace("'", "''") + "'"


def sql_metadata_violations(
    value: str = "value", line: str = "file_row_number", later: str = "NULL"
) -> str:
    """A Snowflake SQL expression: NULL when the metadata line ``line`` (1-8) with TRIMmed
    second field ``value`` obeys the rules, else the reason (text). ``later``: an expression
    that is NULL when the line has no non-empty field after the value (the pipe's file format
    loads empty fields as NULL). Generated from the constants above; the task's quarantine
    check uses it (R__views.sql) and a test checks that it agrees with the validator."""
    # RLIKE is anchored in Snowflake (the whole string must match); the patterns' ^$ are
    # harmless there and make them usable as Python patterns too.
    checks = [
        (1, f"NOT ({value} RLIKE '{REGION_PATTERN}') OR UPPER({value}) NOT IN "
            f"({_sql_list(REGIONS)})", "REGIAO is not one of " + ", ".join(REGIONS)),
        (2, f"NOT ({value} RLIKE '{STATE_PATTERN}') OR UPPER({value}) NOT IN "
            f"({_sql_list(STATES)})", "UF is not a Brazilian state code"),
        # In the validator's order (preamble.py): empty or too long; then the name rule
        # (station_name_unsafe; Snowflake string literals escape a backslash as two and a quote
        # as '': "Escape sequences in single-quoted string constants",
        # https://docs.snowflake.com/en/sql-reference/data-types-text); then what CSV would
        # quote (the export writes the name unenclosed,
        # exports.UNLOAD_FILE_FORMAT; CR/LF are control characters).
        (3, f"{value} = '' OR LENGTH({value}) > {MAX_STATION_NAME_CHARS}",
            "ESTACAO (the station name) is empty or too long"),
        (3, f"LEFT({value}, 1) IN ({', '.join(_sql_text(c) for c in NAME_FIRST_FORBIDDEN)}) "
            f"OR {later} IS NOT NULL",
            "ESTACAO (the station name) must begin with a letter or a digit and be the last "
            "field of its line"),
        (3, f"CONTAINS({value}, ',') OR CONTAINS({value}, '\"')",
            "ESTACAO (the station name) holds a comma or a double quote"),
        (4, f"NOT (UPPER({value}) RLIKE '{WMO_PATTERN}')",
            "CODIGO (WMO) is not a letter and three digits"),
    ]  # fmt: skip
    for rule in COORDINATES:
        number = sql_number(value, 12, MAX_DECIMALS)
        checks.append(
            (
                rule.line,
                f"NOT ({value} RLIKE '{NUMBER_PATTERN}') OR NOT ({number} BETWEEN "
                f"{rule.low:g} AND {rule.high:g})",
                f"{rule.label} is not a number between {rule.low:g} and {rule.high:g}",
            )
        )
    whens = "\n    ".join(
        f"WHEN {line} = {n} AND ({value} IS NULL OR {cond}) THEN '{reason}'"
        for n, cond, reason in checks
    )
    return f"CASE\n    {whens}\n  END"  # no ELSE: NULL (sqlfluff ST01)


def sql_year_violation(date_text: str = "c01") -> str:
    """NULL when a data line's date text starts with a year inside the accepted range, else
    the reason (lines whose date is unreadable are NULL here: the task skips them)."""
    year = f"TRY_TO_NUMBER(LEFT({date_text}, 4))"
    return (
        f"IFF({year} IS NOT NULL AND NOT ({year} BETWEEN {YEAR_MIN} AND {YEAR_MAX}), "
        f"'the year is outside {YEAR_MIN}-{YEAR_MAX}', NULL)"
    )


# Under snowflake_sql/. Not named V*_*, R_*, A_*: schemachange (4.x) takes any such *.sql under
# its root folder for a migration script (it refused to deploy while this was
# task/valid_file_rules.sql: "two underscores are required between "Valid_file" and the
# description"); tests/unit/test_sql_measures.py runs schemachange's own discovery.
GENERATED_SQL_PATH: Final = "task/file_violations.sql"


def violations_view_sql() -> str:
    """The view the task's quarantine step reads (snowflake_sql/task/file_violations.sql is
    this text; `python -m inmet_pipeline.rules` writes it, a test checks it is current): per
    file of the open batch, the first line that breaks a rule and the rule, as text."""
    later = "COALESCE(" + ", ".join(f"c{i:02d}" for i in range(3, 21)) + ")"
    metadata = sql_metadata_violations("TRIM(c02)", "file_row_number", later).replace("\n", "\n  ")
    return f"""-- GENERATED from layers/common/python/inmet_pipeline/rules.py by
-- `python -m inmet_pipeline.rules` (tests/unit/test_rules.py checks that it is current): the
-- validator's rules as Snowflake SQL. Per file of the open batch, the first line that breaks
-- one, with the rule: the task sets such a file aside (RAW.QUARANTINE) and loads the rest of
-- the batch. The upload API refuses these files already; this is the warehouse's own check
-- (defence in depth) of what it cannot load: NULL or out-of-range station numbers, codes that
-- do not fit their columns, dates outside the pipeline's years. The metadata lines and the
-- data lines are checked apart: a data line is read for its date only (checked with the
-- metadata lines, every column of every data line was carried along, which doubled this
-- step's time on the local warehouse).
CREATE OR REPLACE VIEW {{{{ database }}}}.{{{{ raw_schema }}}}.OPEN_BATCH_VIOLATIONS AS
WITH line_checks AS (
  SELECT
    batch_id,
    file_name,
    file_row_number,
    {metadata} AS violation,
    LEFT(c02, 200) AS found
  FROM {{{{ database }}}}.{{{{ raw_schema }}}}.OPEN_BATCH_LINES
  WHERE file_row_number <= 8
  UNION ALL
  SELECT
    batch_id,
    file_name,
    file_row_number,
    {sql_year_violation("c01")} AS violation,
    LEFT(c01, 10) AS found
  FROM {{{{ database }}}}.{{{{ raw_schema }}}}.OPEN_BATCH_LINES
  WHERE file_row_number >= 10
),
incomplete_metadata AS (
  SELECT
    batch_id,
    file_name,
    0 AS file_row_number,
    'the station metadata (lines 1-8) is incomplete' AS violation,
    '' AS found
  FROM {{{{ database }}}}.{{{{ raw_schema }}}}.OPEN_BATCH_LINES
  GROUP BY batch_id, file_name
  HAVING COUNT(DISTINCT IFF(file_row_number <= 8, file_row_number, NULL)) < 8
),
violations AS (
  SELECT batch_id, file_name, file_row_number, violation, found
  FROM line_checks
  WHERE violation IS NOT NULL
  UNION ALL
  SELECT batch_id, file_name, file_row_number, violation, found
  FROM incomplete_metadata
)
SELECT
  batch_id,
  file_name,
  file_row_number,
  'line ' || file_row_number || ': ' || violation
  || IFF(COALESCE(found, '') = '', '', ' (found ''' || found || ''')') AS reason
FROM violations
QUALIFY ROW_NUMBER() OVER (PARTITION BY batch_id, file_name ORDER BY file_row_number) = 1;
"""  # noqa: S608 - built from this module's constants, never from input


if __name__ == "__main__":  # pragma: no cover - the generator's command line
    import sys

    sys.stdout.write(violations_view_sql())
