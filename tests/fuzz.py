"""Hypothesis strategies for station files mutated from real and generated ones (issue 15,
point 2), and the pipeline check they feed: shared by tests/integration/test_valid_file_fuzz.py
(a bounded budget in `make test`) and benchmarks/fuzz_valid_file.py (a long run).

A mutation changes one thing a person or a tool could do to a file: a metadata value rewritten
with Unicode digits or spaces or control characters, a character inserted anywhere, a field
added or removed, an extreme number, a date or a year changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from hypothesis import strategies as st

from inmet_local.synth.synth import generate_station_year, station_catalogue

TRICKY = [
    *"0123456789",
    ",", ".", "-", "+", " ", ";", "/", ":", "e", "E", "A", "a", "Z",
    "\t", "\x00", "\x0b", "\x1f", "\x7f", "\x85", "\u00a0", "\u2009", "\u3000", "\u200b",
    "\ufeff", "\u0661", "\u06f5", "\u0966", "\uff10", "\uff21", "\u0131", "\u00c3", "\u00e7",
    "\U0001d7d8",
]  # fmt: skip
EXTREME_NUMBERS = [
    "-9999", "9999999999", "-0", "0,00000001", ",5", "-,5", "1e5", "NaN", "inf", "٣", "１２",
    "1.5", "5000,0", "-40,0", "360", "1100,1", "00000000000001", "",
]  # fmt: skip


def _small_bases() -> list[bytes]:
    bases = []
    # Brasilia, Macapa (a latitude with no leading zero: ",03499999") and Curitiba.
    catalogue = [station_catalogue(4)[i] for i in (0, 3, 2)]
    for i, (layout, year, encoding) in enumerate(
        [("B", 2024, "latin-1"), ("A", 2015, "utf-8"), ("B", 2019, "utf-8")]
    ):
        from datetime import date

        bases.append(
            generate_station_year(
                catalogue[i],
                year,
                seed=i,
                layout=layout,  # type: ignore[arg-type]
                encoding=encoding,
                partial_until=date(year, 1, 2),
            ).data
        )
    return bases


def real_bases(real_dir: Path | None, rows: int = 48) -> list[bytes]:
    """The real files' metadata, header and first ``rows`` data lines (kept small: each
    example loads its files into the warehouse)."""
    if real_dir is None or not real_dir.is_dir():
        return []
    out = []
    for path in sorted(real_dir.glob("*.CSV")):
        lines = path.read_bytes().split(b"\n")
        out.append(b"\n".join(lines[: 9 + rows]) + b"\n")
    return out


def _text(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


@st.composite
def mutated_file(draw: st.DrawFn, bases: Sequence[bytes]) -> bytes:
    """One file: a base with 0-3 mutations, encoded back as UTF-8 or (when it fits) Latin-1."""
    base = draw(st.sampled_from(list(bases)))
    text, encoding = _text(base)
    lines = text.split("\n")
    n_data = len(lines) - 10  # the last element is '' after the final LF
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(
            st.sampled_from(
                ["meta_value", "insert_char", "field_count", "number", "year", "date", "hour"]
            )
        )
        if kind == "meta_value":
            n = draw(st.integers(0, 7))
            key = lines[n].split(";", 1)[0]
            value = draw(
                st.one_of(
                    st.text(st.sampled_from(TRICKY), max_size=14),
                    st.sampled_from(["-15,78944444", "a001", " DF ", "co", "9999", "-3,1"]),
                )
            )
            lines[n] = f"{key};{value}"
        elif kind == "insert_char":
            n = draw(st.integers(0, len(lines) - 2))
            at = draw(st.integers(0, len(lines[n])))
            lines[n] = lines[n][:at] + draw(st.sampled_from(TRICKY)) + lines[n][at:]
        elif kind == "field_count" and n_data > 0:
            n = 9 + draw(st.integers(0, n_data - 1))
            lines[n] = lines[n] + ";" if draw(st.booleans()) else lines[n].rsplit(";", 2)[0]
        elif kind == "number" and n_data > 0:
            n = 9 + draw(st.integers(0, n_data - 1))
            fields = lines[n].split(";")
            fields[draw(st.integers(2, 18))] = draw(st.sampled_from(EXTREME_NUMBERS))
            lines[n] = ";".join(fields)
        elif kind == "year":
            year = f"{draw(st.integers(0, 9999)):04d}"
            for n in range(9, len(lines)):
                if lines[n]:
                    lines[n] = year + lines[n][4:]
        elif kind == "date" and n_data > 0:
            n = 9 + draw(st.integers(0, n_data - 1))
            fields = lines[n].split(";")
            fields[0] = draw(st.text(st.sampled_from([*TRICKY, "/", "-"]), max_size=11))
            lines[n] = ";".join(fields)
        elif kind == "hour" and n_data > 0:
            n = 9 + draw(st.integers(0, n_data - 1))
            fields = lines[n].split(";")
            fields[1] = draw(st.sampled_from(["2400 UTC", "24:00", "0000 utc", "00:00", " 0000"]))
            lines[n] = ";".join(fields)
    out = "\n".join(lines)
    if encoding == "latin-1" and draw(st.booleans()):
        try:
            return out.encode("latin-1")
        except UnicodeEncodeError:
            pass
    return out.encode("utf-8")


def file_batches(bases: Sequence[bytes], max_files: int = 6) -> st.SearchStrategy[list[bytes]]:
    """A batch of files uploaded together (one pipe load, one task run, one export)."""
    return st.lists(mutated_file(bases), min_size=1, max_size=max_files)


def all_bases(real_dir: Path | None) -> list[bytes]:
    return _small_bases() + real_bases(real_dir)


@dataclass
class BatchOutcome:
    accepted: int = 0
    refused: int = 0
    statuses: dict[int, int] = field(default_factory=dict)  # HTTP status -> count


def check_batch(
    files: Sequence[bytes],
    post: Callable[[bytes], int],
    load_and_export: Callable[[list[tuple[str, bytes]]], None],
    outcome: BatchOutcome,
) -> None:
    """The differential property: every file the validator refuses gets a 4xx over HTTP; the
    accepted ones go through the pipe, the task and the export (``load_and_export`` raises if
    any stage fails)."""
    from inmet_pipeline.errors import UploadRejected
    from inmet_pipeline.uploads import raw_object

    accepted: dict[str, bytes] = {}
    for data in files:
        try:
            key, body = raw_object(data)
        except UploadRejected:
            status = post(data)
            outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
            assert 400 <= status < 500, (status, data[:600])
            outcome.refused += 1
            continue
        accepted[key] = body
    outcome.accepted += len(accepted)
    if accepted:
        load_and_export(sorted(accepted.items()))


def noop(*_: Any) -> None:
    return None


class FuzzPipeline:
    """The local pipeline pieces a batch goes through: the upload API over HTTP (for refused
    files), the pipe's load, the task and the export (for accepted ones), on a deployed
    warehouse of its own."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        fakesnow_env: dict[str, str],
        moto_url: str,
        bucket: str,
    ) -> None:
        import uuid

        import boto3
        import httpx

        from inmet_local.emulator.local_adapter import PASSWORD_ENV, LocalExporter
        from inmet_local.emulator.servers import fakesnow_connect_kwargs, fakesnow_settings
        from inmet_local.emulator.warehouse import LocalWarehouse
        from inmet_local.snowflake.sqlproject import variables

        self.http = httpx.Client(base_url=api_url, headers={"x-api-key": api_key}, timeout=60)
        self.values = variables({"database": f"F{uuid.uuid4().hex[:10].upper()}"})
        fakesnow_url = fakesnow_env["INMET_SNOWFLAKE_LOCAL_URL"]
        self.warehouse = LocalWarehouse(
            fakesnow_connect_kwargs(fakesnow_url, password=fakesnow_env[PASSWORD_ENV]),
            values=self.values,
        )
        self.warehouse.deploy()
        self.s3 = boto3.client(
            "s3",
            endpoint_url=moto_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        self.bucket = bucket
        settings = fakesnow_settings(fakesnow_env, self.values["database"])
        self.exporter = LocalExporter(settings, self.s3, bucket)

    def close(self) -> None:
        self.http.close()
        self.warehouse.close()

    def post(self, data: bytes) -> int:
        response = self.http.post(
            "/uploads", content=data, headers={"Content-Type": "text/csv", "X-Filename": "f.CSV"}
        )
        return response.status_code

    def load_and_export(self, objects: list[tuple[str, bytes]]) -> None:
        from inmet_pipeline.exports import ExportService
        from inmet_pipeline.notifications import LoadNotification

        wh = self.warehouse
        loaded, _ = wh.load_objects(objects)
        assert sorted(loaded) == sorted(k for k, _ in objects)
        run = wh.run_task()  # raises when the task fails
        assert run is not None
        names = [wh.stage_file_name(k) for k, _ in objects]
        marks = ", ".join("?" for _ in names)
        done = wh.execute(
            f"SELECT file_name FROM {wh.clean}.FILE_LOADS WHERE file_name IN ({marks})", names
        )
        assert sorted(r[0] for r in done) == sorted(names)
        # The SQL rules agree with the validator: nothing it accepted was set aside.
        quarantined = wh.execute(f"SELECT file_name, reason FROM {wh.raw}.QUARANTINE")
        assert quarantined == [], quarantined
        from inmet_pipeline.ports import StatusStore

        # The export reads and updates records only; the fuzz has none.
        service = ExportService(self.exporter, cast(StatusStore, _NoStatuses()))
        for message in wh.send_notifications(lambda m: None):
            notification = LoadNotification.parse(message)  # the parser accepts it
            result = service.export_batch(notification)
            for key in result.export_keys:
                self.s3.head_object(Bucket=self.bucket, Key=key)


class _NoStatuses:
    """The export's status store when no upload records exist (the fuzz loads directly)."""

    def get(self, upload_id: str) -> dict[str, Any] | None:
        return None

    def update(self, *args: Any, **kwargs: Any) -> None:
        return None
