"""The file's first nine lines: other layouts refused, the 8 metadata lines, the header line.

Why one module: the nine lines are checked by one class whose steps share the issue log and the
station being built, in the file's order; split, that state would be passed around.

Split from reader.py. The spellings come from ``inmet_format``; the value rules
(closed sets, ASCII codes, coordinate bounds) from ``rules``. Labels and keys are compared
after folding to an upper-case ASCII skeleton, so accent slips do not matter but the order
does (docs/inmet-format.md §3, §4).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from inmet_pipeline import rules
from inmet_pipeline.columns import CSV_QUOTED_CHARACTERS, MEASURES, N_MEASURES
from inmet_pipeline.decoding import utf8_read_as_latin1
from inmet_pipeline.inmet_format import (
    BDMEP_FIRST_KEY,
    BDMEP_HEADER_START,
    CANONICAL_METADATA_KEYS,
    FILENAME_RE,
    HEADER_LINE,
    KEY_END,
    LATIN1,
    LAYOUTS,
    METADATA_FIELDS,
    METADATA_KEY_LABELS,
    PORTAL_TABLE_START,
    RADIATION_INDEX,
    RADIATION_LABEL_PREFIX,
    SEPARATOR,
    Layout,
    LayoutSpec,
    MetadataStyle,
    RadiationUnit,
    metadata_style_of,
    parse_founding_date,
    radiation_label,
    says_w_m2,
)
from inmet_pipeline.report import IssueLog, StationMeta, ValidationReport, show

REGIONS: Final = frozenset(rules.REGIONS)
STATES: Final = frozenset(rules.STATES)


def _fold(text: str) -> str:
    """Upper-case ASCII skeleton of a label: accents stripped, only letters and digits kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^A-Z0-9?]", "", ascii_only.upper())


def _key_matches(key: str, expected: str) -> bool:
    folded = unicodedata.normalize("NFKD", key.strip().upper())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    if len(folded) < len(expected):
        return False
    return all(a == b or a == "?" for a, b in zip(folded, expected, strict=False))


# The 17 measure labels, folded; radiation is matched on its prefix because INMET writes its
# unit three ways (KJ/m², Kj/m², W/m²) and it is kJ/m² in every case (docs/inmet-format.md §4).
_MEASURE_LABELS_FOLDED: Final = tuple(_fold(m.source_label) for m in MEASURES)
_RADIATION_PREFIX: Final = _fold(RADIATION_LABEL_PREFIX)
# The keys as messages name them, one per line: REGIAO, UF, ESTACAO, CODIGO (WMO), … .
_REGION_KEY, _STATE_KEY, _NAME_KEY, _WMO_KEY, *_, _FOUNDED_KEY = CANONICAL_METADATA_KEYS
_BDMEP_HEADER_FOLDED: Final = _fold(BDMEP_HEADER_START)
_HEADER_FIRST_TWO: Final[dict[tuple[str, str], Layout]] = {
    (_fold(spec.date_label), _fold(spec.hour_label)): layout for layout, spec in LAYOUTS.items()
}


def _first_two(layout: Layout) -> str:
    spec = LAYOUTS[layout]
    return spec.date_label + SEPARATOR + spec.hour_label + SEPARATOR


class PreambleChecker:
    """Checks the preamble of one file, recording issues in ``log``."""

    def __init__(self, log: IssueLog) -> None:
        self.log = log
        self.report: ValidationReport = log.report

    # -- other layouts --------------------------------------------------------------------------
    def check_other_layouts(self, preamble: list[bytes]) -> bool:
        first = preamble[0].decode(LATIN1).strip() if preamble else ""
        folded_lines = [_fold(p.decode(LATIN1)) for p in preamble]
        if first.startswith(PORTAL_TABLE_START):
            self.log.error(
                "unsupported_layout_portal_table",
                "This looks like a table exported from the tempo.inmet.gov.br portal (quoted "
                "fields, no station metadata). Only the yearly-archive station files "
                "(INMET_<REG>_<UF>_<WMO>_…CSV from portal.inmet.gov.br/dadoshistoricos) are "
                "accepted.",
                1,
            )
            return False
        if first.upper().startswith(BDMEP_FIRST_KEY) or any(
            f.startswith(_BDMEP_HEADER_FOLDED) for f in folded_lines
        ):
            self.log.error(
                "unsupported_layout_bdmep",
                "This looks like a BDMEP single-station export (dados_<WMO>_H_….csv, 'Key: value' "
                f"metadata and '{BDMEP_HEADER_START}' columns). Only the yearly-archive "
                "station files (INMET_<REG>_<UF>_<WMO>_…CSV) are accepted.",
                1,
            )
            return False
        if preamble and not any(SEPARATOR.encode() in line for line in preamble):
            other = next((c for c in (",", "\t") if c in first), None)
            if other is not None:
                said = "comma" if other == "," else "tab"
                self.log.error(
                    f"{said}_separated",
                    f"This file is {said}-separated (line 1 is {first[:60]!r}); INMET files "
                    f"separate fields with ';'. A spreadsheet probably re-saved it: use the file "
                    "as downloaded from INMET.",
                    1,
                )
                return False
        head_fields = first.split(SEPARATOR)
        if len(head_fields) >= 2 and (_fold(head_fields[0]), _fold(head_fields[1])) in (
            _HEADER_FIRST_TWO
        ):
            self.log.error(
                "missing_metadata",
                "Line 1 is the column header: the 8 station metadata lines "
                f"({', '.join(CANONICAL_METADATA_KEYS)}) were removed, "
                "perhaps by a spreadsheet. Use the file as downloaded from INMET.",
                1,
            )
            return False
        return True

    # -- metadata -------------------------------------------------------------------------------
    def parse_metadata(self, text: list[str]) -> StationMeta | None:
        values: dict[str, str] = {}
        name_line = ""  # what line 3 holds after its key: the name and any further fields
        style: MetadataStyle = "2020"
        ok = True
        for i, (name, expected, human) in enumerate(
            zip(METADATA_FIELDS, CANONICAL_METADATA_KEYS, METADATA_KEY_LABELS, strict=True)
        ):
            line_no = i + 1
            line = text[i]
            key, sep, rest = line.partition(SEPARATOR)
            # The second field, as the warehouse reads it (c02, TRIM of ASCII spaces only).
            value = rules.trim(rest.split(SEPARATOR)[0])
            if not sep or not key.rstrip().endswith(KEY_END):
                if name == "station_id":
                    self.log.error(
                        "missing_wmo_code",
                        f"Line {line_no} should be '{_WMO_KEY}{KEY_END}{SEPARATOR}<code>' but is "
                        f"{show(line)}.",
                        line_no,
                    )
                else:
                    self.log.error(
                        "bad_metadata",
                        f"Line {line_no} should be the station metadata "
                        f"'{human}{KEY_END}{SEPARATOR}<value>' but is {show(line)}.",
                        line_no,
                    )
                ok = False
                continue
            if not _key_matches(key.rstrip()[:-1], expected):
                self.log.error(
                    "bad_metadata",
                    f"Line {line_no} should hold '{human}' but its key is "
                    f"{show(key)}; metadata lines must come in INMET's order.",
                    line_no,
                )
                ok = False
                continue
            if i == 0:
                style = metadata_style_of(key)
            values[name] = value
            if name == "station_name":
                name_line = rest
        if not ok:
            return None
        for i, name in enumerate(METADATA_FIELDS):
            if not self._value_chars_ok(i + 1, METADATA_KEY_LABELS[i], values[name]):
                ok = False
        if not ok:
            return None
        region = self._code(1, _REGION_KEY, values["region"], rules.REGION_PATTERN)
        if region is not None and region not in REGIONS:
            self.log.error(
                "bad_metadata_value",
                f"{_REGION_KEY} (line 1) is {show(values['region'])}; expected one of "
                f"{', '.join(rules.REGIONS)}.",
                1,
            )
            region = None
        state = self._code(2, _STATE_KEY, values["state"], rules.STATE_PATTERN)
        if state is not None and state not in STATES:
            self.log.error(
                "bad_metadata_value",
                f"{_STATE_KEY} (line 2) is {show(values['state'])}; expected a "
                "Brazilian state code such as DF, SP or PR.",
                2,
            )
            state = None
        ok = region is not None and state is not None
        # The name is kept as written (INMET has double spaces and lower case in some names).
        name = values["station_name"]
        if not name:
            self.log.error(
                "bad_metadata_value", f"{_NAME_KEY} (line 3), the station name, is empty.", 3
            )
            ok = False
        elif len(name) > rules.MAX_STATION_NAME_CHARS:
            self.log.error(
                "bad_metadata_value",
                f"{_NAME_KEY} (line 3), the station name, has {len(name)} characters; at most "
                f"{rules.MAX_STATION_NAME_CHARS} are accepted.",
                3,
            )
            ok = False
        elif rules.station_name_unsafe(name, name_line.split(SEPARATOR)[1:]):
            self.log.error(
                rules.NAME_RULE_CODE, rules.station_name_message(_NAME_KEY, show(name_line)), 3
            )
            ok = False
        elif quoted := sorted({c for c in name if c in CSV_QUOTED_CHARACTERS}):
            # The export writes text unenclosed (Snowflake's unload, exports.UNLOAD_FILE_FORMAT):
            # a name CSV would have to quote would break the exported files' columns.
            self.log.error(
                "bad_metadata_value",
                f"{_NAME_KEY} (line 3), the station name, is {show(name)}: it holds "
                + " and ".join(repr(c) for c in quoted)
                + ", which the exported CSV cannot carry unquoted; INMET's names have none.",
                3,
            )
            ok = False
        wmo = values["station_id"]
        if not wmo:
            self.log.error(
                "missing_wmo_code",
                f"{_WMO_KEY} (line 4) is empty: the WMO code "
                "identifies the station and is required.",
                4,
            )
            ok = False
        else:
            code = self._code(4, _WMO_KEY, wmo, rules.WMO_PATTERN, kind="bad_wmo_code")
            if code is None:
                ok = False
            wmo = code or wmo
        coords: dict[str, float] = {}
        for rule in rules.COORDINATES:
            given = values[rule.field]
            number = rules.parse_number(given)
            if number is None or not rule.low <= number <= rule.high:
                at = rules.first_non_ascii(given)
                why = (
                    f" (it contains {rules.describe_char(given[at])}; only ASCII digits count)"
                    if at is not None
                    else ""
                )
                self.log.error(
                    "bad_metadata_value",
                    f"{rule.label} (line {rule.line}) is {show(given)}{why}; expected a number "
                    f"between {rule.low:g} and {rule.high:g} (inside Brazil) with at most 4 "
                    "integer digits and 8 decimals, decimal comma (e.g. -15,78944444).",
                    rule.line,
                )
                ok = False
            else:
                coords[rule.field] = number
        if ok and self.report.encoding == LATIN1 and (spelt := utf8_read_as_latin1(name)):
            # A UTF-8 name inside a Latin-1 file (docs/inmet-format.md §6): CLEAN would carry
            # the mojibake as the station's name, so the upload says so.
            self.log.warn(
                "name_encoding",
                f"{_NAME_KEY} (line 3), the station name, reads {show(name)} in this "
                f"ISO-8859-1 file, but its bytes are the UTF-8 spelling of {show(spelt)}: the "
                "file mixes two encodings. CLEAN and the export keep the name as read; save "
                "the file in one encoding and upload it again to correct it.",
                3,
            )
        founded = parse_founding_date(values["founded_on"])
        if founded is None and values["founded_on"]:
            self.log.warn(
                "bad_founding_date",
                f"{_FOUNDED_KEY} (line 8) is "
                f"{show(values['founded_on'])}; expected YYYY-MM-DD or DD/MM/YY. "
                "It is ignored.",
                8,
            )
        if not ok or region is None or state is None:
            return None
        return StationMeta(
            region=region,
            state=state,
            station_name=name,
            station_id=wmo,
            latitude=coords["latitude"],
            longitude=coords["longitude"],
            altitude_m=coords["altitude_m"],
            founded_on=founded,
            metadata_style=style,
        )

    def _value_chars_ok(self, line_no: int, label: str, value: str) -> bool:
        at = rules.first_bad_value_char(value)
        if at is None:
            return True
        self.log.error(
            "bad_metadata_value",
            f"{label} (line {line_no}) is {show(value)}: character {at + 1} is "
            f"{rules.describe_char(value[at])}, which is not allowed in station metadata "
            "(no control characters, no spaces other than the plain space).",
            line_no,
        )
        return False

    def _code(
        self, line_no: int, label: str, value: str, pattern: str, kind: str = "bad_metadata_value"
    ) -> str | None:
        """An ASCII code, upper-cased as the SQL's UPPER does; None (and an error) if not."""
        at = rules.first_non_ascii(value)
        if at is not None:
            self.log.error(
                kind,
                f"{label} (line {line_no}) is {show(value)}: character {at + 1} is "
                f"{rules.describe_char(value[at])}; codes are plain ASCII letters and digits.",
                line_no,
            )
            return None
        code = value.upper()
        if not re.fullmatch(pattern, code, flags=re.ASCII):
            if kind == "bad_wmo_code":
                message = (
                    f"{_WMO_KEY} (line 4) is {show(value)}; expected a letter "
                    "and three digits such as A001."
                )
            else:
                message = f"{label} (line {line_no}) is {show(value)}; not a valid code."
            self.log.error(kind, message, line_no)
            return None
        return code

    # -- header ---------------------------------------------------------------------------------
    def parse_header(self, header: str) -> tuple[LayoutSpec | None, bool, int]:
        rep = self.report
        fields = header.split(SEPARATOR)
        trailing = len(fields) > 2 and fields[-1].strip() == ""
        columns = fields[:-1] if trailing else fields
        first_two = (_fold(columns[0]), _fold(columns[1])) if len(columns) >= 2 else ("", "")
        layout = _HEADER_FIRST_TWO.get(first_two)
        if layout is None:
            found = show(";".join(columns[:2]))
            self.log.error(
                "unknown_header",
                f"Line {HEADER_LINE} should be the column header of layout A "
                f"('{_first_two('A')}…') or B ('{_first_two('B')}…') but starts with {found}.",
                HEADER_LINE,
            )
            return None, trailing, len(fields)
        if len(columns) != 2 + N_MEASURES:
            self.log.error(
                "unknown_header",
                f"The header (line 9) has {len(columns)} columns; INMET station files have "
                f"{2 + N_MEASURES} (date, hour and 17 measures).",
                HEADER_LINE,
            )
            return None, trailing, len(fields)
        for idx, (label, expected) in enumerate(
            zip(columns[2:], _MEASURE_LABELS_FOLDED, strict=True)
        ):
            folded = _fold(label)
            if idx == RADIATION_INDEX:
                rep.radiation_label = label.strip()
                if not folded.startswith(_RADIATION_PREFIX):
                    break
                if says_w_m2(label):
                    self.log.warn(
                        "radiation_label_w_m2",
                        f"The radiation column is labelled {show(label.strip())}; INMET's "
                        "values are kJ/m² whatever the label says, and are loaded as kJ/m².",
                        HEADER_LINE,
                    )
                continue
            if folded != expected:
                self.log.error(
                    "unknown_header",
                    f"Header column {idx + 3} is {show(label.strip())}; expected "
                    f"{show(MEASURES[idx].source_label)}. Columns must be in INMET's order.",
                    HEADER_LINE,
                )
                return None, trailing, len(fields)
        else:
            return LAYOUTS[layout], trailing, len(fields)
        self.log.error(
            "unknown_header",
            f"Header column 7 is {show(columns[2 + RADIATION_INDEX].strip())}; expected "
            f"'{radiation_label(RadiationUnit.KJ)}'.",
            HEADER_LINE,
        )
        return None, trailing, len(fields)

    def check_filename(self, station: StationMeta) -> None:
        name = self.report.filename
        if not name:
            return
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        match = FILENAME_RE.fullmatch(base)
        if match and match["wmo"].upper() != station.station_id:
            self.log.warn(
                "filename_mismatch",
                f"The file name says station {match['wmo']} but {_WMO_KEY} says "
                f"{station.station_id}; the metadata wins.",
                4,
            )
