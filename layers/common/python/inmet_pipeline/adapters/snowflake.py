"""The warehouse adapters of the export: Snowflake (unload with COPY INTO @stage) and local
(the same SELECT on the fakesnow server, streamed to S3).

One connection per process, created on first use and reused across warm Lambda invocations;
key-pair authentication with the private key read from Secrets Manager through Powertools
Parameters (cached), or from a file for the CLI. Imports of the connector are deferred: the
UploadFunction never loads it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Final

from pydantic import SecretStr

from inmet_pipeline.errors import DependencyUnavailable, PartitionRejected
from inmet_pipeline.exports import ExportedPartition, copy_into_statement, remove_statement
from inmet_pipeline.settings import AwsSettings, ConfigError
from inmet_pipeline.uploads import utc_now_iso

_CONNECTIONS: dict[tuple[Any, ...], Any] = {}
# The fakesnow server's unload route (served by inmet_local.unload, called by LocalExporter).
LOCAL_UNLOAD_ROUTE = "/inmet-local/unload"


class SnowflakeSettings(AwsSettings):
    """Where the warehouse is and how to reach it (docs/contracts.md §5 names)."""

    snowflake_account: str | None = None
    snowflake_user: str | None = None
    snowflake_role: str | None = None
    snowflake_warehouse: str | None = None
    snowflake_database: str = "INMET"
    snowflake_schema: str = "CLEAN"
    snowflake_table: str = "INMET_CLEAN"
    inmet_snowflake_raw_schema: str = "RAW"
    inmet_export_stage: str = "EXPORT_STAGE"
    # Key-pair authentication: the PEM private key from Secrets Manager (Lambda) or a file.
    snowflake_private_key_secret_arn: str | None = None
    snowflake_private_key_path: str | None = None
    snowflake_private_key_passphrase: SecretStr | None = None
    # The local runtime: the fakesnow server's URL instead of an account.
    inmet_snowflake_local_url: str | None = None
    # The local unload route's token and the only folder it writes to (the local stack sets
    # both; inmet_local.servers.fakesnow_client_env gives them for a server a test starts).
    inmet_local_unload_token: SecretStr | None = None
    inmet_local_unload_dir: str | None = None

    @property
    def local(self) -> bool:
        return bool(self.inmet_snowflake_local_url)

    @property
    def view(self) -> str:
        return f"{self.snowflake_database}.{self.snowflake_schema}.{self.snowflake_table}"

    @property
    def clean(self) -> str:
        return f"{self.snowflake_database}.{self.snowflake_schema}"

    @property
    def raw(self) -> str:
        return f"{self.snowflake_database}.{self.inmet_snowflake_raw_schema}"


def fakesnow_connect_kwargs(url: str, database: str | None = None) -> dict[str, Any]:
    """snowflake.connector.connect() arguments for a fakesnow server at ``url``."""
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    kwargs: dict[str, Any] = {
        "user": "local",
        "password": "local",
        "account": "fakesnow",
        "host": host,
        "port": int(port),
        "protocol": "http",
        "paramstyle": "qmark",
        "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        # As fakesnow's own server() helper: an HTTP 500 from fakesnow is a bug, not a blip, so
        # fail at once instead of retrying for minutes. Long queries are not cut by this.
        "network_timeout": 1,
        "login_timeout": 30,
    }
    if database:
        kwargs["database"] = database
    return kwargs


def _private_key_der(settings: SnowflakeSettings) -> bytes:
    from cryptography.hazmat.primitives import serialization

    if settings.snowflake_private_key_secret_arn:
        from aws_lambda_powertools.utilities import parameters

        pem = parameters.get_secret(settings.snowflake_private_key_secret_arn, max_age=900)
        pem_bytes = pem.encode() if isinstance(pem, str) else bytes(pem)
    elif settings.snowflake_private_key_path:
        with open(settings.snowflake_private_key_path, "rb") as fh:  # noqa: PTH123
            pem_bytes = fh.read()
    else:
        raise ConfigError(
            "missing setting SNOWFLAKE_PRIVATE_KEY_SECRET_ARN or SNOWFLAKE_PRIVATE_KEY_PATH "
            "(key-pair authentication)"
        )
    passphrase = settings.snowflake_private_key_passphrase
    key = serialization.load_pem_private_key(
        pem_bytes, password=passphrase.get_secret_value().encode() if passphrase else None
    )
    return key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def connect_kwargs(settings: SnowflakeSettings) -> dict[str, Any]:
    if settings.local:
        assert settings.inmet_snowflake_local_url is not None
        return fakesnow_connect_kwargs(settings.inmet_snowflake_local_url)
    missing = [
        name
        for name, value in (
            ("SNOWFLAKE_ACCOUNT", settings.snowflake_account),
            ("SNOWFLAKE_USER", settings.snowflake_user),
        )
        if not value
    ]
    if missing:
        raise ConfigError(
            "missing setting " + ", ".join(missing) + " (or INMET_SNOWFLAKE_"
            "LOCAL_URL for the local warehouse)"
        )
    kwargs: dict[str, Any] = {
        "account": settings.snowflake_account,
        "user": settings.snowflake_user,
        "private_key": _private_key_der(settings),
        "database": settings.snowflake_database,
        "schema": settings.snowflake_schema,
        "login_timeout": 20,
        "network_timeout": 120,
        "paramstyle": "qmark",
        "session_parameters": {
            "STATEMENT_TIMEOUT_IN_SECONDS": 600,
            "QUERY_TAG": "inmet-export",
            "TIMEZONE": "UTC",
        },
        "client_session_keep_alive": False,
    }
    if settings.snowflake_warehouse:
        kwargs["warehouse"] = settings.snowflake_warehouse
    if settings.snowflake_role:
        kwargs["role"] = settings.snowflake_role
    return kwargs


def _cache_key(settings: SnowflakeSettings) -> tuple[Any, ...]:
    return (
        settings.snowflake_account,
        settings.snowflake_user,
        settings.snowflake_role,
        settings.inmet_snowflake_local_url,
        settings.snowflake_database,
    )


def connection(settings: SnowflakeSettings) -> Any:
    """The process's connection for these settings (reconnects when it was closed)."""
    import snowflake.connector

    cache_key = _cache_key(settings)
    conn = _CONNECTIONS.get(cache_key)
    if conn is None or conn.is_closed():
        try:
            conn = snowflake.connector.connect(**connect_kwargs(settings))
        except snowflake.connector.errors.Error as exc:
            raise DependencyUnavailable("Snowflake", str(exc)) from exc
        _CONNECTIONS[cache_key] = conn
    return conn


def forget_connection(settings: SnowflakeSettings) -> None:
    """Drop the cached connection (its session is gone); the next call logs in again."""
    conn = _CONNECTIONS.pop(_cache_key(settings), None)
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.close()


# Errors after which the session is gone although the connection object looks open
# (``is_closed()`` stays false): 390114 "Authentication token has expired. The user must
# authenticate again." (the master token, after ~4 hours idle: a warm Lambda between two loads),
# 390111 "Session no longer exists. New login required", 390112 the session token expired, and
# the connector's 250001/250002 (could not connect / connection is closed). The connector raises
# them as errors.Error subclasses with ``errno`` set (snowflake-connector-python, "Handling
# errors": docs.snowflake.com/en/developer-guide/python-connector/python-connector-example).
SESSION_GONE_ERRNOS: Final = frozenset({390111, 390112, 390114, 250001, 250002})


def session_gone(exc: BaseException) -> bool:
    return getattr(exc, "errno", None) in SESSION_GONE_ERRNOS


# Errors that say the deployment is wrong, not the partition: 2003 "Object does not exist or
# not authorized" (a dropped view or stage, a missing grant), 3001 "Insufficient privileges",
# 2043 "Object does not exist, or operation cannot be performed". Every partition would fail
# the same way, so the message is retried (and lands in the failure queue) instead of marking
# uploads failed and acknowledging it.
CONFIGURATION_ERRNOS: Final = frozenset({2003, 2043, 3001})


def _query(conn: Any, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    import snowflake.connector

    cursor = conn.cursor()
    try:
        cursor.execute(sql, list(params) if params is not None else None)
        return list(cursor.fetchall()) if cursor.description else []
    except snowflake.connector.errors.Error as exc:
        if session_gone(exc):
            raise
        raise DependencyUnavailable("Snowflake", str(exc)) from exc
    finally:
        with contextlib.suppress(Exception):
            cursor.close()


class _WarehouseQueries:
    """The export's queries, shared by the Snowflake and the local adapter: they read the
    export views (CLEAN.EXPORT_FILE_LOADS, UNPROCESSED_FILES) and write the export's progress
    and acknowledgements (CLEAN.EXPORTED_PARTITIONS, EXPORT_ACKS), exactly what the export role
    is granted (tests/unit/test_privileges.py runs them against the grants)."""

    def __init__(self, settings: SnowflakeSettings) -> None:
        self.settings = settings

    @property
    def conn(self) -> Any:
        return connection(self.settings)

    def run(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """One statement; a lost session (SESSION_GONE_ERRNOS) logs in again once and retries."""
        import snowflake.connector

        try:
            return _query(self.conn, sql, params)
        except snowflake.connector.errors.Error as exc:
            if not session_gone(exc):  # pragma: no cover - _query wraps the others
                raise
            forget_connection(self.settings)
            try:
                return _query(self.conn, sql, params)
            except snowflake.connector.errors.Error as again:
                raise DependencyUnavailable("Snowflake", str(again)) from again

    def rows_clean(self, raw_keys: Sequence[str]) -> dict[str, int]:
        if not raw_keys:
            return {}
        marks = ", ".join("?" for _ in raw_keys)
        rows = self.run(
            f"SELECT raw_key, rows_clean FROM {self.settings.clean}."  # noqa: S608 - names from settings, values bound
            f"EXPORT_FILE_LOADS WHERE raw_key IN ({marks})",
            raw_keys,
        )
        return {str(k): int(n) for k, n in rows}

    def unprocessed_raw_keys(self) -> list[str]:
        rows = self.run(
            f"SELECT raw_key FROM {self.settings.clean}.UNPROCESSED_FILES ORDER BY raw_key"  # noqa: S608
        )
        return [str(r[0]) for r in rows]

    def exported_partitions(self, batch_id: str, part: int) -> dict[str, int]:
        rows = self.run(
            f"SELECT export_key, row_count FROM {self.settings.clean}."  # noqa: S608
            "EXPORTED_PARTITIONS WHERE batch_id = ? AND part = ?",
            [batch_id, part],
        )
        return {str(k): int(n) for k, n in rows}

    def record_exported(self, batch_id: str, part: int, done: Sequence[ExportedPartition]) -> None:
        if not done:
            return
        values = ", ".join("(?, ?, ?, ?, ?, ?, ?)" for _ in done)
        now = utc_now_iso().replace("T", " ").rstrip("Z")
        self.run(
            f"INSERT INTO {self.settings.clean}.EXPORTED_PARTITIONS (batch_id, part, "  # noqa: S608
            f"station_id, year, row_count, export_key, exported_at) VALUES {values}",
            [v for d in done for v in (batch_id, part, d.station_id, d.year, d.rows, d.key, now)],
        )

    def acknowledge(self, batch_id: str, part: int, uploads: int) -> None:
        now = utc_now_iso().replace("T", " ").rstrip("Z")
        self.run(
            f"INSERT INTO {self.settings.clean}.EXPORT_ACKS (batch_id, part, uploads, "  # noqa: S608
            "acked_at) VALUES (?, ?, ?, ?)",
            [batch_id, part, uploads, now],
        )


class SnowflakeExporter(_WarehouseQueries):
    """Snowflake unloads each partition itself (COPY INTO @stage): no data through Lambda.

    A wave's COPY statements run concurrently (the connector's execute_async, then their
    results by query id): one statement per partition keeps each file named exactly as the
    contract's key and replaced whole (SINGLE = TRUE, OVERWRITE = TRUE, which COPY's PARTITION BY
    cannot give), while the warehouse works on all of them at once."""

    POLL_SECONDS = 0.5

    @property
    def stage(self) -> str:
        return f"{self.settings.clean}.{self.settings.inmet_export_stage}"

    def export_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        import snowflake.connector

        statements = {
            key: copy_into_statement(self.stage, self.settings.view, s, y)
            for s, y, key in partitions
        }
        for attempt in (1, 2):
            try:
                return self._run_concurrently(statements)
            except (
                snowflake.connector.errors.ProgrammingError,
                snowflake.connector.errors.IntegrityError,
                snowflake.connector.errors.DataError,
            ) as exc:
                if session_gone(exc) and attempt == 1:
                    forget_connection(self.settings)
                    continue
                if getattr(exc, "errno", None) in CONFIGURATION_ERRNOS:
                    raise DependencyUnavailable("Snowflake", str(exc)) from exc
                # A statement's own error (Snowflake ran it and refused it): not an outage,
                # retrying changes nothing; the export skips that partition.
                raise PartitionRejected(f"Snowflake refused the unload: {exc}") from exc
            except snowflake.connector.errors.Error as exc:
                if not session_gone(exc) or attempt == 2:
                    raise DependencyUnavailable("Snowflake", str(exc)) from exc
                forget_connection(self.settings)
        raise AssertionError("unreachable")  # pragma: no cover

    def _run_concurrently(self, statements: dict[str, str]) -> dict[str, int]:
        import time

        conn = self.conn
        query_ids: dict[str, str] = {}
        for key, sql in statements.items():
            cursor = conn.cursor()
            cursor.execute_async(sql)
            query_ids[key] = cursor.sfqid
        written: dict[str, int] = {}
        pending = dict(query_ids)
        while pending:
            for key, query_id in list(pending.items()):
                # Raises the statement's own error (ProgrammingError with Snowflake's message).
                status = conn.get_query_status_throw_if_error(query_id)
                if conn.is_still_running(status):
                    continue
                cursor = conn.cursor()
                cursor.get_results_from_sfqid(query_id)
                rows = cursor.fetchall()
                written[key] = int(rows[0][0]) if rows else 0
                del pending[key]
            if pending:
                time.sleep(self.POLL_SECONDS)
        return written

    def remove_partition(self, station_id: str, year: int, key: str) -> None:
        self.run(remove_statement(self.stage, station_id, year))


class LocalExporter(_WarehouseQueries):
    """fakesnow cannot unload: its server's unload adapter (``inmet_local.unload``, the local
    stand-in for COPY INTO @stage) writes each partition's CSV to a local file with DuckDB's
    CSV writer, and this exporter puts each file in S3 whole, behind the contract's header."""

    def __init__(self, settings: SnowflakeSettings, s3: Any, bucket: str) -> None:
        super().__init__(settings)
        self.s3 = s3
        self.bucket = bucket

    # Partitions per unload request: the adapter runs one query for the group (a scan of
    # CLEAN) and holds its result, ~9,000 rows a partition, while it writes the files.
    GROUP = 48

    def _unload_headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        token = self.settings.inmet_local_unload_token
        if token is not None:
            headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        return headers

    def _unload(self, sql: str, params: Sequence[Any], parts: list[dict[str, Any]]) -> Any:
        import json
        import urllib.error
        import urllib.request

        assert self.settings.inmet_snowflake_local_url is not None
        url = self.settings.inmet_snowflake_local_url.rstrip("/") + LOCAL_UNLOAD_ROUTE
        body = json.dumps({"sql": sql, "params": list(params), "partitions": parts}).encode()
        request = urllib.request.Request(  # noqa: S310 - the local warehouse's http URL
            url, data=body, headers=self._unload_headers(), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
                return json.loads(response.read())["rows"]
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            with contextlib.suppress(ValueError, KeyError, TypeError):
                detail = json.loads(detail)["error"]
            if exc.code == 400:  # the warehouse refused this request: the query or its rows
                raise PartitionRejected(f"local unload failed: {detail}") from exc
            raise DependencyUnavailable("Snowflake", f"local unload failed: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DependencyUnavailable("Snowflake", f"local unload failed: {exc}") from exc

    def export_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        import tempfile
        from pathlib import Path

        from inmet_pipeline.columns import CLEAN_COLUMNS
        from inmet_pipeline.exports import stations_select

        header = (",".join(CLEAN_COLUMNS) + "\n").encode("utf-8")
        written: dict[str, int] = {}
        ordered = sorted(partitions)
        # Inside the unload route's folder: the route writes nowhere else.
        folder = self.settings.inmet_local_unload_dir
        with tempfile.TemporaryDirectory(prefix="inmet-unload-", dir=folder) as tmp:
            for start in range(0, len(ordered), self.GROUP):
                group = ordered[start : start + self.GROUP]
                sql, params = stations_select(
                    self.settings.view,
                    sorted({s for s, _, _ in group}),
                    min(y for _, y, _ in group),
                    max(y for _, y, _ in group),
                )
                paths = {key: Path(tmp, f"{i}.csv") for i, (_, _, key) in enumerate(group)}
                rows = self._unload(
                    sql,
                    params,
                    [{"station_id": s, "year": y, "path": str(paths[key])} for s, y, key in group],
                )
                for _, _, key in group:
                    path = paths[key]
                    data = header + (path.read_bytes() if path.exists() else b"")
                    path.unlink(missing_ok=True)
                    try:
                        # One PUT of the whole object: it appears whole or not at all.
                        self.s3.put_object(
                            Bucket=self.bucket,
                            Key=key,
                            Body=data,
                            ContentType="text/csv; charset=utf-8",
                        )
                    except Exception as exc:
                        raise DependencyUnavailable("S3", str(exc)) from exc
                    written[key] = int(rows.get(str(path), 0))
        return written

    def remove_partition(self, station_id: str, year: int, key: str) -> None:
        try:
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            raise DependencyUnavailable("S3", str(exc)) from exc
