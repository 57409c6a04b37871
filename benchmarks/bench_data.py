"""The generated year that the benchmarks share, cached in data/bench/ (git-ignored):
``<year>-<N>/`` holds the station files as INMET ships them (what uploads read), and
``<year>-<N>-raw/`` beside it holds what raw/ would hold for each (UTF-8, what DuckDB reads).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inmet_local.synth.synth import generate_archive
from inmet_pipeline.uploads import raw_object

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "data" / "bench"


@dataclass(frozen=True, slots=True)
class BenchYear:
    folder: Path  # the station files
    paths: list[Path]
    raw_dir: Path  # <station_id>.csv: each file's raw/ body
    raw_objects: list[tuple[str, bytes]]  # (raw/ key, body), as the upload writes them

    @property
    def size(self) -> int:
        return sum(p.stat().st_size for p in self.paths)


def bench_year(stations: int = 564, year: int = 2024) -> BenchYear:
    folder = BENCH_DIR / f"{year}-{stations}"
    paths = sorted(folder.glob("*.CSV"))
    if len(paths) != stations:
        print(f"generating {stations} station files in {folder} (cached for next runs) …")
        paths = sorted(generate_archive(folder, stations=stations, year=year, seed=1))
    raw_dir = folder.parent / f"{folder.name}-raw"  # beside, not inside: uploads read folder
    raw_dir.mkdir(exist_ok=True)
    objects = [raw_object(path.read_bytes()) for path in paths]
    for key, body in objects:
        station_id = key.split("station=", 1)[1].split("/", 1)[0]
        (raw_dir / f"{station_id}.csv").write_bytes(body)
    return BenchYear(folder, paths, raw_dir, objects)
