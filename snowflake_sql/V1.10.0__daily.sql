{% from 'modules/daily.sql' import DAILY_VALUES, ETO_TYPE -%}
-- The daily values (docs/daily.md): one row per station and local date, from CLEAN.OBSERVATIONS
-- in the station's standard local day (modules/timezones.sql), each value with its count of
-- valid hours and NULL where its completeness rule does not hold (modules/daily.sql). The task
-- (task/daily.sql) computes again the days of the station-years each batch touches.
CREATE TABLE IF NOT EXISTS {{ database }}.{{ clean_schema }}.DAILY (
  station_id VARCHAR(4) NOT NULL COMMENT 'WMO code, e.g. A001',
  local_date DATE NOT NULL COMMENT 'the local date, in the station''s standard time',
  utc_offset NUMBER(2,0) NOT NULL COMMENT 'hours; the standard offset at the day''s local noon',
  day_hours NUMBER(2,0) NOT NULL COMMENT 'the hours of the local day: 24 (23 or 25 when the offset changed)',
  {%- for v in DAILY_VALUES %}
  {{ v.name }} {{ v.type }},
  n_{{ v.name }} NUMBER(2,0) NOT NULL COMMENT 'valid hours of {{ v.source }}',
  {%- endfor %}
  eto_mm {{ ETO_TYPE }} COMMENT 'FAO-56 Penman-Monteith reference evapotranspiration',
  n_eto_mm NUMBER(2,0) NOT NULL COMMENT 'the fewest valid hours among its inputs',
  updated_at TIMESTAMP_NTZ NOT NULL,
  CONSTRAINT daily_pk PRIMARY KEY (station_id, local_date)
)
COMMENT = 'One row per station and local date: daily values with their valid-hour counts';

-- Accounts with data from before this script: every station-day already in CLEAN, of the
-- stations DAILY has no day of yet. On Snowflake this script runs once and DAILY is empty here;
-- the local runtime applies every script again at each start, where the task has kept DAILY
-- since, so a restart inserts nothing twice. The primary key does not guard this on Snowflake:
-- a standard table's PRIMARY KEY is not enforced ("Constraints",
-- https://docs.snowflake.com/en/sql-reference/constraints: "doesn't enforce them, except for NOT
-- NULL and CHECK constraints"); the local warehouse (DuckDB) does enforce it, so the tests fail
-- on any duplicate the SQL would let through on Snowflake.
INSERT INTO {{ database }}.{{ clean_schema }}.DAILY
{% with span = "SELECT DISTINCT o.station_id, YEAR(o.observed_at) AS year FROM " ~ database ~ "." ~ clean_schema ~ ".OBSERVATIONS o WHERE NOT EXISTS (SELECT 1 FROM " ~ database ~ "." ~ clean_schema ~ ".DAILY d WHERE d.station_id = o.station_id)" -%}
{% include 'task/daily_select.sql' %}
{%- endwith %};
