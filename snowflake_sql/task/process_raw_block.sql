  -- PROCESS_RAW's batch: the statements of task/process_batch.sql in one transaction. A
  -- failure rolls it back (nothing half-written, the stream unconsumed) and raises the same
  -- error again, so that the run fails and ERROR_INTEGRATION reports it. The handler declares
  -- and reads nothing ("EXCEPTION (Snowflake Scripting)": a variable a handler uses must be
  -- declared in DECLARE, docs.snowflake.com/en/sql-reference/snowflake-scripting/exception;
  -- RAISE with no name raises the exception being handled again, "RAISE (Snowflake
  -- Scripting)", docs.snowflake.com/en/sql-reference/snowflake-scripting/raise). Shared by
  -- the task (R__z_tasks.sql) and the live test of the task body
  -- (tests/integration/test_warehouse.py).
  BEGIN
    BEGIN TRANSACTION;
{% include 'task/process_batch.sql' %}
    COMMIT;
  EXCEPTION
    WHEN OTHER THEN
      ROLLBACK;
      RAISE;
  END;
