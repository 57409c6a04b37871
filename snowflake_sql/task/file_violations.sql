-- GENERATED from layers/common/python/inmet_pipeline/rules.py by
-- `python -m inmet_pipeline.rules` (tests/unit/test_rules.py checks that it is current): the
-- validator's rules as Snowflake SQL. Per file of the open batch, the first line that breaks
-- one, with the rule: the task sets such a file aside (RAW.QUARANTINE) and loads the rest of
-- the batch. The upload API refuses these files already; this is the warehouse's own check
-- (defence in depth) of what it cannot load: NULL or out-of-range station numbers, codes that
-- do not fit their columns, dates outside the pipeline's years. The metadata lines and the
-- data lines are checked apart: a data line is read for its date only (checked with the
-- metadata lines, every column of every data line was carried along, which doubled this
-- step's time on the local warehouse).
CREATE OR REPLACE VIEW {{ database }}.{{ raw_schema }}.OPEN_BATCH_VIOLATIONS AS
WITH line_checks AS (
  SELECT
    batch_id,
    file_name,
    file_row_number,
    CASE
      WHEN file_row_number = 1 AND (TRIM(c02) IS NULL OR NOT (TRIM(c02) RLIKE '^[A-Za-z]{1,2}$') OR UPPER(TRIM(c02)) NOT IN ('N', 'NE', 'CO', 'SE', 'S')) THEN 'REGIAO is not one of N, NE, CO, SE, S'
      WHEN file_row_number = 2 AND (TRIM(c02) IS NULL OR NOT (TRIM(c02) RLIKE '^[A-Za-z]{2}$') OR UPPER(TRIM(c02)) NOT IN ('AC', 'AL', 'AP', 'AM', 'BA', 'CE', 'DF', 'ES', 'GO', 'MA', 'MT', 'MS', 'MG', 'PA', 'PB', 'PR', 'PE', 'PI', 'RJ', 'RN', 'RS', 'RO', 'RR', 'SC', 'SP', 'SE', 'TO')) THEN 'UF is not a Brazilian state code'
      WHEN file_row_number = 3 AND (TRIM(c02) IS NULL OR TRIM(c02) = '' OR LENGTH(TRIM(c02)) > 100) THEN 'ESTACAO (the station name) is empty or too long'
      WHEN file_row_number = 3 AND (TRIM(c02) IS NULL OR LEFT(TRIM(c02), 1) IN ('!', '"', '#', '$', '%', '&', '''', '(', ')', '*', '+', ',', '-', '.', '/', ':', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '^', '_', '`', '{', '|', '}', '~') OR COALESCE(c03, c04, c05, c06, c07, c08, c09, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, c20) IS NOT NULL) THEN 'ESTACAO (the station name) must begin with a letter or a digit and be the last field of its line'
      WHEN file_row_number = 3 AND (TRIM(c02) IS NULL OR CONTAINS(TRIM(c02), ',') OR CONTAINS(TRIM(c02), '"')) THEN 'ESTACAO (the station name) holds a comma or a double quote'
      WHEN file_row_number = 4 AND (TRIM(c02) IS NULL OR NOT (UPPER(TRIM(c02)) RLIKE '^[A-Z][0-9]{3}$')) THEN 'CODIGO (WMO) is not a letter and three digits'
      WHEN file_row_number = 5 AND (TRIM(c02) IS NULL OR NOT (TRIM(c02) RLIKE '^-?([0-9]{1,4}([,.][0-9]{1,8})?|[,.][0-9]{1,8})$') OR NOT (TRY_TO_DECIMAL(IFF(STARTSWITH(REPLACE(TRIM(c02), ',', '.'), '.'), '0' || REPLACE(TRIM(c02), ',', '.'), IFF(STARTSWITH(REPLACE(TRIM(c02), ',', '.'), '-.'), '-0' || SUBSTR(REPLACE(TRIM(c02), ',', '.'), 2), REPLACE(TRIM(c02), ',', '.'))), 12, 8) BETWEEN -35 AND 6)) THEN 'LATITUDE is not a number between -35 and 6'
      WHEN file_row_number = 6 AND (TRIM(c02) IS NULL OR NOT (TRIM(c02) RLIKE '^-?([0-9]{1,4}([,.][0-9]{1,8})?|[,.][0-9]{1,8})$') OR NOT (TRY_TO_DECIMAL(IFF(STARTSWITH(REPLACE(TRIM(c02), ',', '.'), '.'), '0' || REPLACE(TRIM(c02), ',', '.'), IFF(STARTSWITH(REPLACE(TRIM(c02), ',', '.'), '-.'), '-0' || SUBSTR(REPLACE(TRIM(c02), ',', '.'), 2), REPLACE(TRIM(c02), ',', '.'))), 12, 8) BETWEEN -75 AND -28)) THEN 'LONGITUDE is not a number between -75 and -28'
      WHEN file_row_number = 7 AND (TRIM(c02) IS NULL OR NOT (TRIM(c02) RLIKE '^-?([0-9]{1,4}([,.][0-9]{1,8})?|[,.][0-9]{1,8})$') OR NOT (TRY_TO_DECIMAL(IFF(STARTSWITH(REPLACE(TRIM(c02), ',', '.'), '.'), '0' || REPLACE(TRIM(c02), ',', '.'), IFF(STARTSWITH(REPLACE(TRIM(c02), ',', '.'), '-.'), '-0' || SUBSTR(REPLACE(TRIM(c02), ',', '.'), 2), REPLACE(TRIM(c02), ',', '.'))), 12, 8) BETWEEN -100 AND 3100)) THEN 'ALTITUDE is not a number between -100 and 3100'
    END AS violation,
    LEFT(c02, 200) AS found
  FROM {{ database }}.{{ raw_schema }}.OPEN_BATCH_LINES
  WHERE file_row_number <= 8
  UNION ALL
  SELECT
    batch_id,
    file_name,
    file_row_number,
    IFF(TRY_TO_NUMBER(LEFT(c01, 4)) IS NOT NULL AND NOT (TRY_TO_NUMBER(LEFT(c01, 4)) BETWEEN 2000 AND 2100), 'the year is outside 2000-2100', NULL) AS violation,
    LEFT(c01, 10) AS found
  FROM {{ database }}.{{ raw_schema }}.OPEN_BATCH_LINES
  WHERE file_row_number >= 10
),
incomplete_metadata AS (
  SELECT
    batch_id,
    file_name,
    0 AS file_row_number,
    'the station metadata (lines 1-8) is incomplete' AS violation,
    '' AS found
  FROM {{ database }}.{{ raw_schema }}.OPEN_BATCH_LINES
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
