{% from 'modules/measures.sql' import MEASURES, names -%}
{% from 'modules/versions.sql' import newest_first, is_later -%}
{% from 'modules/qc.sql' import work_names, flag_rows -%}
-- The statements of the PROCESS_RAW task, in order, run in one transaction. Plain SQL with no
-- scripting variables: Snowflake runs them inside the task (task/process_raw_block.sql includes this file)
-- and the local runtime runs the very same text on fakesnow (local/inmet_local/emulator/warehouse.py).
-- Each statement ends with ';' at the end of a line.

-- 1. Open a batch.
INSERT INTO {{ database }}.{{ raw_schema }}.BATCHES (batch_id, status, started_at)
SELECT UUID_STRING(), 'open', SYSDATE();

-- 2. Capture the stream's files: reading the stream in a DML statement consumes it.
INSERT INTO {{ database }}.{{ raw_schema }}.BATCH_FILES (batch_id, file_name, file_last_modified)
SELECT b.batch_id, s.file_name, MAX(s.file_last_modified)
FROM {{ database }}.{{ raw_schema }}.INMET_RAW_STREAM s
CROSS JOIN (SELECT batch_id FROM {{ database }}.{{ raw_schema }}.BATCHES WHERE status = 'open') b
GROUP BY b.batch_id, s.file_name;

-- 2b. Quarantine (issue 15): a captured file whose lines break a rule the warehouse relies on
-- (RAW.OPEN_BATCH_VIOLATIONS, generated from inmet_pipeline.rules) is set aside with the line,
-- the rule and the value; the views below leave it out, so one bad file never fails the batch.
-- The reason is cut to {{ reason_max_chars }} characters: the load notification carries it.
INSERT INTO {{ database }}.{{ raw_schema }}.QUARANTINE (batch_id, file_name, reason, quarantined_at)
SELECT batch_id, file_name, LEFT(reason, {{ reason_max_chars }}), SYSDATE()
FROM {{ database }}.{{ raw_schema }}.OPEN_BATCH_VIOLATIONS;

-- 3. Parse the batch once (rules 2-7) into the work table.
DELETE FROM {{ database }}.{{ clean_schema }}.BATCH_WORK;

INSERT INTO {{ database }}.{{ clean_schema }}.BATCH_WORK (
  batch_id, file_name, file_row_number, file_last_modified, station_id, observed_at,
  {{ names(per_line=4) }},
  {{ names('oor_', per_line=3) }},
  all_missing, is_latest,
  {{ work_names() }}
)
SELECT
  batch_id, file_name, file_row_number, file_last_modified, station_id, observed_at,
  {{ names(per_line=4) }},
  {{ names('oor_', per_line=3) }},
  all_missing, is_latest,
  {{ work_names() }}
FROM {{ database }}.{{ clean_schema }}.OPEN_BATCH_OBSERVATIONS;

-- 3b. Rule 7 across batches: a line whose hour an earlier batch loaded from a later version
-- (the upload sequence in the file name: modules/versions.sql) is not the latest, even when
-- that later line was all missing. Snowpipe does not promise to load files in the order they were written, so a batch
-- may bring an older upload after a newer one. A file covers the hours from its first to its
-- last line: INMET files are complete hourly grids (a missing hour is a row of empty values),
-- so inside that span an hour the newer file lacks can only come from a file the upload
-- warned about (hour_gaps); the newer upload's span still wins there.
UPDATE {{ database }}.{{ clean_schema }}.BATCH_WORK w
SET is_latest = FALSE
FROM {{ database }}.{{ clean_schema }}.FILE_LOADS f
WHERE w.is_latest
  AND f.station_id = w.station_id
  AND f.batch_id <> w.batch_id
  AND w.observed_at BETWEEN f.first_observed_at AND f.last_observed_at
  AND {{ is_later('f.file_name', 'f.file_last_modified', 'w.file_name', 'w.file_last_modified') }};

-- 4. Stations (rule 1): the version sent last of each station wins, in this batch and against
-- what STATIONS holds (modules/versions.sql).
MERGE INTO {{ database }}.{{ clean_schema }}.STATIONS t
USING (
  SELECT station_id, station_name, region, state, latitude, longitude, altitude_m, founded_text,
         file_name, file_last_modified
  FROM {{ database }}.{{ clean_schema }}.OPEN_BATCH_FILES
  -- Every NOT NULL column of STATIONS (the rules set such a file aside before; this keeps the
  -- MERGE from failing whatever RAW holds).
  WHERE station_id IS NOT NULL AND station_name IS NOT NULL AND region IS NOT NULL
    AND state IS NOT NULL AND latitude IS NOT NULL AND longitude IS NOT NULL
    AND altitude_m IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY station_id ORDER BY {{ newest_first() }}
  ) = 1
) s
ON t.station_id = s.station_id
WHEN MATCHED AND {{ is_later('s.file_name', 's.file_last_modified', 't.source_file', 't.source_modified', or_same=true) }} THEN UPDATE SET
  station_name = s.station_name, region = s.region, state = s.state, latitude = s.latitude,
  longitude = s.longitude, altitude_m = s.altitude_m, founded_text = s.founded_text,
  source_file = s.file_name, source_modified = s.file_last_modified, updated_at = SYSDATE()
WHEN NOT MATCHED THEN INSERT (
  station_id, station_name, region, state, latitude, longitude, altitude_m, founded_text,
  source_file, source_modified, updated_at
) VALUES (
  s.station_id, s.station_name, s.region, s.state, s.latitude, s.longitude, s.altitude_m,
  s.founded_text, s.file_name, s.file_last_modified, SYSDATE()
);

-- 4b. The station history (rule 1): each station-year's attributes from the version of that
-- station-year sent last; another year's row is never touched.
MERGE INTO {{ database }}.{{ clean_schema }}.STATION_YEARS t
USING (
  SELECT f.station_id, y.year, f.station_name, f.region, f.state, f.latitude, f.longitude,
         f.altitude_m, f.founded_text, f.file_name, f.file_last_modified
  FROM {{ database }}.{{ clean_schema }}.OPEN_BATCH_FILES f
  JOIN (
    SELECT file_name, MIN(YEAR(observed_at)) AS year
    FROM {{ database }}.{{ clean_schema }}.BATCH_WORK
    WHERE observed_at IS NOT NULL
    GROUP BY file_name
  ) y ON y.file_name = f.file_name
  -- Every NOT NULL column of STATION_YEARS, as for STATIONS above: no RAW content makes the
  -- MERGE fail (the rules set such a file aside before it gets here).
  WHERE f.station_id IS NOT NULL AND f.station_name IS NOT NULL AND f.region IS NOT NULL
    AND f.state IS NOT NULL AND f.latitude IS NOT NULL AND f.longitude IS NOT NULL
    AND f.altitude_m IS NOT NULL AND f.file_last_modified IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (PARTITION BY f.station_id, y.year ORDER BY {{ newest_first('f.') }}) = 1
) s
ON t.station_id = s.station_id AND t.year = s.year
WHEN MATCHED AND {{ is_later('s.file_name', 's.file_last_modified', 't.source_file', 't.source_modified', or_same=true) }} THEN UPDATE SET
  station_name = s.station_name, region = s.region, state = s.state, latitude = s.latitude,
  longitude = s.longitude, altitude_m = s.altitude_m, founded_text = s.founded_text,
  source_file = s.file_name, source_modified = s.file_last_modified, updated_at = SYSDATE()
WHEN NOT MATCHED THEN INSERT (
  station_id, year, station_name, region, state, latitude, longitude, altitude_m, founded_text,
  source_file, source_modified, updated_at
) VALUES (
  s.station_id, s.year, s.station_name, s.region, s.state, s.latitude, s.longitude,
  s.altitude_m, s.founded_text, s.file_name, s.file_last_modified, SYSDATE()
);

-- 5. Observations (rule 7): upsert by (station_id, observed_at); the batch's line replaces the
-- stored one, and an hour that the newer file has entirely missing (rule 6) leaves CLEAN.
MERGE INTO {{ database }}.{{ clean_schema }}.OBSERVATIONS t
USING (
  -- The columns the MERGE reads, not the work table's every column: the local warehouse copies
  -- a MERGE's source rows once per clause.
  SELECT
    station_id, observed_at, all_missing, file_name, file_last_modified, batch_id,
    {{ names(per_line=4) }},
    {%- for m in MEASURES %} {{ m.name }}_qc{{ ',' if not loop.last }}{% endfor %}
  FROM {{ database }}.{{ clean_schema }}.BATCH_WORK
  WHERE is_latest AND station_id IS NOT NULL AND observed_at IS NOT NULL
) s
ON t.station_id = s.station_id AND t.observed_at = s.observed_at
WHEN MATCHED AND s.all_missing THEN DELETE
WHEN MATCHED THEN UPDATE SET
  {%- for m in MEASURES %}
  {{ m.name }} = s.{{ m.name }},
  {%- endfor %}
  {%- for m in MEASURES %}
  {{ m.name }}_qc = s.{{ m.name }}_qc,
  {%- endfor %}
  source_file = s.file_name, source_modified = s.file_last_modified, batch_id = s.batch_id,
  updated_at = SYSDATE()
WHEN NOT MATCHED AND NOT s.all_missing THEN INSERT (
  station_id, observed_at,
  {{ names(per_line=4) }},
  {%- for m in MEASURES %} {{ m.name }}_qc,{% endfor %}
  source_file, source_modified, batch_id, updated_at
) VALUES (
  s.station_id, s.observed_at,
  {{ names('s.', per_line=4) }},
  {%- for m in MEASURES %} s.{{ m.name }}_qc,{% endfor %}
  s.file_name, s.file_last_modified, s.batch_id, SYSDATE()
);

-- 5b. Quality control (modules/qc.sql): the reasons for the flags of the hours this batch wrote
-- to CLEAN replace what those hours had; an hour the batch removed (rule 6) keeps none.
DELETE FROM {{ database }}.{{ clean_schema }}.QC_FLAGS q
WHERE EXISTS (
  SELECT 1 FROM {{ database }}.{{ clean_schema }}.BATCH_WORK w
  WHERE w.is_latest AND w.station_id = q.station_id AND w.observed_at = q.observed_at
);

INSERT INTO {{ database }}.{{ clean_schema }}.QC_FLAGS (
  station_id, observed_at, measure, test, flag, value_written, reference, source_file, batch_id
)
{#- the flagged rows of CLEAN this batch wrote: a derived table in each branch (no WITH inside
    an INSERT) -#}
{%- set flagged -%}
(SELECT * FROM {{ database }}.{{ clean_schema }}.BATCH_WORK
 WHERE is_latest AND NOT all_missing AND station_id IS NOT NULL AND observed_at IS NOT NULL
   AND GREATEST({% for m in MEASURES %}COALESCE({{ m.name }}_qc, 0){{ ', ' if not loop.last }}{% endfor %}) > 0) flagged
{%- endset %}
{{ flag_rows(flagged) }};

{% include 'task/daily.sql' %}

-- 6. What each file contributed, with out-of-range counts per measure.
MERGE INTO {{ database }}.{{ clean_schema }}.FILE_LOADS t
USING (
  SELECT
    f.file_name, f.raw_key, f.upload_id, f.station_id, f.batch_id, f.file_last_modified,
    f.loaded_at, w.year, w.first_observed_at, w.last_observed_at,
    COALESCE(w.data_rows, 0) AS data_rows,
    COALESCE(w.rows_clean, 0) AS rows_clean,
    COALESCE(w.all_missing_rows, 0) AS all_missing_rows,
    COALESCE(w.out_of_range_values, 0) AS out_of_range_values,
    {%- for m in MEASURES %}
    COALESCE(w.oor_{{ m.name }}, 0) AS oor_{{ m.name }}{{ ',' if not loop.last }}
    {%- endfor %}
  FROM {{ database }}.{{ clean_schema }}.OPEN_BATCH_FILES f
  LEFT JOIN (
    SELECT
      file_name,
      MIN(YEAR(observed_at)) AS year,
      MIN(observed_at) AS first_observed_at,
      MAX(observed_at) AS last_observed_at,
      COUNT(*) AS data_rows,
      COUNT_IF(is_latest AND NOT all_missing AND observed_at IS NOT NULL AND station_id IS NOT NULL) AS rows_clean,
      COUNT_IF(all_missing) AS all_missing_rows,
      {%- for m in MEASURES %}
      {{ '  + ' if not loop.first }}COUNT_IF(oor_{{ m.name }}){{ ' AS out_of_range_values,' if loop.last }}
      {%- endfor %}
      {%- for m in MEASURES %}
      COUNT_IF(oor_{{ m.name }}) AS oor_{{ m.name }}{{ ',' if not loop.last }}
      {%- endfor %}
    FROM {{ database }}.{{ clean_schema }}.BATCH_WORK
    GROUP BY file_name
  ) w ON w.file_name = f.file_name
) s
ON t.file_name = s.file_name
WHEN MATCHED THEN UPDATE SET
  raw_key = s.raw_key, upload_id = s.upload_id, station_id = s.station_id, year = s.year,
  first_observed_at = s.first_observed_at, last_observed_at = s.last_observed_at,
  batch_id = s.batch_id, data_rows = s.data_rows, rows_clean = s.rows_clean,
  all_missing_rows = s.all_missing_rows, out_of_range_values = s.out_of_range_values,
  {%- for m in MEASURES %}
  oor_{{ m.name }} = s.oor_{{ m.name }},
  {%- endfor %}
  file_last_modified = s.file_last_modified,
  loaded_at = s.loaded_at
WHEN NOT MATCHED THEN INSERT (
  file_name, raw_key, upload_id, station_id, year, first_observed_at, last_observed_at,
  batch_id, data_rows, rows_clean, all_missing_rows, out_of_range_values,
  {%- for m in MEASURES %}
  oor_{{ m.name }},
  {%- endfor %}
  file_last_modified,
  loaded_at
) VALUES (
  s.file_name, s.raw_key, s.upload_id, s.station_id, s.year, s.first_observed_at,
  s.last_observed_at, s.batch_id, s.data_rows, s.rows_clean, s.all_missing_rows, s.out_of_range_values,
  {%- for m in MEASURES %}
  s.oor_{{ m.name }},
  {%- endfor %}
  s.file_last_modified,
  s.loaded_at
);

-- 7. The (station, year) partitions the batch touched, with their CLEAN row counts after it
-- (0 when a newer all-missing file emptied one: the export then removes that partition), and
-- the message that will announce each. Packed in (station, year) order by their size in the
-- message: a partition weighs its JSON and its files' keys at 6 bytes a character (JSON's
-- longest escape), and at least {{ message_budget_bytes }} / {{ partitions_per_message }}, so
-- that a message holds at most {{ partitions_per_message }} partitions and about
-- {{ message_budget_bytes }} bytes (R__views.sql, PENDING_NOTIFICATIONS).
INSERT INTO {{ database }}.{{ clean_schema }}.BATCH_PARTITIONS (
  batch_id, part, station_id, year, row_count
)
SELECT
  batch_id,
  DENSE_RANK() OVER (PARTITION BY batch_id ORDER BY packed) AS part,
  station_id,
  year,
  row_count
FROM (
  SELECT
    batch_id, station_id, year, row_count,
    FLOOR(
      (SUM(weight) OVER (PARTITION BY batch_id ORDER BY station_id, year
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - weight)
      / {{ message_budget_bytes }}
    ) AS packed
  FROM (
    SELECT
      p.batch_id,
      p.station_id,
      p.year,
      COUNT(o.station_id) AS row_count,
      GREATEST(
        {{ message_budget_bytes }} / {{ partitions_per_message }},
        80 + COALESCE(MAX(k.key_bytes), 0)
      ) AS weight
    FROM (
      SELECT DISTINCT batch_id, station_id, YEAR(observed_at) AS year
      FROM {{ database }}.{{ clean_schema }}.BATCH_WORK
      WHERE station_id IS NOT NULL AND observed_at IS NOT NULL
    ) p
    LEFT JOIN {{ database }}.{{ clean_schema }}.OBSERVATIONS o
      ON o.station_id = p.station_id
      AND o.observed_at >= TIMESTAMP_NTZ_FROM_PARTS(p.year, 1, 1, 0, 0, 0)
      AND o.observed_at < TIMESTAMP_NTZ_FROM_PARTS(p.year + 1, 1, 1, 0, 0, 0)
    LEFT JOIN (
      SELECT batch_id, station_id, year, SUM(6 * LENGTH(raw_key) + 3) AS key_bytes
      FROM {{ database }}.{{ clean_schema }}.FILE_LOADS
      GROUP BY batch_id, station_id, year
    ) k ON k.batch_id = p.batch_id AND k.station_id = p.station_id AND k.year = p.year
    GROUP BY p.batch_id, p.station_id, p.year
  ) weighed
) packed_partitions;

-- 8. Close the batch; its notification is now pending (view PENDING_NOTIFICATIONS).
UPDATE {{ database }}.{{ raw_schema }}.BATCHES SET status = 'loaded', loaded_at = SYSDATE() WHERE status = 'open';

-- 9. Queue its messages, in the same transaction as the data they announce: the task's
-- scripting block (R__z_tasks.sql) sends what RAW.NOTIFICATIONS_DUE lists right after the commit,
-- and the sweep task re-sends what the export has not acknowledged.
INSERT INTO {{ database }}.{{ raw_schema }}.NOTIFICATIONS (
  batch_id, part, parts, message, queued_at, sends
)
SELECT batch_id, part, parts, message, SYSDATE(), 0
FROM {{ database }}.{{ clean_schema }}.PENDING_NOTIFICATIONS;

UPDATE {{ database }}.{{ raw_schema }}.BATCHES SET status = 'queued', queued_at = SYSDATE() WHERE status = 'loaded';
