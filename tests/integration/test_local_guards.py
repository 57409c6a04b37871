"""The local servers let in only the stack's own clients and hold no connection forever.

- the warehouse (fakesnow server): a login needs the server's password; DuckDB opens no file
  outside the warehouse and the pipe's folders (``read_text('/etc/passwd')``, the data dir's
  ``stack.json``), and no session can turn that back on ("Securing DuckDB",
  https://duckdb.org/docs/2.0/operations_manual/securing_duckdb/overview.html);
- moto: a request signed with another access key is refused, and so is moto's dashboard;
- the upload API: a body that trickles in is cut off (408) at the deadline.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import snowflake.connector
from botocore.exceptions import ClientError

from inmet_local.emulator.local_adapter import fakesnow_connect_kwargs
from inmet_local.emulator.servers import (
    ManagedProcess,
    aws_env,
    fakesnow_server,
    fakesnow_server_kwargs,
    moto_client_kwargs,
    moto_server,
    uvicorn_server,
)
from inmet_local.workspace.template import LocalNames, provision

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    (folder / "stack.json").write_text('{"api_key": "secret"}')
    (folder / "pipe").mkdir()
    (folder / "pipe" / "allowed.csv").write_text("a,b\n1,2\n")
    return folder


@pytest.fixture(scope="module")
def warehouse(data_dir: Path) -> Iterator[ManagedProcess]:
    server = fakesnow_server(
        db_path=data_dir / "warehouse",
        log_path=data_dir / "logs" / "fakesnow.log",
        unload_dir=data_dir / "unload",
        read_dirs=[data_dir / "pipe"],
    ).start()
    yield server
    server.stop()


def _query(kwargs: dict[str, Any], sql: str) -> list[tuple[Any, ...]]:
    with snowflake.connector.connect(**kwargs) as conn, conn.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def test_the_warehouse_refuses_a_login_without_its_password(warehouse: ManagedProcess) -> None:
    assert _query(fakesnow_server_kwargs(warehouse), "SELECT 1") == [(1,)]
    for password in ("local", "wrong"):
        with pytest.raises(snowflake.connector.errors.Error, match="Incorrect username"):
            _query(fakesnow_connect_kwargs(warehouse.url, password=password), "SELECT 1")
    # A session may not open a database file of its own choosing either.
    own_file = fakesnow_server_kwargs(warehouse)
    own_file["session_parameters"] = {"FAKESNOW_DB_PATH": "/tmp"}
    with pytest.raises(snowflake.connector.errors.Error, match="Incorrect username"):
        _query(own_file, "SELECT 1")
    # fakesnow's stage-upload route writes files with no session at all: closed.
    assert httpx.put(f"{warehouse.url}/fs_bucket/x/y", content=b"x").status_code == 403


def test_the_warehouse_opens_no_file_outside_its_folders(
    warehouse: ManagedProcess, data_dir: Path
) -> None:
    # A database of its own: its file is made in the warehouse folder, which is allowed.
    kwargs = fakesnow_server_kwargs(warehouse, database="GUARD")
    kwargs["schema"] = "PUBLIC"
    allowed = data_dir / "pipe" / "allowed.csv"
    assert _query(kwargs, f"SELECT COUNT(*) FROM read_csv('{allowed}')") == [(1,)]
    for path in ("/etc/passwd", str(data_dir / "stack.json")):
        with pytest.raises(snowflake.connector.errors.Error, match="disabled by configuration"):
            _query(kwargs, f"SELECT * FROM read_text('{path}')")
    # fakesnow reads SET as a session variable; whatever a session sets, DuckDB's configuration
    # is locked (lock_configuration) and the file stays closed.
    with snowflake.connector.connect(**kwargs) as conn, conn.cursor() as cursor:
        for sql in ("SET enable_external_access = true", "RESET enable_external_access"):
            with contextlib.suppress(snowflake.connector.errors.Error):
                cursor.execute(sql)
        with pytest.raises(snowflake.connector.errors.Error, match="disabled by configuration"):
            cursor.execute("SELECT * FROM read_text('/etc/passwd')")


def test_moto_refuses_another_access_key(tmp_path: Path) -> None:
    server = moto_server(
        log_path=tmp_path / "moto.log", state_dir=tmp_path / "aws", access_key="LOCALRIGHTKEY"
    ).start()
    try:
        right_kwargs: dict[str, Any] = moto_client_kwargs(server.url, access_key="LOCALRIGHTKEY")
        right = boto3.client("s3", **right_kwargs)
        right.create_bucket(Bucket="guard-bucket")
        wrong_kwargs: dict[str, Any] = moto_client_kwargs(server.url, access_key="LOCALWRONGKEY")
        wrong = boto3.client("s3", **wrong_kwargs)
        with pytest.raises(ClientError) as refused:
            wrong.list_objects_v2(Bucket="guard-bucket")
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert httpx.get(f"{server.url}/moto-api/data.json").status_code == 403
    finally:
        server.stop()


def test_a_body_that_trickles_in_is_cut_off(tmp_path: Path) -> None:
    moto = moto_server(log_path=tmp_path / "moto.log").start()
    provision(moto_client_kwargs(moto.url), LocalNames(bucket="guard-api", table="guard-api"))
    env = {
        **aws_env(moto.url),
        "S3_BUCKET": "guard-api",
        "INMET_STATUS_TABLE": "guard-api",
        "INMET_API_KEY": "k",
        "INMET_LOCAL_BODY_SECONDS": "2",
    }
    api = uvicorn_server(env, log_path=tmp_path / "api.log")
    try:
        api.start()
        port = int(api.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /uploads HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n"
                b"Content-Type: text/csv\r\nContent-Length: 100000\r\n\r\n"
            )
            started = time.monotonic()
            answer = b""
            while time.monotonic() - started < 8 and b"\r\n\r\n" not in answer:
                sock.sendall(b"x")  # one byte a quarter second
                sock.settimeout(0.25)
                try:
                    answer += sock.recv(4096)
                except TimeoutError:
                    continue
        took = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert 1.5 < took < 5, took
        # A request that sends its body at once is not affected.
        assert httpx.get(f"{api.url}/health", timeout=10).status_code == 200
    finally:
        api.stop()
        moto.stop()
