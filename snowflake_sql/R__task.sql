-- The serverless task that turns new RAW lines into CLEAN and announces each load.
-- Triggered (no SCHEDULE): it runs when the stream has data. Serverless (no WAREHOUSE).
-- CREATE OR REPLACE loses nothing for a task (the stream keeps its offset); a replaced task is
-- suspended, hence the RESUME.
CREATE OR REPLACE TASK {{ database }}.{{ raw_schema }}.PROCESS_RAW
  USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = 'XSMALL'
  ERROR_INTEGRATION = {{ error_integration }}
  COMMENT = 'RAW -> STATIONS, OBSERVATIONS, FILE_LOADS; then one SNS notification per batch'
  WHEN SYSTEM$STREAM_HAS_DATA('{{ database }}.{{ raw_schema }}.INMET_RAW_STREAM')
AS
EXECUTE IMMEDIATE $$
BEGIN
  BEGIN TRANSACTION;
{% include 'task/process_batch.sql' %}
  COMMIT;
  -- CONTRACTS.md §4: one message per loaded batch not yet announced (a failed send is retried
  -- by the next run). Delivery is at least once; the export is idempotent.
  LET pending CURSOR FOR
    SELECT batch_id, message FROM {{ database }}.{{ clean_schema }}.PENDING_NOTIFICATIONS;
  FOR rec IN pending DO
    LET batch VARCHAR := rec.batch_id;
    LET message VARCHAR := rec.message;
    CALL SYSTEM$SEND_SNOWFLAKE_NOTIFICATION(
      SNOWFLAKE.NOTIFICATION.APPLICATION_JSON(:message),
      SNOWFLAKE.NOTIFICATION.INTEGRATION('{{ notification_integration }}')
    );
    UPDATE {{ database }}.{{ raw_schema }}.BATCHES
      SET status = 'notified', notified_at = SYSDATE()
      WHERE batch_id = :batch;
  END FOR;
END;
$$;

ALTER TASK {{ database }}.{{ raw_schema }}.PROCESS_RAW RESUME;
