-- RAW: every line of every file exactly as the pipe's COPY reads it (';'-separated, no
-- quoting, nothing skipped), with the file name and line number: CLEAN can always be rebuilt
-- from here with new rules. c01..c19 are INMET's 19 columns (c01 date, c02 hour, c03..c19 the
-- 17 measures); c20 is the empty field after the trailing ';'. Metadata lines fill c01..c02.
CREATE TABLE IF NOT EXISTS {{ database }}.{{ raw_schema }}.INMET_RAW (
  file_name VARCHAR NOT NULL COMMENT 'METADATA$FILENAME: the object key under the raw stage',
  file_row_number NUMBER(10,0) NOT NULL COMMENT 'METADATA$FILE_ROW_NUMBER: 1-based line',
  c01 VARCHAR,
  c02 VARCHAR,
  c03 VARCHAR,
  c04 VARCHAR,
  c05 VARCHAR,
  c06 VARCHAR,
  c07 VARCHAR,
  c08 VARCHAR,
  c09 VARCHAR,
  c10 VARCHAR,
  c11 VARCHAR,
  c12 VARCHAR,
  c13 VARCHAR,
  c14 VARCHAR,
  c15 VARCHAR,
  c16 VARCHAR,
  c17 VARCHAR,
  c18 VARCHAR,
  c19 VARCHAR,
  c20 VARCHAR,
  loaded_at TIMESTAMP_NTZ NOT NULL DEFAULT SYSDATE() COMMENT 'UTC time of the load'
)
COMMENT = 'Every line of every INMET file loaded by the pipe (lossless)';

-- Task bookkeeping: one row per task run that found data in the stream.
CREATE TABLE IF NOT EXISTS {{ database }}.{{ raw_schema }}.BATCHES (
  batch_id VARCHAR NOT NULL,
  status VARCHAR NOT NULL COMMENT 'open -> loaded -> notified',
  started_at TIMESTAMP_NTZ NOT NULL,
  loaded_at TIMESTAMP_NTZ,
  notified_at TIMESTAMP_NTZ,
  CONSTRAINT batches_pk PRIMARY KEY (batch_id)
)
COMMENT = 'Task runs: each captured the files that the stream had since the previous run';

CREATE TABLE IF NOT EXISTS {{ database }}.{{ raw_schema }}.BATCH_FILES (
  batch_id VARCHAR NOT NULL,
  file_name VARCHAR NOT NULL,
  loaded_at TIMESTAMP_NTZ NOT NULL
)
COMMENT = 'The files of each batch (consuming the stream records them here)';
