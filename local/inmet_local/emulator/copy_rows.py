"""The rows the pipe's COPY makes of INMET files, built in bulk with Arrow (the pipe's plumbing).

The pipe (``inmet_local.emulator.pipe``) loads them into RAW with one COPY INTO per chunk of files,
from the Parquet file this table is written to. The rules are the pipe's COPY and file format
(snowflake_sql/V1.1.1__file_format.sql, V1.4.0__pipe_and_stream.sql): one row per line, fields
split on ';' with no quoting, empty fields NULL, METADATA$FILENAME relative to the stage,
METADATA$FILE_ROW_NUMBER from 1.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

RAW_FIELDS = 20  # INMET's 19 columns and the empty field after the trailing ';'


def pad_lines(data: bytes) -> bytes:
    """Each line with exactly RAW_FIELDS fields: short lines padded with empty fields (NULL, as
    Snowflake reads a short line with ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE), extra fields
    dropped (the pipe's COPY selects $1..$20)."""
    out = []
    for line in data.split(b"\n"):
        separators = line.count(b";")
        if separators >= RAW_FIELDS:
            line = b";".join(line.split(b";")[:RAW_FIELDS])
            separators = RAW_FIELDS - 1
        out.append(line + b";" * (RAW_FIELDS - 1 - separators))
    return b"\n".join(out)


def copy_rows_table(files: list[tuple[str, bytes, datetime]], loaded_at: datetime) -> Any:
    """The rows the pipe's COPY makes of ``files`` [(METADATA$FILENAME, bytes,
    METADATA$FILE_LAST_MODIFIED)], as an Arrow table with RAW's columns; ``loaded_at`` is
    METADATA$START_SCAN_TIME. Built in bulk by Arrow's CSV reader; only the short metadata
    lines (and any malformed line) are padded in Python."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    chunks: list[bytes] = []
    names: list[str] = []
    counts: list[int] = []
    modified: list[datetime] = []
    full = RAW_FIELDS - 1
    for name, raw, last_modified in files:
        data = raw.replace(b"\r\n", b"\n") if b"\r" in raw else raw
        if data.endswith(b"\n"):
            data = data[:-1]  # the final line end does not start a record
        if not data:
            continue
        parts = data.split(b"\n", 9)
        body = parts[9] if len(parts) == 10 else b""
        if body and body.count(b";") == full * (body.count(b"\n") + 1):
            chunk = pad_lines(b"\n".join(parts[:9])) + b"\n" + body
        else:
            chunk = pad_lines(data)
        chunks.append(chunk)
        names.append(name)
        modified.append(last_modified)
        counts.append(data.count(b"\n") + 1)
    if not chunks:
        return None
    blob = b"\n".join(chunks) + b"\n"
    columns = [f"c{i:02d}" for i in range(1, RAW_FIELDS + 1)]
    table = pacsv.read_csv(
        pa.py_buffer(blob),
        read_options=pacsv.ReadOptions(column_names=columns, block_size=64 << 20),
        parse_options=pacsv.ParseOptions(
            delimiter=";",
            quote_char=False,
            escape_char=False,
            double_quote=False,
            newlines_in_values=False,
            ignore_empty_lines=False,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()),
            strings_can_be_null=True,
            null_values=["", "\\N"],
            quoted_strings_can_be_null=True,
        ),
    )
    import numpy as np

    sizes = np.asarray(counts, dtype=np.int64)
    file_index = pa.array(np.repeat(np.arange(len(sizes), dtype=np.int32), sizes))
    file_name = pa.DictionaryArray.from_arrays(file_index, pa.array(names, pa.string()))
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    row_number = pa.array(np.arange(int(sizes.sum()), dtype=np.int64) - starts + 1)
    table = table.add_column(0, "file_name", file_name.cast(pa.string()))
    table = table.add_column(1, "file_row_number", row_number)
    last_modified = pa.array(modified, pa.timestamp("us")).take(file_index)
    table = table.append_column("file_last_modified", last_modified)
    return table.append_column(
        "loaded_at",
        pa.repeat(
            pa.scalar(loaded_at.replace(tzinfo=UTC), pa.timestamp("us", "UTC")), table.num_rows
        ),
    )
