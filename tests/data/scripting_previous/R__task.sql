-- The two serverless tasks of the pipeline.
--
-- PROCESS_RAW turns new RAW lines into CLEAN and announces each load. Triggered (no SCHEDULE):
-- it runs when the stream has data. Serverless: no WAREHOUSE, and TARGET_COMPLETION_INTERVAL,
-- which a serverless triggered task must have ("Triggered tasks": "To create a serverless task,
-- you must include the TARGET_COMPLETION_INTERVAL parameter. Do not include the WAREHOUSE
-- parameter", docs.snowflake.com/en/user-guide/tasks-triggered). Fifteen minutes is the
-- pipeline's latency goal for a batch; Snowflake sizes the task's compute to meet it.
--
-- SUSPEND_TASK_AFTER_NUM_FAILURES = 3 (Snowflake's default is 10): a run fails only when the
-- warehouse itself refuses the batch (one bad file is quarantined, not failed), and a failed run
-- leaves the stream unconsumed, so a triggered task would retry the same batch every trigger
-- interval, billing each time. After 3 consecutive failures the task stops (TASK_HISTORY shows
-- STATE = FAILED_AND_AUTO_SUSPENDED). How it is noticed: every failed run sends a
-- USER_TASK_FAILED message through ERROR_INTEGRATION to the error topic, where
-- ErrorNotificationFunction marks the batch's uploads failed with Snowflake's message; the
-- stuck-upload alarm fires for uploads still `received`; snowflake_sql/README.md ("When the task
-- is suspended") says how to resume it.
--
-- CREATE OR REPLACE loses nothing for a task (the stream keeps its offset); a replaced task is
-- suspended, hence the RESUME.
CREATE OR REPLACE TASK {{ database }}.{{ raw_schema }}.PROCESS_RAW
  TARGET_COMPLETION_INTERVAL = '15 MINUTES'
  SUSPEND_TASK_AFTER_NUM_FAILURES = 3
  ERROR_INTEGRATION = {{ error_integration }}
  COMMENT = 'RAW -> STATIONS, OBSERVATIONS, FILE_LOADS; then the load notifications'
  WHEN SYSTEM$STREAM_HAS_DATA('{{ database }}.{{ raw_schema }}.INMET_RAW_STREAM')
AS
EXECUTE IMMEDIATE $$
BEGIN
  LET batch_error VARCHAR := '';
  BEGIN
    BEGIN TRANSACTION;
{% include 'task/process_batch.sql' %}
    COMMIT;
  EXCEPTION
    WHEN OTHER THEN
      ROLLBACK;
      batch_error := SQLERRM;
  END;
  -- Issue 15: a batch the warehouse refused. The files the rules foresee are set aside by step
  -- 2b already; this finds the others. Each file of the stream is tried alone in a transaction
  -- that is rolled back (the stream is consumed only by a committed DML statement, "Introduction
  -- to streams", docs.snowflake.com/en/user-guide/streams-intro); one that fails is recorded in
  -- RAW.QUARANTINE with Snowflake's own error (SQLERRM, "Handling exceptions",
  -- docs.snowflake.com/en/developer-guide/snowflake-scripting/exceptions). Then the batch runs
  -- once more without them; if it fails again, the task run fails with that error (and
  -- ERROR_INTEGRATION reports it).
  IF (batch_error <> '') THEN
    LET suspects CURSOR FOR
      SELECT DISTINCT file_name FROM {{ database }}.{{ raw_schema }}.INMET_RAW_STREAM;
    FOR rec IN suspects DO
      LET suspect VARCHAR := rec.file_name;
      BEGIN
        BEGIN TRANSACTION;
        INSERT INTO {{ database }}.{{ raw_schema }}.TASK_SCOPE (file_name) VALUES (:suspect);
{% include 'task/process_batch.sql' %}
        ROLLBACK;
      EXCEPTION
        WHEN OTHER THEN
          LET file_error VARCHAR := SQLERRM;
          ROLLBACK;
          INSERT INTO {{ database }}.{{ raw_schema }}.QUARANTINE (batch_id, file_name, reason, quarantined_at)
          VALUES ('isolated', :suspect, :file_error, SYSDATE());
      END;
    END FOR;
    BEGIN TRANSACTION;
{% include 'task/process_batch.sql' %}
    COMMIT;
  END IF;
{% include 'task/send_notifications.sql' %}
END;
$$;

-- NOTIFICATION_SWEEP re-sends the load notifications the export has not acknowledged
-- (RAW.NOTIFICATIONS_DUE): SYSTEM$SEND_SNOWFLAKE_NOTIFICATION only queues a message, and its
-- delivery can fail (NOTIFICATION_HISTORY: QUEUED, SUCCESS, RETRIABLE_FAILURE, FAILURE;
-- docs.snowflake.com/en/sql-reference/functions/notification_history), while PROCESS_RAW runs
-- again only when new data arrives. Scheduled and serverless: SCHEDULE and no WAREHOUSE
-- ("Introduction to tasks", docs.snowflake.com/en/user-guide/tasks-intro). The export is
-- idempotent and resumes a half-done message, so a re-sent message that was in fact delivered
-- changes nothing.
CREATE OR REPLACE TASK {{ database }}.{{ raw_schema }}.NOTIFICATION_SWEEP
  SCHEDULE = '{{ notification_resend_minutes }} MINUTES'
  SUSPEND_TASK_AFTER_NUM_FAILURES = 3
  ERROR_INTEGRATION = {{ error_integration }}
  COMMENT = 'Re-sends load notifications not acknowledged by the export'
AS
EXECUTE IMMEDIATE $$
BEGIN
{% include 'task/send_notifications.sql' %}
END;
$$;

ALTER TASK {{ database }}.{{ raw_schema }}.NOTIFICATION_SWEEP RESUME;

ALTER TASK {{ database }}.{{ raw_schema }}.PROCESS_RAW RESUME;
