-- The two serverless tasks of the pipeline. Named R__z_… on purpose: schemachange applies
-- repeatable scripts in name order, and these tasks read the views of R__views.sql, which
-- must be replaced first (tests/unit/test_sql_project.py keeps the order).
--
-- PROCESS_RAW turns new RAW lines into CLEAN and announces each load. Triggered (no SCHEDULE):
-- it runs when the stream has data. Serverless: no WAREHOUSE, and TARGET_COMPLETION_INTERVAL,
-- which a serverless triggered task must have ("Triggered tasks": "To create a serverless task,
-- you must include the TARGET_COMPLETION_INTERVAL parameter. Do not include the WAREHOUSE
-- parameter", docs.snowflake.com/en/user-guide/tasks-triggered). Fifteen minutes is the
-- pipeline's latency goal for a batch; Snowflake sizes the task's compute to meet it.
--
-- The body is as small as Snowflake Scripting allows: the transform is total (no content of
-- RAW can make a statement of task/process_batch.sql fail: every cast is a TRY_ form with an
-- explicit format, every value is range-checked before it is written, and every rule the
-- upload checks sets a file aside in RAW.QUARANTINE). So a failed run means the warehouse
-- could not run the batch, not that a file is bad: the handler rolls back and raises the same
-- error again, the run fails, the stream stays unconsumed and the next run retries it whole.
-- Every construct used is listed, with the page that allows it, in snowflake_sql/README.md
-- ("The task body"); tests/unit/test_scripting_rules.py checks the documented rules.
--
-- USER_TASK_TIMEOUT_MS = 3600000 (one hour, 4 x the completion target): a run that cannot end
-- is stopped instead of billing serverless compute ("CREATE TASK", USER_TASK_TIMEOUT_MS,
-- docs.snowflake.com/en/sql-reference/sql/create-task).
--
-- SUSPEND_TASK_AFTER_NUM_FAILURES = 3 (Snowflake's default is 10): a failed run leaves the
-- stream unconsumed, so a triggered task would retry the same batch every trigger interval,
-- billing each time. After 3 consecutive failures the task stops (TASK_HISTORY shows
-- STATE = FAILED_AND_AUTO_SUSPENDED). How it is noticed: every failed run sends a
-- USER_TASK_FAILED message through ERROR_INTEGRATION to the error topic, where
-- ErrorNotificationFunction marks the batch's uploads failed with Snowflake's message; the
-- stuck-upload alarm fires for uploads still `received`. A stream left unconsumed goes stale
-- after the table's data retention (docs/snowflake-operations.md says how to resume the task
-- in time, and how to rebuild CLEAN from RAW when it was not).
--
-- Session parameters the SQL relies on are pinned on the task, so that an account-level
-- change cannot alter its results ("CREATE TASK": "<session_parameter> = <value>"; the list,
-- shared with the export's connection: inmet_pipeline.session.PINNED_SESSION_PARAMETERS,
-- checked by tests/unit/test_sql_rules.py).
--
-- CREATE OR REPLACE loses nothing for a task (the stream keeps its offset); a replaced task is
-- suspended, hence the RESUME.
CREATE OR REPLACE TASK {{ database }}.{{ raw_schema }}.PROCESS_RAW
  TARGET_COMPLETION_INTERVAL = '15 MINUTES'
  USER_TASK_TIMEOUT_MS = 3600000
  SUSPEND_TASK_AFTER_NUM_FAILURES = 3
  TIMEZONE = 'UTC'
  QUOTED_IDENTIFIERS_IGNORE_CASE = FALSE
  ERROR_INTEGRATION = {{ error_integration }}
  COMMENT = 'RAW -> STATIONS, OBSERVATIONS, FILE_LOADS; then the load notifications'
  WHEN SYSTEM$STREAM_HAS_DATA('{{ database }}.{{ raw_schema }}.INMET_RAW_STREAM')
AS
EXECUTE IMMEDIATE $$
BEGIN
{% include 'task/process_raw_block.sql' %}
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
  USER_TASK_TIMEOUT_MS = 600000
  SUSPEND_TASK_AFTER_NUM_FAILURES = 3
  TIMEZONE = 'UTC'
  QUOTED_IDENTIFIERS_IGNORE_CASE = FALSE
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
