"""The local unload adapter (the fakesnow server's stand-in for COPY INTO @stage), on an
in-process fakesnow: one file per (station, year) partition, rows in time order, no header;
requests it cannot serve exactly are refused with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inmet_local.emulator.unload import UnloadError, _copy, _partitions, unload_partitions

pytestmark = [pytest.mark.unit]

COLUMNS = ["station_id", "a", "b", "c", "d", "e", "f", "observed_at", "v"]


@pytest.fixture
def fs() -> Iterator[Any]:
    from fakesnow.instance import FakeSnow

    instance = FakeSnow()
    conn = instance.connect("DB", "S")
    cur = conn.cursor()
    cur.execute("CREATE TABLE T (" + ", ".join(f"{c} VARCHAR" for c in COLUMNS) + ")")
    rows = [
        ("A001", "2024-01-01T01:00:00Z", "1,5"),  # a comma: quoted by the CSV writer
        ("A001", "2024-01-01T00:00:00Z", None),  # NULL: an empty field
        ("A001", "2025-01-01T00:00:00Z", "9"),
        ("A002", "2024-06-01T00:00:00Z", "7"),
    ]
    for station, observed, value in rows:
        cur.execute(
            "INSERT INTO T VALUES (%s, 'a', 'b', 'c', 'd', 'e', 'f', %s, %s)",
            (station, observed, value),
        )
    yield instance
    conn.close()


SORTED = "SELECT * FROM DB.S.T ORDER BY station_id, observed_at"


def test_each_partition_gets_its_rows_in_time_order(fs: Any, tmp_path: Path) -> None:
    parts = [
        ("A001", 2024, tmp_path / "a.csv"),
        ("A001", 2025, tmp_path / "b.csv"),
        ("A002", 2024, tmp_path / "c.csv"),
        ("A003", 2024, tmp_path / "none.csv"),  # no rows
    ]
    written = unload_partitions(fs, SORTED, [], parts)
    assert written == {str(p): n for p, n in zip([x[2] for x in parts], [2, 1, 1, 0], strict=True)}
    assert (tmp_path / "a.csv").read_text() == (
        'A001,a,b,c,d,e,f,2024-01-01T00:00:00Z,\nA001,a,b,c,d,e,f,2024-01-01T01:00:00Z,"1,5"\n'
    )
    assert (tmp_path / "c.csv").read_text() == "A002,a,b,c,d,e,f,2024-06-01T00:00:00Z,7\n"


def test_a_plain_result_goes_from_the_query_to_the_files_without_arrow(
    fs: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB writes the query's result as CSV itself and the files are cut from it: the Arrow
    way (fakesnow's result, then one writer over it) is not taken at all."""
    import inmet_local.emulator.unload as unload

    def arrow_way(*_: Any) -> Any:
        raise AssertionError("the rows went through Arrow")

    monkeypatch.setattr(unload, "_write_split", arrow_way)
    monkeypatch.setattr(unload, "_copy", arrow_way)
    parts = [
        ("A001", 2024, tmp_path / "a.csv"),
        ("A001", 2025, tmp_path / "b.csv"),
        ("A002", 2024, tmp_path / "c.csv"),
        ("A000", 2024, tmp_path / "before.csv"),  # no rows, before the first station
        ("A001", 2023, tmp_path / "gap.csv"),  # no rows, inside a station
        ("A009", 2024, tmp_path / "after.csv"),  # no rows, after the last
    ]
    written = unload_partitions(fs, SORTED, [], parts)
    assert list(written.values()) == [2, 1, 1, 0, 0, 0]
    assert (tmp_path / "a.csv").read_text() == (
        'A001,a,b,c,d,e,f,2024-01-01T00:00:00Z,\nA001,a,b,c,d,e,f,2024-01-01T01:00:00Z,"1,5"\n'
    )
    assert (tmp_path / "b.csv").read_text() == "A001,a,b,c,d,e,f,2025-01-01T00:00:00Z,9\n"
    assert (tmp_path / "gap.csv").read_bytes() == b""


def test_a_partition_asked_twice_is_written_to_both_paths(fs: Any, tmp_path: Path) -> None:
    """The request is the caller's list: a partition named twice gets both files, whole."""
    names = ["a.csv", "again.csv", "third.csv"]  # 6 rows asked of a result of 4
    parts = [("A001", 2024, tmp_path / name) for name in names]
    assert unload_partitions(fs, SORTED, [], parts) == {str(tmp_path / n): 2 for n in names}
    assert len({(tmp_path / n).read_bytes() for n in names}) == 1


def test_a_result_the_direct_way_cannot_cut_takes_the_arrow_way(fs: Any, tmp_path: Path) -> None:
    """A line break in a value (two CSV lines for one row) and a query the warehouse refuses
    are left to the Arrow way, which writes the first exactly and words the second."""
    from inmet_local.emulator.unload import _unload_direct

    conn = fs.connect("DB", "S")
    cursor = conn.cursor()
    parts = [("A002", 2024, tmp_path / "c.csv")]
    assert _unload_direct(cursor, SORTED, [], parts, 7) is not None
    cursor.execute("UPDATE T SET a = 'two\nlines' WHERE station_id = 'A002'")
    assert _unload_direct(cursor, SORTED, [], parts, 7) is None
    assert _unload_direct(cursor, "SELECT * FROM DB.S.MISSING", [], parts, 7) is None
    assert _unload_direct(cursor, "SELECT station_id FROM DB.S.T", [], parts, 7) is None


def test_the_files_cut_from_one_csv_are_what_a_copy_per_file_writes(
    fs: Any, tmp_path: Path
) -> None:
    """The route writes the whole result once and cuts each partition's lines from it; each file
    is byte for byte what DuckDB's writer gives that partition alone (quoting, NULLs)."""
    import duckdb

    parts = [("A001", 2024, tmp_path / "a.csv"), ("A002", 2024, tmp_path / "c.csv")]
    unload_partitions(fs, SORTED, [], parts)
    conn = fs.connect("DB", "S")
    cur = conn.cursor()
    cur.execute(SORTED)
    table = cur._arrow_table
    writer = duckdb.connect()
    for start, count, (_, _, path) in ((0, 2, parts[0]), (3, 1, parts[1])):
        alone = tmp_path / f"alone-{path.name}"
        _copy(writer, table.slice(start, count), alone)
        assert path.read_bytes() == alone.read_bytes()


def test_a_value_with_a_line_break_is_written_file_by_file(fs: Any, tmp_path: Path) -> None:
    """A value holding a line break takes two lines of CSV (quoted): the lines no longer count
    the rows, so each partition is written by its own COPY, whole."""
    conn = fs.connect("DB", "S")
    conn.cursor().execute("UPDATE T SET a = 'two\nlines' WHERE station_id = 'A002'")
    parts = [("A001", 2024, tmp_path / "a.csv"), ("A002", 2024, tmp_path / "c.csv")]
    assert unload_partitions(fs, SORTED, [], parts) == {
        str(tmp_path / "a.csv"): 2,
        str(tmp_path / "c.csv"): 1,
    }
    assert (tmp_path / "c.csv").read_text() == (
        'A002,"two\nlines",b,c,d,e,f,2024-06-01T00:00:00Z,7\n'
    )
    assert (tmp_path / "a.csv").read_text().count("\n") == 2


def test_a_query_with_bindings(fs: Any, tmp_path: Path) -> None:
    sql = "SELECT * FROM DB.S.T WHERE station_id = ? ORDER BY station_id, observed_at"
    assert unload_partitions(fs, sql, ["A002"], [("A002", 2024, tmp_path / "c.csv")]) == {
        str(tmp_path / "c.csv"): 1
    }


def test_an_unsorted_result_is_refused(fs: Any, tmp_path: Path) -> None:
    unsorted = "SELECT * FROM DB.S.T ORDER BY v DESC NULLS LAST"
    with pytest.raises(UnloadError, match="must sort by station_id, observed_at"):
        unload_partitions(fs, unsorted, [], [("A001", 2024, tmp_path / "a.csv")])


def test_bad_sql_and_bad_shapes_are_refused(fs: Any, tmp_path: Path) -> None:
    with pytest.raises(UnloadError, match="the unload query failed"):
        unload_partitions(fs, "SELECT * FROM DB.S.MISSING", [], [])
    with pytest.raises(UnloadError, match="the contract's columns in order"):
        unload_partitions(fs, "SELECT station_id FROM DB.S.T", [], [])
    with pytest.raises(UnloadError, match="needs station_id, year, path"):
        _partitions([{"station_id": "A001"}], tmp_path)
    with pytest.raises(UnloadError, match="must be a list"):
        _partitions("A001", tmp_path)


@pytest.mark.parametrize(
    "path", ["/etc/cron.d/x", "../escape.csv", "sub/../../escape.csv", "", "/tmp/x.sh"]
)
def test_paths_outside_the_unload_folder_are_refused(tmp_path: Path, path: str) -> None:
    root = tmp_path / "unload"
    root.mkdir()
    with pytest.raises(UnloadError, match="outside the unload folder"):
        _partitions([{"station_id": "A001", "year": 2024, "path": path}], root)


def test_a_symlink_out_of_the_unload_folder_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "unload"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(UnloadError, match="outside the unload folder"):
        _partitions([{"station_id": "A001", "year": 2024, "path": "link/x.csv"}], root)
    inside = _partitions([{"station_id": "A001", "year": 2024, "path": str(root / "a.csv")}], root)
    assert inside == [("A001", 2024, (root / "a.csv").resolve())]


def test_the_route_refuses_callers_without_the_token_or_json(fs: Any, tmp_path: Path) -> None:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from inmet_local.emulator.local_adapter import LOCAL_UNLOAD_ROUTE
    from inmet_local.emulator.unload import route

    root = tmp_path / "unload"
    root.mkdir()
    client = TestClient(Starlette(routes=[route(lambda: fs, root, "s3cret")]))
    body = {
        "sql": SORTED,
        "params": [],
        "partitions": [{"station_id": "A001", "year": 2024, "path": str(root / "a.csv")}],
    }
    # A web page's form post: text/plain, no token.
    page = client.post(
        LOCAL_UNLOAD_ROUTE, content=str(body), headers={"Content-Type": "text/plain"}
    )
    assert page.status_code == 401
    wrong = client.post(LOCAL_UNLOAD_ROUTE, json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    auth = {"Authorization": "Bearer s3cret"}
    not_json = client.post(
        LOCAL_UNLOAD_ROUTE, content=b"{}", headers={**auth, "Content-Type": "text/plain"}
    )
    assert not_json.status_code == 415
    escape = {**body, "partitions": [{"station_id": "A001", "year": 2024, "path": "/tmp/x.sh"}]}
    assert client.post(LOCAL_UNLOAD_ROUTE, json=escape, headers=auth).status_code == 400
    assert not (root / "a.csv").exists()
    ok = client.post(LOCAL_UNLOAD_ROUTE, json=body, headers=auth)
    assert ok.status_code == 200, ok.text
    assert (root / "a.csv").exists()


@pytest.mark.parametrize("allowed", [True, False])
def test_a_locked_down_warehouse_writes_straight_only_into_the_unload_folder(
    tmp_path: Path, allowed: bool
) -> None:
    """The stack's server opens files only in its own folders (fakesnow_server.lock_down); the
    unload folder is one of them, so DuckDB writes the CSV there itself. Were it not, the
    direct way would be refused and the Arrow way would still write the files."""
    from fakesnow.instance import FakeSnow

    from inmet_local.emulator.fakesnow_server import lock_down
    from inmet_local.emulator.unload import _unload_direct

    unload_dir, other = tmp_path / "unload", tmp_path / "other"
    unload_dir.mkdir()
    other.mkdir()
    instance = FakeSnow()
    conn = instance.connect("DB", "S")
    cursor = conn.cursor()
    cursor.execute("CREATE TABLE T (" + ", ".join(f"{c} VARCHAR" for c in COLUMNS) + ")")
    cursor.execute("INSERT INTO T VALUES ('A001', 'a', 'b', 'c', 'd', 'e', 'f', '2024-01-01', '1')")
    lock_down(instance.duck_conn, [unload_dir if allowed else other])
    parts = [("A001", 2024, unload_dir / "a.csv")]
    direct = _unload_direct(instance.connect("DB", "S").cursor(), SORTED, [], parts, 7)
    assert (direct is not None) == allowed
    assert unload_partitions(instance, SORTED, [], parts) == {str(unload_dir / "a.csv"): 1}
    assert (unload_dir / "a.csv").read_text() == "A001,a,b,c,d,e,f,2024-01-01,1\n"
    conn.close()
