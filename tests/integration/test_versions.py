"""Which version of a station-year wins (docs/contracts.md §3 rules 1 and 7): the one the
upload service accepted last, by the upload sequence in the raw/ object's name, never by S3's
LastModified (one-second resolution) or by the sha256 part of the name. Pairs of versions sent
within one second, in both sha orders, in one batch and across batches in both load orders:
the later-accepted version always wins, in CLEAN and in STATIONS."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.synth.synth import generate_station_year, station_catalogue
from inmet_pipeline.columns import MEASURE_NAMES
from inmet_pipeline.upload_objects import UploadSequence, raw_object, upload_id_for
from tests.oracle import as_float, expected_clean

pytestmark = [pytest.mark.integration]

SECOND = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def _pair(station: int, first_sha_higher: bool) -> tuple[bytes, bytes]:
    """Two versions of one station-year (2 days), in the order they are sent: the first one's
    sha256 sorts higher than the second's when ``first_sha_higher``."""
    st = station_catalogue(station + 1)[station]
    a, b = (
        generate_station_year(st, 2024, seed=seed, partial_until=date(2024, 1, 2)).data
        for seed in (1, 2)
    )
    low, high = sorted((a, b), key=upload_id_for)
    return (high, low) if first_sha_higher else (low, high)


def test_the_version_accepted_last_wins_within_one_second(warehouse: LocalWarehouse) -> None:
    # Both uploads accepted within the same second (their sequences 1 µs apart).
    clock = iter([SECOND + timedelta(microseconds=i) for i in range(100)])
    sequence = UploadSequence(lambda: next(clock))
    cases = {
        # station: (first sha higher, which batch loads the first and the second version,
        #           the seconds the second version's LastModified is after the first's)
        0: (True, (1, 1), 0),  # one batch, the first version's sha sorts higher
        1: (False, (1, 1), 0),  # one batch, the second version's sha sorts higher
        2: (True, (2, 1), 0),  # the later version loaded first (Snowpipe's order is free)
        3: (True, (1, 2), 0),  # across batches, in order
        4: (True, (1, 1), -1),  # the later version's S3 write finished a second earlier
    }
    batches: dict[int, list[tuple[str, bytes]]] = {1: [], 2: []}
    modified: dict[str, datetime] = {}
    firsts, seconds, later_keys = [], [], {}
    for station, (first_higher, (b_first, b_second), offset) in cases.items():
        first, second = _pair(station, first_higher)
        k1, body1 = raw_object(first, sequence=sequence())
        k2, body2 = raw_object(second, sequence=sequence())
        batches[b_first].append((k1, body1))
        batches[b_second].append((k2, body2))
        modified[k1] = SECOND
        modified[k2] = SECOND + timedelta(seconds=offset)
        firsts.append(first)
        seconds.append(second)
        later_keys[station_catalogue(station + 1)[station].station_id] = k2
    for number in (1, 2):
        warehouse.load_objects(batches[number], modified)
        assert warehouse.run_task() is not None

    columns = ", ".join(MEASURE_NAMES)
    rows = warehouse.execute(
        f"SELECT station_id, observed_at, {columns} FROM {warehouse.clean}.INMET_CLEAN"
    )
    clean = {(r[0], r[1]): tuple(as_float(v) for v in r[2:]) for r in rows}
    assert clean == expected_clean([*firsts, *seconds])
    sources = dict(
        warehouse.execute(f"SELECT station_id, source_file FROM {warehouse.clean}.STATIONS")
    )
    assert sources == {s: warehouse.stage_file_name(k) for s, k in later_keys.items()}
