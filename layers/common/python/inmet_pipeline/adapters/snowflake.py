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
from typing import Any

from pydantic import SecretStr

from inmet_pipeline.errors import DependencyUnavailable
from inmet_pipeline.exports import copy_into_statement
from inmet_pipeline.settings import AwsSettings, ConfigError

_CONNECTIONS: dict[tuple[Any, ...], Any] = {}
# The fakesnow server's unload route (served by inmet_local.unload, called by LocalExporter).
LOCAL_UNLOAD_ROUTE = "/inmet-local/unload"


class SnowflakeSettings(AwsSettings):
    """Where the warehouse is and how to reach it (CONTRACTS §5 names)."""

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


def connection(settings: SnowflakeSettings) -> Any:
    """The process's connection for these settings (reconnects when it was closed)."""
    import snowflake.connector

    cache_key = (
        settings.snowflake_account,
        settings.snowflake_user,
        settings.snowflake_role,
        settings.inmet_snowflake_local_url,
        settings.snowflake_database,
    )
    conn = _CONNECTIONS.get(cache_key)
    if conn is None or conn.is_closed():
        try:
            conn = snowflake.connector.connect(**connect_kwargs(settings))
        except snowflake.connector.errors.Error as exc:
            raise DependencyUnavailable("Snowflake", str(exc)) from exc
        _CONNECTIONS[cache_key] = conn
    return conn


def _query(conn: Any, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    import snowflake.connector

    cursor = conn.cursor()
    try:
        cursor.execute(sql, list(params) if params is not None else None)
        return list(cursor.fetchall()) if cursor.description else []
    except snowflake.connector.errors.Error as exc:
        raise DependencyUnavailable("Snowflake", str(exc)) from exc
    finally:
        cursor.close()


class _WarehouseQueries:
    def __init__(self, settings: SnowflakeSettings) -> None:
        self.settings = settings

    @property
    def conn(self) -> Any:
        return connection(self.settings)

    def rows_clean(self, raw_keys: Sequence[str]) -> dict[str, int]:
        if not raw_keys:
            return {}
        marks = ", ".join("?" for _ in raw_keys)
        rows = _query(
            self.conn,
            f"SELECT raw_key, rows_clean FROM {self.settings.clean}."  # noqa: S608 - names from settings, values bound
            f"FILE_LOADS WHERE raw_key IN ({marks})",
            raw_keys,
        )
        return {str(k): int(n) for k, n in rows}

    def unprocessed_raw_keys(self) -> list[str]:
        rows = _query(
            self.conn,
            f"SELECT DISTINCT r.file_name FROM {self.settings.raw}.INMET_RAW r "  # noqa: S608
            f"WHERE NOT EXISTS (SELECT 1 FROM {self.settings.clean}.FILE_LOADS f "
            "WHERE f.file_name = r.file_name) ORDER BY 1",
        )
        return ["raw/" + str(r[0]) for r in rows]


class SnowflakeExporter(_WarehouseQueries):
    """Snowflake unloads each partition itself (COPY INTO @stage): no data through Lambda."""

    @property
    def stage(self) -> str:
        return f"{self.settings.clean}.{self.settings.inmet_export_stage}"

    def export_partition(self, station_id: str, year: int, key: str) -> int:
        sql = copy_into_statement(self.stage, self.settings.view, station_id, year)
        rows = _query(self.conn, sql)
        return int(rows[0][0]) if rows else 0

    def export_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        # One unload per partition: each is a single-file COPY that Snowflake prunes to the
        # partition's micro-partitions.
        return {key: self.export_partition(s, y, key) for s, y, key in partitions}

    def remove_partition(self, key: str) -> None:
        path = key.split("/", 2)[-1] if key.startswith("processed/") else key
        _query(self.conn, f"REMOVE @{self.stage}/{path.removeprefix('inmet_clean/')}")


class LocalExporter(_WarehouseQueries):
    """fakesnow cannot unload: its server's unload adapter (``inmet_local.unload``, the local
    stand-in for COPY INTO @stage) writes each partition's CSV to a local file with DuckDB's
    CSV writer, and this exporter puts each file in S3 whole, behind the contract's header."""

    def __init__(self, settings: SnowflakeSettings, s3: Any, bucket: str) -> None:
        super().__init__(settings)
        self.s3 = s3
        self.bucket = bucket

    def export_partition(self, station_id: str, year: int, key: str) -> int:
        return self.export_partitions([(station_id, year, key)])[key]

    # Partitions per unload request: the adapter runs one query for the group (a scan of
    # CLEAN) and holds its result, ~9,000 rows a partition, while it writes the files.
    GROUP = 48

    def _unload(self, sql: str, params: Sequence[Any], parts: list[dict[str, Any]]) -> Any:
        import json
        import urllib.error
        import urllib.request

        assert self.settings.inmet_snowflake_local_url is not None
        url = self.settings.inmet_snowflake_local_url.rstrip("/") + LOCAL_UNLOAD_ROUTE
        body = json.dumps({"sql": sql, "params": list(params), "partitions": parts}).encode()
        request = urllib.request.Request(  # noqa: S310 - the local warehouse's http URL
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
                return json.loads(response.read())["rows"]
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            with contextlib.suppress(ValueError, KeyError, TypeError):
                detail = json.loads(detail)["error"]
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
        with tempfile.TemporaryDirectory(prefix="inmet-unload-") as tmp:
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

    def remove_partition(self, key: str) -> None:
        with contextlib.suppress(Exception):
            self.s3.delete_object(Bucket=self.bucket, Key=key)
