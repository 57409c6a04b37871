  -- docs/contracts.md §4: send each due message (RAW.NOTIFICATIONS_DUE) and count the send. Shared
  -- by PROCESS_RAW (right after its commit) and NOTIFICATION_SWEEP (re-sends); the local runtime
  -- reads the same view (local/inmet_local/emulator/warehouse.py, send_notifications).
  LET due CURSOR FOR
    SELECT batch_id, part, message FROM {{ database }}.{{ raw_schema }}.NOTIFICATIONS_DUE;
  FOR rec IN due DO
    LET batch VARCHAR := rec.batch_id;
    LET part_no NUMBER := rec.part;
    LET message VARCHAR := rec.message;
    -- One message's failed send (a message over SNS's size, an integration error) must not
    -- stop the others nor the task: it is counted like a send, so the sweep tries it again
    -- and NOTIFICATIONS_ABANDONED lists it after notification_max_sends attempts.
    BEGIN
      CALL SYSTEM$SEND_SNOWFLAKE_NOTIFICATION(
        SNOWFLAKE.NOTIFICATION.APPLICATION_JSON(:message),
        SNOWFLAKE.NOTIFICATION.INTEGRATION('{{ notification_integration }}')
      );
    EXCEPTION
      WHEN OTHER THEN
        LET failed_send VARCHAR := SQLERRM;
    END;
    UPDATE {{ database }}.{{ raw_schema }}.NOTIFICATIONS
      SET sends = sends + 1, last_sent_at = SYSDATE()
      WHERE batch_id = :batch AND part = :part_no;
  END FOR;
