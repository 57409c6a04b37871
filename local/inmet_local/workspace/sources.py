"""Expand the paths a user gives (files, folders, INMET yearly .zip archives) into station files.

INMET publishes one zip per year (564 stations, ~390 MB unpacked in 2024). The zip is read
member by member, so a whole archive is never unpacked to disk or held in memory at once.

Input is bounded: a zip member larger than the upload limit is refused from the archive's
directory, before any of it is read, and read with a bound in case the directory lies (a 1 MB
zip can declare a small member that inflates to 1 GiB); an archive with more members than
``MAX_MEMBERS`` is refused.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from inmet_pipeline.limits import MAX_UPLOAD_BYTES

# INMET's yearly archives have 564-620 members; ten times that is still plausible.
MAX_MEMBERS: Final = 10_000


class SourceError(ValueError):
    """A path that cannot be read as station files; the message names it."""


@dataclass(frozen=True, slots=True)
class InputFile:
    """One station file to process: its display name and a way to read its bytes."""

    name: str  # the file's own name (what INMET called it)
    display: str  # where it came from, for messages: path, or archive.zip:member
    size: int
    read: Callable[[], bytes]


Skipped = Callable[[str, str], None]  # (where, why) of a file a folder or archive held


def skip_reason(name: str) -> str | None:
    """Why a file found in a folder or an archive is not taken as a station file, or None."""
    base = name.rsplit("/", 1)[-1]
    if "__MACOSX" in name:
        return "macOS archive metadata"
    if base.startswith("."):
        return "a hidden file"
    if not base.lower().endswith(".csv"):
        return "not a .csv: INMET station files end in .CSV"
    return None


def _is_station_file(name: str) -> bool:
    return skip_reason(name) is None


def _from_zip(
    path: Path, max_bytes: int = MAX_UPLOAD_BYTES, skipped: Skipped | None = None
) -> Iterator[InputFile]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{path}: not a readable zip archive ({exc})") from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_MEMBERS:
            raise SourceError(
                f"{path}: {len(entries):,} members; at most {MAX_MEMBERS:,} are read (an INMET "
                "yearly archive has about 600)"
            )
        members = sorted(
            (m for m in entries if not m.is_dir() and _is_station_file(m.filename)),
            key=lambda m: m.filename,
        )
        if skipped is not None:
            for m in entries:
                if not m.is_dir() and (why := skip_reason(m.filename)):
                    skipped(f"{path}:{m.filename}", why)
        for member in members:

            def read(member: zipfile.ZipInfo = member) -> bytes:
                return _read_member(path, member, max_bytes)

            yield InputFile(
                name=member.filename.rsplit("/", 1)[-1],
                display=f"{path}:{member.filename}",
                size=member.file_size,
                read=read,
            )


def _read_member(path: Path, member: zipfile.ZipInfo, max_bytes: int) -> bytes:
    """The member's bytes, refused (OSError, as for any unreadable file) past ``max_bytes``."""
    too_big = (
        f"{member.file_size:,} bytes, over the upload limit of {max_bytes:,} bytes "
        "(INMET station files are 0.3-1.1 MB)"
    )
    if member.file_size > max_bytes:
        raise OSError(too_big)
    with zipfile.ZipFile(path) as again, again.open(member) as stream:
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:  # the directory said less than the member holds
        raise OSError(f"it inflates past {max_bytes:,} bytes, the upload limit")
    return data


def _from_file(path: Path) -> InputFile:
    return InputFile(
        name=path.name, display=str(path), size=path.stat().st_size, read=path.read_bytes
    )


def iter_input_files(paths: list[Path], skipped: Skipped | None = None) -> Iterator[InputFile]:
    """Files as given; folders recursively (*.csv, any case); .zip archives member by member.

    A file given explicitly is always included, whatever its extension, so that a wrongly named
    file gets a validation error instead of being skipped silently; what a folder or an archive
    holds besides station files is told to ``skipped`` (where, why), for the caller to list.
    """
    for path in paths:
        if not path.exists():
            raise SourceError(f"{path}: no such file or folder")
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.suffix.lower() == ".zip":
                    yield from _from_zip(child, skipped=skipped)
                elif _is_station_file(str(child.relative_to(path))):
                    yield _from_file(child)
                elif skipped is not None:
                    skipped(str(child), skip_reason(str(child.relative_to(path))) or "")
        elif path.suffix.lower() == ".zip":
            yield from _from_zip(path, skipped=skipped)
        else:
            yield _from_file(path)
