{%- set span -%}
SELECT DISTINCT station_id, YEAR(observed_at) AS year
FROM {{ database }}.{{ clean_schema }}.BATCH_WORK
WHERE station_id IS NOT NULL AND observed_at IS NOT NULL
{%- endset -%}
-- 5c. Daily values (docs/daily.md), incrementally: the station-days of the batch's
-- station-years (local dates 31 December of the year before to 31 December of the year; the
-- first and last of them span two UTC years) are removed and computed again from
-- OBSERVATIONS and STATION_YEARS as they now stand; no other day is read or written.
DELETE FROM {{ database }}.{{ clean_schema }}.DAILY d
WHERE EXISTS (
  SELECT 1 FROM ({{ span }}) s
  WHERE s.station_id = d.station_id
    AND d.local_date BETWEEN DATE_FROM_PARTS(s.year - 1, 12, 31) AND DATE_FROM_PARTS(s.year, 12, 31)
);

-- 5d. The days of those station-years that CLEAN holds at least one hour of.
INSERT INTO {{ database }}.{{ clean_schema }}.DAILY
{#- The ';' on a line of its own: schemachange drops an included file's last newline. #}
{% include 'task/daily_select.sql' %}
;
