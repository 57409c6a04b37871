"""Small builders shared by the tests: valid INMET files to start from, and line surgery."""

from __future__ import annotations

import io
import zipfile
from datetime import date

from inmet_local.synth.synth import SynthFile, generate_station_year, station_catalogue


def small_file(
    layout: str = "B",
    *,
    encoding: str = "latin-1",
    days: int = 2,
    station: int = 0,
    year: int | None = None,
    seed: int = 1,
) -> SynthFile:
    """A valid station file of ``days`` days (24 rows a day), values kept for checks."""
    year = year or (2015 if layout == "A" else 2024)
    st = station_catalogue(station + 1)[station]
    return generate_station_year(
        st,
        year,
        seed=seed,
        layout=layout,  # type: ignore[arg-type]
        encoding=encoding,
        partial_until=date(year, 1, days),
        keep_values=True,
    )


def lines_of(data: bytes) -> list[bytes]:
    return data.split(b"\n")[:-1]  # the file ends with one LF


def join(lines: list[bytes]) -> bytes:
    return b"\n".join(lines) + b"\n"


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def render_module_call(call: str, imports: str = "") -> str:
    """``call`` (Jinja using snowflake_sql/modules/, after ``imports``) rendered as schemachange
    renders a script: what the SQL-module tests run on DuckDB and parse with sqlfluff."""
    import tempfile
    from pathlib import Path

    from inmet_local.snowflake.sqlproject import render

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "call.sql").write_text(imports + call, encoding="utf-8")
        return render("call.sql", {}, root=Path(tmp)).strip()
