-- The raw/ objects: UTF-8 (the upload normalised them), ';'-separated, no quoting, no header
-- skipped (the 8 metadata lines and the header are loaded too), lines of any field count.
-- A V script, not R: the pipe (V1.4.0) needs it to exist first. To change it, add a new
-- V script with CREATE OR REPLACE FILE FORMAT (it loses nothing).
CREATE FILE FORMAT IF NOT EXISTS {{ database }}.{{ raw_schema }}.INMET_CSV
  TYPE = CSV
  FIELD_DELIMITER = ';'
  RECORD_DELIMITER = '\n'
  SKIP_HEADER = 0
  FIELD_OPTIONALLY_ENCLOSED_BY = NONE
  ESCAPE_UNENCLOSED_FIELD = NONE
  ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE
  EMPTY_FIELD_AS_NULL = TRUE
  TRIM_SPACE = FALSE
  ENCODING = 'UTF8'
  COMMENT = 'INMET station files as normalised by the upload API';
