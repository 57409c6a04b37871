"""The station files of tests/upload_sequences.py: the versions a station's files may state, and
the surgery that makes new versions of a generated file (other days, emptied hours, values on
the edges of the rules as written, other values for the same hours)."""

from __future__ import annotations

import random
from dataclasses import replace

from inmet_local.synth.synth import SynthStation


def variants(code: SynthStation, others: list[SynthStation]) -> list[SynthStation]:
    """The station behind ``code`` as its files may state it: as catalogued, renamed and moved
    (a relocation), with an accented name, and another station's attributes under the same
    code (a code reused)."""
    moved = replace(
        code,
        name=f"{code.name} - NOVO SITIO",
        latitude=round(code.latitude + 0.0361, 8),
        longitude=round(code.longitude - 0.0207, 8),
        altitude_m=round(code.altitude_m + 12.35, 2),
    )
    accented = replace(code, name=f"{code.name} - ESTAÇÃO")
    reused = replace(random.Random(code.station_id).choice(others), station_id=code.station_id)
    return [code, code, moved, accented, reused]


def lines_with(data: bytes, rng: random.Random, first_day: int) -> bytes:
    """``data`` from ``first_day`` on, with some hours emptied and some values on their range's
    edge as written (docs/contracts.md §3 rules 4-6)."""
    encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        encoding = "latin-1"
        text = data.decode(encoding)
    lines = text.split("\n")[:-1]
    head, rows = lines[:9], lines[9 + 24 * (first_day - 1) :]
    if rng.random() < 0.35:  # a run of hours with every measure missing
        start = rng.randrange(len(rows))
        for i in range(start, min(len(rows), start + rng.randint(1, 30))):
            fields = rows[i].split(";")
            missing = "-9999" if "-" in fields[0] else ""
            rows[i] = ";".join(fields[:2] + [missing] * 17 + fields[19:])
    for _ in range(rng.choice((0, 0, 1, 3))):  # values as written at the edges of rules 3-5
        i = rng.randrange(len(rows))
        fields = rows[i].split(";")
        column, value = rng.choice(
            [
                (13, "100,0004"),  # humidity max: out of range as written, 100.0 rounded
                (2, "-0,0004"),  # precipitation: out of range as written
                (15, "99,96"),  # humidity: in range, 100.0 rounded
                (2, ",5"),
                (7, "-,5"),  # air temperature
                (7, "-9999"),
            ]
        )
        fields[column] = value
        rows[i] = ";".join(fields)
    return ("\n".join(head + rows) + "\n").encode(encoding)


def with_other_values(data: bytes, rng: random.Random) -> bytes:
    """Another version of the same file: the same hours, some values changed."""
    lines = data.split(b"\n")
    for _ in range(3):
        i = rng.randrange(9, len(lines) - 1)
        fields = lines[i].split(b";")
        value = str(rng.randint(10, 35)).encode()
        fields[7] = value if fields[7] != value else b"9"  # air temperature
        lines[i] = b";".join(fields)
    return b"\n".join(lines)
