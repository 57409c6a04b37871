"""An independent statement of docs/contracts.md §3 in Python, to check the SQL against.

The product's rules live once, in snowflake_sql/; this oracle exists only in the tests.
``expected_clean`` reads files with the validator's reader and applies rules 4-7 in plain
Python; ``VersionModel`` (below) reads them on its own and adds the order of versions, the
superseded status and the station history, for the differential test of the whole pipeline.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from inmet_pipeline.columns import CLEAN_COLUMNS, MEASURES
from inmet_pipeline.reader import read_observations

Key = tuple[str, datetime]


def clean_value(value: float | None, index: int) -> float | None:
    measure = MEASURES[index]
    if value is None or not measure.low <= value <= measure.high:
        return None
    return value


def expected_clean(files: Iterable[bytes]) -> dict[Key, tuple[float | None, ...]]:
    """CLEAN after loading ``files`` in order (each file a later load than the previous)."""
    clean: dict[Key, tuple[float | None, ...]] = {}
    for data in files:
        report, rows = read_observations(data)
        for obs in rows:
            assert report.station is not None
            key = (report.station.station_id, obs.observed_at.replace(tzinfo=None))
            values = tuple(clean_value(v, i) for i, v in enumerate(obs.values))
            if all(v is None for v in values):
                clean.pop(key, None)  # rule 6, and rule 7: the later load replaces
            else:
                clean[key] = values
    return clean


def as_float(value: object) -> float | None:
    if value is None:
        return None
    assert isinstance(value, Decimal | int | float), value
    return float(value)


def expected_clean_csv(files: Iterable[bytes], path: Path) -> Path:
    """The CLEAN contract CSV (docs/contracts.md §3: CLEAN_COLUMNS, observed_at as ...Z) that
    ``inmet fetch`` would write after loading ``files``: the oracle's rows (rules 4-7) with
    the station attributes its own year's file states (rule 1, the station history; a later
    file of the same station-year wins), read by the validator's reader. Stands in for the full
    local stack where a test only needs the data."""
    datas = list(files)
    attributes: dict[tuple[str, int], tuple[object, ...]] = {}
    for data in datas:
        report, rows = read_observations(data)
        first = next(rows, None)  # the metadata lines are read with the first row
        assert report.station is not None
        if first is None:
            continue  # no row: nothing of the file is in CLEAN
        st = report.station
        attributes[(st.station_id, first.observed_at.year)] = (
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
        for (station_id, observed_at), values in sorted(expected_clean(datas).items()):
            writer.writerow(
                [
                    *attributes[(station_id, observed_at.year)],
                    observed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    *("" if v is None else v for v in values),
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
    for line in lines[9:]:
        fields = line.split(";")
        at = datetime.fromisoformat(f"{fields[0].replace('/', '-')}T{fields[1][:2]}:00:00")
        values = tuple(measure_value(fields[2 + i], i) for i in range(len(MEASURES)))
        hours[at] = None if all(v is None for v in values) else values
    attributes = (
        name,
        region,
        state,
        format(_scaled(latitude, 8), "f"),
        format(_scaled(longitude, 8), "f"),
        format(_scaled(altitude, 2), "f"),
    )
    return ModelFile(code, min(hours).year, attributes, hours)


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
        for (station, at), (_, values) in sorted(self.clean().items()):
            attributes = history[(station, at.year)]
            lines.append(
                ",".join(
                    [
                        station,
                        *attributes,
                        at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        *("" if v is None else format(v, "f") for v in values),
                    ]
                )
            )
        return ("\n".join(lines) + "\n").encode("utf-8")

    @staticmethod
    def _key(station_year: StationYear) -> str:
        return PARTITION_KEY.format(station=station_year[0], year=station_year[1])
