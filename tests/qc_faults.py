"""Planted faults for the quality-control tests: a generated station-year with one fault of each
kind written into it, each on a day of its own, and what each fault must add to the flags (its
test on its hours and measures, nothing else)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from inmet_local.synth.synth import SynthStation, generate_station_year, station_catalogue
from tests.solar_model import clear_sky, hour_extraterrestrial_kj

# Field positions in a data line (docs/inmet-format.md): date, hour, then the 17 measures.
PRECIP, P, P_MAX, P_MIN, RAD, T, TD, T_MAX, T_MIN, TD_MAX, TD_MIN = range(2, 13)
RH_MAX, RH_MIN, RH, WIND_DIR, GUST, SPEED = range(13, 19)
FIRST_DATA_LINE = 10  # 1-based: the hour 00:00 UTC of 1 January

Expected = set[tuple[datetime, str, str]]  # (hour, measure, test)


@dataclass(frozen=True)
class Fault:
    name: str
    day: int  # day of year (1-based) it is planted on
    expected: Expected


def _num(text: str) -> float:
    return float(text.replace(",", "."))


def _text(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


class Planter:
    """Edits the data lines of one generated file in place."""

    def __init__(self, data: bytes, year: int) -> None:
        self.lines = [line.split(";") for line in data.decode("latin-1").split("\n")]
        self.year = year

    def index(self, day: int, hour: int) -> int:
        return FIRST_DATA_LINE - 1 + (day - 1) * 24 + hour

    def stamp(self, day: int, hour: int) -> datetime:
        return datetime(self.year, 1, 1) + timedelta(days=day - 1, hours=hour)

    def get(self, day: int, hour: int, field: int) -> float:
        return _num(self.lines[self.index(day, hour)][field])

    def set(self, day: int, hour: int, field: int, value: float) -> None:
        self.lines[self.index(day, hour)][field] = _text(value)

    def data(self) -> bytes:
        return "\n".join(";".join(fields) for fields in self.lines).encode("latin-1")


def base_file() -> tuple[SynthStation, bytes]:
    station = station_catalogue(1)[0]  # A001 Brasília
    return station, generate_station_year(station, 2024, seed=3, layout="B").data


def plant_all(station: SynthStation, data: bytes) -> tuple[bytes, list[Fault]]:
    """``data`` with one fault of every kind (each on its own day, away from the file's own
    flags), and the flags each fault must add."""
    p = Planter(data, 2024)
    faults: list[Fault] = []

    def fault(name: str, day: int, *hits: tuple[int, str, str]) -> None:
        faults.append(Fault(name, day, {(p.stamp(day, h), m, t) for h, m, t in hits}))

    # gross error: -45 degC is outside the temperature range
    p.set(40, 12, T, -45)
    fault("gross_error", 40, (12, "air_temp_c", "gross_error"))
    # step: pressure 5 hPa up for one hour (and back down the hour after), its extremes too
    for field in (P, P_MAX, P_MIN):
        p.set(60, 12, field, p.get(60, 12, field) + 5)
    fault("step", 60, (12, "pressure_hpa", "step"), (13, "pressure_hpa", "step"))
    # persistence: the wind direction unchanged for 6 hours while the wind blows
    start = next(s for s in range(19) if all(p.get(80, h, SPEED) > 0 for h in range(s, s + 6)))
    for h in range(start, start + 6):
        p.set(80, h, WIND_DIR, 123.4)
    fault(
        "persistence",
        80,
        *((h, "wind_direction_deg", "persistence") for h in range(start, start + 6)),
    )
    # dew point above the temperature, at a humid hour; the humidity and extremes follow
    day, h = 100, 9
    t = p.get(day, h, T)
    p.set(day, h, TD, t + 0.3)
    p.set(day, h, TD_MAX, max(p.get(day, h, TD_MAX), t + 0.3))
    p.set(day, h, RH, 100)
    p.set(day, h, RH_MAX, 100)
    fault("dew_point_above_temperature", day, (h, "dew_point_c", "dew_point_above_temperature"))
    # the temperature above the hour's maximum
    t = p.get(120, 12, T)
    p.set(120, 12, T_MAX, t - 1)
    p.set(120, 12, T_MIN, t - 2)
    fault("outside_hour_range", 120, (12, "air_temp_c", "outside_hour_range"))
    # the hour's minimum humidity above its maximum
    rh = p.get(140, 12, RH)
    p.set(140, 12, RH_MAX, rh)
    p.set(140, 12, RH_MIN, rh + 1)
    fault(
        "min_above_max",
        140,
        (12, "humidity_max_pct", "min_above_max"),
        (12, "humidity_min_pct", "min_above_max"),
    )
    # a gust below the wind speed
    h = max(range(24), key=lambda hour: p.get(160, hour, SPEED))
    p.set(160, h, GUST, p.get(160, h, SPEED) - 1)
    fault("gust_below_speed", 160, (h, "wind_gust_ms", "gust_below_speed"))
    # humidity 25 points below what temperature and dew point give; its minimum follows
    rh = p.get(180, 15, RH)
    p.set(180, 15, RH, rh - 25)
    p.set(180, 15, RH_MIN, min(p.get(180, 15, RH_MIN), rh - 25))
    fault("humidity_inconsistent", 180, (15, "humidity_pct", "humidity_inconsistent"))
    # radiation: above the top of the atmosphere at midday, at night, above clear sky
    lat, lon, alt = station.latitude, station.longitude, station.altitude_m
    p.set(200, 16, RAD, 5500)
    fault("radiation_above_toa", 200, (16, "radiation_kj_m2", "radiation_above_toa"))
    p.set(220, 3, RAD, 35)
    fault("radiation_at_night", 220, (3, "radiation_kj_m2", "radiation_at_night"))
    ra = hour_extraterrestrial_kj(lat, lon, p.stamp(240, 16))
    p.set(240, 16, RAD, (ra + clear_sky(ra, alt)) / 2 + 50)
    fault("radiation_above_clear_sky", 240, (16, "radiation_kj_m2", "radiation_above_clear_sky"))
    return p.data(), faults


def pressure_shifted(data: bytes, by: float = 60) -> tuple[bytes, Expected]:
    """``data`` with every pressure (and its extremes) ``by`` hPa higher, as a station with a
    wrong altitude or a sea-level pressure writes it: each hour's pressure is far from what the
    altitude gives, and nothing else changes (no step, no extreme crossed)."""
    p = Planter(data, 2024)
    expected: Expected = set()
    for i in range(FIRST_DATA_LINE - 1, len(p.lines)):
        fields = p.lines[i]
        if len(fields) < 19:
            continue
        for field in (P, P_MAX, P_MIN):
            if fields[field] not in ("", "-9999"):
                fields[field] = _text(_num(fields[field]) + by)
        if fields[P] not in ("", "-9999"):
            day_hour = i - (FIRST_DATA_LINE - 1)
            expected.add(
                (p.stamp(day_hour // 24 + 1, day_hour % 24), "pressure_hpa", "pressure_vs_altitude")
            )
    return p.data(), expected
