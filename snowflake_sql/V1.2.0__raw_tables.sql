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
  -- Both times come from the pipe's COPY (V1.4.0), never from a column DEFAULT: CREATE PIPE's
  -- usage notes warn that DEFAULT CURRENT_TIMESTAMP()-style values can be hours earlier than
  -- the load under Snowpipe, and METADATA$START_SCAN_TIME is the documented load-time column
  -- ("Querying metadata for staged files", docs.snowflake.com/en/user-guide/querying-metadata).
  file_last_modified TIMESTAMP_NTZ NOT NULL COMMENT 'METADATA$FILE_LAST_MODIFIED: when the upload wrote the raw/ object (S3 LastModified, UTC); the order of uploads, which decides which version wins (rules 1 and 7)',
  loaded_at TIMESTAMP_LTZ NOT NULL COMMENT 'METADATA$START_SCAN_TIME: when the pipe read the file (informational)'
)
COMMENT = 'Every line of every INMET file loaded by the pipe (lossless)';

-- Task bookkeeping: one row per task run that found data in the stream.
CREATE TABLE IF NOT EXISTS {{ database }}.{{ raw_schema }}.BATCHES (
  batch_id VARCHAR NOT NULL,
  status VARCHAR NOT NULL COMMENT 'open -> loaded -> queued (its messages are in NOTIFICATIONS)',
  started_at TIMESTAMP_NTZ NOT NULL,
  loaded_at TIMESTAMP_NTZ,
  queued_at TIMESTAMP_NTZ,
  CONSTRAINT batches_pk PRIMARY KEY (batch_id)
)
COMMENT = 'Task runs: each captured the files that the stream had since the previous run';

CREATE TABLE IF NOT EXISTS {{ database }}.{{ raw_schema }}.BATCH_FILES (
  batch_id VARCHAR NOT NULL,
  file_name VARCHAR NOT NULL,
  file_last_modified TIMESTAMP_NTZ NOT NULL
)
COMMENT = 'The files of each batch (consuming the stream records them here)';

-- The load notifications (docs/contracts.md §4), one row per message: a batch is announced in parts of
-- at most {{ partitions_per_message }} partitions, so that no SNS message nears its 256 KB limit
-- and one ExportFunction invocation has a bounded amount of work.
-- SYSTEM$SEND_SNOWFLAKE_NOTIFICATION only queues a message (NOTIFICATION_HISTORY shows QUEUED,
-- RETRIABLE_FAILURE, FAILURE), so a message counts as delivered only when the export
-- acknowledges it (CLEAN.EXPORT_ACKS); the sweep task re-sends the others (R__task.sql).
CREATE TABLE IF NOT EXISTS {{ database }}.{{ raw_schema }}.NOTIFICATIONS (
  batch_id VARCHAR NOT NULL,
  part NUMBER(6,0) NOT NULL COMMENT '1..parts',
  parts NUMBER(6,0) NOT NULL,
  message VARCHAR NOT NULL COMMENT 'the JSON sent',
  queued_at TIMESTAMP_NTZ NOT NULL,
  last_sent_at TIMESTAMP_NTZ,
  sends NUMBER(4,0) NOT NULL COMMENT 'SYSTEM$SEND_SNOWFLAKE_NOTIFICATION calls so far',
  CONSTRAINT notifications_pk PRIMARY KEY (batch_id, part)
)
COMMENT = 'Load notifications: sent by the task, re-sent by the sweep until acknowledged';
