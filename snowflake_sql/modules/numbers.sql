{#-
  An INMET number read from a file's text, stated once for all of snowflake_sql/ (a Jinja
  module like measures.sql; schemachange never runs it on its own). The same expression as
  inmet_pipeline.rules.sql_number, which the generated task/file_violations.sql uses;
  tests/unit/test_sql_numbers.py renders both and holds them equal.

  INMET writes a decimal comma and drops the leading zero (',2' is 0.2, '-,98722221' is
  -0.98722221). The comma becomes a point and the zero is put back, so TRY_TO_DECIMAL sees the
  plain form of its documentation ('345.123'); it returns NULL for what it cannot convert and
  rounds to `scale` decimals ("TRY_TO_DECIMAL, TRY_TO_NUMBER, TRY_TO_NUMERIC",
  https://docs.snowflake.com/en/sql-reference/functions/try_to_decimal; "TO_DECIMAL,
  TO_NUMBER, TO_NUMERIC", https://docs.snowflake.com/sql-reference/functions/to_decimal).
  With scale 8 (inmet_format.MAX_DECIMALS, the most decimals a valid file has) nothing is
  rounded: the range rule then compares the value as written.
-#}
{%- macro inmet_number(text, precision, scale) -%}
{%- set point = "REPLACE(" ~ text ~ ", ',', '.')" -%}
TRY_TO_DECIMAL(IFF(STARTSWITH({{ point }}, '.'), '0' || {{ point }}, IFF(STARTSWITH({{ point }}, '-.'), '-0' || SUBSTR({{ point }}, 2), {{ point }})), {{ precision }}, {{ scale }})
{%- endmacro -%}
