"""Arbitrary RAW lines for the task's transform, and the check that it is total: shared by
tests/integration/test_total_transform.py (a bounded budget in `make test`) and
benchmarks/fuzz_total_transform.py (a long run).

Unlike tests/fuzz.py, which mutates files the upload's validator accepts, these are rows of
RAW.INMET_RAW as any pipe load could leave them: every column any text (hostile bytes, control
characters, Unicode digits, huge numbers, bad dates, a megabyte-long field), metadata lines
missing or repeated, data lines anywhere. The check (:func:`check_batch`): the task never
raises, and every line of every file ends in CLEAN, in RAW.QUARANTINE (with its file), or
counted as dropped in CLEAN.FILE_LOADS (data_rows - rows_clean).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from inmet_pipeline.notifications import LoadNotification
from tests.fuzz import EXTREME_NUMBERS, TRICKY

if TYPE_CHECKING:
    from inmet_local.emulator.warehouse import LocalWarehouse

RAW_COLUMNS = [f"c{i:02d}" for i in range(1, 21)]
# A plausible station: lines 1-8, column 2 (REGIAO, UF, ESTACAO, CODIGO, LATITUDE, LONGITUDE,
# ALTITUDE, DATA DE FUNDACAO).
METADATA = ["S", "PR", "CURITIBA", "A807", "-25,43", "-49,26", "923,5", "2003-01-01"]
SNOWFLAKE_SNS_LIMIT = 256 * 1024

any_text = st.text(alphabet=st.sampled_from(TRICKY), max_size=24)
value = st.one_of(
    st.sampled_from(EXTREME_NUMBERS),
    any_text,
    st.none(),
    st.sampled_from(["9" * 40, "-" + "9" * 400, "1e308", "-1e-308", "0x1F", "1,2,3", "１,５"]),
    st.just("x" * 70_000),  # far beyond any column and any reason
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)
date_text = st.one_of(
    st.dates(min_value=datetime(1, 1, 1).date(), max_value=datetime(9999, 12, 31).date()).map(
        lambda d: d.strftime(st_choice_format(d))
    ),
    # Fields out of range (a day past the month's end, month 13, hour 24) as well as shapes.
    st.sampled_from(
        [
            "2024-02-30",
            "2023-02-29",
            "2024/04/31",
            "2024/13/01",
            "2024-00-10",
            "0000-00-00",
            "2024-1-1",
            "24-01-01",
            "",
            "2024-12-32",
            "99999-01-01",
        ]
    ),
    any_text,
)
hour_text = st.one_of(
    st.sampled_from(["0000 UTC", "1200 UTC", "23:00", "00:00", "2400 UTC", "99:00", "", "0"]),
    any_text,
)


def st_choice_format(d: Any) -> str:
    """INMET's two layouts: 2019-01-01 (A) and 2019/01/01 (B)."""
    return "%Y-%m-%d" if d.toordinal() % 2 else "%Y/%m/%d"


@st.composite
def raw_file(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One file's RAW rows (without file_name): metadata lines 1-8 (each kept, changed or
    missing), the header, and data lines."""
    rows: list[dict[str, Any]] = []
    # Half the files keep a valid station (so that their data lines reach the transform; a
    # file whose metadata breaks a rule is set aside whole), half have lines changed or missing.
    intact = draw(st.booleans())
    for number, good in enumerate(METADATA, start=1):
        choice = "keep" if intact else draw(st.sampled_from(["keep", "change", "drop"]))
        if choice == "drop":
            continue
        rows.append(
            {
                "file_row_number": number,
                "c01": draw(any_text),
                "c02": good if choice == "keep" else draw(value),
            }
        )
    rows.append({"file_row_number": 9, "c01": "Data", "c02": "Hora UTC"})
    lines = draw(st.integers(min_value=0, max_value=12))
    for offset in range(lines):
        row: dict[str, Any] = {
            "file_row_number": 10 + offset,
            "c01": draw(st.one_of(st.just("2024-01-01"), date_text, date_text)),
            "c02": draw(st.one_of(st.just(f"{offset % 24:02d}00 UTC"), hour_text)),
        }
        for column in RAW_COLUMNS[2:19]:
            row[column] = draw(st.one_of(st.just("12,5"), value))
        rows.append(row)
    return rows


raw_batch = st.lists(raw_file(), min_size=1, max_size=4)


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    files: int
    lines: int
    clean: int
    dropped: int
    quarantined: int
    messages: int
    largest_message: int


_counter = itertools.count()


def load_raw(wh: LocalWarehouse, batch: list[list[dict[str, Any]]]) -> list[str]:
    """The files' rows straight into RAW.INMET_RAW, as the pipe would leave them, and into the
    stream; their file names (unique, relative to the stage like METADATA$FILENAME)."""
    names = []
    base = datetime(2030, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    for rows in batch:
        serial = next(_counter)
        name = f"inmet/station=FUZZ/year=2024/{serial:064x}.csv"
        names.append(name)
        modified = base + timedelta(seconds=serial)
        columns = ["file_name", "file_row_number", *RAW_COLUMNS, "file_last_modified", "loaded_at"]
        marks = "(" + ", ".join("?" for _ in columns) + ")"
        params: list[Any] = []
        for row in rows:
            params += [name, row["file_row_number"], *(row.get(c) for c in RAW_COLUMNS)]
            params += [modified, modified]
        wh.execute(
            f"INSERT INTO {wh.raw}.INMET_RAW ({', '.join(columns)}) VALUES "
            + ", ".join(marks for _ in rows),
            params,
        )
        wh.execute(f"INSERT INTO {wh.raw}._LOCAL_STREAM_PENDING (file_name) VALUES (?)", [name])
    return names


def check_batch(wh: LocalWarehouse, batch: list[list[dict[str, Any]]]) -> BatchOutcome:
    """Load ``batch`` into RAW, run the task, and assert that nothing was lost or failed."""
    names = load_raw(wh, batch)
    batches = int(wh.scalar(f"SELECT COUNT(*) FROM {wh.raw}.BATCHES"))
    run = wh.run_task()  # must not raise: the transform is total
    assert run is not None
    # In one attempt: no statement failed on the way (no batch split to find a file to blame).
    assert wh.scalar(f"SELECT COUNT(*) FROM {wh.raw}.BATCHES") == batches + 1
    loads = {
        r[0]: (int(r[1]), int(r[2]))
        for r in wh.execute(
            f"SELECT file_name, data_rows, rows_clean FROM {wh.clean}.FILE_LOADS "
            "WHERE batch_id = ?",
            [run.batch_id],
        )
    }
    reasons = dict(
        wh.execute(
            f"SELECT file_name, reason FROM {wh.raw}.QUARANTINE WHERE batch_id = ?",
            [run.batch_id],
        )
    )
    # Set aside by a rule (file_violations.sql), never by a warehouse error.
    assert all(str(r).startswith("line ") for r in reasons.values()), reasons
    quarantined = set(reasons)
    lines = clean = dropped = 0
    for name, rows in zip(names, batch, strict=True):
        assert (name in loads) != (name in quarantined), f"{name}: loaded and set aside, or neither"
        data_lines = sum(1 for r in rows if r["file_row_number"] >= 10)
        lines += data_lines
        if name in quarantined:
            continue
        data_rows, rows_clean = loads[name]
        in_clean = wh.scalar(
            f"SELECT COUNT(*) FROM {wh.clean}.OBSERVATIONS WHERE source_file = ? AND batch_id = ?",
            [name, run.batch_id],
        )
        assert data_rows == data_lines, f"{name}: {data_rows} data rows counted of {data_lines}"
        assert rows_clean == in_clean, f"{name}: rows_clean {rows_clean}, in CLEAN {in_clean}"
        clean += rows_clean
        dropped += data_rows - rows_clean
    messages = [m for _, _, m in wh.pending_notifications()]
    for message in messages:
        LoadNotification.parse(message)
    sizes = [len(m.encode()) for m in messages]
    assert all(size < SNOWFLAKE_SNS_LIMIT for size in sizes), max(sizes)
    # Consume the messages, so that the next batch's are its own.
    wh.send_notifications(lambda _m: None)
    wh.execute(
        f"INSERT INTO {wh.clean}.EXPORT_ACKS (batch_id, part, uploads, acked_at) "
        f"SELECT batch_id, part, 0, SYSDATE() FROM {wh.raw}.NOTIFICATIONS WHERE batch_id = ?",
        [run.batch_id],
    )
    return BatchOutcome(
        files=len(batch),
        lines=lines,
        clean=clean,
        dropped=dropped,
        quarantined=len(quarantined),
        messages=len(messages),
        largest_message=max(sizes, default=0),
    )


def summary(outcomes: list[BatchOutcome]) -> str:
    totals = {
        key: sum(getattr(o, key) for o in outcomes)
        for key in ("files", "lines", "clean", "dropped", "quarantined", "messages")
    }
    totals["largest_message"] = max((o.largest_message for o in outcomes), default=0)
    return json.dumps({"batches": len(outcomes), **totals})
