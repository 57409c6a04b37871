{#-
  A station's local day, stated once for all of snowflake_sql/ (a Jinja module like solar.sql;
  schemachange never runs it on its own). The daily values (task/daily.sql) import it.

  Brazil's legal time has no daylight saving since 2019 and the daily values ignore it where it
  existed: a day is counted in the station's STANDARD time, the zone's standard UTC offset,
  taken from the tz database's history of each zone (https://www.iana.org/time-zones; the
  zones' rules in its file `southamerica`), derived from the station's state and longitude:

    zone                  where                                          standard offset (h)
    America/Noronha       any station east of 33 W (Fernando de Noronha   -2
                          and the other Atlantic islands)
    America/Rio_Branco    AC                                             -5; -4 from 2008-06-24
    America/Eirunepe      AM west of the Tabatinga-Porto Acre line          to 2013-11-10
    America/Manaus        AM east of that line                           -4
    America/Cuiaba        MT                                             -4
    America/Campo_Grande  MS                                             -4
    America/Porto_Velho   RO                                             -4
    America/Boa_Vista     RR                                             -4
    (the zones of the other states: Sao_Paulo, Bahia, Recife, Belem...)  -3

  Acre and western Amazonas: Lei 11.662 of 24 April 2008 moved them from UTC-5 to UTC-4 from
  2008-06-24 00:00 local time (05:00 UTC); Lei 12.876 of 30 October 2013 moved them back from
  2013-11-10 00:00 local time (04:00 UTC) (https://www.planalto.gov.br/ccivil_03/_ato2007-2010/
  2008/lei/l11662.htm, https://www.planalto.gov.br/ccivil_03/_ato2011-2014/2013/lei/l12876.htm).
  The tz database has the same instants (tests/unit/test_sql_daily.py checks every zone above
  against python's zoneinfo for every hour from 2000 to 2030).

  The Tabatinga-Porto Acre line (the west of Amazonas that keeps Acre's time: Decreto 2.784 of
  1913, the zone America/Eirunepe) is taken as the straight line, in latitude and longitude,
  from Tabatinga (4.2525 S, 69.9383 W) to Porto Acre (9.5881 S, 67.5331 W), extended north and
  south; a station is west of it when its longitude is west of the line's at its latitude.

  Known limit: western Para (America/Santarem) was UTC-4 until 2008-06-24 (Lei 11.662); its
  limit was the Xingu river, which a station's coordinates alone cannot place, so every Para
  station is counted in UTC-3 (docs/daily.md says so).

  INMET's hour t covers the hour ending at t (UTC): it belongs to the local date of its
  midpoint, t - 30 minutes, at the standard offset in force at that instant.
-#}

{#- The Acre zones' changes of standard offset: (UTC instant as y, m, d, h; the offset from then
    on). Before the first: -5. -#}
{%- set ACRE_CHANGES = [((2008, 6, 24, 5), -4), ((2013, 11, 10, 4), -5)] -%}
{%- set TABATINGA = (-4.2525, -69.9383) -%}
{%- set PORTO_ACRE = (-9.5881, -67.5331) -%}
{%- set ISLANDS_EAST_OF = -33 -%}

{#- TRUE for a station west of the Tabatinga-Porto Acre line. -#}
{%- macro west_of_tabatinga_porto_acre(latitude, longitude) -%}
{%- set slope = (PORTO_ACRE[1] - TABATINGA[1]) / (PORTO_ACRE[0] - TABATINGA[0]) -%}
(({{ longitude }}) < {{ TABATINGA[1] }} + (({{ latitude }}) - ({{ TABATINGA[0] }})) * {{ '%.10f' % slope }})
{%- endmacro -%}

{#- The standard UTC offset in hours (an integer, negative) of a station in `state` at
    `latitude`, `longitude` at the UTC instant `instant`. -#}
{%- macro utc_offset(state, latitude, longitude, instant) -%}
CASE
    WHEN ({{ longitude }}) > {{ ISLANDS_EAST_OF }} THEN -2
    WHEN {{ state }} = 'AC' OR ({{ state }} = 'AM' AND {{ west_of_tabatinga_porto_acre(latitude, longitude) }}) THEN CASE
      {%- for (y, m, d, h), offset in ACRE_CHANGES | reverse %}
      WHEN {{ instant }} >= TIMESTAMP_NTZ_FROM_PARTS({{ y }}, {{ m }}, {{ d }}, {{ h }}, 0, 0) THEN {{ offset }}
      {%- endfor %}
      ELSE -5 END
    WHEN {{ state }} IN ('AM', 'MT', 'MS', 'RO', 'RR') THEN -4
    ELSE -3
  END
{%- endmacro -%}

{#- The midpoint of the hour ending at `ts`. -#}
{%- macro hour_midpoint(ts) -%}
DATEADD('minute', -30, {{ ts }})
{%- endmacro -%}

{#- The standard offset of the hour ending at `ts` (at its midpoint). -#}
{%- macro hour_utc_offset(state, latitude, longitude, ts) -%}
{{ utc_offset(state, latitude, longitude, hour_midpoint(ts)) }}
{%- endmacro -%}

{#- The local date (DATE) of the hour ending at `ts` (UTC) at the station. -#}
{%- macro local_date(state, latitude, longitude, ts) -%}
CAST(DATEADD('hour', {{ hour_utc_offset(state, latitude, longitude, ts) }}, {{ hour_midpoint(ts) }}) AS DATE)
{%- endmacro -%}
