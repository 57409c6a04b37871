{#-
  The daily values, stated once for all of snowflake_sql/ (a Jinja module like measures.sql;
  schemachange never runs it on its own): the columns of CLEAN.DAILY (V1.10.0__daily.sql), how
  each is aggregated from CLEAN.OBSERVATIONS in the station's local day (task/daily.sql, the day
  itself: modules/timezones.sql), the completeness rules, and FAO-56's reference
  evapotranspiration. docs/daily.md explains them to users; tests/oracle.py restates them
  independently in Python.

  Completeness (a value is NULL unless its rule holds; its n_<value> column says how many hours
  were valid):
    sum        precipitation: every hour of the local day valid (24; 23 or 25 on the two days
               Acre's offset changed).
    radiation  radiation: every daylight hour valid; an hour the sun spends wholly below the
               horizon (its extraterrestrial radiation is 0, modules/solar.sql) counts as a valid
               zero, present or not. kJ m-2 summed, divided by 1000: MJ m-2.
    mean, max, min, vector   at least MIN_HOURS valid hours.
  These rules are the pipeline's own; they follow the logic of WMO's rule for monthly values
  (WMO Guidelines on the Calculation of Climate Normals, WMO-No. 1203, 2017: a monthly total
  needs every day, a monthly mean tolerates a few missing days): a total cannot be estimated
  from part of the day, a mean or an extreme can from most of it (20 of 24 hours).

  A valid hour is one whose value is in CLEAN.OBSERVATIONS (not NULL): a value out of its range
  is NULL there, and so is a value quality control marks erroneous; a value it marks suspect is
  kept, and counts.

  Snowflake functions used beyond those of modules/solar.sql, each run by the local warehouse
  too: COUNT_IF, IFF, MOD, ROUND, DEGREES, EXP, LN, POWER, SQRT, LEAST
  (https://docs.snowflake.com/en/sql-reference/functions-numeric); ATAN2(y, x), the angle of
  the point (x, y), its first argument the numerator: ATAN2(east, north) is a compass bearing
  (https://docs.snowflake.com/en/sql-reference/functions/atan2; Snowpark's atan2(y, x) example
  gives atan2(1, 2) = 0.464). tests/integration/test_daily.py runs them on the local warehouse
  against the oracle.

  Per value:
    name    the CLEAN.DAILY column
    source  the CLEAN.OBSERVATIONS column it comes from
    kind    sum | radiation | mean | max | min | vector (the wind direction: the mean of the
            hourly wind vectors weighted by the hourly speed, wind_speed_ms)
    type    its DAILY type
    monthly its monthly value in CLEAN.MONTHLY (R__views_monthly.sql, WMO's rules): "total" (from
            a complete month) or "mean" (of the valid days); none for the others
-#}
{%- set MIN_HOURS = 20 -%}
{%- set DAILY_VALUES = [
  {"name": "precipitation_mm", "source": "precipitation_mm", "kind": "sum", "type": "NUMBER(6,1)", "monthly": "total"},
  {"name": "air_temp_mean_c", "source": "air_temp_c", "kind": "mean", "type": "NUMBER(5,2)", "monthly": "mean"},
  {"name": "air_temp_max_c", "source": "air_temp_max_c", "kind": "max", "type": "NUMBER(4,1)", "monthly": "mean"},
  {"name": "air_temp_min_c", "source": "air_temp_min_c", "kind": "min", "type": "NUMBER(4,1)", "monthly": "mean"},
  {"name": "humidity_mean_pct", "source": "humidity_pct", "kind": "mean", "type": "NUMBER(5,2)", "monthly": "mean"},
  {"name": "humidity_max_pct", "source": "humidity_max_pct", "kind": "max", "type": "NUMBER(4,1)"},
  {"name": "humidity_min_pct", "source": "humidity_min_pct", "kind": "min", "type": "NUMBER(4,1)"},
  {"name": "pressure_mean_hpa", "source": "pressure_hpa", "kind": "mean", "type": "NUMBER(6,2)", "monthly": "mean"},
  {"name": "wind_speed_mean_ms", "source": "wind_speed_ms", "kind": "mean", "type": "NUMBER(5,2)", "monthly": "mean"},
  {"name": "wind_direction_deg", "source": "wind_direction_deg", "kind": "vector", "type": "NUMBER(4,1)"},
  {"name": "wind_gust_max_ms", "source": "wind_gust_ms", "kind": "max", "type": "NUMBER(4,1)"},
  {"name": "radiation_mj_m2", "source": "radiation_kj_m2", "kind": "radiation", "type": "NUMBER(7,4)", "monthly": "total"},
] -%}
{#- ETo's inputs (daily values above): it is computed only where all are present. -#}
{%- set ETO_INPUTS = ["air_temp_max_c", "air_temp_min_c", "humidity_max_pct", "humidity_min_pct", "wind_speed_mean_ms", "radiation_mj_m2"] -%}
{%- set ETO_TYPE = "NUMBER(5,2)" -%}
{#- ETo's monthly value: a total. -#}
{%- set ETO_MONTHLY = "total" -%}

{#- The count of valid hours of value `v`, over the hours `h` (the day's grid, LEFT JOINed to
    OBSERVATIONS; `night` is TRUE for an hour wholly below the horizon). -#}
{%- macro valid_hours(v) -%}
{%- if v.kind == "radiation" -%}
COUNT_IF(night OR {{ v.source }} IS NOT NULL)
{%- elif v.kind == "vector" -%}
COUNT_IF(wind_direction_deg IS NOT NULL AND wind_speed_ms IS NOT NULL)
{%- else -%}
COUNT({{ v.source }})
{%- endif -%}
{%- endmacro -%}

{#- The daily value `v` (before its rule): an aggregate over the day's hours. A sum or a mean
    adds its hours as NUMBER(18,4) (exact: every hourly value has at most 4 decimals), so the
    day's value is the same whatever order the hours are added in. Snowflake adds NUMBER values
    exactly anyway (fixed-point, up to 38 digits: "Numeric data types",
    https://docs.snowflake.com/en/sql-reference/data-types-numeric); the local warehouse (fakesnow) would add them as DOUBLE otherwise, in an
    order that varies from run to run, and a mean that falls on a rounding boundary of its
    column (17.775 into NUMBER(5,2)) came out 17.77 in one run and 17.78 in the next. (DuckDB
    still divides the exact sum in DOUBLE: 17.77 there every run, 17.78 on Snowflake; the
    oracle's tolerance is half a unit of the column, tests/integration/test_daily.py.) -#}
{%- set EXACT = "NUMBER(18,4)" -%}
{%- macro aggregate(v) -%}
{%- if v.kind == "sum" -%}
SUM(CAST({{ v.source }} AS {{ EXACT }}))
{%- elif v.kind == "radiation" -%}
SUM(CAST(IFF(night, 0, {{ v.source }}) AS {{ EXACT }})) / 1000
{%- elif v.kind == "mean" -%}
AVG(CAST({{ v.source }} AS {{ EXACT }}))
{%- elif v.kind == "max" -%}
MAX({{ v.source }})
{%- elif v.kind == "min" -%}
MIN({{ v.source }})
{%- elif v.kind == "vector" -%}
{#- The direction the mean wind vector comes from: the east and north components of the hours
    with both a direction and a speed, weighted by the speed (x = s sin d, y = s cos d; the
    direction is atan2(x, y), 0-360). A calm day (no speed above 0) has no direction. -#}
{%- set x = "SUM(IFF(wind_direction_deg IS NULL, NULL, wind_speed_ms * SIN(RADIANS(wind_direction_deg))))" -%}
{%- set y = "SUM(IFF(wind_direction_deg IS NULL, NULL, wind_speed_ms * COS(RADIANS(wind_direction_deg))))" -%}
IFF(SUM(IFF(wind_direction_deg IS NULL, NULL, wind_speed_ms)) > 0, MOD(ROUND(MOD(DEGREES(ATAN2({{ x }}, {{ y }})) + 360, 360), 1), 360), NULL)
{%- endif -%}
{%- endmacro -%}

{#- Value `v` under its completeness rule (`day_hours`: the hours of the local day). -#}
{%- macro complete(v, day_hours) -%}
{%- if v.kind in ("sum", "radiation") -%}
IFF({{ valid_hours(v) }} = {{ day_hours }}, {{ aggregate(v) }}, NULL)
{%- else -%}
IFF({{ valid_hours(v) }} >= {{ MIN_HOURS }}, {{ aggregate(v) }}, NULL)
{%- endif -%}
{%- endmacro -%}

{#-
  FAO-56 reference evapotranspiration, daily, Penman-Monteith (FAO Irrigation and Drainage
  Paper 56, Allen et al. 1998, chapters 2-4, https://www.fao.org/3/x0490e/x0490e06.htm and
  x0490e07.htm; equation numbers as there). G = 0 for a day (eq 42).
    eq 7   P = 101.3 ((293 - 0.0065 z) / 293)^5.26           kPa, from the altitude z (m)
    eq 8   gamma = 0.665e-3 P                                 kPa/degC
    eq 9   Tmean = (Tmax + Tmin) / 2                          (FAO-56 uses this mean for ETo)
    eq 11  e0(T) = 0.6108 exp(17.27 T / (T + 237.3))          kPa
    eq 12  es = (e0(Tmax) + e0(Tmin)) / 2
    eq 13  Delta = 4098 e0(Tmean) / (Tmean + 237.3)^2
    eq 17  ea = (e0(Tmin) RHmax / 100 + e0(Tmax) RHmin / 100) / 2   (from RHmax and RHmin)
    eq 47  u2 = u10 4.87 / ln(67.8 x 10 - 5.42)               INMET's anemometer is at 10 m
    eq 21  Ra (modules/solar.sql, day_extraterrestrial_mj), J = the local date's day of year
    eq 37  Rso = (0.75 + 2e-5 z) Ra                           (modules/solar.sql, clear_sky)
    eq 38  Rns = (1 - 0.23) Rs                                Rs: the day's radiation sum
    eq 39  Rnl = sigma (Tmax,K^4 + Tmin,K^4) / 2 (0.34 - 0.14 sqrt(ea)) (1.35 Rs/Rso - 0.35),
           sigma = 4.903e-9 MJ K-4 m-2 day-1, Rs/Rso held to at most 1.0 (FAO-56, below eq 39)
    eq 40  Rn = Rns - Rnl
    eq 6   ETo = (0.408 Delta (Rn - G) + gamma 900 / (Tmean + 273) u2 (es - ea))
                 / (Delta + gamma (1 + 0.34 u2))              mm/day
  Arguments are SQL expressions; `latitude` in degrees (north positive), `j` the day of year.
-#}
{%- from 'modules/solar.sql' import day_extraterrestrial_mj, clear_sky -%}
{%- macro saturation_vapour_pressure(t) -%}
(0.6108 * EXP(17.27 * ({{ t }}) / (({{ t }}) + 237.3)))
{%- endmacro -%}
{%- macro eto_mm(tmax, tmin, rhmax, rhmin, u10, rs, latitude, altitude, j) -%}
{%- set tmean = "((" ~ tmax ~ ") + (" ~ tmin ~ ")) / 2" -%}
{%- set gamma = "(0.000665 * 101.3 * POWER((293 - 0.0065 * (" ~ altitude ~ ")) / 293, 5.26))" -%}
{%- set es = "((" ~ saturation_vapour_pressure(tmax) ~ " + " ~ saturation_vapour_pressure(tmin) ~ ") / 2)" -%}
{%- set delta = "(4098 * " ~ saturation_vapour_pressure(tmean) ~ " / POWER(" ~ tmean ~ " + 237.3, 2))" -%}
{%- set ea = "((" ~ saturation_vapour_pressure(tmin) ~ " * (" ~ rhmax ~ ") / 100 + " ~ saturation_vapour_pressure(tmax) ~ " * (" ~ rhmin ~ ") / 100) / 2)" -%}
{%- set u2 = "((" ~ u10 ~ ") * 4.87 / LN(67.8 * 10 - 5.42))" -%}
{%- set rso = clear_sky(day_extraterrestrial_mj(latitude, j), altitude) -%}
{%- set rnl = "(0.000000004903 * (POWER((" ~ tmax ~ ") + 273.16, 4) + POWER((" ~ tmin ~ ") + 273.16, 4)) / 2 * (0.34 - 0.14 * SQRT(" ~ ea ~ ")) * (1.35 * LEAST(1, (" ~ rs ~ ") / " ~ rso ~ ") - 0.35))" -%}
{%- set rn = "((1 - 0.23) * (" ~ rs ~ ") - " ~ rnl ~ ")" -%}
((0.408 * {{ delta }} * {{ rn }} + {{ gamma }} * 900 / ({{ tmean }} + 273) * {{ u2 }} * ({{ es }} - {{ ea }})) / ({{ delta }} + {{ gamma }} * (1 + 0.34 * {{ u2 }})))
{%- endmacro -%}

{#- The columns of CLEAN.DAILY after station_id, date, utc_offset, day_hours, in order. -#}
{%- macro value_columns(prefix='') -%}
{%- for v in DAILY_VALUES -%}
{{ prefix }}{{ v.name }}, {{ prefix }}n_{{ v.name }}, {% endfor -%}
{{ prefix }}eto_mm, {{ prefix }}n_eto_mm
{%- endmacro -%}

{#- ETo of a day from its daily values (the columns ETO_INPUTS names, in eto_mm's order), at
    `latitude`, `altitude`, day of year `j`. -#}
{%- macro eto_of_day(latitude, altitude, j) -%}
{{ eto_mm(ETO_INPUTS[0], ETO_INPUTS[1], ETO_INPUTS[2], ETO_INPUTS[3], ETO_INPUTS[4], ETO_INPUTS[5], latitude, altitude, j) }}
{%- endmacro -%}
