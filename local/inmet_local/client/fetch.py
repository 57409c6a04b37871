"""`inmet fetch`: the contract CSV (docs/contracts.md §3) into one local file, at constant memory;
`inmet fetch --daily`: the daily CSV (§3.3) the same way (the ``DAILY`` dataset).

- from S3 (default): the exported partitions under processed/inmet_clean/, joined in
  (station_id, year) order; each partition is already sorted by observed_at, so the result is
  sorted by station_id, observed_at. Read a few objects ahead (``PREFETCH`` requests in
  flight, so that moto serves the next partition while this process writes the last one;
  issue 17), written in order; memory holds at most ``PREFETCH`` partitions in flight and the
  one being written.
- from Snowflake: the export view, in batches of rows.

The output is written to a temporary file beside the target and renamed at the end, so an
interrupted fetch never leaves a half-written inmet_clean.csv; and a guard (:func:`never_shrink`)
refuses, before anything is written, to replace a CSV by one that lacks any of its station-years.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inmet_pipeline.columns import CLEAN_COLUMNS, DAILY_COLUMNS, VALUE_COLUMNS
from inmet_pipeline.exports import PROCESSED_PREFIX, csv_lines
from inmet_pipeline.partitions import (
    DAILY_PREFIX,
    DAILY_TABLE,
    daily_partition_select,
    partition_select,
)

_PARTITION = re.compile(r"station=([A-Z0-9]+)/year=(\d{4})/")
HEADER = (",".join(CLEAN_COLUMNS) + "\n").encode()


@dataclass(frozen=True, slots=True)
class Dataset:
    """What a fetch writes: the hourly CSV (docs/contracts.md §3.1) or the daily one (§3.3)."""

    name: str
    prefix: str  # its partitions in the bucket
    columns: tuple[str, ...]
    time_column: int  # the column whose first four characters are the row's year
    select: Callable[[str, str, int], tuple[str, list[Any]]]  # (source, station, year)

    @property
    def header(self) -> bytes:
        return (",".join(self.columns) + "\n").encode()

    @property
    def time_name(self) -> str:
        return self.columns[self.time_column]


def _hourly_select(view: str, station_id: str, year: int) -> tuple[str, list[Any]]:
    return partition_select(view, station_id, year)


def _daily_select(table: str, station_id: str, year: int) -> tuple[str, list[Any]]:
    return daily_partition_select(table, station_id, year)


HOURLY = Dataset("hourly", PROCESSED_PREFIX, CLEAN_COLUMNS, 7, _hourly_select)
DAILY = Dataset("daily", DAILY_PREFIX, DAILY_COLUMNS, 1, _daily_select)


def warehouse_source(dataset: Dataset, view: str, clean_schema: str) -> str:
    """The relation a warehouse fetch reads: the export view, or CLEAN.DAILY."""
    return view if dataset is HOURLY else f"{clean_schema}.{DAILY_TABLE}"


# The header of a partition exported before the CSV carried the quality-control flags.
HEADER_WITHOUT_FLAGS = ",".join(VALUE_COLUMNS).encode()
# Objects requested ahead of the one being written (one station-year each, ~1.3 MB).
PREFETCH = 4


class FetchError(RuntimeError):
    pass


class WouldShrink(FetchError):  # noqa: N818 - a refusal, said to the user as it is
    """The fetch would replace a CSV with one that lacks station-years the old one had."""


StationYear = tuple[str, int]
Guard = Callable[[set[StationYear]], None]


def station_years(path: Path, dataset: Dataset = HOURLY) -> set[StationYear]:
    """The (station_id, year) pairs of a contract CSV, read at constant memory.

    station_id is the first column and the time column (observed_at the eighth, local_date the
    second; docs/contracts.md §3.1, §3.3) gives the year; no field before it can hold a comma
    (station names that CSV would quote are refused at upload), so a split on the commas before
    it finds it. A file that is not a contract CSV gives the pairs it can read; an unreadable
    one, none."""
    found: set[StationYear] = set()
    last = b""
    at = dataset.time_column
    with path.open("rb") as handle:
        if not handle.readline().startswith(b"station_id,"):
            return found
        for line in handle:
            head = line[:200]
            if head == last:
                continue
            fields = head.split(b",", at + 1)
            if len(fields) > at and fields[at][:4].isdigit():
                found.add((fields[0].decode("ascii", "replace"), int(fields[at][:4])))
    return found


def never_shrink(
    out: Path,
    force: bool,
    expendable: frozenset[StationYear] = frozenset(),
    dataset: Dataset = HOURLY,
) -> Guard:
    """A guard that refuses to replace ``out`` by a CSV missing any station-year ``out`` has,
    unless ``force``: a fetch must never hand over less than the file it replaces without being
    asked (for example after a stack reset, or from a stack that holds fewer uploads).
    ``expendable``: station-years known not to be the user's (an older demo's generated sample),
    which may go without asking."""

    def check(new: set[StationYear]) -> None:
        if force or not out.exists():
            return
        lost = sorted(station_years(out, dataset) - new - expendable)
        if lost:
            shown = ", ".join(f"{s} {y}" for s, y in lost[:5]) + (" …" if len(lost) > 5 else "")
            raise WouldShrink(
                f"{out} has {len(lost)} station-year(s) that this fetch does not ({shown}); "
                "it was kept. Write elsewhere with --out, or replace it with --force"
            )

    return check


@dataclass(slots=True)
class FetchResult:
    path: Path
    rows: int
    partitions: int
    bytes: int


@contextlib.contextmanager
def _atomic_output(out: Path) -> Iterator[Any]:
    """A binary file that becomes ``out`` only if the block completes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb", buffering=1024 * 1024) as handle:
            yield handle
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)  # mkstemp makes it private; the result is an ordinary file
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def partition_keys(s3: Any, bucket: str, prefix: str = PROCESSED_PREFIX) -> list[str]:
    keys: list[tuple[str, int, str]] = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            match = _PARTITION.search(item["Key"])
            if match and item["Key"].endswith(".csv"):
                keys.append((match.group(1), int(match.group(2)), item["Key"]))
    return [k for _, _, k in sorted(keys)]


def _objects(s3: Any, bucket: str, keys: list[str]) -> Iterator[tuple[str, bytes]]:
    """(key, body) of each key, in order, with up to PREFETCH requests in flight."""

    def get(key: str) -> bytes:
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    with ThreadPoolExecutor(max_workers=PREFETCH, thread_name_prefix="fetch") as pool:
        pending: deque[tuple[str, Future[bytes]]] = deque()
        ahead = iter(keys)
        for key in ahead:
            pending.append((key, pool.submit(get, key)))
            if len(pending) == PREFETCH:
                break
        while pending:
            key, future = pending.popleft()
            following = next(ahead, None)
            if following is not None:
                pending.append((following, pool.submit(get, following)))
            yield key, future.result()


def fetch_from_s3(
    s3: Any,
    bucket: str,
    out: Path,
    progress: Callable[[int, int], None] | None = None,
    guard: Guard | None = None,
    dataset: Dataset = HOURLY,
) -> FetchResult:
    keys = partition_keys(s3, bucket, dataset.prefix)
    if not keys:
        raise FetchError(
            f"no exported partitions under s3://{bucket}/{dataset.prefix} yet: "
            "upload files and wait until their status is 'exported'"
        )
    header_line = dataset.header
    if guard is not None:
        found = (_PARTITION.search(k) for k in keys)
        guard({(m.group(1), int(m.group(2))) for m in found if m})
    rows = 0
    size = 0
    with _atomic_output(out) as handle:
        handle.write(header_line)
        size += len(header_line)
        for index, (key, data) in enumerate(_objects(s3, bucket, keys), start=1):
            if data:  # (an empty object adds nothing, as before)
                header, _, chunk = data.partition(b"\n")  # each partition starts with a header
                if header.rstrip(b"\r") == HEADER_WITHOUT_FLAGS:
                    raise FetchError(
                        f"{key} was exported before the CSV carried the quality-control flags "
                        "(docs/contracts.md §3.1), so the files cannot be joined; upload its "
                        "station-year again to export it anew, or use --from snowflake"
                    )
                if header.rstrip(b"\r") != header_line.rstrip(b"\n"):
                    raise FetchError(f"{key}: unexpected header {header[:120]!r}")
                handle.write(chunk)
                rows += chunk.count(b"\n")
                size += len(chunk)
            if progress:
                progress(index, len(keys))
    return FetchResult(out, rows, len(keys), size)


def fetch_from_warehouse(
    conn: Any,
    view: str,
    out: Path,
    batch_rows: int = 20_000,
    progress: Callable[[int, int], None] | None = None,
    guard: Guard | None = None,
    dataset: Dataset = HOURLY,
) -> FetchResult:
    """The export view (or, for the daily dataset, CLEAN.DAILY: ``view`` names the relation),
    partition by partition ((station, year) order), in row batches.

    Memory is bounded by one partition (~9,000 rows) whatever the table's size: a server that
    returns a whole result at once (fakesnow does) never gets asked for more than that.
    """
    listing = conn.cursor()
    listing.execute(
        f"SELECT station_id, YEAR({dataset.time_name}) AS year, COUNT(*) "  # noqa: S608
        f"FROM {view} GROUP BY 1, 2 ORDER BY 1, 2"
    )
    partitions = [(str(s), int(y), int(n)) for s, y, n in listing.fetchall()]
    listing.close()
    if guard is not None:
        guard({(s, y) for s, y, _ in partitions})
    total = sum(n for _, _, n in partitions)
    rows = 0
    size = 0
    with _atomic_output(out) as handle:
        handle.write(dataset.header)
        size += len(dataset.header)
        for station_id, year, _ in partitions:
            sql, params = dataset.select(view, station_id, year)
            cursor = conn.cursor()
            try:
                cursor.execute(sql, params)

                def batches(cursor: Any = cursor) -> Any:
                    nonlocal rows
                    while batch := cursor.fetchmany(batch_rows):
                        rows += len(batch)
                        yield from batch

                for text in csv_lines(batches(), header=False, columns=dataset.columns):
                    data = text.encode("utf-8")
                    handle.write(data)
                    size += len(data)
            finally:
                cursor.close()
            if progress:
                progress(rows, total)
    return FetchResult(out, rows, len(partitions), size)
