{#-
  The 17 measures of docs/contracts.md §3, declared once for all of snowflake_sql/: a Jinja
  module, not a migration. schemachange's `modules-folder` setting (schemachange-config.yml)
  puts this folder on the Jinja loader's search path under the prefix `modules/`
  (github.com/Snowflake-Labs/schemachange, README "Config Version 1": "The modules folder for
  jinja macros and templates to be used across multiple scripts"); inmet_local.snowflake.sqlproject
  loads it the same way. A script imports what it uses:

    {% from 'modules/measures.sql' import MEASURES, parsed, range_checked, out_of_range %}

  schemachange deploys only files named V<version>__*, R__* or A__*: this file is never run
  on its own (tests/unit/test_sql_measures.py checks it with schemachange's own discovery).

  Per measure, in file order (rule 3: RAW columns c03..c19):
    name    the CLEAN column (unit as suffix)
    column  the RAW column that holds it
    type    its CLEAN type (NUMBER(p,1): one decimal, as INMET writes them)
    low     the valid range, inclusive (rule 5); outside it the value is NULL and counted
    high
    unit    the unit as the column comments of V1.3.0 spell it (ASCII)

  inmet_pipeline.columns.MEASURES states the same names and ranges in Python;
  tests/unit/test_sql_measures.py holds the two equal. V1.3.0__clean_tables.sql renders its
  column definitions from here: a change of a type, a range (its column comments) or the list
  needs a new V script with ALTER TABLE for accounts that applied V1.3.0 (snowflake_sql/README.md,
  "Decisions"; test_v1_3_0_renders_as_applied fails until it is written).
-#}
{%- from 'modules/numbers.sql' import inmet_number -%}
{%- set MEASURES = [
  {"name": "precipitation_mm", "column": "c03", "type": "NUMBER(5,1)", "low": 0, "high": 500, "unit": "mm"},
  {"name": "pressure_hpa", "column": "c04", "type": "NUMBER(6,1)", "low": 500, "high": 1100, "unit": "hPa"},
  {"name": "pressure_max_hpa", "column": "c05", "type": "NUMBER(6,1)", "low": 500, "high": 1100, "unit": "hPa"},
  {"name": "pressure_min_hpa", "column": "c06", "type": "NUMBER(6,1)", "low": 500, "high": 1100, "unit": "hPa"},
  {"name": "radiation_kj_m2", "column": "c07", "type": "NUMBER(6,1)", "low": 0, "high": 6000, "unit": "kJ/m2"},
  {"name": "air_temp_c", "column": "c08", "type": "NUMBER(4,1)", "low": -40, "high": 60, "unit": "degC"},
  {"name": "dew_point_c", "column": "c09", "type": "NUMBER(4,1)", "low": -60, "high": 50, "unit": "degC"},
  {"name": "air_temp_max_c", "column": "c10", "type": "NUMBER(4,1)", "low": -40, "high": 60, "unit": "degC"},
  {"name": "air_temp_min_c", "column": "c11", "type": "NUMBER(4,1)", "low": -40, "high": 60, "unit": "degC"},
  {"name": "dew_point_max_c", "column": "c12", "type": "NUMBER(4,1)", "low": -60, "high": 50, "unit": "degC"},
  {"name": "dew_point_min_c", "column": "c13", "type": "NUMBER(4,1)", "low": -60, "high": 50, "unit": "degC"},
  {"name": "humidity_max_pct", "column": "c14", "type": "NUMBER(4,1)", "low": 0, "high": 100, "unit": "%"},
  {"name": "humidity_min_pct", "column": "c15", "type": "NUMBER(4,1)", "low": 0, "high": 100, "unit": "%"},
  {"name": "humidity_pct", "column": "c16", "type": "NUMBER(4,1)", "low": 0, "high": 100, "unit": "%"},
  {"name": "wind_direction_deg", "column": "c17", "type": "NUMBER(4,1)", "low": 0, "high": 360, "unit": "deg"},
  {"name": "wind_gust_ms", "column": "c18", "type": "NUMBER(4,1)", "low": 0, "high": 100, "unit": "m/s"},
  {"name": "wind_speed_ms", "column": "c19", "type": "NUMBER(4,1)", "low": 0, "high": 100, "unit": "m/s"},
] -%}

{#- Rules 3-4, parse: the RAW text of measure `m` (in table `alias`) as a number, exactly as
    written (modules/numbers.sql: decimal comma, ',2' = 0.2, at most 8 decimals, never
    rounded here); '' and -9999 (columns.MISSING_SENTINEL) are NULL. -#}
{%- macro parsed(m, alias) -%}
{{ inmet_number("NULLIF(NULLIF(TRIM(" ~ alias ~ "." ~ m.column ~ "), ''), '-9999')", 28, 8) }}
{%- endmacro -%}

{#- Rule 5, the valid range of `m` as a condition on `value` (inclusive), on the value as
    written: rounding to the column's one decimal comes after (range_checked). -#}
{%- macro in_range(m, value) -%}
{{ value }} BETWEEN {{ m.low }} AND {{ m.high }}
{%- endmacro -%}

{#- Rule 5, range-check: the parsed value (column <name>_raw) when in range, else NULL, typed.
    An in-range value (|value| <= 6000, at most 8 decimals) fits NUMBER(18,8) exactly, so the
    first cast changes nothing and the second rounds as a direct cast would ("Numeric data
    types", https://docs.snowflake.com/en/sql-reference/data-types-numeric). It is there for the
    local warehouse: DuckDB rounds a NUMBER(28,8) (a 128-bit integer) to one decimal several
    times slower than a NUMBER(18,8) (64 bits); this cast alone was a third of the task's
    parse step. -#}
{%- macro range_checked(m) -%}
IFF({{ in_range(m, m.name ~ '_raw') }}, {{ m.name }}_raw, NULL)::NUMBER(18,8)::{{ m.type }}
{%- endmacro -%}

{#- Rule 5, flag: TRUE when the parsed value is present and out of range (FILE_LOADS counts). -#}
{%- macro out_of_range(m) -%}
({{ m.name }}_raw IS NOT NULL AND NOT ({{ in_range(m, m.name ~ '_raw') }}))
{%- endmacro -%}

{#- List: every measure's name after `prefix`, in order, comma-separated, `per_line` to a line
    (the next lines start with `indent`). -#}
{%- macro names(prefix='', per_line=17, indent='  ') -%}
{%- for m in MEASURES -%}
{{ prefix }}{{ m.name }}
{%- if not loop.last %}{{ (',\n' ~ indent) if loop.index is divisibleby(per_line) else ', ' }}{% endif -%}
{%- endfor -%}
{%- endmacro -%}
