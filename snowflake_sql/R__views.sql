{#-
  Where each rule of docs/contracts.md §3 lives (a Jinja comment: not sent to Snowflake).

    rule 1  stations        here, OPEN_BATCH_FILES (metadata lines 1-8 by position); the newest
                            upload per station: task/process_batch.sql step 4 (MERGE STATIONS)
    rule 2  time            here, OPEN_BATCH_OBSERVATIONS, CTE parsed (observed_at)
    rule 3  measures        modules/measures.sql: MEASURES (name, RAW column c03..c19, type),
                            looped over in CTE parsed
    rule 4  missing         modules/measures.sql, macro parsed ('' and -9999 are NULL)
    rule 5  ranges          modules/measures.sql: low/high, macros range_checked, out_of_range
                            (CTE range_checked); counted per file: process_batch.sql step 6
    rule 6  empty hours     here, all_missing; applied by process_batch.sql step 5 (MERGE:
                            not inserted, or DELETEd when a newer upload is all missing)
    rule 7  one per hour    here, is_latest (inside a batch); across batches process_batch.sql
                            step 3b; the upsert: step 5 (MERGE OBSERVATIONS)
    columns, in order       here, the export view {{ clean_view }}

  The measures are declared once, in modules/measures.sql (schemachange's modules-folder);
  tests/unit/test_sql_measures.py holds them equal to inmet_pipeline.columns.MEASURES.
  Files the batch sets aside (issue 15): task/file_violations.sql, generated from
  inmet_pipeline.rules.
-#}
{% from 'modules/measures.sql' import MEASURES, parsed, range_checked, out_of_range -%}
{% from 'modules/qc.sql' import qc_inputs, qc_sun, qc_ra, qc_sequence_columns, qc_sequence_results, qc_neighbours, qc_links, qc_shifted, qc_run_ends, qc_in_run, qc_checked, qc_flagged, qc_value, qc_outputs -%}
{% from 'modules/keys.sql' import raw_key -%}
{#- A number that fits a NUMBER(p,s) column whose integer part holds less than `bound`, else NULL. -#}
{%- macro fitting(value, bound) -%}
IFF(ABS({{ value }}) < {{ bound }}, {{ value }}, NULL)
{%- endmacro -%}
{% from 'modules/numbers.sql' import inmet_number -%}
{#- CTEs that each add columns to the one before: `items` is a list of (name, macro); each CTE
    selects the previous one's columns and the macro's, from `first` on. A comma follows each,
    but the very last when `last`. -#}
{%- macro steps(first, items, last=false) -%}
{%- set ns = namespace(previous=first) -%}
{%- for name, columns in items -%}
{{ name }} AS (
  SELECT {{ ns.previous }}.*,{{ columns() }}
  FROM {{ ns.previous }}
){{ ',' if not (last and loop.last) }}
{% set ns.previous = name -%}
{%- endfor -%}
{%- endmacro -%}
{% from 'modules/versions.sql' import newest_first, is_later, upload_sequence -%}
-- Views, re-created whenever this file changes (CREATE OR REPLACE loses nothing for a view).
-- One CTE per step, named for what it holds. The CLEAN rules of docs/contracts.md §3 live here.

-- The RAW lines of the files in the open batch. A file loaded twice (ALTER PIPE … REFRESH or
-- COPY … FORCE) counts once. The bookkeeping rests on keys, never on equal timestamps: a raw/
-- object's name holds the sha256 of its bytes, so two loads of one name are the same lines, and
-- one copy of each (file_name, file_row_number) is kept.
CREATE OR REPLACE VIEW {{ database }}.{{ raw_schema }}.OPEN_BATCH_LINES AS
WITH open_files AS (
  SELECT f.batch_id, f.file_name
  FROM {{ database }}.{{ raw_schema }}.BATCH_FILES f
  JOIN {{ database }}.{{ raw_schema }}.BATCHES b ON b.batch_id = f.batch_id
  WHERE b.status = 'open'
)
SELECT o.batch_id, r.*
FROM {{ database }}.{{ raw_schema }}.INMET_RAW r
JOIN open_files o ON o.file_name = r.file_name
-- A file the batch set aside (RAW.QUARANTINE, issue 15) is not part of it any more.
WHERE NOT EXISTS (
  SELECT 1 FROM {{ database }}.{{ raw_schema }}.QUARANTINE q
  WHERE q.batch_id = o.batch_id AND q.file_name = r.file_name
)
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY r.file_name, r.file_row_number ORDER BY r.loaded_at DESC
) = 1;

{% include 'task/file_violations.sql' %}

-- Rule 1: station attributes from metadata lines 1-8, by position (INMET spells the keys three
-- ways: REGIÃO / REGI?O / REGIAO …). Decimal commas become points.
CREATE OR REPLACE VIEW {{ database }}.{{ clean_schema }}.OPEN_BATCH_FILES AS
WITH metadata_lines AS (
  SELECT batch_id, file_name, file_row_number, TRIM(c02) AS meta_value, file_last_modified, loaded_at
  FROM {{ database }}.{{ raw_schema }}.OPEN_BATCH_LINES
  WHERE file_row_number <= 8
),
by_file AS (
  SELECT
    batch_id,
    file_name,
    -- Each value fits its CLEAN column or is NULL (the transform is total: no RAW content makes
    -- a write fail). These are the columns' capacities (V1.3.0: VARCHAR(2), VARCHAR(4),
    -- NUMBER(10,8), NUMBER(11,8), NUMBER(7,2)), not rules: the rules (file_violations.sql)
    -- set such a file aside before it gets here.
    MAX(IFF(file_row_number = 1 AND LENGTH(meta_value) <= 2, UPPER(meta_value), NULL)) AS region,
    MAX(IFF(file_row_number = 2 AND LENGTH(meta_value) <= 2, UPPER(meta_value), NULL)) AS state,
    MAX(IFF(file_row_number = 3, meta_value, NULL)) AS station_name,
    MAX(IFF(file_row_number = 4 AND LENGTH(meta_value) <= 4, UPPER(meta_value), NULL)) AS station_id,
    MAX(IFF(file_row_number = 5, {{ fitting(inmet_number('meta_value', 12, 8), 100) }}, NULL)) AS latitude,
    MAX(IFF(file_row_number = 6, {{ fitting(inmet_number('meta_value', 12, 8), 1000) }}, NULL)) AS longitude,
    MAX(IFF(file_row_number = 7, {{ fitting(inmet_number('meta_value', 12, 2), 100000) }}, NULL)) AS altitude_m,
    MAX(IFF(file_row_number = 8, meta_value, NULL)) AS founded_text,
    MAX(file_last_modified) AS file_last_modified,
    MAX(loaded_at) AS loaded_at
  FROM metadata_lines
  GROUP BY batch_id, file_name
)
SELECT
  by_file.*,
  {{ raw_key('file_name', raw_prefix) }} AS raw_key,
  -- <sequence>-<upload_id>.csv (upload_objects.RAW_NAME_RE), or <upload_id>.csv before sequences
  SPLIT_PART(REPLACE(SPLIT_PART(file_name, '/', -1), '.csv', ''), '-', -1) AS upload_id,
  -- the version order's first key (modules/versions.sql), once a file for its lines
  {{ upload_sequence('file_name') }} AS upload_sequence
FROM by_file;

-- Rules 2-7 on the data lines (line 10 on) of the open batch.
CREATE OR REPLACE VIEW {{ database }}.{{ clean_schema }}.OPEN_BATCH_OBSERVATIONS AS
WITH data_lines AS (
  SELECT l.*, f.station_id, f.latitude, f.longitude, f.altitude_m, f.upload_sequence
  FROM {{ database }}.{{ raw_schema }}.OPEN_BATCH_LINES l
  JOIN {{ database }}.{{ clean_schema }}.OPEN_BATCH_FILES f ON f.file_name = l.file_name
  WHERE l.file_row_number >= 10
),
parsed AS (
  -- Rule 2: '2015-01-01' + '00:00' (layout A) or '2019/01/01' + '0000 UTC' (layout B), UTC.
  -- Rules 3-4: columns 3-19 in order; decimal comma, ',2' = 0.2; '' and -9999 are missing.
  SELECT
    l.batch_id, l.file_name, l.file_row_number, l.file_last_modified, l.station_id,
    l.latitude, l.longitude, l.altitude_m, l.upload_sequence,
    -- An explicit format, never the account's TIMESTAMP_INPUT_FORMAT ("TO_TIMESTAMP / TO_TIMESTAMP_*",
    -- docs.snowflake.com/en/sql-reference/functions/to_timestamp: without a format, AUTO or the
    -- session's TIMESTAMP_INPUT_FORMAT decides). A text no format reads is NULL: no hour.
    -- Only a date that starts with four digits: the year the rules check (file_violations.sql
    -- reads LEFT(c01, 4)); '244-11-06' would otherwise be the year 244.
    IFF(
      l.c01 RLIKE '^[0-9]{4}[-/].*$',
      TRY_TO_TIMESTAMP_NTZ(
        REPLACE(l.c01, '/', '-') || ' ' || LEFT(l.c02, 2) || ':00:00', 'YYYY-MM-DD HH24:MI:SS'
      ),
      NULL
    ) AS observed_at,
    {%- for m in MEASURES %}
    {{ parsed(m, 'l') }} AS {{ m.name }}_raw{{ ',' if not loop.last }}
    {%- endfor %}
  FROM data_lines l
),
range_checked AS (
  -- Rule 5: a value outside its physical range is NULL (and counted); RAW keeps it.
  SELECT
    batch_id, file_name, file_row_number, file_last_modified, station_id, observed_at,
    latitude, longitude, altitude_m, upload_sequence,
    {%- for m in MEASURES %}
    {{ range_checked(m) }} AS {{ m.name }},
    {{ m.name }}_raw,
    {%- endfor %}
    {%- for m in MEASURES %}
    {{ out_of_range(m) }} AS oor_{{ m.name }}{{ ',' if not loop.last }}
    {%- endfor %}
  FROM parsed
),
-- Quality control (modules/qc.sql, docs/qc.md): each file's hours in time order, in this same
-- pass; a value flagged erroneous (2) is NULL below, its flag and the reason kept beside it.
qc_inputs AS (
  SELECT
    range_checked.*,
    -- Rule 6: a row whose 17 measures are all NULL after the range rule is not in CLEAN (a
    -- value quality control sets to NULL leaves its row, with the flag saying why).
    (
      {%- for m in MEASURES %}
      {{ 'AND ' if not loop.first }}{{ m.name }} IS NULL
      {%- endfor %}
    ) AS all_missing,{{ qc_inputs() }}
  FROM range_checked
),
-- The persistence and step tests look at neighbouring hours: their window functions run over
-- a narrow projection of the rows (the file, the line, the hour and the values they compare),
-- and their results join back by line (file_name, file_row_number: OPEN_BATCH_LINES keeps one
-- row per line). A window sorts every column it is given: over the
-- whole row (60 columns) the two windows took as long as parsing the batch, locally.
qc_sequence AS (
  SELECT file_name, file_row_number, observed_at, station_id, file_last_modified, upload_sequence,{{ qc_sequence_columns() }}
  FROM qc_inputs
),
qc_neighbours AS (
  SELECT
    qc_sequence.*,
    -- Rule 7: one row per station and hour; the line of the version sent last wins: the order
    -- is the upload sequence in the raw/ object's name (modules/versions.sql).
    ROW_NUMBER() OVER (
      PARTITION BY station_id, observed_at
      ORDER BY {{ newest_first(sequence='upload_sequence') }}, file_row_number DESC
    ) = 1 AS is_latest,{{ qc_neighbours() }}
  FROM qc_sequence
),
{{ steps('qc_neighbours', [('qc_links', qc_links), ('qc_shifted', qc_shifted), ('qc_run_ends', qc_run_ends), ('qc_in_run', qc_in_run)]) }}
{{ steps('qc_inputs', [('qc_sun', qc_sun), ('qc_ra', qc_ra)]) }}
qc_joined AS (
  SELECT qc_ra.*, n.is_latest,{{ qc_sequence_results('n.') }}
  FROM qc_ra
  JOIN qc_in_run n ON n.file_name = qc_ra.file_name AND n.file_row_number = qc_ra.file_row_number
),
{{ steps('qc_joined', [('qc_checked', qc_checked), ('qc_flagged', qc_flagged)], last=true) }}
SELECT
  batch_id, file_name, file_row_number, file_last_modified, station_id, observed_at,
  {%- for m in MEASURES %}
  {{ qc_value(m) }} AS {{ m.name }},
  {%- endfor %}
  {%- for m in MEASURES %}
  oor_{{ m.name }},
  {%- endfor %}
  all_missing,
  is_latest,{{ qc_outputs() }}
FROM qc_flagged;

-- The export view: docs/contracts.md §3 columns, in order. Station attributes from the station
-- history (STATION_YEARS): each row carries what its own year's file states, so an upload of
-- one year never relabels another year's rows.
CREATE OR REPLACE VIEW {{ database }}.{{ clean_schema }}.{{ clean_view }} COPY GRANTS AS
SELECT
  o.station_id,
  s.station_name,
  s.region,
  s.state,
  s.latitude,
  s.longitude,
  s.altitude_m,
  o.observed_at,
  {%- for m in MEASURES %}
  o.{{ m.name }},
  {%- endfor %}
  -- Then each measure's quality-control flag, in the same order (contract version 2).
  {%- for m in MEASURES %}
  o.{{ m.name }}_qc{{ ',' if not loop.last }}
  {%- endfor %}
FROM {{ database }}.{{ clean_schema }}.OBSERVATIONS o
JOIN {{ database }}.{{ clean_schema }}.STATION_YEARS s
  ON s.station_id = o.station_id AND s.year = YEAR(o.observed_at);

-- The station history as events (docs/contracts.md §3 rule 1): what changed between two
-- consecutive years of a station in STATION_YEARS. A relocation: the coordinates or the altitude
-- changed; distance_m is the great-circle distance between the two positions (the haversine
-- formula on a sphere of the Earth's mean radius, 6,371,008.8 m, written out with RADIANS, SIN,
-- COS, ASIN and SQRT: the local warehouse has no HAVERSINE), altitude_change_m the later year's
-- altitude minus the earlier's. A rename: the name changed.
CREATE OR REPLACE VIEW {{ database }}.{{ clean_schema }}.STATION_EVENTS AS
WITH consecutive AS (
  SELECT
    station_id,
    year,
    station_name,
    latitude,
    longitude,
    altitude_m,
    LAG(year) OVER (PARTITION BY station_id ORDER BY year) AS previous_year,
    LAG(station_name) OVER (PARTITION BY station_id ORDER BY year) AS previous_name,
    LAG(latitude) OVER (PARTITION BY station_id ORDER BY year) AS previous_latitude,
    LAG(longitude) OVER (PARTITION BY station_id ORDER BY year) AS previous_longitude,
    LAG(altitude_m) OVER (PARTITION BY station_id ORDER BY year) AS previous_altitude_m
  FROM {{ database }}.{{ clean_schema }}.STATION_YEARS
)
SELECT
  station_id,
  previous_year,
  year,
  'relocation' AS event_type,
  ROUND(2 * 6371008.8 * ASIN(SQRT(
    POWER(SIN(RADIANS(latitude - previous_latitude) / 2), 2)
    + COS(RADIANS(previous_latitude)) * COS(RADIANS(latitude))
    * POWER(SIN(RADIANS(longitude - previous_longitude) / 2), 2)
  )), 1) AS distance_m,
  altitude_m - previous_altitude_m AS altitude_change_m,
  previous_name AS name_before,
  station_name AS name_after
FROM consecutive
WHERE previous_year IS NOT NULL
  AND (
    latitude <> previous_latitude
    OR longitude <> previous_longitude
    OR altitude_m <> previous_altitude_m
  )
UNION ALL
SELECT
  station_id,
  previous_year,
  year,
  'rename' AS event_type,
  NULL AS distance_m,
  NULL AS altitude_change_m,
  previous_name AS name_before,
  station_name AS name_after
FROM consecutive
WHERE previous_year IS NOT NULL AND station_name <> previous_name;

-- docs/contracts.md §4: the messages of each loaded batch not yet queued, one row per message
-- ("part"), each bounded in bytes so that it stays under SNS's 256 KiB ("Amazon SNS message
-- quotas": a message is at most 262,144 bytes, docs.aws.amazon.com/sns/latest/dg/sns-message-size.html;
-- tests/unit/test_sql_rules.py computes the worst case from these settings):
-- - parts 1..P carry the (station, year) partitions (BATCH_PARTITIONS.part: step 7 of the task
--   packs them by their bytes, {{ partitions_per_message }} partitions at most) with the files
--   that belong to them;
-- - parts P+1.. carry the files with no partition (all their hours missing) and the files the
--   batch set aside, with the reason (RAW.QUARANTINE, at most {{ reason_max_chars }}
--   characters), {{ items_per_message }} to a message.
-- "part", "parts" and "quarantined" are additions to the contract's fields: the export
-- acknowledges each message by (batch_id, part).
CREATE OR REPLACE VIEW {{ database }}.{{ clean_schema }}.PENDING_NOTIFICATIONS AS
WITH loaded_batches AS (
  SELECT batch_id, loaded_at
  FROM {{ database }}.{{ raw_schema }}.BATCHES
  WHERE status = 'loaded'
),
partition_parts AS (
  SELECT b.batch_id, COALESCE(MAX(p.part), 0) AS parts
  FROM loaded_batches b
  LEFT JOIN {{ database }}.{{ clean_schema }}.BATCH_PARTITIONS p ON p.batch_id = b.batch_id
  GROUP BY b.batch_id
),
file_parts AS (
  SELECT f.batch_id, f.raw_key, MIN(p.part) AS part
  FROM {{ database }}.{{ clean_schema }}.FILE_LOADS f
  JOIN loaded_batches b ON b.batch_id = f.batch_id
  LEFT JOIN {{ database }}.{{ clean_schema }}.BATCH_PARTITIONS p
    ON p.batch_id = f.batch_id AND p.station_id = f.station_id AND p.year = f.year
  GROUP BY f.batch_id, f.raw_key
),
loose_items AS (
  SELECT batch_id, raw_key, NULL AS reason FROM file_parts WHERE part IS NULL
  UNION ALL
  SELECT q.batch_id, {{ raw_key('q.file_name', raw_prefix) }} AS raw_key,
    LEFT(q.reason, {{ reason_max_chars }}) AS reason
  FROM {{ database }}.{{ raw_schema }}.QUARANTINE q
  JOIN loaded_batches b ON b.batch_id = q.batch_id
),
loose_parts AS (
  SELECT
    l.batch_id,
    l.raw_key,
    l.reason,
    c.parts + CEIL(
      ROW_NUMBER() OVER (PARTITION BY l.batch_id ORDER BY l.raw_key) / {{ items_per_message }}
    ) AS part
  FROM loose_items l
  JOIN partition_parts c ON c.batch_id = l.batch_id
),
part_files AS (
  SELECT batch_id, part, ARRAY_AGG(raw_key) WITHIN GROUP (ORDER BY raw_key) AS file_keys
  FROM (
    SELECT batch_id, part, raw_key FROM file_parts WHERE part IS NOT NULL
    UNION ALL
    SELECT batch_id, part, raw_key FROM loose_parts WHERE reason IS NULL
  )
  GROUP BY batch_id, part
),
part_quarantined AS (
  SELECT
    batch_id,
    part,
    ARRAY_AGG(OBJECT_CONSTRUCT('file', raw_key, 'error', reason))
      WITHIN GROUP (ORDER BY raw_key) AS items
  FROM loose_parts
  WHERE reason IS NOT NULL
  GROUP BY batch_id, part
),
part_partitions AS (
  SELECT
    p.batch_id,
    p.part,
    ARRAY_AGG(OBJECT_CONSTRUCT('station_id', p.station_id, 'year', p.year, 'rows', p.row_count))
      WITHIN GROUP (ORDER BY p.station_id, p.year) AS partitions
  FROM {{ database }}.{{ clean_schema }}.BATCH_PARTITIONS p
  JOIN loaded_batches b ON b.batch_id = p.batch_id
  GROUP BY p.batch_id, p.part
),
message_parts AS (
  SELECT DISTINCT batch_id, part
  FROM (
    SELECT batch_id, part FROM part_files
    UNION ALL
    SELECT batch_id, part FROM part_partitions
    UNION ALL
    SELECT batch_id, part FROM part_quarantined
  )
),
part_counts AS (
  SELECT batch_id, MAX(part) AS parts FROM message_parts GROUP BY batch_id
)
SELECT
  m.batch_id,
  m.part,
  c.parts,
  TO_JSON(OBJECT_CONSTRUCT(
    'event', 'inmet.clean.loaded',
    'batch_id', b.batch_id,
    'part', m.part,
    'parts', c.parts,
    'files', COALESCE(f.file_keys, ARRAY_CONSTRUCT()),
    'partitions', COALESCE(p.partitions, ARRAY_CONSTRUCT()),
    'quarantined', COALESCE(q.items, ARRAY_CONSTRUCT()),
    'loaded_at', REPLACE(TO_VARCHAR(b.loaded_at, 'YYYY-MM-DD HH24:MI:SS'), ' ', 'T') || 'Z'
  )) AS message
FROM message_parts m
JOIN loaded_batches b ON b.batch_id = m.batch_id
JOIN part_counts c ON c.batch_id = m.batch_id
LEFT JOIN part_files f ON f.batch_id = m.batch_id AND f.part = m.part
LEFT JOIN part_partitions p ON p.batch_id = m.batch_id AND p.part = m.part
LEFT JOIN part_quarantined q ON q.batch_id = m.batch_id AND q.part = m.part;

-- The messages to send now: never sent, or sent more than {{ notification_resend_minutes }}
-- minutes ago and not acknowledged by the export, at most {{ notification_max_sends }} sends.
-- The task sends them right after its commit; the sweep task re-sends them on a schedule.
CREATE OR REPLACE VIEW {{ database }}.{{ raw_schema }}.NOTIFICATIONS_DUE AS
SELECT n.batch_id, n.part, n.message, n.sends
FROM {{ database }}.{{ raw_schema }}.NOTIFICATIONS n
LEFT JOIN {{ database }}.{{ clean_schema }}.EXPORT_ACKS a
  ON a.batch_id = n.batch_id AND a.part = n.part
WHERE a.batch_id IS NULL
  AND n.sends < {{ notification_max_sends }}
  AND (
    n.last_sent_at IS NULL
    OR n.last_sent_at <= DATEADD(MINUTE, -{{ notification_resend_minutes }}, SYSDATE())
  );

-- Messages sent {{ notification_max_sends }} times and never acknowledged: a person looks at
-- them (snowflake_sql/README.md, "Checking a load").
CREATE OR REPLACE VIEW {{ database }}.{{ raw_schema }}.NOTIFICATIONS_ABANDONED AS
SELECT n.batch_id, n.part, n.parts, n.sends, n.queued_at, n.last_sent_at
FROM {{ database }}.{{ raw_schema }}.NOTIFICATIONS n
LEFT JOIN {{ database }}.{{ clean_schema }}.EXPORT_ACKS a
  ON a.batch_id = n.batch_id AND a.part = n.part
WHERE a.batch_id IS NULL AND n.sends >= {{ notification_max_sends }};

-- What the export reads, as views (owner's rights: the export role needs SELECT on these views
-- and USAGE on the CLEAN schema, not on RAW or the base tables; "Overview of Access Control",
-- docs.snowflake.com/en/user-guide/security-access-control-overview).
CREATE OR REPLACE VIEW {{ database }}.{{ clean_schema }}.EXPORT_FILE_LOADS COPY GRANTS AS
SELECT raw_key, rows_clean, station_id, year, batch_id
FROM {{ database }}.{{ clean_schema }}.FILE_LOADS;

-- Uploads a later version of their station-year replaced, in whole or in part (the status
-- `superseded`, docs/contracts.md §1.2): each loaded file that a later version (the order of
-- modules/versions.sql) overlaps, with the rows of it that survive and the latest version of its
-- station-year. A file covers the hours from its first to its last line, as in step 3b of
-- task/process_batch.sql. The hours it held with every value missing count too: an upload that
-- emptied hours is superseded once a later version sends them again (its partition may be gone
-- since), not left `exported` naming a partition that no longer exists.
CREATE OR REPLACE VIEW {{ database }}.{{ clean_schema }}.EXPORT_SUPERSEDED COPY GRANTS AS
WITH surviving AS (
  SELECT station_id, source_file AS file_name, COUNT(*) AS rows_surviving
  FROM {{ database }}.{{ clean_schema }}.OBSERVATIONS
  GROUP BY station_id, source_file
),
latest_later AS (
  SELECT f.file_name, l.raw_key AS later_key
  FROM {{ database }}.{{ clean_schema }}.FILE_LOADS f
  JOIN {{ database }}.{{ clean_schema }}.FILE_LOADS l
    ON l.station_id = f.station_id AND l.year = f.year
    AND {{ is_later('l.file_name', 'l.file_last_modified', 'f.file_name', 'f.file_last_modified') }}
  QUALIFY ROW_NUMBER() OVER (PARTITION BY f.file_name ORDER BY {{ newest_first('l.') }}) = 1
),
overlapped AS (
  SELECT DISTINCT f.file_name
  FROM {{ database }}.{{ clean_schema }}.FILE_LOADS f
  JOIN {{ database }}.{{ clean_schema }}.FILE_LOADS o
    ON o.station_id = f.station_id AND o.year = f.year
    AND o.first_observed_at <= f.last_observed_at AND o.last_observed_at >= f.first_observed_at
    AND {{ is_later('o.file_name', 'o.file_last_modified', 'f.file_name', 'f.file_last_modified') }}
)
SELECT
  f.raw_key,
  f.station_id,
  f.year,
  COALESCE(s.rows_surviving, 0) AS rows_surviving,
  l.later_key AS superseded_by
FROM {{ database }}.{{ clean_schema }}.FILE_LOADS f
JOIN overlapped v ON v.file_name = f.file_name
JOIN latest_later l ON l.file_name = f.file_name
LEFT JOIN surviving s ON s.station_id = f.station_id AND s.file_name = f.file_name;

-- raw/ keys loaded into RAW that no batch has processed (a task failure names no file). A
-- quarantined file is not pending: it never gets a FILE_LOADS row, and a later task failure
-- must not overwrite its `quarantined` reason.
CREATE OR REPLACE VIEW {{ database }}.{{ clean_schema }}.UNPROCESSED_FILES COPY GRANTS AS
SELECT DISTINCT {{ raw_key('r.file_name', raw_prefix) }} AS raw_key
FROM {{ database }}.{{ raw_schema }}.INMET_RAW r
WHERE NOT EXISTS (
  SELECT 1 FROM {{ database }}.{{ clean_schema }}.FILE_LOADS f WHERE f.file_name = r.file_name
)
AND NOT EXISTS (
  SELECT 1 FROM {{ database }}.{{ raw_schema }}.QUARANTINE q WHERE q.file_name = r.file_name
);

-- The export role: exactly what adapters/snowflake.py runs (tests/unit/test_privileges.py
-- checks every query it issues against these grants).
GRANT SELECT ON VIEW {{ database }}.{{ clean_schema }}.{{ clean_view }} TO ROLE {{ export_role }};
GRANT SELECT ON VIEW {{ database }}.{{ clean_schema }}.EXPORT_FILE_LOADS TO ROLE {{ export_role }};
GRANT SELECT ON VIEW {{ database }}.{{ clean_schema }}.UNPROCESSED_FILES TO ROLE {{ export_role }};
GRANT SELECT ON VIEW {{ database }}.{{ clean_schema }}.EXPORT_SUPERSEDED TO ROLE {{ export_role }};
