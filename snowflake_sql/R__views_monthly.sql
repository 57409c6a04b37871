{#-
  CLEAN.MONTHLY: monthly values from CLEAN.DAILY, one row per station and calendar month of its
  local dates that DAILY holds at least one day of (docs/daily.md, "Monthly values"). A view:
  nothing is stored, so it is always as current as DAILY, and the task does no more work.
  tests/oracle.py restates the rules independently (expected_monthly);
  tests/integration/test_monthly.py holds the two to the same values.

  The rules, WMO's for monthly values from daily ones (WMO Guidelines on the Calculation of
  Climate Normals, WMO-No. 1203, 2017: a monthly mean is computed when no more
  than 5 days are missing and no more than 3 consecutive days are missing; a monthly total
  only from a complete month):
    mean    the mean of the month's valid daily values, when at most MAX_MISSING_DAYS days of
            the month have none and no run of more than MAX_MISSING_RUN consecutive days has
            none;
    total   the sum of the daily values, when every day of the month has one.
  A day DAILY has no row for counts as missing, as does a day whose value is empty under the
  daily rules. Every value has n_<value> (its valid days) and gap_<value> (the longest run of
  consecutive days without one), so an empty value says why; days_in_month is the month's.

  Snowflake functions, each run by the local warehouse too: DATE_TRUNC, LAST_DAY
  (https://docs.snowflake.com/en/sql-reference/functions/last_day), DATEADD, DAY; MAX over a
  cumulative window frame, "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
  (https://docs.snowflake.com/en/sql-reference/functions-window-syntax; MAX as a window
  function takes a cumulative or sliding frame,
  https://docs.snowflake.com/en/sql-reference/functions/max). The days of a month
  are 0..30 days after its first, a VALUES list in FROM as in task/daily_select.sql.
-#}
{%- set MAX_MISSING_DAYS = 5 -%}
{%- set MAX_MISSING_RUN = 3 -%}
{%- from 'modules/daily.sql' import DAILY_VALUES, ETO_MONTHLY -%}
{#- The daily values with a monthly value (modules/daily.sql declares which, and how), then
    ETo. -#}
{%- set MONTHLY_VALUES = (DAILY_VALUES | selectattr("monthly", "defined") | list)
    + [{"name": "eto_mm", "monthly": ETO_MONTHLY}] -%}
-- Monthly values from CLEAN.DAILY under WMO's rules (docs/daily.md); re-created whenever this
-- file changes.
CREATE OR REPLACE VIEW {{ database }}.{{ clean_schema }}.MONTHLY AS
SELECT
  station_id,
  YEAR(month_start) AS year,
  MONTH(month_start) AS month,
  MAX(days_in_month) AS days_in_month,
  {%- for v in MONTHLY_VALUES %}
  {%- set n = "COUNT(" ~ v.name ~ ")" %}
  {%- set gap = "MAX(IFF(" ~ v.name ~ " IS NULL, day_number - last_" ~ v.name ~ ", 0))" %}
  {%- if v.monthly == "total" %}
  IFF({{ n }} = MAX(days_in_month), SUM(CAST({{ v.name }} AS NUMBER(18,4))), NULL) AS {{ v.name }},
  {%- else %}
  IFF(MAX(days_in_month) - {{ n }} <= {{ MAX_MISSING_DAYS }} AND {{ gap }} <= {{ MAX_MISSING_RUN }},
      ROUND(AVG(CAST({{ v.name }} AS NUMBER(18,4))), 2), NULL) AS {{ v.name }},
  {%- endif %}
  {{ n }} AS n_{{ v.name }},
  {{ gap }} AS gap_{{ v.name }}{{ ',' if not loop.last }}
  {%- endfor %}
FROM (
  SELECT
    m.station_id, m.month_start, m.days_in_month, k.k + 1 AS day_number,
    {%- for v in MONTHLY_VALUES %}
    d.{{ v.name }},
    -- The last day up to this one with a value (0: none yet this month).
    MAX(IFF(d.{{ v.name }} IS NULL, 0, k.k + 1)) OVER (
      PARTITION BY m.station_id, m.month_start ORDER BY k.k
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS last_{{ v.name }}{{ ',' if not loop.last }}
    {%- endfor %}
  FROM (
    SELECT DISTINCT
      station_id,
      DATE_TRUNC('month', local_date) AS month_start,
      DAY(LAST_DAY(local_date)) AS days_in_month
    FROM {{ database }}.{{ clean_schema }}.DAILY
  ) m
  CROSS JOIN (VALUES {% for k in range(31) %}({{ k }}){{ ', ' if not loop.last }}{% endfor %}) AS k (k)
  LEFT JOIN {{ database }}.{{ clean_schema }}.DAILY d
    ON d.station_id = m.station_id AND d.local_date = DATEADD('day', k.k, m.month_start)
  WHERE k.k < m.days_in_month
) days
GROUP BY station_id, month_start;
