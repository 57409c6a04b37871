{#-
  Solar geometry, stated once for all of snowflake_sql/ (a Jinja module like measures.sql;
  schemachange never runs it on its own). Quality control (the radiation tests) and the daily
  values (which hours are night, ETo's extraterrestrial and clear-sky radiation) both import it.

  Every equation is FAO Irrigation and Drainage Paper 56 (Allen, Pereira, Raes & Smith, 1998),
  chapter 3, "Meteorological data" (https://www.fao.org/3/x0490e/x0490e07.htm), numbered as there:
    eq 21  extraterrestrial radiation of a day, Ra (MJ m-2 day-1)
    eq 23  inverse relative Earth-Sun distance, dr = 1 + 0.033 cos(2 pi J / 365)
    eq 24  solar declination, delta = 0.409 sin(2 pi J / 365 - 1.39)
    eq 25  sunset hour angle, ws = arccos(-tan(phi) tan(delta))
    eq 28  extraterrestrial radiation of a shorter period, between the hour angles w1 and w2
    eq 29-31  w1 = w - pi t1 / 24, w2 = w + pi t1 / 24, w = pi / 12 ((t + 0.06667 (Lz - Lm) + Sc) - 12)
    eq 32-33  seasonal correction of solar time, Sc = 0.1645 sin 2b - 0.1255 cos b - 0.025 sin b,
              b = 2 pi (J - 81) / 364
    eq 34  daylight hours, N = 24 / pi ws
    eq 37  clear-sky radiation, Rso = (0.75 + 2e-5 z) Ra
  FAO-56 states after eq 31 that w < -ws or w > ws means the sun is below the horizon, and that
  Ra is then zero: here each end of the hour is held within [-ws, ws], so an hour the sun only
  partly spends above the horizon gets its part, and a whole night hour gets exactly 0.

  INMET's clock is UTC and a value stamped t covers the hour ending at t (the headers' "NA HORA
  ANT."): the period's midpoint is t - 30 minutes, its day of year J is the midpoint's. With a
  UTC clock FAO-56's Lz is 0 and 0.06667 (Lz - Lm) is the site's longitude east over 15 (Lm is
  degrees west), so the midpoint's solar time is utc_hours + longitude / 15 + Sc.
  Latitude and longitude are decimal degrees, north and east positive (as CLEAN stores them).

  Only functions both Snowflake and the local warehouse (DuckDB through sqlglot) run: SIN, COS,
  TAN, ACOS, PI, DAYOFYEAR, HOUR, MINUTE, DATEADD, GREATEST, LEAST, RADIANS
  (https://docs.snowflake.com/en/sql-reference/functions-numeric: "Trigonometric" SIN, COS, TAN,
  ACOS, RADIANS, PI; https://docs.snowflake.com/en/sql-reference/functions/year: DAYOFYEAR;
  https://docs.snowflake.com/en/sql-reference/functions/hour-minute-second: HOUR, MINUTE).
  tests/unit/test_sql_solar.py holds every macro equal to an independent Python model
  (tests/solar_model.py) and to FAO-56's worked examples.
-#}

{#- Gsc, the solar constant: 0.0820 MJ m-2 min-1 (FAO-56, eq 21's list of symbols). -#}
{%- set SOLAR_CONSTANT = 0.0820 -%}

{#- The day of year J of the hour ending at `ts` (its midpoint's date). -#}
{%- macro hour_day_of_year(ts) -%}
DAYOFYEAR(DATEADD('minute', -30, {{ ts }}))
{%- endmacro -%}

{#- eq 23, dr, for day of year `j`. -#}
{%- macro distance_factor(j) -%}
(1 + 0.033 * COS(2 * PI() * ({{ j }}) / 365))
{%- endmacro -%}

{#- eq 24, the declination in radians, for day of year `j`. -#}
{%- macro declination(j) -%}
(0.409 * SIN(2 * PI() * ({{ j }}) / 365 - 1.39))
{%- endmacro -%}

{#- eq 25, the sunset hour angle in radians; the argument is held within [-1, 1] so that a
    latitude beyond the polar circles (never a Brazilian station) gives 0 or pi, not NULL. -#}
{%- macro sunset_hour_angle(latitude, j) -%}
ACOS(GREATEST(-1, LEAST(1, -TAN(RADIANS({{ latitude }})) * TAN({{ declination(j) }}))))
{%- endmacro -%}

{#- eq 32-33, the seasonal correction of solar time in hours. -#}
{%- macro seasonal_correction(j) -%}
{%- set b = "(2 * PI() * ((" ~ j ~ ") - 81) / 364)" -%}
(0.1645 * SIN(2 * {{ b }}) - 0.1255 * COS({{ b }}) - 0.025 * SIN({{ b }}))
{%- endmacro -%}

{#- eq 31 with a UTC clock: the solar time angle in radians at the midpoint of the hour ending at
    `ts`, for a station at `longitude` (degrees east). -#}
{%- macro hour_angle(longitude, ts) -%}
{%- set mid = "DATEADD('minute', -30, " ~ ts ~ ")" -%}
(PI() / 12 * ((HOUR({{ mid }}) + MINUTE({{ mid }}) / 60 + ({{ longitude }}) / 15 + {{ seasonal_correction(hour_day_of_year(ts)) }}) - 12))
{%- endmacro -%}

{#- eq 28: the extraterrestrial radiation between the hour angles w -/+ pi/24 in kJ m-2, from its
    parts: `latitude` (degrees), `dr` (eq 23), `delta` (eq 24), `ws` (eq 25) and `w` (eq 31), each
    an expression or a column computed once (quality control computes them once a row). -#}
{%- macro hour_extraterrestrial_kj_of(latitude, dr, delta, ws, w) -%}
{%- set phi = "RADIANS(" ~ latitude ~ ")" -%}
{%- set w1 = "LEAST(" ~ ws ~ ", GREATEST(-" ~ ws ~ ", " ~ w ~ " - PI() / 24))" -%}
{%- set w2 = "LEAST(" ~ ws ~ ", GREATEST(-" ~ ws ~ ", " ~ w ~ " + PI() / 24))" -%}
(1000 * 12 * 60 / PI() * {{ SOLAR_CONSTANT }} * {{ dr }} * (({{ w2 }} - {{ w1 }}) * SIN({{ phi }}) * SIN({{ delta }}) + COS({{ phi }}) * COS({{ delta }}) * (SIN({{ w2 }}) - SIN({{ w1 }}))))
{%- endmacro -%}

{#- eq 28-30: the extraterrestrial radiation of the hour ending at `ts` (UTC) at the station,
    in kJ m-2 (INMET's radiation unit; MJ x 1000). 0 for an hour the sun spends wholly below
    the horizon. -#}
{%- macro hour_extraterrestrial_kj(latitude, longitude, ts) -%}
{%- set j = hour_day_of_year(ts) -%}
{{ hour_extraterrestrial_kj_of(latitude, distance_factor(j), declination(j), sunset_hour_angle(latitude, j), hour_angle(longitude, ts)) }}
{%- endmacro -%}

{#- The sine of the sun's elevation at the midpoint of the hour ending at `ts`: above 0 when the
    sun is above the horizon (the same geometry: sin phi sin delta + cos phi cos delta cos w). -#}
{%- macro hour_sun_elevation_sine(latitude, longitude, ts) -%}
{%- set j = hour_day_of_year(ts) -%}
{%- set phi = "RADIANS(" ~ latitude ~ ")" -%}
(SIN({{ phi }}) * SIN({{ declination(j) }}) + COS({{ phi }}) * COS({{ declination(j) }}) * COS({{ hour_angle(longitude, ts) }}))
{%- endmacro -%}

{#- eq 21: the extraterrestrial radiation of day of year `j` at `latitude`, MJ m-2 day-1. -#}
{%- macro day_extraterrestrial_mj(latitude, j) -%}
{%- set phi = "RADIANS(" ~ latitude ~ ")" -%}
{%- set ws = sunset_hour_angle(latitude, j) -%}
(24 * 60 / PI() * {{ SOLAR_CONSTANT }} * {{ distance_factor(j) }} * ({{ ws }} * SIN({{ phi }}) * SIN({{ declination(j) }}) + COS({{ phi }}) * COS({{ declination(j) }}) * SIN({{ ws }})))
{%- endmacro -%}

{#- eq 34: the daylight hours N of day of year `j` at `latitude`. -#}
{%- macro daylight_hours(latitude, j) -%}
(24 / PI() * {{ sunset_hour_angle(latitude, j) }})
{%- endmacro -%}

{#- eq 37: clear-sky radiation from extraterrestrial radiation `ra` at `altitude` metres (same
    unit as `ra`, any period). -#}
{%- macro clear_sky(ra, altitude) -%}
((0.75 + 0.00002 * ({{ altitude }})) * {{ ra }})
{%- endmacro -%}

{#- TRUE for an hour the sun spends wholly below the horizon: exactly where
    hour_extraterrestrial_kj is 0 (both ends of the hour held at the same bound, ws or -ws:
    |w| - pi/24 >= ws), at a third of its cost. tests/unit/test_sql_daily_day.py holds the two
    equal. -#}
{%- macro hour_is_night(latitude, longitude, ts) -%}
(ABS({{ hour_angle(longitude, ts) }}) - PI() / 24 >= {{ sunset_hour_angle(latitude, hour_day_of_year(ts)) }})
{%- endmacro -%}
