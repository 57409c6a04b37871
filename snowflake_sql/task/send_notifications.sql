  -- docs/contracts.md §4: send each due message (RAW.NOTIFICATIONS_DUE) and count the send. Shared
  -- by PROCESS_RAW (right after its commit) and NOTIFICATION_SWEEP (re-sends); the local runtime
  -- reads the same view (local/inmet_local/emulator/notifier.py). A block of its own, so that
  -- what its handler uses is declared in its DECLARE section ("EXCEPTION (Snowflake
  -- Scripting)", usage notes: a variable used in an exception handler must be declared in
  -- DECLARE, not in BEGIN … END; docs.snowflake.com/en/sql-reference/snowflake-scripting/exception).
  DECLARE
    send_error VARCHAR DEFAULT '';
    due CURSOR FOR
      SELECT batch_id, part, message FROM {{ database }}.{{ raw_schema }}.NOTIFICATIONS_DUE;
  BEGIN
    FOR rec IN due DO
      LET batch VARCHAR := rec.batch_id;
      LET part_no NUMBER := rec.part;
      LET message VARCHAR := rec.message;
      -- One message's failed send (an integration error) must not stop the others nor the
      -- task: the handler keeps Snowflake's message in send_error (its first and only
      -- statement), the send is counted below like any other, the sweep tries it again, and
      -- NOTIFICATIONS_ABANDONED lists it after notification_max_sends attempts.
      BEGIN
        CALL SYSTEM$SEND_SNOWFLAKE_NOTIFICATION(
          SNOWFLAKE.NOTIFICATION.APPLICATION_JSON(:message),
          SNOWFLAKE.NOTIFICATION.INTEGRATION('{{ notification_integration }}')
        );
      EXCEPTION
        WHEN OTHER THEN
          send_error := SQLERRM;
      END;
      UPDATE {{ database }}.{{ raw_schema }}.NOTIFICATIONS
        SET sends = sends + 1, last_sent_at = SYSDATE()
        WHERE batch_id = :batch AND part = :part_no;
    END FOR;
  END;
