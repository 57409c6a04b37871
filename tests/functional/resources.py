"""The names of the moto resources the functional fixtures (tests/functional/conftest.py)
create, for the tests that look inside them."""

from __future__ import annotations

BUCKET = "inmet-test"
TABLE = "inmet-uploads-test"
