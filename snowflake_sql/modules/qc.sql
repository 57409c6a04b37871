{#-
  Quality control: the tests each CLEAN value goes through, declared once for all of
  snowflake_sql/ (a Jinja module like measures.sql; schemachange never runs it on its own).
  docs/qc.md explains them to a reader; tests/qc_oracle.py restates them independently in Python
  and tests/integration/test_qc.py holds the two equal, flag for flag, on the real files.

  Flags, per measure (CLEAN.OBSERVATIONS.<measure>_qc): 0 passed every test that could run,
  1 suspect (the value is kept), 2 erroneous (the value is NULL in CLEAN; RAW keeps it), NULL
  when the file had no value. CLEAN.QC_FLAGS holds one row per (hour, measure, test) that
  flagged, with the value as written and the limit or reference it was compared with.

  The tests run per file (one station-year), in time order, in the statement that builds the
  batch's work table (R__views.sql, OPEN_BATCH_OBSERVATIONS; task/process_batch.sql step 3):
  the neighbours of an hour are the hours of the same file. "The previous hour" is the file's
  previous line when it is exactly one hour earlier; the first hour of a file has none, so the
  step test cannot run there.

  The values compared are CLEAN's (the number as written, rounded to one decimal by its
  column's type; exact decimals: a change of 4.0 is not above 4).

  Sources:
    WMO-No. 305  Guide on the Global Data-processing System (1993), chapter 6, "Quality control
                 procedures", VI.21, the time consistency tolerances for reports one hour apart:
                 temperature 4 degC, dew point 4 degC, pressure 3 hPa (the table as the R package
                 dataresqc implements it, function wmo_time_consistency,
                 https://search.r-project.org/CRAN/refmans/dataresqc/html/wmo_time_consistency.html)
    FAO-56       Allen et al. (1998), chapter 3 (https://www.fao.org/3/x0490e/x0490e07.htm):
                 eq 7 pressure from altitude, eq 11 saturation vapour pressure (the Magnus-Tetens
                 form), eq 28 hourly extraterrestrial radiation, eq 37 clear-sky radiation
                 (modules/solar.sql)
    WMO-No. 8    Guide to Instruments and Methods of Observation, Volume V (2023), quality
                 control of AWS data: plausible value, time consistency (step and persistence)
                 and internal consistency checks, which these tests follow in kind.
  A tolerance marked "chosen here" is this project's choice, sized on the real INMET files
  (docs/qc.md gives the counts); it is a guess to revisit, not a WMO figure.
-#}
{%- from 'modules/measures.sql' import MEASURES -%}
{%- from 'modules/solar.sql' import hour_day_of_year, hour_angle, distance_factor, declination, sunset_hour_angle, hour_extraterrestrial_kj_of, clear_sky -%}

{#- step: WMO-No. 305 VI.21, the largest change between two reports one hour apart. -#}
{%- set STEP_LIMITS = {"air_temp_c": 4, "dew_point_c": 4, "pressure_hpa": 3} -%}

{#- persistence: the same value in 6 or more consecutive hours is suspect (the length the task
    states; WMO-No. 8 Vol. V asks for a minimum variability over a period without fixing it for
    hourly data). Per measure, the values that take part (a value outside it breaks the run):
    0 mm of rain and 0 kJ/m2 of radiation (night) persist naturally, so do calm hours and 100 %
    humidity (saturation, fog: chosen here); a wind direction counts only while the wind blows. -#}
{%- set PERSISTENCE_HOURS = 6 -%}
{%- set PERSISTENCE = [
  {"name": "precipitation_mm", "when": "precipitation_mm > 0"},
  {"name": "pressure_hpa", "when": "TRUE"},
  {"name": "radiation_kj_m2", "when": "radiation_kj_m2 > 0"},
  {"name": "air_temp_c", "when": "TRUE"},
  {"name": "dew_point_c", "when": "TRUE"},
  {"name": "humidity_pct", "when": "humidity_pct < 100"},
  {"name": "wind_direction_deg", "when": "wind_speed_ms > 0"},
  {"name": "wind_speed_ms", "when": "wind_speed_ms > 0"},
] -%}

{#- internal consistency: INMET's hour-window fields (the extremes of the hour ending at the
    stamp) hold the instantaneous value, within a tolerance for the sensors' resolution and
    sampling (chosen here: 0.5 degC, 2 %, 0.5 hPa; no real file breaks them by less). -#}
{%- set HOUR_RANGES = [
  {"value": "air_temp_c", "max": "air_temp_max_c", "min": "air_temp_min_c", "tolerance": 0.5},
  {"value": "dew_point_c", "max": "dew_point_max_c", "min": "dew_point_min_c", "tolerance": 0.5},
  {"value": "humidity_pct", "max": "humidity_max_pct", "min": "humidity_min_pct", "tolerance": 2},
  {"value": "pressure_hpa", "max": "pressure_max_hpa", "min": "pressure_min_hpa", "tolerance": 0.5},
] -%}
{#- humidity from temperature and dew point (FAO-56 eq 11 at both, their ratio): the reported
    humidity more than 10 percentage points away is suspect (chosen here). -#}
{%- set HUMIDITY_TOLERANCE = 10 -%}
{#- radiation, kJ/m2 in the hour (FAO-56 eq 28 and 37, modules/solar.sql):
    above the top of the atmosphere (Ra of the hour) by more than TOA_MARGIN: erroneous (the
    margin, chosen here, about 14 W/m2 over the hour, leaves room for a pyranometer's offset and
    twilight at the hours the sun rises or sets);
    with the sun below the horizon all hour (Ra = 0) above NIGHT_LIMIT: suspect (chosen here);
    above the clear-sky radiation Rso by more than CLEAR_SKY_MARGIN: suspect (chosen here;
    broken clouds can lift an hour above Rso). -#}
{%- set TOA_MARGIN = 50 -%}
{%- set NIGHT_LIMIT = 20 -%}
{%- set CLEAR_SKY_MARGIN = 50 -%}
{#- station pressure against FAO-56 eq 7's pressure for the station's altitude: more than
    PRESSURE_TOLERANCE hPa away is suspect (chosen here: weather moves station pressure by
    tens of hPa at most; a wrong altitude or a sea-level pressure moves it by more). -#}
{%- set PRESSURE_TOLERANCE = 50 -%}

{#- FAO-56 eq 11 at the dew point over eq 11 at the temperature, in %. -#}
{%- macro humidity_expected(dew_point, air_temp) -%}
100 * EXP(17.27 * {{ dew_point }} / ({{ dew_point }} + 237.3)) / EXP(17.27 * {{ air_temp }} / ({{ air_temp }} + 237.3))
{%- endmacro -%}
{#- FAO-56 eq 7, 101.3 kPa at sea level, in hPa. -#}
{%- macro pressure_expected(altitude) -%}
1013 * POWER((293 - 0.0065 * {{ altitude }}) / 293, 5.26)
{%- endmacro -%}

{#- The window over which a file's hours are neighbours. -#}
{%- set IN_FILE_ORDER = "OVER (PARTITION BY file_name ORDER BY observed_at, file_row_number)" -%}

{#- The checks: one per (test, measure), in the order QC_FLAGS lists them. Each:
    test     the name QC_FLAGS gives it
    measure  the measure it flags
    flag     1 suspect, 2 erroneous
    cond     when it flags (over the columns of the CTE qc_joined, R__views.sql)
    ref      the limit or reference the value was compared with, over the columns of
             BATCH_WORK (QC_FLAGS computes it for the rows that flagged: work_columns)
  gross_error (the measure's range, modules/measures.sql) is not listed: every measure has it,
  and the view already computes it (oor_<measure>). -#}
{#- persistence without a running aggregate, with one window pass over a bit mask: bit i of a
    mask is persistence measure i (PERSISTENCE's order).
      links     bit set: the hour holds the previous hour's key (consecutive hours, same key)
      run_ends  bit set: the hour ends a run of n = PERSISTENCE_HOURS: it and the n-2 hours
                before it are all linked (BITAND of links at offsets 0, -1 .. -(n-2))
      in_run    bit set: the hour or one of the n-1 after it ends a run (BITOR of run_ends at
                offsets 0 .. n-1): the hour is in a run of n or more
    in_run needs links at offsets -(n-2) .. n-1 only: CTE qc_shifted takes them in one window
    pass (LAG/LEAD with 0 beyond the file's ends), and qc_in_run combines them.
    BITAND / BITOR: https://docs.snowflake.com/en/sql-reference/functions/bitand, .../bitor;
    LEAD: https://docs.snowflake.com/en/sql-reference/functions/lead. -#}
{%- macro in_run(i) -%}
BITAND(in_run, {{ 2 ** i }}) > 0
{%- endmacro -%}

{%- set ns = namespace(checks=[]) -%}
{%- for name, limit in STEP_LIMITS.items() -%}
{%- set ns.checks = ns.checks + [{"test": "step", "measure": name, "flag": 1,
    "cond": "prev_at = DATEADD('hour', -1, observed_at) AND ABS(" ~ name ~ " - prev_" ~ name ~ ") > " ~ limit,
    "ref": "prev_" ~ name}] -%}
{%- endfor -%}
{%- for p in PERSISTENCE -%}
{%- set ns.checks = ns.checks + [{"test": "persistence", "measure": p.name, "flag": 1,
    "cond": in_run(loop.index0), "ref": PERSISTENCE_HOURS}] -%}
{%- endfor -%}
{%- set ns.checks = ns.checks + [{"test": "dew_point_above_temperature", "measure": "dew_point_c", "flag": 1,
    "cond": "dew_point_c > air_temp_c", "ref": "air_temp_c"}] -%}
{%- for r in HOUR_RANGES -%}
{%- set ns.checks = ns.checks + [{"test": "outside_hour_range", "measure": r.value, "flag": 1,
    "cond": r.value ~ " > " ~ r.max ~ " + " ~ r.tolerance ~ " OR " ~ r.value ~ " < " ~ r.min ~ " - " ~ r.tolerance,
    "ref": "IFF(" ~ r.value ~ " > " ~ r.max ~ " + " ~ r.tolerance ~ ", " ~ r.max ~ ", " ~ r.min ~ ")"}] -%}
{%- endfor -%}
{%- for r in HOUR_RANGES -%}
{%- set ns.checks = ns.checks + [{"test": "min_above_max", "measure": r.max, "flag": 1,
    "cond": r.min ~ " > " ~ r.max, "ref": r.min}] -%}
{%- set ns.checks = ns.checks + [{"test": "min_above_max", "measure": r.min, "flag": 1,
    "cond": r.min ~ " > " ~ r.max, "ref": r.max}] -%}
{%- endfor -%}
{%- set ns.checks = ns.checks + [{"test": "gust_below_speed", "measure": "wind_gust_ms", "flag": 1,
    "cond": "wind_gust_ms < wind_speed_ms", "ref": "wind_speed_ms"}] -%}
{%- set ns.checks = ns.checks + [{"test": "humidity_inconsistent", "measure": "humidity_pct", "flag": 1,
    "cond": "ABS(humidity_pct - humidity_expected) > " ~ HUMIDITY_TOLERANCE, "ref": humidity_expected('dew_point_c', 'air_temp_c')}] -%}
{%- set ns.checks = ns.checks + [{"test": "radiation_above_toa", "measure": "radiation_kj_m2", "flag": 2,
    "cond": "radiation_kj_m2 > ra_kj + " ~ TOA_MARGIN, "ref": "ra_kj"}] -%}
{%- set ns.checks = ns.checks + [{"test": "radiation_at_night", "measure": "radiation_kj_m2", "flag": 1,
    "cond": "radiation_kj_m2 <= ra_kj + " ~ TOA_MARGIN ~ " AND ra_kj <= 0 AND radiation_kj_m2 > " ~ NIGHT_LIMIT,
    "ref": "ra_kj"}] -%}
{%- set ns.checks = ns.checks + [{"test": "radiation_above_clear_sky", "measure": "radiation_kj_m2", "flag": 1,
    "cond": "radiation_kj_m2 <= ra_kj + " ~ TOA_MARGIN ~ " AND ra_kj > 0 AND radiation_kj_m2 > " ~ clear_sky('ra_kj', 'altitude_m') ~ " + " ~ CLEAR_SKY_MARGIN,
    "ref": clear_sky('ra_kj', 'altitude_m')}] -%}
{%- set ns.checks = ns.checks + [{"test": "pressure_vs_altitude", "measure": "pressure_hpa", "flag": 1,
    "cond": "ABS(pressure_hpa - pressure_expected) > " ~ PRESSURE_TOLERANCE, "ref": pressure_expected('altitude_m')}] -%}
{%- set CHECKS = ns.checks -%}

{#- The columns of BATCH_WORK the references above read besides the measures (work_columns):
    the step tests' previous hours, the hour's extraterrestrial radiation (NULL where no
    radiation test can fire), the station's altitude. -#}
{%- set ns = namespace(inputs=[]) -%}
{%- for name in STEP_LIMITS -%}
{%- set ns.inputs = ns.inputs + [{"name": "prev_" ~ name, "type": (MEASURES | selectattr("name", "equalto", name) | first).type,
    "comment": "the value of the hour before (step test), when it is the line before in the file"}] -%}
{%- endfor -%}
{%- set ns.inputs = ns.inputs + [{"name": "ra_kj", "type": "FLOAT", "comment": "extraterrestrial radiation of the hour, kJ/m2 (FAO-56 eq 28)"}] -%}
{%- set ns.inputs = ns.inputs + [{"name": "altitude_m", "type": "NUMBER(7,2)", "comment": "altitude of the station, metres"}] -%}
{%- set REFERENCE_INPUTS = ns.inputs -%}

{#- Check i's bit in BATCH_WORK.qc_checks, in CHECKS' order: 2^i. The column is a BIGINT
    (on Snowflake a synonym of NUMBER, precision 38 and scale 0: "Numeric data types",
    https://docs.snowflake.com/en/sql-reference/data-types-numeric; 64-bit on the local
    warehouse): bits 0 to 59 are safe in both,
    and tests/unit/test_sql_qc.py holds the checks under that and the two statements to the
    same bits. BITAND: https://docs.snowflake.com/en/sql-reference/functions/bitand. -#}
{%- macro check_bit(i) -%}
{{ 2 ** i }}
{%- endmacro -%}

{#- CTE qc_inputs, the columns beyond range_checked's: the persistence keys, the solar and
    humidity references (computed once per row, only where their value is present). -#}
{%- macro qc_inputs() -%}
{%- for p in PERSISTENCE %}
    IFF({{ p.when }}, {{ p.name }}, NULL) AS key_{{ p.name }},
{%- endfor %}
    -- the day of year and the hour angle, only where a radiation test can fire
    IFF(radiation_kj_m2 > {{ [TOA_MARGIN, NIGHT_LIMIT, CLEAR_SKY_MARGIN] | min }}, {{ hour_day_of_year('observed_at') }}, NULL) AS sun_day,
    IFF(radiation_kj_m2 > {{ [TOA_MARGIN, NIGHT_LIMIT, CLEAR_SKY_MARGIN] | min }}, {{ hour_angle('longitude', 'observed_at') }}, NULL) AS sun_w,
    {{ humidity_expected('dew_point_c', 'air_temp_c') }} AS humidity_expected,
    {{ pressure_expected('altitude_m') }} AS pressure_expected
{%- endmacro -%}

{#- CTE qc_sun: the day's solar parts (FAO-56 eq 23-25), once a row. -#}
{%- macro qc_sun() -%}
    {{ distance_factor('sun_day') }} AS sun_dr,
    {{ declination('sun_day') }} AS sun_delta,
    {{ sunset_hour_angle('latitude', 'sun_day') }} AS sun_ws
{%- endmacro -%}

{#- CTE qc_ra (after qc_sun): the hour's extraterrestrial radiation (FAO-56 eq 28). -#}
{%- macro qc_ra() -%}
    {{ hour_extraterrestrial_kj_of('latitude', 'sun_dr', 'sun_delta', 'sun_ws', 'sun_w') }} AS ra_kj
{%- endmacro -%}

{#- CTE qc_sequence: the values the window functions below compare (besides the file, the line
    and the hour). -#}
{%- macro qc_sequence_columns() -%}
{%- for name in STEP_LIMITS %}
    {{ name }},
{%- endfor %}
{%- for p in PERSISTENCE %}
    key_{{ p.name }}{{ ',' if not loop.last }}
{%- endfor %}
{%- endmacro -%}

{#- What the window functions give each row (columns of CTE qc_in_run, table alias `n`). -#}
{%- macro qc_sequence_results(n) -%}
    {{ n }}prev_at,
{%- for name in STEP_LIMITS %}
    {{ n }}prev_{{ name }},
{%- endfor %}
    {{ n }}in_run
{%- endmacro -%}

{#- CTE qc_neighbours: the previous hour of
    the step tests and each persistence key's previous value (LAG:
    https://docs.snowflake.com/en/sql-reference/functions/lag). -#}
{%- macro qc_neighbours() -%}
    LAG(observed_at) {{ IN_FILE_ORDER }} AS prev_at,
{%- for name in STEP_LIMITS %}
    LAG({{ name }}) {{ IN_FILE_ORDER }} AS prev_{{ name }},
{%- endfor %}
{%- for p in PERSISTENCE %}
    LAG(key_{{ p.name }}) {{ IN_FILE_ORDER }} AS prev_key_{{ p.name }}{{ ',' if not loop.last }}
{%- endfor %}
{%- endmacro -%}

{#- CTE qc_links (after qc_neighbours). -#}
{%- macro qc_links() -%}
    (0
{%- for p in PERSISTENCE %}
      + IFF(prev_key_{{ p.name }} = key_{{ p.name }} AND prev_at = DATEADD('hour', -1, observed_at), {{ 2 ** loop.index0 }}, 0)
{%- endfor %}
    ) AS links
{%- endmacro -%}

{#- fn(a, fn(b, fn(c, ...))) over `items` (BITAND and BITOR take two arguments). -#}
{%- macro nested(fn, items) -%}
{%- if items | length == 1 -%}{{ items[0] }}{%- else -%}{{ fn }}({{ items[0] }}, {{ nested(fn, items[1:]) }}){%- endif -%}
{%- endmacro -%}

{#- The column of qc_shifted holding `links` at offset `o` from the hour. -#}
{%- macro links_at(o) -%}
{%- if o == 0 -%}links{%- elif o < 0 -%}links_m{{ -o }}{%- else -%}links_p{{ o }}{%- endif -%}
{%- endmacro -%}

{#- CTE qc_shifted (after qc_links): links at the offsets in_run reads. -#}
{%- macro qc_shifted() -%}
{%- for o in range(2 - PERSISTENCE_HOURS, PERSISTENCE_HOURS) if o != 0 %}
    {% if o < 0 %}LAG(links, {{ -o }}, 0){% else %}LEAD(links, {{ o }}, 0){% endif %} {{ IN_FILE_ORDER }} AS {{ links_at(o) }}{{ ',' if not loop.last }}
{%- endfor %}
{%- endmacro -%}

{#- CTE qc_run_ends (after qc_shifted): run_ends at offsets j = 0 .. n-1, each the BITAND of
    links at offsets j, j-1 .. j-(n-2). BITAND and BITOR are never mixed in one expression: the
    local stand-in (sqlglot) writes BITOR(BITAND(a, b), c) as `a & b | c` for DuckDB, where & and
    | bind equally and apply left to right, i.e. (a & b) | c only by chance of the order. -#}
{%- macro qc_run_ends() -%}
{%- for j in range(0, PERSISTENCE_HOURS) -%}
{%- set inner = namespace(items=[]) -%}
{%- for k in range(0, PERSISTENCE_HOURS - 1) -%}
{%- set inner.items = inner.items + [links_at(j - k)] -%}
{%- endfor %}
    {{ nested("BITAND", inner.items) }} AS run_ends_{{ j }}{{ ',' if not loop.last }}
{%- endfor %}
{%- endmacro -%}

{#- CTE qc_in_run (after qc_run_ends): the BITOR of those run ends. -#}
{%- macro qc_in_run() -%}
{%- set ns = namespace(items=[]) -%}
{%- for j in range(0, PERSISTENCE_HOURS) -%}
{%- set ns.items = ns.items + ["run_ends_" ~ j] -%}
{%- endfor %}
    {{ nested("BITOR", ns.items) }} AS in_run
{%- endmacro -%}

{#- CTE qc_checked: which checks flagged the row, one bit each (check_bit), in one column: the
    work table carries that and the few inputs of the references (work_columns), not a
    reference column per check (30 columns written for every line of the batch: the statement
    took 10.4 s instead of 9.75 s on 200 generated stations on the local warehouse). Every
    reference is present where its condition holds. -#}
{%- macro qc_checked() -%}
    (0
{%- for c in CHECKS %}
      + IFF({{ c.cond }}, {{ check_bit(loop.index0) }}, 0)
{%- endfor %}
    ) AS qc_checks
{%- endmacro -%}

{#- TRUE where check number `i` flagged the row (a column qc_checks in scope). -#}
{%- macro flagged_by(i) -%}
BITAND(qc_checks, {{ check_bit(i) }}) > 0
{%- endmacro -%}

{#- CTE qc_flagged: the flag of each measure: NULL when the file has no value, else the highest
    flag of its checks (gross_error: oor_<measure>, the range rule). -#}
{%- macro qc_flagged() -%}
{%- for m in MEASURES %}
    IFF({{ m.name }}_raw IS NULL, NULL, GREATEST(IFF(oor_{{ m.name }}, 2, 0)
    {%- for c in CHECKS %}{% if c.measure == m.name %}, IFF({{ flagged_by(loop.index0) }}, {{ c.flag }}, 0){% endif %}{% endfor %})) AS {{ m.name }}_qc{{ ',' if not loop.last }}
{%- endfor %}
{%- endmacro -%}

{#- The view's QC columns, from qc_flagged: each measure's value (NULL where flagged 2; to be
    listed in place of the value), then its flag, the value as written where flagged, the
    checks that flagged and the inputs of their references. -#}
{%- macro qc_value(m) -%}
IFF({{ m.name }}_qc = 2, NULL, {{ m.name }})
{%- endmacro -%}
{%- macro qc_outputs() -%}
{%- for m in MEASURES %}
    {{ m.name }}_qc,
{%- endfor %}
{%- for m in MEASURES %}
    IFF({{ m.name }}_qc > 0, {{ m.name }}_raw, NULL) AS {{ m.name }}_written,
{%- endfor %}
{%- for c in REFERENCE_INPUTS %}
    {{ c.name }},
{%- endfor %}
    qc_checks
{%- endmacro -%}

{#- Column definitions of the QC part of BATCH_WORK (V1.9.0). -#}
{%- macro work_columns() -%}
{%- for m in MEASURES %}
  {{ m.name }}_qc NUMBER(1,0),
{%- endfor %}
{%- for m in MEASURES %}
  {{ m.name }}_written NUMBER(28,8),
{%- endfor %}
{%- for c in REFERENCE_INPUTS %}
  {{ c.name }} {{ c.type }} COMMENT '{{ c.comment }}',
{%- endfor %}
  qc_checks BIGINT NOT NULL COMMENT 'bit i set: check i of modules/qc.sql CHECKS flagged the row'
{%- endmacro -%}

{#- The task's work table, CLEAN.BATCH_WORK: the columns of V1.3.0 and the quality-control
    ones (V1.9.0 and V1.11.0 create it). -#}
{%- macro work_table(database, clean_schema) -%}
CREATE OR REPLACE TRANSIENT TABLE {{ database }}.{{ clean_schema }}.BATCH_WORK (
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
  is_latest BOOLEAN NOT NULL COMMENT 'the most recently loaded line for its station and hour',{{ work_columns() }}
)
COMMENT = 'Scratch space of the PROCESS_RAW task (one batch at a time)'
{%- endmacro -%}

{#- The QC columns of BATCH_WORK, listed (INSERT column lists). -#}
{%- macro work_names(prefix='') -%}
{%- for m in MEASURES %}{{ prefix }}{{ m.name }}_qc, {% endfor %}
{%- for m in MEASURES %}{{ prefix }}{{ m.name }}_written, {% endfor %}
{%- for c in REFERENCE_INPUTS %}{{ prefix }}{{ c.name }}, {% endfor %}{{ prefix }}qc_checks
{%- endmacro -%}

{#- The rows of CLEAN.QC_FLAGS for the rows of `work` (an alias of BATCH_WORK rows), in one scan
    of them: each row against the list of checks (gross_error per measure, then CHECKS), a VALUES
    list joined to it, and CASE on the check's number picks its condition, the value as written
    and its reference. One SELECT per check, UNION ALL, read `work` once per check (64 times) and
    made this statement slower than the one that builds the work table.
    VALUES in FROM: https://docs.snowflake.com/en/sql-reference/constructs/values ("FROM ( VALUES
    ( <expr> ) [ , ( ... ) ] ) [ [ AS ] <table_alias> [ ( <column_alias> [ , ... ] ) ] ]");
    CASE: https://docs.snowflake.com/en/sql-reference/functions/case. -#}
{%- macro flag_rows(work) -%}
{%- set ns = namespace(rows=[]) -%}
{%- for m in MEASURES -%}
{%- set ns.rows = ns.rows + [{"test": "gross_error", "measure": m.name, "flag": 2,
    "when": "oor_" ~ m.name,
    "ref": "IFF(" ~ m.name ~ "_written < " ~ m.low ~ ", " ~ m.low ~ ", " ~ m.high ~ ")"}] -%}
{%- endfor -%}
{%- for c in CHECKS -%}
{%- set ns.rows = ns.rows + [{"test": c.test, "measure": c.measure, "flag": c.flag,
    "when": flagged_by(loop.index0), "ref": c.ref}] -%}
{%- endfor %}
SELECT station_id, observed_at, c.measure, c.test, c.flag,
       CASE c.i
       {%- for r in ns.rows %}
         WHEN {{ loop.index0 }} THEN {{ r.measure }}_written
       {%- endfor %}
       END AS value_written,
       CASE c.i
       {%- for r in ns.rows %}
         WHEN {{ loop.index0 }} THEN {{ r.ref }}
       {%- endfor %}
       END AS reference,
       file_name, batch_id
FROM {{ work }}
CROSS JOIN (VALUES
{%- for r in ns.rows %}
  ({{ loop.index0 }}, '{{ r.measure }}', '{{ r.test }}', {{ r.flag }}){{ ',' if not loop.last }}
{%- endfor %}
) AS c (i, measure, test, flag)
WHERE CASE c.i
{%- for r in ns.rows %}
  WHEN {{ loop.index0 }} THEN {{ r.when }}
{%- endfor %}
  ELSE FALSE END
{%- endmacro -%}
