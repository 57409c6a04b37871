{#-
  The raw/ object key of a RAW file name, stated once for every script that needs it (a Jinja
  module like measures.sql; schemachange never runs this folder).

  RAW.INMET_RAW.file_name is METADATA$FILENAME as the pipe read it. "Querying metadata for
  staged files" calls it the "name of the staged data file and its path in the stage"
  (docs.snowflake.com/en/user-guide/querying-metadata), while other pages say "the full path":
  the value may or may not include the stage's own prefix (raw/), or even its URL. raw_key()
  gives the same key for each form:

    inmet/station=A001/year=2024/<id>.csv            -> raw/inmet/station=A001/year=2024/<id>.csv
    raw/inmet/station=A001/year=2024/<id>.csv        -> (the same)
    s3://bucket/raw/inmet/station=A001/year=2024/... -> (the same)

  Whatever the rest of the key looks like: only a leading s3://<bucket>/ and a leading prefix
  are removed before the prefix is put back. tests/integration/test_warehouse.py runs a load
  with each form; tests/unit/test_sql_rules.py checks that no script builds a raw key by hand.
-#}
{%- macro raw_key(file_name, raw_prefix) -%}
'{{ raw_prefix }}' || REGEXP_REPLACE({{ file_name }}, '^(s3://[^/]+/)?({{ raw_prefix }})?', '')
{%- endmacro -%}
