"""Load inmet_clean.csv (docs/contracts.md §3) for analysis, or make a realistic sample without one.

Also: where that file is from any working folder, whether its rows are real or generated, and
the checks that turn a wrong file into a one-line error.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pandas as pd

from inmet_pipeline.columns import CLEAN_COLUMNS, MEASURE_NAMES, QC_COLUMNS

DEFAULT_CLEAN_CSV = Path("data/processed/inmet_clean.csv")
CLEAN_CSV_ENV = "INMET_CLEAN_CSV"
CONTRACT_HEADER = ",".join(CLEAN_COLUMNS)
_HOW_TO_GET_IT = (
    "get it with `inmet fetch` (or `make demo` / `inmet local run --upload FILES` on this "
    "machine), which writes data/processed/inmet_clean.csv"
)


class ContractError(ValueError):
    """A file that is not the CLEAN contract CSV; the message is one line for the user."""


# An editable install: local/inmet_local/ml/data.py -> the repository root.
_CHECKOUT = Path(__file__).resolve().parents[3]


def project_root(start: Path | None = None) -> Path:
    """The project folder a command or a notebook works in: the first of ``start`` (default the
    working folder) and the folders above it that holds this project (pyproject.toml beside
    snowflake_sql/), else this installation's checkout when it is one, else ``start``. So `inmet
    train` at the root and a notebook in local/notebooks/ find the same data and MLflow store."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file() and (candidate / "snowflake_sql").is_dir():
            return candidate
    if (_CHECKOUT / "pyproject.toml").is_file():
        return _CHECKOUT
    return folder


def find_clean_csv(start: Path | None = None) -> Path | None:
    """Where data/processed/inmet_clean.csv is: ``$INMET_CLEAN_CSV`` when set, else the first
    ``data/processed/inmet_clean.csv`` in ``start`` (default the working folder) or any folder
    above it (so a notebook opened from local/notebooks/ finds the project's file), else the
    one in this project's checkout. None when there is none."""
    env = os.environ.get(CLEAN_CSV_ENV)
    if env:
        return Path(env)
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / DEFAULT_CLEAN_CSV
        if path.is_file():
            return path
    project = _CHECKOUT / DEFAULT_CLEAN_CSV
    return project if project.is_file() else None


def check_contract_header(path: Path) -> None:
    """Raise ContractError unless ``path`` starts with the CLEAN contract's header line."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except IsADirectoryError:
        raise ContractError(f"{path} is a folder; expected an inmet_clean.csv file") from None
    except OSError as exc:
        raise ContractError(f"{path}: cannot read ({exc.strerror})") from None
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    expected = f"expected the cleaned CSV whose header is `{CONTRACT_HEADER[:60]}…`"
    if not head.strip():
        raise ContractError(f"{path} is empty; {expected}; {_HOW_TO_GET_IT}")
    text = first.decode("latin-1")
    if text.upper().startswith(("REGIAO", "REGIÃO", "REGI?O")) or (
        path.name.upper().startswith("INMET_") and ";" in text
    ):
        raise ContractError(
            f"{path} is a raw INMET station file, not the cleaned CSV; {expected}. Upload it "
            f"through the pipeline and {_HOW_TO_GET_IT}"
        )
    try:
        decoded = first.decode("utf-8")
    except UnicodeDecodeError:
        raise ContractError(f"{path} is not a UTF-8 CSV; {expected}; {_HOW_TO_GET_IT}") from None
    columns = [c.strip().strip('"') for c in decoded.split(",")]
    if columns == list(CLEAN_COLUMNS):
        return
    missing = [c for c in CLEAN_COLUMNS if c not in columns]
    if len(missing) == len(CLEAN_COLUMNS):
        raise ContractError(
            f"{path} is not an inmet_clean.csv (its first line is `{decoded[:40]}`); "
            f"{expected}; {_HOW_TO_GET_IT}"
        )
    if missing and set(missing) <= set(QC_COLUMNS):
        raise ContractError(
            f"{path} has no quality-control flag columns (`air_temp_c_qc` …): it was written "
            f"before the CSV carried them (docs/contracts.md §3.1); {expected}; fetch it again "
            "with `inmet fetch`"
        )
    if missing:
        raise ContractError(
            f"{path} lacks the contract column(s) {', '.join(missing)}; {expected}; "
            f"{_HOW_TO_GET_IT}"
        )
    raise ContractError(
        f"{path} has the contract's columns in another order or with extra columns; "
        f"{expected} (docs/contracts.md §3); {_HOW_TO_GET_IT}"
    )


def load_clean(path: Path) -> pd.DataFrame:
    """The contract CSV as a typed frame: observed_at as UTC timestamps, measures as floats.

    A file that is not the contract CSV (a raw INMET file, a README, another CSV) is a
    ContractError naming what was expected.
    """
    check_contract_header(path)
    try:
        frame = pd.read_csv(
            path,
            dtype={
                "station_id": "string",
                "station_name": "string",
                "region": "string",
                "state": "string",
            },
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise ContractError(f"{path}: not a readable inmet_clean.csv ({exc})") from None
    observed = pd.to_datetime(frame["observed_at"], utc=True, errors="coerce")
    bad = observed.isna()
    if bad.any():
        line = int(bad.to_numpy().argmax()) + 2  # 1-based, after the header
        raise ContractError(
            f"{path}, line {line}: observed_at {frame['observed_at'].iloc[line - 2]!r} is not a "
            "UTC timestamp (the contract writes 2024-01-01T00:00:00Z)"
        )
    frame["observed_at"] = observed
    for column in (*MEASURE_NAMES, "latitude", "longitude", "altitude_m"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in QC_COLUMNS:  # 0, 1, 2 or empty (docs/qc.md)
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int8")
    return frame.sort_values(["station_id", "observed_at"]).reset_index(drop=True)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def frame_sha256(clean: pd.DataFrame) -> str:
    """The sha256 of ``clean`` written as the contract CSV (for data that is not a file)."""
    frame = clean[list(CLEAN_COLUMNS)].copy()
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True).dt.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return hashlib.sha256(buffer.getvalue().encode("utf-8")).hexdigest()


def sample_clean(stations: int = 3, year: int = 2023, seed: int = 0) -> pd.DataFrame:
    """A CLEAN-shaped frame from the sample generator (for demos and tests without data).

    The generator's values are already in range and all-missing hours are dropped, so these
    are CLEAN's values for those files. Quality control runs only in the warehouse: the
    sample's flag columns are empty (not checked).
    """
    from inmet_local.synth.synth import generate_station_year, station_catalogue

    records = []
    for station in station_catalogue(stations, seed):
        synth = generate_station_year(station, year, seed=seed, keep_values=True)
        assert synth.values is not None
        attributes = (
            station.station_id,
            station.name,
            station.region,
            station.state,
            station.latitude,
            station.longitude,
            station.altitude_m,
        )
        for observed_at, values in synth.values:
            if all(v is None for v in values):
                continue
            records.append((*attributes, observed_at, *values, *([None] * len(QC_COLUMNS))))
    frame = pd.DataFrame.from_records(records, columns=list(CLEAN_COLUMNS))
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True)
    for column in MEASURE_NAMES:
        frame[column] = frame[column].astype("float64")
    for column in QC_COLUMNS:
        frame[column] = frame[column].astype("Int8")
    return frame


def quality_summary(clean: pd.DataFrame) -> str:
    """One line on what training does with the quality-control flags (docs/qc.md): values
    flagged erroneous (2) are already empty in the CSV, so no model sees them; values flagged
    suspect (1) are kept as they are, because a suspect value is often a real extreme."""
    flags = clean[[c for c in QC_COLUMNS if c in clean.columns]]
    if flags.empty or flags.isna().all().all():
        return "quality control: no flags in this data (not checked); all values are used"
    suspect = int((flags == 1).sum().sum())
    erroneous = int((flags == 2).sum().sum())
    return (
        f"quality control: {erroneous:,} value(s) flagged erroneous are empty and not used; "
        f"{suspect:,} flagged suspect are kept"
    )


# Seeds of the project's generated data: `inmet synth` and `make demo` (0), the benchmarks (1).
GENERATOR_SEEDS = (0, 1)


def _generated_by(rows: pd.DataFrame, year: int, seeds: Iterable[int]) -> bool:
    """Whether a station-year's first temperatures are what the sample generator writes."""
    from inmet_local.synth.synth import SynthStation, generate_station_year

    first = rows.iloc[0]
    station = SynthStation(
        str(first["station_id"]),
        str(first["station_name"]),
        str(first["region"]),
        str(first["state"]),
        float(first["latitude"]),
        float(first["longitude"]),
        float(first["altitude_m"]),
        date(1990, 1, 1),
    )
    observed = rows.set_index("observed_at")["air_temp_c"].dropna()
    observed = observed[observed.index < pd.Timestamp(year, 1, 4, tz="UTC")]
    if len(observed) < 12:
        return False
    for seed in seeds:
        synth = generate_station_year(
            station, year, seed=seed, keep_values=True, partial_until=date(year, 1, 3)
        )
        assert synth.values is not None
        index = MEASURE_NAMES.index("air_temp_c")
        generated = pd.Series(
            {pd.Timestamp(ts): v[index] for ts, v in synth.values if v[index] is not None},
            dtype="float64",
        )
        common = observed.index.intersection(generated.index)
        if len(common) >= 12 and (
            (observed[common] - generated[common]).abs().le(0.051).mean() >= 0.9
        ):
            return True
    return False


def data_origin(clean: pd.DataFrame, seeds: Iterable[int] = GENERATOR_SEEDS) -> dict[str, str]:
    """``{"A001/2024": "generated" | "real"}`` for each station-year of ``clean``.

    The generator writes the same station ids and names as INMET's, so the values tell: a
    station-year whose first three days of temperatures are what `inmet synth` writes for that
    station and year (seeds 0 and 1, the project's) is "generated"; any other is "real". Data
    generated with another seed would pass for real.
    """
    seeds = tuple(seeds)
    years = clean["observed_at"].dt.year
    origin: dict[str, str] = {}
    for (station_id, _), rows in clean.groupby([clean["station_id"], years], sort=True):
        year = int(rows["observed_at"].dt.year.iloc[0])
        generated = _generated_by(rows.sort_values("observed_at"), year, seeds)
        origin[f"{station_id}/{year}"] = "generated" if generated else "real"
    return origin


def origin_label(origin: dict[str, str]) -> str:
    """One word for a set of station-years: "real", "generated", or "mixed"."""
    kinds = set(origin.values())
    if kinds == {"real"}:
        return "real"
    if kinds == {"generated"}:
        return "generated"
    return "mixed" if kinds else "none"


def load_or_sample(path: Path | None = None) -> tuple[pd.DataFrame, str]:
    """The CLEAN data at ``path`` (default: ``find_clean_csv()``), else a generated sample."""
    path = path or find_clean_csv()
    if path is not None and path.exists():
        return load_clean(path), str(path)
    return sample_clean(), (
        "generated sample (no data/processed/inmet_clean.csv yet: put your INMET files in "
        "data/raw/ and run make demo)"
    )


DAILY_CSV_NAME = "inmet_daily.csv"


def find_daily_csv(clean_csv: Path | None = None) -> Path | None:
    """The daily CSV (docs/contracts.md §3.3, `inmet fetch --daily`) beside the CLEAN CSV
    (default: ``find_clean_csv()``'s folder), or None when it has not been fetched."""
    clean_csv = clean_csv or find_clean_csv()
    folder = clean_csv.parent if clean_csv is not None else Path("data/processed")
    path = folder / DAILY_CSV_NAME
    return path if path.is_file() else None


def load_daily(path: Path) -> pd.DataFrame:
    """The daily CSV as a typed frame: local_date as a date (the station's local day), each
    value a float (NaN where the day was not complete enough: its n_ column says how many valid
    hours it had), each n_ column an integer."""
    from inmet_pipeline.columns import DAILY_COLUMNS

    with path.open(encoding="utf-8") as handle:
        header = handle.readline().rstrip("\r\n")
    if header != ",".join(DAILY_COLUMNS):
        raise ContractError(
            f"{path} is not an inmet_daily.csv (its first line is `{header[:40]}`); expected "
            "the header of docs/contracts.md §3.3; write it with `inmet fetch --daily`"
        )
    frame = pd.read_csv(path, dtype={"station_id": "string"})
    frame["local_date"] = pd.to_datetime(frame["local_date"], format="%Y-%m-%d")
    for column in DAILY_COLUMNS[2:]:
        number = pd.to_numeric(frame[column], errors="coerce")
        counted = column.startswith("n_") or column in ("utc_offset", "day_hours")
        frame[column] = number.astype("int64") if counted else number.astype("float64")
    return frame.sort_values(["station_id", "local_date"]).reset_index(drop=True)
