-- The pipe (Snowpipe, auto-ingest from the raw/ S3 notifications) and the stream the task reads.
-- CREATE ... IF NOT EXISTS: replacing a pipe would lose its 14-day load history (files would be
-- loaded twice) and replacing a stream would lose its offset.
CREATE PIPE IF NOT EXISTS {{ database }}.{{ raw_schema }}.INMET_PIPE
  AUTO_INGEST = TRUE
  ERROR_INTEGRATION = {{ error_integration }}
  COMMENT = 'raw/ objects -> INMET_RAW, every line, lossless'
AS
COPY INTO {{ database }}.{{ raw_schema }}.INMET_RAW (
  file_name, file_row_number,
  c01, c02, c03, c04, c05, c06, c07, c08, c09, c10,
  c11, c12, c13, c14, c15, c16, c17, c18, c19, c20,
  file_last_modified, loaded_at
)
FROM (
  SELECT
    METADATA$FILENAME, METADATA$FILE_ROW_NUMBER,
    t.$1, t.$2, t.$3, t.$4, t.$5, t.$6, t.$7, t.$8, t.$9, t.$10,
    t.$11, t.$12, t.$13, t.$14, t.$15, t.$16, t.$17, t.$18, t.$19, t.$20,
    METADATA$FILE_LAST_MODIFIED, METADATA$START_SCAN_TIME
  FROM @{{ database }}.{{ raw_schema }}.RAW_STAGE t
)
FILE_FORMAT = (FORMAT_NAME = '{{ database }}.{{ raw_schema }}.INMET_CSV');

CREATE STREAM IF NOT EXISTS {{ database }}.{{ raw_schema }}.INMET_RAW_STREAM
  ON TABLE {{ database }}.{{ raw_schema }}.INMET_RAW
  APPEND_ONLY = TRUE
  COMMENT = 'New RAW lines since the task last ran';
