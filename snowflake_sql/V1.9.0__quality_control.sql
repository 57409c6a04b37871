{% from 'modules/measures.sql' import MEASURES -%}
{% from 'modules/qc.sql' import work_table -%}
-- Quality control (modules/qc.sql, docs/qc.md): a flag beside each measure of CLEAN, the reason
-- for every flag in CLEAN.QC_FLAGS, and the task's work table widened to carry them.
-- One statement a column, with IF NOT EXISTS: the local runtime runs every V script at each
-- deploy (schemachange runs it once), so the script must be idempotent
-- (ALTER TABLE … ADD [ COLUMN ] [ IF NOT EXISTS ] <col_name> <col_type>,
-- "ALTER TABLE", docs.snowflake.com/en/sql-reference/sql/alter-table).
-- Rows already in CLEAN keep NULL flags until their station-year is loaded again.
{%- for m in MEASURES %}
ALTER TABLE {{ database }}.{{ clean_schema }}.OBSERVATIONS ADD COLUMN IF NOT EXISTS {{ m.name }}_qc NUMBER(1,0) COMMENT '0 passed, 1 suspect, 2 erroneous (value NULL), NULL no value';
{%- endfor %}

-- The task's work table is scratch (emptied by every run, no DDL inside the task): re-created
-- with the columns of V1.3.0 and the quality-control ones (modules/qc.sql, work_table; V1.11.0
-- re-creates it narrower).
{{ work_table(database, clean_schema) }};

-- One row per value and test that flagged it. The task replaces the rows of the hours each
-- batch writes to CLEAN (task/process_batch.sql step 5b), in the same transaction.
CREATE TABLE IF NOT EXISTS {{ database }}.{{ clean_schema }}.QC_FLAGS (
  station_id VARCHAR(4) NOT NULL,
  observed_at TIMESTAMP_NTZ NOT NULL COMMENT 'UTC, the hour ending at this time',
  measure VARCHAR NOT NULL COMMENT 'the CLEAN column of the measure',
  test VARCHAR NOT NULL COMMENT 'docs/qc.md: gross_error, step, persistence, ...',
  flag NUMBER(1,0) NOT NULL COMMENT '1 suspect, 2 erroneous (the value is NULL in CLEAN)',
  value_written NUMBER(28,8) COMMENT 'the value as the file wrote it',
  reference FLOAT COMMENT 'the limit or reference it was compared with (docs/qc.md, per test)',
  source_file VARCHAR NOT NULL COMMENT 'RAW file the value came from',
  batch_id VARCHAR NOT NULL
)
COMMENT = 'Why each quality-control flag of CLEAN.OBSERVATIONS was set';
