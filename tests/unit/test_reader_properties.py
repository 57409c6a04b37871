"""Property tests: no input makes the validator raise, and the fast path never accepts a value
that the exact check rejects."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inmet_pipeline.columns import MEASURES
from inmet_pipeline.inmet_format import NUMBER_RE
from inmet_pipeline.reader import (
    InmetFormatError,
    in_range_token_pattern,
    read_observations,
    validate,
)
from tests.helpers import lines_of, small_file

pytestmark = [pytest.mark.unit]

VALID = small_file("B", days=1).data
VALID_A = small_file("A", days=1).data


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    report = validate(data)
    assert report.valid is (not report.errors)
    for issue in report.errors:
        assert re.fullmatch(r"[a-z0-9_]+", issue.code)
        assert issue.message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([VALID, VALID_A]), st.data())
def test_mutated_valid_files_never_raise(base: bytes, data: st.DataObject) -> None:
    buf = bytearray(base)
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(buf) - 1))
        kind = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if kind == "flip":
            buf[pos] = data.draw(st.integers(0, 255))
        elif kind == "delete":
            del buf[pos : pos + data.draw(st.integers(1, 40))]
        else:
            buf[pos:pos] = data.draw(st.binary(min_size=1, max_size=20))
        if not buf:
            break
    report = validate(bytes(buf))
    _, rows = read_observations(bytes(buf))
    if report.valid:
        assert len(list(rows)) == report.rows
    else:
        with pytest.raises(InmetFormatError) as info:
            list(rows)
        assert info.value.issue.code == report.errors[0].code


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([VALID, VALID_A]), st.data())
def test_shuffled_lines_never_raise(base: bytes, data: st.DataObject) -> None:
    lines = lines_of(base)
    shuffled = data.draw(st.permutations(lines))
    validate(b"\n".join(shuffled) + b"\n")


# Up to 12 decimals: more than the 8 an INMET number may have (inmet_format.number_pattern).
_TOKEN = st.from_regex(re.compile(r"-?(?:\d{1,5}(?:,\d{1,12})?|,\d{1,12})"), fullmatch=True)
_ANY_TOKEN = st.one_of(_TOKEN, st.text(alphabet="0123456789,-.e+ ", max_size=8))


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(MEASURES), _ANY_TOKEN)
def test_fast_path_accepts_only_valid_in_range_numbers(measure: object, token: str) -> None:
    from inmet_pipeline.columns import Measure

    assert isinstance(measure, Measure)
    fast = re.compile(in_range_token_pattern(measure.low, measure.high))
    if fast.fullmatch(token.encode()):
        assert NUMBER_RE.fullmatch(token.encode()), token
        value = float(token.replace(",", "."))
        assert measure.low <= value <= measure.high, (measure.name, token)


@pytest.mark.parametrize("measure", MEASURES, ids=[m.name for m in MEASURES])
def test_fast_path_accepts_the_common_tokens(measure: object) -> None:
    """The fast path must cover ordinary values, or validation would be slow, not wrong."""
    from inmet_pipeline.columns import Measure

    assert isinstance(measure, Measure)
    fast = re.compile(in_range_token_pattern(measure.low, measure.high))
    low, high = int(measure.low), int(measure.high)
    samples = {low, high, (low + high) // 2}
    for value in samples:
        assert fast.fullmatch(str(value).encode()), (measure.name, value)
    if low <= 0 <= high:
        assert fast.fullmatch(b",2")
        assert fast.fullmatch(b"0")
    if low < 0:
        assert fast.fullmatch(b"-,9")
        assert fast.fullmatch(b"-2,6")
