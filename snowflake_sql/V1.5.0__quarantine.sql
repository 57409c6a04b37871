-- Files the task set aside (issue 15): a file whose lines break a rule the warehouse relies on
-- (RAW.OPEN_BATCH_VIOLATIONS, generated from inmet_pipeline.rules), or that failed the batch
-- with a Snowflake error of its own, is recorded here with the reason; the rest of its batch
-- loads, and the batch's load notification lists it ("quarantined") so that the export marks
-- its upload failed with that reason. Its lines stay in RAW.INMET_RAW.
CREATE TABLE IF NOT EXISTS {{ database }}.{{ raw_schema }}.QUARANTINE (
  batch_id VARCHAR NOT NULL COMMENT 'the batch that set the file aside',
  file_name VARCHAR NOT NULL COMMENT 'METADATA$FILENAME, as in INMET_RAW',
  reason VARCHAR NOT NULL COMMENT 'the rule broken (line and value), or Snowflake''s error',
  quarantined_at TIMESTAMP_NTZ NOT NULL
)
COMMENT = 'Files set aside by the PROCESS_RAW task, with the reason';

-- The file the task's exception handler is trying alone (R__task.sql): one row, only inside a
-- transaction that is rolled back; empty otherwise, when the task captures the whole stream.
CREATE TRANSIENT TABLE IF NOT EXISTS {{ database }}.{{ raw_schema }}.TASK_SCOPE (
  file_name VARCHAR NOT NULL
)
COMMENT = 'Scratch space of PROCESS_RAW: the file tried alone while isolating a failure';
