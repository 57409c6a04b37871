"""The INMET yearly-archive columns and the CLEAN contract columns (docs/contracts.md §3).

This module is the single Python statement of the 17 measures, their CLEAN names, their
physical ranges and their units. The SQL (snowflake_sql/) states the same ranges; a test
checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Measure:
    """One of the 17 measure columns of an INMET yearly-archive file."""

    name: str  # CLEAN column name, with its unit as suffix
    source_label: str  # the layout-B header label (for messages and docs)
    low: float  # physical range, inclusive (docs/contracts.md §3 rule 5)
    high: float
    unit: str


MEASURES: Final[tuple[Measure, ...]] = (
    Measure("precipitation_mm", "PRECIPITAÇÃO TOTAL, HORÁRIO (mm)", 0, 500, "mm"),
    Measure(
        "pressure_hpa", "PRESSAO ATMOSFERICA AO NIVEL DA ESTACAO, HORARIA (mB)", 500, 1100, "hPa"
    ),
    Measure(
        "pressure_max_hpa", "PRESSÃO ATMOSFERICA MAX.NA HORA ANT. (AUT) (mB)", 500, 1100, "hPa"
    ),
    Measure(
        "pressure_min_hpa", "PRESSÃO ATMOSFERICA MIN. NA HORA ANT. (AUT) (mB)", 500, 1100, "hPa"
    ),
    Measure("radiation_kj_m2", "RADIACAO GLOBAL (Kj/m²)", 0, 6000, "kJ/m²"),
    Measure("air_temp_c", "TEMPERATURA DO AR - BULBO SECO, HORARIA (°C)", -40, 60, "°C"),
    Measure("dew_point_c", "TEMPERATURA DO PONTO DE ORVALHO (°C)", -60, 50, "°C"),
    Measure("air_temp_max_c", "TEMPERATURA MÁXIMA NA HORA ANT. (AUT) (°C)", -40, 60, "°C"),
    Measure("air_temp_min_c", "TEMPERATURA MÍNIMA NA HORA ANT. (AUT) (°C)", -40, 60, "°C"),
    Measure("dew_point_max_c", "TEMPERATURA ORVALHO MAX. NA HORA ANT. (AUT) (°C)", -60, 50, "°C"),
    Measure("dew_point_min_c", "TEMPERATURA ORVALHO MIN. NA HORA ANT. (AUT) (°C)", -60, 50, "°C"),
    Measure("humidity_max_pct", "UMIDADE REL. MAX. NA HORA ANT. (AUT) (%)", 0, 100, "%"),
    Measure("humidity_min_pct", "UMIDADE REL. MIN. NA HORA ANT. (AUT) (%)", 0, 100, "%"),
    Measure("humidity_pct", "UMIDADE RELATIVA DO AR, HORARIA (%)", 0, 100, "%"),
    Measure("wind_direction_deg", "VENTO, DIREÇÃO HORARIA (gr) (° (gr))", 0, 360, "°"),
    Measure("wind_gust_ms", "VENTO, RAJADA MAXIMA (m/s)", 0, 100, "m/s"),
    Measure("wind_speed_ms", "VENTO, VELOCIDADE HORARIA (m/s)", 0, 100, "m/s"),
)

MEASURE_NAMES: Final[tuple[str, ...]] = tuple(m.name for m in MEASURES)
N_MEASURES: Final = len(MEASURES)  # 17

STATION_COLUMNS: Final[tuple[str, ...]] = (
    "station_id",
    "station_name",
    "region",
    "state",
    "latitude",
    "longitude",
    "altitude_m",
)

# docs/qc.md: each measure's quality-control flag, in measure order (0 passed, 1 suspect,
# 2 erroneous: the value is NULL, empty when the file had no value).
QC_COLUMNS: Final[tuple[str, ...]] = tuple(f"{name}_qc" for name in MEASURE_NAMES)

# docs/contracts.md §3: the CLEAN columns, in this order, everywhere (Snowflake's export view,
# the exported partitions, inmet_clean.csv): the 25 columns of contract version 1, then the 17
# flags (version 2).
VALUE_COLUMNS: Final[tuple[str, ...]] = (*STATION_COLUMNS, "observed_at", *MEASURE_NAMES)
CLEAN_COLUMNS: Final[tuple[str, ...]] = (*VALUE_COLUMNS, *QC_COLUMNS)
# docs/contracts.md §3.1: the version of the CSV contract these columns state.
CONTRACT_VERSION: Final = 2

# docs/contracts.md §3.2: the daily values each DAILY row holds, each followed in the table and in
# the daily CSV by its count of valid hours ``n_<value>`` (snowflake_sql/modules/daily.sql
# declares them with their rules; tests/integration/test_daily_export.py holds the two equal).
DAILY_VALUES: Final[tuple[str, ...]] = (
    "precipitation_mm",
    "air_temp_mean_c",
    "air_temp_max_c",
    "air_temp_min_c",
    "humidity_mean_pct",
    "humidity_max_pct",
    "humidity_min_pct",
    "pressure_mean_hpa",
    "wind_speed_mean_ms",
    "wind_direction_deg",
    "wind_gust_max_ms",
    "radiation_mj_m2",
    "eto_mm",
)

# docs/contracts.md §3.2: the daily CSV's columns, in this order (CLEAN.DAILY's, without its
# bookkeeping column updated_at).
DAILY_COLUMNS: Final[tuple[str, ...]] = (
    "station_id",
    "local_date",
    "utc_offset",
    "day_hours",
    *(c for v in DAILY_VALUES for c in (v, f"n_{v}")),
)

# The value that layout A uses for "missing" (layout B leaves the field empty).
MISSING_SENTINEL: Final = "-9999"

# Characters a CSV writer must quote. The export unloads text unenclosed
# (exports.UNLOAD_FILE_FORMAT), which equals the contract's minimal quoting only because no CLEAN
# text value holds one: the upload refuses a station name (the one free-text column) with any
# of them (reader.py).
CSV_QUOTED_CHARACTERS: Final = (",", '"', "\r", "\n")
