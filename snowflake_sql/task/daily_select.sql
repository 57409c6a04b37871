{#-
  The daily values (modules/daily.sql) of the station-days of the station-years that `span` (a
  query of station_id, year) lists: the local dates 31 December of year - 1 to 31 December of
  year (an hour of a UTC year belongs to a local date in that range: every offset is between
  -2 and -5 hours). Included by task/daily.sql (the batch's station-years) and
  V1.10.0__daily.sql (all of them, once).

  1. `days`: the station's local dates that hold at least one hour of CLEAN.OBSERVATIONS, each
     with the station-year of its earliest hour (the day's attributes: state, coordinates,
     altitude).
  2. `grid`: every hour of each such day, whether CLEAN holds it or not: of the hours ending
     03:00 UTC on the date to 05:00 UTC the next day (k = 3..29: the first hour of a day at
     UTC-2, the last at UTC-5), those whose local date (modules/timezones.sql) is the day. An hour
     the sun spends wholly below the horizon is `night` (modules/solar.sql).
     The hour offsets are a VALUES list in FROM with a table and column alias, "VALUES",
     https://docs.snowflake.com/en/sql-reference/constructs/values: "FROM ( VALUES ( <expr> )
     [ , ( ... ) ] ) [ [ AS ] <table_alias> [ ( <column_alias> [ , ... ] ) ] ]".
  3. The hours LEFT JOINed to CLEAN.OBSERVATIONS and aggregated by day under the completeness
     rules; ETo from the aggregated values.
-#}
{%- from 'modules/measures.sql' import MEASURES -%}
{%- from 'modules/daily.sql' import DAILY_VALUES, ETO_INPUTS, valid_hours, complete, eto_of_day, value_columns -%}
{%- import 'modules/timezones.sql' as tz -%}
{%- import 'modules/solar.sql' as solar -%}
SELECT
  station_id, local_date, utc_offset, day_hours, {{ value_columns() }}, SYSDATE()
FROM (
  SELECT
    station_id, local_date,
    {{ tz.utc_offset('state', 'latitude', 'longitude', "DATEADD('hour', 16, CAST(local_date AS TIMESTAMP_NTZ))") }} AS utc_offset,
    day_hours,
    {%- for v in DAILY_VALUES %}
    {{ v.name }}, n_{{ v.name }},
    {%- endfor %}
    IFF({% for name in ETO_INPUTS %}{{ name }} IS NOT NULL{{ ' AND ' if not loop.last }}{% endfor %},
        {{ eto_of_day('latitude', 'altitude_m', 'DAYOFYEAR(local_date)') }},
        NULL) AS eto_mm,
    LEAST({% for name in ETO_INPUTS %}n_{{ name }}{{ ', ' if not loop.last }}{% endfor %}) AS n_eto_mm
  FROM (
    SELECT
      g.station_id, g.local_date, g.state, g.latitude, g.longitude, g.altitude_m,
      COUNT(*) AS day_hours,
      {%- for v in DAILY_VALUES %}
      {{ complete(v, 'COUNT(*)') }} AS {{ v.name }},
      {{ valid_hours(v) }} AS n_{{ v.name }}{{ ',' if not loop.last }}
      {%- endfor %}
    FROM (
      SELECT
        g.station_id, g.local_date, g.state, g.latitude, g.longitude, g.altitude_m,
        {{ solar.hour_is_night('g.latitude', 'g.longitude', 'g.observed_at') }} AS night,
        o.station_id AS present,
        {%- for m in MEASURES %}
        o.{{ m.name }}{{ ',' if not loop.last }}
        {%- endfor %}
      FROM (
        SELECT d.station_id, d.local_date, y.state, y.latitude, y.longitude, y.altitude_m,
               DATEADD('hour', k.k, CAST(d.local_date AS TIMESTAMP_NTZ)) AS observed_at
        FROM (
          SELECT station_id, local_date, MIN(year) AS year
          FROM (
            SELECT o.station_id, YEAR(o.observed_at) AS year,
                   {{ tz.local_date('h.state', 'h.latitude', 'h.longitude', 'o.observed_at') }} AS local_date
            FROM {{ database }}.{{ clean_schema }}.OBSERVATIONS o
            JOIN (
              SELECT station_id, MIN(year) AS first_year, MAX(year) AS last_year
              FROM ({{ span }}) s
              GROUP BY station_id
            ) p ON p.station_id = o.station_id
              AND o.observed_at > TIMESTAMP_NTZ_FROM_PARTS(p.first_year - 1, 12, 31, 0, 0, 0)
              AND o.observed_at <= TIMESTAMP_NTZ_FROM_PARTS(p.last_year + 1, 1, 1, 6, 0, 0)
            JOIN {{ database }}.{{ clean_schema }}.STATION_YEARS h
              ON h.station_id = o.station_id AND h.year = YEAR(o.observed_at)
          ) hours
          WHERE EXISTS (
            SELECT 1 FROM ({{ span }}) s
            WHERE s.station_id = hours.station_id
              AND hours.local_date BETWEEN DATE_FROM_PARTS(s.year - 1, 12, 31) AND DATE_FROM_PARTS(s.year, 12, 31)
          )
          GROUP BY station_id, local_date
        ) d
        JOIN {{ database }}.{{ clean_schema }}.STATION_YEARS y
          ON y.station_id = d.station_id AND y.year = d.year
        CROSS JOIN (VALUES {% for k in range(3, 30) %}({{ k }}){{ ', ' if not loop.last }}{% endfor %}) AS k (k)
        WHERE {{ tz.local_date('y.state', 'y.latitude', 'y.longitude', "DATEADD('hour', k.k, CAST(d.local_date AS TIMESTAMP_NTZ))") }} = d.local_date
      ) g
      LEFT JOIN {{ database }}.{{ clean_schema }}.OBSERVATIONS o
        ON o.station_id = g.station_id AND o.observed_at = g.observed_at
    ) g
    GROUP BY g.station_id, g.local_date, g.state, g.latitude, g.longitude, g.altitude_m
    HAVING COUNT(present) > 0
  ) day_values
) computed
