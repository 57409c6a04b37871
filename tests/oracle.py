"""An independent statement of docs/contracts.md §3 in Python, to check the SQL against.

The product's rules live once, in snowflake_sql/; this oracle exists only in the tests.
``expected_clean`` reads files with the validator's reader and applies rules 4-7 in plain
Python; ``VersionModel`` (below) reads them on its own and adds the order of versions, the
superseded status and the station history, for the differential test of the whole pipeline.

Why one module over 400 lines: it is the tests' single statement of the contract (CLEAN,
quality control's flags per row, the version model, the daily and the monthly values), each
part built on the same parsed rows; split, a reader of one would have to find the others'
definitions.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date as date_type
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from inmet_pipeline.columns import CLEAN_COLUMNS, DAILY_VALUES, MEASURES
from inmet_pipeline.reader import read_observations
from inmet_pipeline.report import StationMeta
from tests.qc_oracle import file_flags, measure_flags

Key = tuple[str, datetime]


def clean_value(value: float | None, index: int) -> float | None:
    measure = MEASURES[index]
    if value is None or not measure.low <= value <= measure.high:
        return None
    return value


def expected_clean(
    files: Iterable[bytes], quality_control: bool = True
) -> dict[Key, tuple[float | None, ...]]:
    """CLEAN after loading ``files`` in order (each file a later load than the previous): rules
    4-7, and a value quality control flags erroneous is NULL (tests/qc_oracle.py, docs/qc.md;
    ``quality_control=False``: CLEAN as it was before quality control)."""
    clean: dict[Key, tuple[float | None, ...]] = {}
    for data in files:
        flags = file_flags(data)[1] if quality_control else {}
        report, rows = read_observations(data)
        for obs in rows:
            assert report.station is not None
            key = (report.station.station_id, obs.observed_at.replace(tzinfo=None))
            values = tuple(clean_value(v, i) for i, v in enumerate(obs.values))
            if all(v is None for v in values):
                clean.pop(key, None)  # rule 6, and rule 7: the later load replaces
            else:
                erroneous = {f.measure for f in flags.get(key, ()) if f.flag == 2}
                clean[key] = tuple(
                    None if MEASURES[i].name in erroneous else v for i, v in enumerate(values)
                )
    return clean


def expected_qc(files: Iterable[bytes]) -> dict[Key, tuple[int | None, ...]]:
    """The 17 `<measure>_qc` flags of each CLEAN row after loading ``files`` in order (the
    rows of expected_clean): empty (None) where the file had no value, else the highest flag of
    the value's tests in tests/qc_oracle.py, 0 when none fired (docs/qc.md)."""
    out: dict[Key, tuple[int | None, ...]] = {}
    for data in files:
        station, flags = file_flags(data)
        for obs in read_observations(data)[1]:
            key = (station, obs.observed_at.replace(tzinfo=None))
            if all(clean_value(v, i) is None for i, v in enumerate(obs.values)):
                out.pop(key, None)  # rule 6: not in CLEAN
                continue
            worst = measure_flags(flags.get(key, []))
            out[key] = tuple(
                None if v is None else worst.get(m.name, 0)
                for m, v in zip(MEASURES, obs.values, strict=True)
            )
    return out


def as_float(value: object) -> float | None:
    if value is None:
        return None
    assert isinstance(value, Decimal | int | float), value
    return float(value)


def _station_year(data: bytes) -> tuple[StationMeta | None, tuple[str, int] | None]:
    """A file's station (its metadata lines, read with the first row) and the station-year of
    its first row (None when the file has no row or no station)."""
    report, rows = read_observations(data)
    first = next(rows, None)
    st = report.station
    if first is None or st is None:
        return st, None
    return st, (st.station_id, first.observed_at.year)


def expected_clean_csv(files: Iterable[bytes], path: Path) -> Path:
    """The CLEAN contract CSV (docs/contracts.md §3: CLEAN_COLUMNS with the quality-control
    flags, observed_at as ...Z) that
    ``inmet fetch`` would write after loading ``files``: the oracle's rows (rules 4-7) with
    the station attributes its own year's file states (rule 1, the station history; a later
    file of the same station-year wins), read by the validator's reader. Stands in for the full
    local stack where a test only needs the data."""
    datas = list(files)
    attributes: dict[tuple[str, int], tuple[object, ...]] = {}
    for data in datas:
        st, key = _station_year(data)
        assert st is not None
        if key is None:
            continue  # no row: nothing of the file is in CLEAN
        attributes[key] = (
            st.station_id,
            st.station_name,
            st.region,
            st.state,
            st.latitude,
            st.longitude,
            st.altitude_m,
        )
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CLEAN_COLUMNS)
        qc = expected_qc(datas)
        for (station_id, observed_at), values in sorted(expected_clean(datas).items()):
            writer.writerow(
                [
                    *attributes[(station_id, observed_at.year)],
                    observed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    *("" if v is None else v for v in values),
                    *("" if f is None else f for f in qc[(station_id, observed_at)]),
                ]
            )
    return path


# -- The order of versions, the superseded status and the station history -----------------------
# An independent model of docs/contracts.md §1.2 (`superseded`), §2 (the partitions) and §3
# rules 1 and 4-7 over a sequence of uploads and loads, for the differential test of the whole
# pipeline (tests/upload_sequences.py). It parses each file itself (no reader, no SQL, no
# status code of the product): the only thing it shares with the product is the declaration of
# the measures' ranges (columns.MEASURES, the contract's table).

PARTITION_KEY = "processed/inmet_clean/station={station}/year={year:04d}/inmet_clean.csv"
Hour = tuple[Decimal | None, ...] | None  # None: every measure missing (rule 6)
StationYear = tuple[str, int]


def inmet_decimal(text: str) -> Decimal | None:
    """A field as written: '' and -9999 are missing (rule 4); a decimal comma, and ',5' or
    '-,5' without the leading zero (rule 3)."""
    text = text.strip()
    if text in ("", "-9999"):
        return None
    text = text.replace(",", ".")
    if text.startswith("-."):
        text = "-0" + text[1:]
    elif text.startswith("."):
        text = "0" + text
    return Decimal(text)


def _scaled(value: Decimal, places: int) -> Decimal:
    """Rounded half away from zero to ``places`` decimals, as a NUMBER(p, places) holds it
    (no negative zero)."""
    scaled = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return abs(scaled) if scaled == 0 else scaled


def measure_value(text: str, index: int) -> Decimal | None:
    """Rules 4 and 5: the range compared with the value as written, then one decimal."""
    value = inmet_decimal(text)
    measure = MEASURES[index]
    if value is None or not measure.low <= value <= measure.high:
        return None
    return _scaled(value, 1)


@dataclass(frozen=True)
class ModelFile:
    """What the model reads from one station file: rule 1's attributes (metadata lines 1-7 by
    position, CLEAN's scales) and each hour's measures after rules 2-6."""

    station_id: str
    year: int
    attributes: tuple[str, ...]  # station_name, region, state, latitude, longitude, altitude_m
    hours: dict[datetime, Hour]
    # Each hour's 17 `<measure>_qc` flags (docs/qc.md): None where the file wrote no value,
    # else the highest flag of tests/qc_oracle.py's tests over this file's rows, 0 for none.
    qc: dict[datetime, tuple[int | None, ...]] = field(default_factory=dict)


def parse_station_file(data: bytes) -> ModelFile:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    meta = [line.split(";")[1].strip() for line in lines[:7]]
    region, state, name, code = meta[0].upper(), meta[1].upper(), meta[2], meta[3].upper()
    latitude, longitude, altitude = (inmet_decimal(v) for v in meta[4:7])
    assert latitude is not None
    assert longitude is not None
    assert altitude is not None
    hours: dict[datetime, Hour] = {}
    qc: dict[datetime, tuple[int | None, ...]] = {}
    _, flags = file_flags(data)  # quality control over this file's rows (tests/qc_oracle.py)
    for line in lines[9:]:
        fields = line.split(";")
        at = datetime.fromisoformat(f"{fields[0].replace('/', '-')}T{fields[1][:2]}:00:00")
        values = tuple(measure_value(fields[2 + i], i) for i in range(len(MEASURES)))
        if all(v is None for v in values):
            hours[at] = None  # rule 6, before quality control: not in CLEAN
            continue
        worst = measure_flags(flags.get((code, at), []))
        qc[at] = tuple(
            None if inmet_decimal(fields[2 + i]) is None else worst.get(m.name, 0)
            for i, m in enumerate(MEASURES)
        )
        # An erroneous value (flag 2) is NULL in CLEAN; a suspect one (1) is kept.
        hours[at] = tuple(None if f == 2 else v for v, f in zip(values, qc[at], strict=True))
    attributes = (
        name,
        region,
        state,
        format(_scaled(latitude, 8), "f"),
        format(_scaled(longitude, 8), "f"),
        format(_scaled(altitude, 2), "f"),
    )
    return ModelFile(code, min(hours).year, attributes, hours, qc)


@dataclass
class ModelVersion:
    """One acceptance of a file: its place in the order the upload service accepted files."""

    order: int
    upload_id: str
    file: ModelFile
    loaded: bool = False

    @property
    def station_year(self) -> StationYear:
        return self.file.station_id, self.file.year


@dataclass
class ModelDocument:
    """The fields of an upload's status document that the model predicts."""

    version: int  # the order of the acceptance the document describes
    status: str = "received"
    rows_clean: int | None = None
    superseded_by: str | None = None
    export_keys: list[str] = field(default_factory=list)


@dataclass
class ModelBatch:
    """One task run: the acceptances it loaded (§4)."""

    versions: list[ModelVersion]

    @property
    def touched(self) -> set[StationYear]:
        return {v.station_year for v in self.versions}


class VersionModel:
    """The pipeline as the contract states it, acceptance by acceptance and batch by batch.

    - an upload of new bytes is a new acceptance; identical bytes again change nothing, except
      after `superseded`: then they are a new acceptance, the latest (§1.1);
    - rule 7: each hour of a station comes from the latest acceptance among the loaded ones
      that holds it, whatever order they were loaded in; none when that one has every measure
      missing (rule 6);
    - rule 1: each station-year's attributes come from its latest loaded acceptance, and each
      CLEAN row carries its own year's; each station's latest attributes overall (STATIONS);
    - §1.2: when a batch's notification is handled (at once, late, out of order or again), its
      files are `exported` (rows_clean: their hours in CLEAN, export_keys: their partition
      when they have any); every
      loaded file of the station-years it touched one of whose hours a later loaded version
      holds is `superseded` by the latest, with the rows it still has (an hour it held with
      every value missing counts: its emptying was replaced).
    """

    def __init__(self) -> None:
        self.versions: list[ModelVersion] = []
        self.documents: dict[str, ModelDocument] = {}

    # -- what happens -----------------------------------------------------------------------------
    @staticmethod
    def upload_id(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def accept(self, data: bytes) -> ModelVersion | None:
        """The new acceptance, or None when the upload changes nothing (answer 200)."""
        upload_id = self.upload_id(data)
        document = self.documents.get(upload_id)
        if document is not None and document.status != "superseded":
            return None
        version = ModelVersion(len(self.versions), upload_id, parse_station_file(data))
        self.versions.append(version)
        self.documents[upload_id] = ModelDocument(version.order)
        return version

    def load(self, orders: Iterable[int]) -> None:
        """One batch: these acceptances loaded (in any order), the task run, its export."""
        self.export(self.run_task(orders))

    def run_task(self, orders: Iterable[int]) -> ModelBatch:
        """These acceptances loaded (in any order) and the task run: the batch its load
        notification announces (§4)."""
        batch = ModelBatch([self.versions[o] for o in orders])
        for version in batch.versions:
            version.loaded = True
        return batch

    def export(self, batch: ModelBatch) -> None:
        """The batch's notification handled (now, later, or once more): the documents as CLEAN
        stands now."""
        clean = self.clean()
        kept = Counter(order for order, _ in clean.values())
        touched = batch.touched
        for version in batch.versions:
            document = self.documents[version.upload_id]
            if document.version != version.order:
                continue
            document.status = "exported"
            document.rows_clean = kept[version.order]
            document.superseded_by = None
            document.export_keys = [self._key(version.station_year)] if kept[version.order] else []
        for version in self.loaded():
            if version.station_year not in touched:
                continue
            document = self.documents[version.upload_id]
            if document.version != version.order:
                continue  # sent again since: the later acceptance is the document's
            if self.replaced(version):
                latest = self.latest(version.station_year)
                document.status = "superseded"
                document.rows_clean = kept[version.order]
                document.superseded_by = latest.upload_id
                document.export_keys = (
                    [self._key(version.station_year)] if kept[version.order] else []
                )

    # -- what results -----------------------------------------------------------------------------
    def replaced(self, version: ModelVersion) -> bool:
        """A later loaded version of its station-year holds one of its hours, with values or
        without (§1.2: "replaced some or all of its hours")."""
        return any(
            later.order > version.order
            and later.station_year == version.station_year
            and not later.file.hours.keys().isdisjoint(version.file.hours)
            for later in self.loaded()
        )

    def loaded(self) -> list[ModelVersion]:
        return [v for v in self.versions if v.loaded]

    def latest(self, station_year: StationYear) -> ModelVersion:
        return max(
            (v for v in self.loaded() if v.station_year == station_year), key=lambda v: v.order
        )

    def clean(self) -> dict[Key, tuple[int, tuple[Decimal | None, ...]]]:
        """CLEAN's rows: (station, hour) -> (the acceptance it comes from, its measures)."""
        deciding: dict[Key, tuple[int, Hour]] = {}
        for version in sorted(self.loaded(), key=lambda v: v.order):
            for at, values in version.file.hours.items():
                deciding[(version.file.station_id, at)] = (version.order, values)
        return {k: (o, v) for k, (o, v) in deciding.items() if v is not None}

    def station_years(self) -> dict[StationYear, tuple[str, ...]]:
        """The station history: each loaded station-year's attributes (CLEAN.STATION_YEARS)."""
        return {
            sy: self.latest(sy).file.attributes for sy in {v.station_year for v in self.loaded()}
        }

    def stations(self) -> dict[str, tuple[str, ...]]:
        """Each station's latest attributes, whatever the year (CLEAN.STATIONS)."""
        latest: dict[str, ModelVersion] = {}
        for version in sorted(self.loaded(), key=lambda v: v.order):
            latest[version.file.station_id] = version
        return {s: v.file.attributes for s, v in latest.items()}

    def events(self) -> list[tuple[str, str, int, int]]:
        """CLEAN.STATION_EVENTS without the figures: (station, event, previous year, year)
        for each change between consecutive loaded years of a station, sorted."""
        history = self.station_years()
        found = []
        for station in sorted({s for s, _ in history}):
            years = sorted(y for s, y in history if s == station)
            for before, after in itertools.pairwise(years):
                (n0, *_, la0, lo0, al0), (n1, *_, la1, lo1, al1) = (
                    history[(station, before)],
                    history[(station, after)],
                )
                if (Decimal(la0), Decimal(lo0), Decimal(al0)) != (
                    Decimal(la1),
                    Decimal(lo1),
                    Decimal(al1),
                ):
                    found.append((station, "relocation", before, after))
                if n0 != n1:
                    found.append((station, "rename", before, after))
        return sorted(found)

    def csv(self) -> bytes:
        """inmet_clean.csv (§3.1): rows sorted by station and hour, each with its year's
        attributes, scaled numbers, '' for NULL."""
        history = self.station_years()
        lines = [",".join(CLEAN_COLUMNS)]
        by_order = {v.order: v for v in self.loaded()}
        for (station, at), (order, values) in sorted(self.clean().items()):
            attributes = history[(station, at.year)]
            flags = by_order[order].file.qc[at]
            lines.append(
                ",".join(
                    [
                        station,
                        *attributes,
                        at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        *("" if v is None else format(v, "f") for v in values),
                        *("" if f is None else str(f) for f in flags),
                    ]
                )
            )
        return ("\n".join(lines) + "\n").encode("utf-8")

    @staticmethod
    def _key(station_year: StationYear) -> str:
        return PARTITION_KEY.format(station=station_year[0], year=station_year[1])


# --- daily values (docs/daily.md), restated independently of snowflake_sql/ -----------------
# The local day from the tz database itself (python's zoneinfo), the sun from tests/solar_model,
# ETo from FAO-56's equations written out again here.

# (state, latitude, longitude, altitude_m) of a station-year.
Attributes = tuple[str, float, float, float]

# The contract's names (as CLEAN_COLUMNS above): the model restates the rules, not the names.
DAILY_VALUE_COLUMNS = DAILY_VALUES


def station_zone(state: str, latitude: float, longitude: float) -> str:
    """The tz database zone of a Brazilian station (docs/daily.md's table)."""
    if longitude > -33:
        return "America/Noronha"
    if state == "AC":
        return "America/Rio_Branco"
    if state == "AM":
        # West of the straight line from Tabatinga (4.2525 S, 69.9383 W) to Porto Acre
        # (9.5881 S, 67.5331 W): the side of the line by the sign of a cross product.
        (ay, ax), (by, bx) = (-4.2525, -69.9383), (-9.5881, -67.5331)
        cross = (bx - ax) * (latitude - ay) - (by - ay) * (longitude - ax)
        return "America/Eirunepe" if cross < 0 else "America/Manaus"
    return {
        "MT": "America/Cuiaba",
        "MS": "America/Campo_Grande",
        "RO": "America/Porto_Velho",
        "RR": "America/Boa_Vista",
    }.get(state, "America/Sao_Paulo")


def standard_offset_hours(zone: str, instant: datetime) -> int:
    from datetime import UTC, timedelta
    from zoneinfo import ZoneInfo

    local = instant.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    total = (local.utcoffset() or timedelta(0)) - (local.dst() or timedelta(0))
    return int(total.total_seconds() // 3600)


def local_date_of_hour(zone: str, ts: datetime) -> date_type:
    from datetime import timedelta

    mid = ts - timedelta(minutes=30)
    return (mid + timedelta(hours=standard_offset_hours(zone, mid))).date()


def fao56_eto(
    tmax: float,
    tmin: float,
    rhmax: float,
    rhmin: float,
    u10: float,
    rs: float,
    latitude: float,
    altitude: float,
    j: int,
) -> float:
    """FAO-56 daily Penman-Monteith (eq 6), G = 0, from eqs 7, 8, 11-13, 17, 21, 37-40, 47."""
    import math

    from tests import solar_model

    def e0(t: float) -> float:
        return 0.6108 * math.exp(17.27 * t / (t + 237.3))

    pressure = 101.3 * math.pow((293 - 0.0065 * altitude) / 293, 5.26)
    gamma = 0.665e-3 * pressure
    tmean = (tmax + tmin) / 2
    es = (e0(tmax) + e0(tmin)) / 2
    delta = 4098 * e0(tmean) / (tmean + 237.3) ** 2
    ea = (e0(tmin) * rhmax / 100 + e0(tmax) * rhmin / 100) / 2
    u2 = u10 * 4.87 / math.log(67.8 * 10 - 5.42)
    rso = (0.75 + 2e-5 * altitude) * solar_model.day_extraterrestrial_mj(latitude, j)
    sigma = 4.903e-9
    rnl = (
        sigma
        * ((tmax + 273.16) ** 4 + (tmin + 273.16) ** 4)
        / 2
        * (0.34 - 0.14 * math.sqrt(ea))
        * (1.35 * min(1.0, rs / rso) - 0.35)
    )
    rn = 0.77 * rs - rnl
    return (0.408 * delta * rn + gamma * 900 / (tmean + 273) * u2 * (es - ea)) / (
        delta + gamma * (1 + 0.34 * u2)
    )


def expected_daily(
    clean: dict[Key, tuple[float | None, ...]], attributes: dict[StationYear, Attributes]
) -> dict[tuple[str, date_type], dict[str, float | int | None]]:
    """CLEAN.DAILY from CLEAN's hours and the station history, by the rules of docs/daily.md."""
    import math
    from datetime import timedelta

    from inmet_pipeline.columns import MEASURE_NAMES
    from tests import solar_model

    col = {name: i for i, name in enumerate(MEASURE_NAMES)}
    day_year: dict[tuple[str, date_type], int] = {}
    for station, ts in clean:
        state, lat, lon, _ = attributes[(station, ts.year)]
        key = (station, local_date_of_hour(station_zone(state, lat, lon), ts))
        day_year[key] = min(day_year.get(key, ts.year), ts.year)
    out: dict[tuple[str, date_type], dict[str, float | int | None]] = {}
    for (station, day), year in day_year.items():
        state, lat, lon, alt = attributes[(station, year)]
        zone = station_zone(state, lat, lon)
        midnight = datetime(day.year, day.month, day.day)
        hours = [
            t
            for t in (midnight + timedelta(hours=k) for k in range(1, 31))
            if local_date_of_hour(zone, t) == day
        ]
        rows = [clean.get((station, t)) for t in hours]
        if all(r is None for r in rows):
            continue

        def values(name: str, rows: list[tuple[float | None, ...] | None] = rows) -> list[float]:
            return [v for r in rows if r is not None and (v := r[col[name]]) is not None]

        rec: dict[str, float | int | None] = {
            "utc_offset": standard_offset_hours(zone, midnight + timedelta(hours=16)),
            "day_hours": len(hours),
        }
        precipitation = values("precipitation_mm")
        rec["n_precipitation_mm"] = len(precipitation)
        rec["precipitation_mm"] = sum(precipitation) if len(precipitation) == len(hours) else None
        for name, source, how in (
            ("air_temp_mean_c", "air_temp_c", "mean"),
            ("air_temp_max_c", "air_temp_max_c", "max"),
            ("air_temp_min_c", "air_temp_min_c", "min"),
            ("humidity_mean_pct", "humidity_pct", "mean"),
            ("humidity_max_pct", "humidity_max_pct", "max"),
            ("humidity_min_pct", "humidity_min_pct", "min"),
            ("pressure_mean_hpa", "pressure_hpa", "mean"),
            ("wind_speed_mean_ms", "wind_speed_ms", "mean"),
            ("wind_gust_max_ms", "wind_gust_ms", "max"),
        ):
            got = values(source)
            rec[f"n_{name}"] = len(got)
            if len(got) < 20:
                rec[name] = None
            elif how == "mean":
                rec[name] = sum(got) / len(got)
            else:
                rec[name] = max(got) if how == "max" else min(got)
        # Wind direction: the speed-weighted vector mean of the hours with both.
        pairs: list[tuple[float, float]] = []
        for r in rows:
            if r is not None:
                speed, direction = r[col["wind_speed_ms"]], r[col["wind_direction_deg"]]
                if speed is not None and direction is not None:
                    pairs.append((speed, direction))
        rec["n_wind_direction_deg"] = len(pairs)
        east = sum(s * math.sin(math.radians(d)) for s, d in pairs)
        north = sum(s * math.cos(math.radians(d)) for s, d in pairs)
        calm = sum(s for s, _ in pairs) <= 0
        rec["wind_direction_deg"] = (
            None if len(pairs) < 20 or calm else math.degrees(math.atan2(east, north)) % 360
        )
        # Radiation: the night hours (no extraterrestrial radiation all hour) are zeros.
        total, valid = 0.0, 0
        for t, r in zip(hours, rows, strict=True):
            if solar_model.hour_extraterrestrial_kj(lat, lon, t) == 0:
                valid += 1
            elif r is not None and r[col["radiation_kj_m2"]] is not None:
                valid += 1
                total += r[col["radiation_kj_m2"]]  # type: ignore[operator]
        rec["n_radiation_mj_m2"] = valid
        rec["radiation_mj_m2"] = total / 1000 if valid == len(hours) else None
        inputs = (
            "air_temp_max_c",
            "air_temp_min_c",
            "humidity_max_pct",
            "humidity_min_pct",
            "wind_speed_mean_ms",
            "radiation_mj_m2",
        )
        rec["n_eto_mm"] = min(int(rec[f"n_{name}"] or 0) for name in inputs)
        given = [rec[name] for name in inputs]
        if any(v is None for v in given):
            rec["eto_mm"] = None
        else:
            tmax, tmin, rhmax, rhmin, u10, rs = (float(v or 0) for v in given)
            j = day.timetuple().tm_yday
            rec["eto_mm"] = fao56_eto(tmax, tmin, rhmax, rhmin, u10, rs, lat, alt, j)
        out[(station, day)] = rec
    return out


def station_year_attributes(files: Iterable[bytes]) -> dict[StationYear, Attributes]:
    """Each station-year's (state, latitude, longitude, altitude) as its file sent last states
    them (rule 1, the station history)."""
    attributes: dict[StationYear, Attributes] = {}
    for data in files:
        st, key = _station_year(data)
        if st is None or key is None:
            continue
        attributes[key] = (
            st.state,
            st.latitude,
            st.longitude,
            st.altitude_m,
        )
    return attributes


MONTHLY_TOTALS = ("precipitation_mm", "radiation_mj_m2", "eto_mm")
MONTHLY_MEANS = (
    "air_temp_mean_c",
    "air_temp_max_c",
    "air_temp_min_c",
    "humidity_mean_pct",
    "pressure_mean_hpa",
    "wind_speed_mean_ms",
)
MONTHLY_VALUE_COLUMNS = (*MONTHLY_TOTALS, *MONTHLY_MEANS)


def expected_monthly(
    daily: dict[tuple[str, date_type], dict[str, Any]],
) -> dict[tuple[str, int, int], dict[str, float | int | None]]:
    """CLEAN.MONTHLY from CLEAN.DAILY's rows, by WMO's rules as docs/daily.md states them: a
    mean when at most 5 days are missing and no more than 3 in a row, a total only from every
    day of the month; a day without a row is missing."""
    import calendar

    out: dict[tuple[str, int, int], dict[str, float | int | None]] = {}
    for station, year, month in {(s, d.year, d.month) for s, d in daily}:
        days = calendar.monthrange(year, month)[1]
        rec: dict[str, float | int | None] = {"days_in_month": days}
        for name in MONTHLY_VALUE_COLUMNS:
            values = [
                (daily.get((station, date_type(year, month, d))) or {}).get(name)
                for d in range(1, days + 1)
            ]
            valid = [float(v) for v in values if v is not None]
            longest = run = 0
            for v in values:
                run = run + 1 if v is None else 0
                longest = max(longest, run)
            rec[f"n_{name}"] = len(valid)
            rec[f"gap_{name}"] = longest
            if name in MONTHLY_TOTALS:
                rec[name] = sum(valid) if len(valid) == days else None
            else:
                ok = days - len(valid) <= 5 and longest <= 3
                rec[name] = sum(valid) / len(valid) if ok else None
        out[(station, year, month)] = rec
    return out
