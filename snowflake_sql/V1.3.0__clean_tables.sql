{% from 'modules/measures.sql' import MEASURES -%}
-- CLEAN: stations and hourly observations typed with units (docs/contracts.md §3), per-file load
-- figures, and the partitions each batch touched. The export view (R__views.sql) joins them
-- into the contract's columns.
CREATE TABLE IF NOT EXISTS {{ database }}.{{ clean_schema }}.STATIONS (
  station_id VARCHAR(4) NOT NULL COMMENT 'WMO code, e.g. A001',
  station_name VARCHAR NOT NULL,
  region VARCHAR(2) NOT NULL COMMENT 'N, NE, CO, SE or S',
  state VARCHAR(2) NOT NULL COMMENT 'UF',
  latitude NUMBER(10,8) NOT NULL COMMENT 'decimal degrees',
  longitude NUMBER(11,8) NOT NULL COMMENT 'decimal degrees',
  altitude_m NUMBER(7,2) NOT NULL COMMENT 'metres',
  founded_text VARCHAR COMMENT 'DATA DE FUNDACAO as written (YYYY-MM-DD or DD/MM/YY)',
  source_file VARCHAR NOT NULL COMMENT 'the most recently uploaded file, whose metadata wins',
  source_modified TIMESTAMP_NTZ NOT NULL COMMENT 'that file''s upload time (METADATA$FILE_LAST_MODIFIED)',
  updated_at TIMESTAMP_NTZ NOT NULL,
  CONSTRAINT stations_pk PRIMARY KEY (station_id)
)
COMMENT = 'One row per station; attributes from the most recently loaded file';

CREATE TABLE IF NOT EXISTS {{ database }}.{{ clean_schema }}.OBSERVATIONS (
  station_id VARCHAR(4) NOT NULL,
  observed_at TIMESTAMP_NTZ NOT NULL COMMENT 'UTC',
{%- for m in MEASURES %}
  {{ m.name }} {{ m.type }} COMMENT '{{ m.unit }}, NULL when missing or outside {{ m.low }}..{{ m.high }}',
{%- endfor %}
  source_file VARCHAR NOT NULL COMMENT 'RAW file the values came from',
  source_modified TIMESTAMP_NTZ NOT NULL COMMENT 'that file''s upload time: a later batch replaces the row only with a newer upload',
  batch_id VARCHAR NOT NULL,
  updated_at TIMESTAMP_NTZ NOT NULL
  -- No PRIMARY KEY constraint, on purpose: Snowflake never enforces one (it would only be
  -- informational), while DuckDB under the local runtime does, with an index that made the
  -- task's MERGE 2-3x slower (6 s of index upkeep per 4.6 M rows inserted, 12 s to delete
  -- them). Uniqueness of (station_id, observed_at) comes from the task's MERGE (rule 7) and is
  -- checked by tests/integration/test_warehouse.py.
)
-- No CLUSTER BY, on purpose. Figures: a station-year holds at most 8,784 rows; INMET's ~600
-- automatic stations over 2000-2025 make at most ~100 M rows, a few GB uncompressed. Snowflake
-- advises clustering keys for very large (multi-terabyte) tables, and Automatic Clustering
-- re-clusters, and bills for, every micro-partition a DML statement rewrites: this table is
-- MERGEd by every task run ("Clustering keys & clustered tables", "Automatic Clustering",
-- docs.snowflake.com/en/user-guide/tables-clustering-keys). The load order already clusters it:
-- each file is one station-year and is MERGEd whole, so the export's filter (one station, one
-- year's time range) prunes to few micro-partitions. Check with
-- SYSTEM$CLUSTERING_INFORMATION('<db>.CLEAN.OBSERVATIONS', '(station_id, observed_at)') before
-- adding a key; tests/unit/test_sql_rules.py keeps this decision explicit.
COMMENT = 'Hourly observations: unique per (station_id, observed_at); a later load replaces';

CREATE TABLE IF NOT EXISTS {{ database }}.{{ clean_schema }}.FILE_LOADS (
  file_name VARCHAR NOT NULL,
  raw_key VARCHAR NOT NULL COMMENT 'S3 key of the raw/ object',
  upload_id VARCHAR NOT NULL COMMENT 'sha256 of the uploaded bytes (the object name)',
  station_id VARCHAR(4),
  year NUMBER(4,0),
  first_observed_at TIMESTAMP_NTZ COMMENT 'the hours the file covers: a later batch that brings an older upload of them leaves them as they are',
  last_observed_at TIMESTAMP_NTZ,
  batch_id VARCHAR NOT NULL,
  data_rows NUMBER(10,0) NOT NULL COMMENT 'data lines in the file',
  rows_clean NUMBER(10,0) NOT NULL COMMENT 'rows of this file that are in CLEAN (rule 6)',
  all_missing_rows NUMBER(10,0) NOT NULL,
  out_of_range_values NUMBER(10,0) NOT NULL COMMENT 'values set to NULL by rule 5',
{%- for m in MEASURES %}
  oor_{{ m.name }} NUMBER(10,0) NOT NULL DEFAULT 0,
{%- endfor %}
  file_last_modified TIMESTAMP_NTZ NOT NULL COMMENT 'when the upload wrote the raw/ object: decides which version wins',
  loaded_at TIMESTAMP_LTZ NOT NULL COMMENT 'when the pipe read it (METADATA$START_SCAN_TIME)',
  CONSTRAINT file_loads_pk PRIMARY KEY (file_name)
)
COMMENT = 'What each loaded file contributed, with out-of-range counts per measure';

-- row_count, not ROWS: ROWS is reserved by ANSI and refused as a column name by Snowflake
-- ("Reserved & limited keywords", docs.snowflake.com/en/sql-reference/reserved-keywords). The
-- notification's JSON keeps its contract field "rows" (R__views.sql builds it).
CREATE TABLE IF NOT EXISTS {{ database }}.{{ clean_schema }}.BATCH_PARTITIONS (
  batch_id VARCHAR NOT NULL,
  part NUMBER(6,0) NOT NULL COMMENT 'the notification message (1..) that announces it',
  station_id VARCHAR(4) NOT NULL,
  year NUMBER(4,0) NOT NULL,
  row_count NUMBER(10,0) NOT NULL COMMENT 'CLEAN rows in the partition after the batch'
)
COMMENT = 'The (station, year) partitions each batch changed: what the export rewrites';

-- Written by the export role (bootstrap grants INSERT and SELECT, nothing else): each
-- partition of a message that the export has finished (unloaded or removed), so that a retried
-- or re-delivered message resumes where the previous attempt stopped.
CREATE TABLE IF NOT EXISTS {{ database }}.{{ clean_schema }}.EXPORTED_PARTITIONS (
  batch_id VARCHAR NOT NULL,
  part NUMBER(6,0) NOT NULL,
  station_id VARCHAR(4) NOT NULL,
  year NUMBER(4,0) NOT NULL,
  row_count NUMBER(10,0) NOT NULL COMMENT 'rows unloaded; 0 for a removed partition',
  export_key VARCHAR NOT NULL COMMENT 'S3 key of the partition file',
  exported_at TIMESTAMP_NTZ NOT NULL
)
COMMENT = 'Export progress per partition (the resume point of a retried export)';

-- Written by the export role once a message is fully handled: the acknowledgement that stops
-- the sweep from re-sending it (RAW.NOTIFICATIONS_DUE).
CREATE TABLE IF NOT EXISTS {{ database }}.{{ clean_schema }}.EXPORT_ACKS (
  batch_id VARCHAR NOT NULL,
  part NUMBER(6,0) NOT NULL,
  uploads NUMBER(10,0) NOT NULL COMMENT 'upload records marked by this message',
  acked_at TIMESTAMP_NTZ NOT NULL
)
COMMENT = 'Load notifications the export has handled';

-- Work table of the task: the open batch's data lines, parsed once (DELETE + INSERT each run;
-- no DDL inside the task's transaction).
CREATE TRANSIENT TABLE IF NOT EXISTS {{ database }}.{{ clean_schema }}.BATCH_WORK (
  batch_id VARCHAR NOT NULL,
  file_name VARCHAR NOT NULL,
  file_row_number NUMBER(10,0) NOT NULL,
  file_last_modified TIMESTAMP_NTZ NOT NULL,
  station_id VARCHAR(4),
  observed_at TIMESTAMP_NTZ,
{%- for m in MEASURES %}
  {{ m.name }} {{ m.type }},
{%- endfor %}
{%- for m in MEASURES %}
  oor_{{ m.name }} BOOLEAN NOT NULL,
{%- endfor %}
  all_missing BOOLEAN NOT NULL COMMENT 'rule 6: every measure NULL after rules 4-5',
  is_latest BOOLEAN NOT NULL COMMENT 'the most recently loaded line for its station and hour'
)
COMMENT = 'Scratch space of the PROCESS_RAW task (one batch at a time)';

-- The export role writes its progress and acknowledgements, nothing else (R__views.sql grants
-- the views it reads).
GRANT SELECT, INSERT ON TABLE {{ database }}.{{ clean_schema }}.EXPORTED_PARTITIONS TO ROLE {{ export_role }};
GRANT INSERT ON TABLE {{ database }}.{{ clean_schema }}.EXPORT_ACKS TO ROLE {{ export_role }};
