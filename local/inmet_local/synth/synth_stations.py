"""The stations the generator writes files for: a catalogue in the style of INMET's network.

Split from synth.py (issue 16: modules by what they are). The named stations carry real-looking
attributes (and INMET's quirks in names: double spaces, lower case, parentheses, " - "); the
generated ones are spread over plausible boxes of 14 states.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Final


@dataclass(frozen=True, slots=True)
class SynthStation:
    station_id: str
    name: str
    region: str
    state: str
    latitude: float
    longitude: float
    altitude_m: float
    founded: date


# Station attributes in the style of the real network (capitals and a few inland towns). The
# coordinates are close to the real ones; the series generated for them are synthetic.
_CATALOGUE: Final[tuple[tuple[str, str, str, str, float, float, float, str], ...]] = (
    ("A001", "BRASILIA", "CO", "DF", -15.78944444, -47.92583332, 1160.96, "2000-05-07"),
    ("A101", "MANAUS", "N", "AM", -3.10333333, -60.01638888, 61.25, "2000-05-09"),
    ("A807", "CURITIBA", "S", "PR", -25.44868800, -49.23060200, 922.91, "2003-01-28"),
    # Within 1 degree of the equator: INMET writes the latitude with no leading zero
    # (",03499999"), so the demo's sample and the fuzz tests meet that form.
    ("A249", "MACAPA", "N", "AP", 0.03499999, -51.07166666, 14.46, "2003-11-18"),
    ("A409", "ARACAJU", "NE", "SE", -10.95000000, -37.04333333, 4.72, "2003-01-01"),
    ("A701", "SAO PAULO - MIRANTE", "SE", "SP", -23.49638888, -46.62000000, 785.16, "2006-07-25"),
    (
        "A801",
        "PORTO ALEGRE - JARDIM BOTANICO",
        "S",
        "RS",
        -30.05361111,
        -51.17472221,
        41.18,
        "2000-09-22",
    ),
    ("A921", "SAO FELIX  DO ARAGUAIA", "CO", "MT", -11.61888888, -50.72777777, 201.0, "2006-12-13"),
    (
        "A652",
        "RIO DE JANEIRO - FORTE DE COPACABANA",
        "SE",
        "RJ",
        -22.98833333,
        -43.19055555,
        25.6,
        "2007-03-21",
    ),
    ("A301", "RECIFE", "NE", "PE", -8.05916666, -34.95916666, 10.0, "2004-02-18"),
    ("A401", "SALVADOR", "NE", "BA", -13.01638888, -38.51722222, 47.56, "2000-05-13"),
    ("A201", "BELEM", "N", "PA", -1.41138888, -48.43944444, 21.0, "2003-07-04"),
    ("A215", "SOURE", "N", "PA", -0.72722221, -48.51555555, 10.0, "2008-04-01"),
    ("A002", "GOIANIA", "CO", "GO", -16.64277777, -49.22027777, 741.48, "2001-05-29"),
    ("A901", "CUIABA", "CO", "MT", -15.55916666, -56.06277777, 240.0, "2006-10-03"),
    ("A702", "CAMPO GRANDE", "CO", "MS", -20.44444444, -54.72277777, 530.0, "2001-09-01"),
    ("A305", "FORTALEZA", "NE", "CE", -3.81555555, -38.53777777, 29.89, "2007-11-20"),
    ("A320", "JOAO PESSOA", "NE", "PB", -7.16527777, -34.81555555, 33.5, "2007-07-01"),
    ("A304", "NATAL", "NE", "RN", -5.83694444, -35.20805555, 48.6, "2003-01-01"),
    ("A312", "TERESINA", "NE", "PI", -5.03472222, -42.80138888, 75.73, "2007-07-20"),
    ("A203", "SAO LUIS", "NE", "MA", -2.52694444, -44.21361111, 55.47, "2003-01-01"),
    ("A104", "RIO BRANCO", "N", "AC", -9.95777777, -67.86888888, 212.0, "2008-06-08"),
    ("A135", "BOA VISTA", "N", "RR", 2.82027777, -60.67194444, 83.0, "2007-05-04"),
    ("A806", "FLORIANOPOLIS", "S", "SC", -27.60250000, -48.62000000, 4.87, "2003-06-24"),
    ("A612", "VITORIA", "SE", "ES", -20.31555555, -40.31722222, 9.0, "2006-10-06"),
    (
        "A521",
        "BELO HORIZONTE (PAMPULHA)",
        "SE",
        "MG",
        -19.88388888,
        -43.96944444,
        854.0,
        "2006-09-18",
    ),
    ("A303", "MACEIO", "NE", "AL", -9.55111111, -35.77027777, 84.0, "2003-10-08"),
    ("A009", "PALMAS", "N", "TO", -10.19083333, -48.30166666, 280.0, "2006-02-14"),
    (
        "A600",
        "Paty do Alferes - Avelar",
        "SE",
        "RJ",
        -22.35000000,
        -43.41611111,
        507.0,
        "2008-11-19",
    ),
    ("A425", "FAROL de SANTANA", "NE", "SE", -11.00694444, -37.17166666, 15.0, "2008-06-01"),
)

_TOWNS: Final = (
    "ALTO",
    "BOM JESUS",
    "CAMPOS",
    "CRUZEIRO",
    "ESPERANCA",
    "FLORESTA",
    "GUARATINGA",
    "ITAPIRA",
    "JARDIM",
    "LAGOA",
    "MONTE",
    "NOVA",
    "PEDRA",
    "PORTO",
    "RIO",
    "SANTA RITA",
    "SAO JOSE",
    "SERRA",
    "TRES BARRAS",
    "VALE",
)
_SUFFIXES: Final = (
    "DO SUL",
    "DO NORTE",
    "VERDE",
    "ALEGRE",
    "DAS ALMAS",
    "(FAZENDA)",
    "- AEROPORTO",
    "DO OESTE",
    "GRANDE",
    "DO LESTE",
    "NOVO",
    "DA SERRA",
)
# (region, state, latitude range, longitude range)
_STATES_BOX: Final = (
    ("N", "AM", (-8.0, -1.0), (-68.0, -58.0)),
    ("N", "PA", (-8.0, -1.0), (-55.0, -47.0)),
    ("N", "TO", (-12.0, -6.0), (-49.0, -47.0)),
    ("NE", "BA", (-15.0, -10.0), (-44.0, -39.0)),
    ("NE", "PI", (-9.0, -4.0), (-44.0, -41.0)),
    ("NE", "CE", (-7.0, -3.5), (-40.5, -38.0)),
    ("CO", "MT", (-16.0, -10.0), (-58.0, -52.0)),
    ("CO", "GO", (-18.0, -14.0), (-51.0, -47.0)),
    ("CO", "MS", (-22.0, -18.0), (-56.0, -53.0)),
    ("SE", "MG", (-21.0, -16.0), (-47.0, -42.0)),
    ("SE", "SP", (-24.0, -20.5), (-51.0, -46.0)),
    ("S", "PR", (-26.0, -23.0), (-53.0, -49.5)),
    ("S", "RS", (-31.0, -28.0), (-55.0, -51.0)),
    ("S", "SC", (-28.0, -26.5), (-52.0, -49.0)),
)


def station_catalogue(n: int, seed: int = 0) -> list[SynthStation]:
    """``n`` distinct stations: the named catalogue first, then generated ones."""
    stations = [
        SynthStation(code, name, reg, uf, lat, lon, alt, date.fromisoformat(founded))
        for code, name, reg, uf, lat, lon, alt, founded in _CATALOGUE[:n]
    ]
    used = {s.station_id for s in stations}
    rng = random.Random(f"catalogue:{seed}")  # noqa: S311 - sample data, not cryptography
    number = 1
    while len(stations) < n:
        code = f"{'ABS'[number // 1000]}{number % 1000:03d}"
        number += 1
        if code in used:
            continue
        used.add(code)
        region, uf, (lat0, lat1), (lon0, lon1) = rng.choice(_STATES_BOX)
        name = f"{rng.choice(_TOWNS)} {rng.choice(_SUFFIXES)}"
        stations.append(
            SynthStation(
                code,
                name,
                region,
                uf,
                round(rng.uniform(lat0, lat1), 8),
                round(rng.uniform(lon0, lon1), 8),
                round(rng.uniform(5, 1200), 2),
                date(rng.randint(2000, 2010), rng.randint(1, 12), rng.randint(1, 28)),
            )
        )
    return stations
