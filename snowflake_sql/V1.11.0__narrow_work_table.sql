{% from 'modules/qc.sql' import work_table -%}
-- The task's work table without a reference column per quality-control check: one column says
-- which checks flagged a line (qc_checks, a bit per check) and a few hold what their references
-- are computed from (modules/qc.sql, work_columns); CLEAN.QC_FLAGS computes each reference for
-- the lines that flagged. The table is scratch, emptied by every run and holding nothing
-- between runs, so it is re-created (no DDL runs inside the task).
{{ work_table(database, clean_schema) }};
