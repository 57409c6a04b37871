"""The warehouse adapter of the export: Snowflake (unload with COPY INTO @stage).

The local runtime's adapter (fakesnow's connection settings, its unload route and
``LocalExporter``) lives in ``inmet_local.emulator.local_adapter``, outside the Lambda layer: it
plugs in
through ``INMET_WAREHOUSE_ADAPTER`` (``plugged_exporter``) and subclasses ``SnowflakeSettings``
(``connect_kwargs``); no local code is here.

One connection per process, created on first use and reused across warm Lambda invocations;
key-pair authentication with the private key read from Secrets Manager through Powertools
Parameters (cached), or from a file for the CLI. Imports of the connector are deferred: the
UploadFunction never loads it.

Why one module over 400 lines: it is the one place the export meets Snowflake (settings,
the key, the connection, the hourly and the daily unloads and the partition removals); split,
each part would need the connection and its error mapping from the other.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Sequence
from typing import Any, Final

from pydantic import SecretStr

from inmet_pipeline.errors import DependencyUnavailable, PartitionRejected
from inmet_pipeline.exports import (
    ExportedPartition,
    PartitionExporter,
    Superseded,
    copy_into_statement,
    remove_statement,
)
from inmet_pipeline.partitions import (
    DAILY_STAGE,
    DAILY_TABLE,
    daily_copy_into_statement,
    daily_remove_statement,
)
from inmet_pipeline.session import PINNED_SESSION_PARAMETERS
from inmet_pipeline.settings import AwsSettings, ConfigError
from inmet_pipeline.uploads import utc_now_iso

_CONNECTIONS: dict[tuple[Any, ...], Any] = {}


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
    # "module:function" building the exporter of a warehouse that is not a Snowflake account
    # (the local runtime sets it; a deployed function never does): see plugged_exporter.
    inmet_warehouse_adapter: str | None = None

    @property
    def view(self) -> str:
        return f"{self.snowflake_database}.{self.snowflake_schema}.{self.snowflake_table}"

    @property
    def clean(self) -> str:
        return f"{self.snowflake_database}.{self.snowflake_schema}"

    @property
    def raw(self) -> str:
        return f"{self.snowflake_database}.{self.inmet_snowflake_raw_schema}"

    def connect_kwargs(self) -> dict[str, Any]:
        """snowflake.connector.connect() arguments (a subclass may reach another warehouse)."""
        return _account_connect_kwargs(self)

    def cache_key(self) -> tuple[Any, ...]:
        """What identifies this process's connection for these settings."""
        return (
            self.snowflake_account,
            self.snowflake_user,
            self.snowflake_role,
            self.snowflake_database,
        )


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
    """The connector's arguments for ``settings`` (SnowflakeSettings.connect_kwargs)."""
    return settings.connect_kwargs()


def _account_connect_kwargs(settings: SnowflakeSettings) -> dict[str, Any]:
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
            # TIMEZONE and QUOTED_IDENTIFIERS_IGNORE_CASE, as on the tasks (session.py).
            **PINNED_SESSION_PARAMETERS,
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

    cache_key = settings.cache_key()
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
    conn = _CONNECTIONS.pop(settings.cache_key(), None)
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


def plugged_exporter(settings: SnowflakeSettings) -> PartitionExporter | None:
    """The exporter INMET_WAREHOUSE_ADAPTER names ("module:function", called with no
    argument), or None: the seam through which the local runtime gives the export its own
    warehouse (inmet_local.emulator.local_adapter) without this layer carrying local code. A
    deployed function leaves the setting unset and gets SnowflakeExporter."""
    if not settings.inmet_warehouse_adapter:
        return None
    module_name, _, attr = settings.inmet_warehouse_adapter.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"invalid setting INMET_WAREHOUSE_ADAPTER: {settings.inmet_warehouse_adapter!r} "
            f"cannot be loaded ({exc})"
        ) from None
    exporter: PartitionExporter = factory()
    return exporter


class WarehouseQueries:
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

    def superseded(self, station_years: Sequence[tuple[str, int]]) -> list[Superseded]:
        if not station_years:
            return []
        marks = " OR ".join("(station_id = ? AND year = ?)" for _ in station_years)
        rows = self.run(
            f"SELECT raw_key, rows_surviving, superseded_by FROM {self.settings.clean}."  # noqa: S608 - names from settings, values bound
            f"EXPORT_SUPERSEDED WHERE {marks} ORDER BY raw_key",
            [value for pair in station_years for value in pair],
        )
        return [Superseded(str(k), int(n), str(by)) for k, n, by in rows]

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


class SnowflakeExporter(WarehouseQueries):
    """Snowflake unloads each partition itself (COPY INTO @stage): no data through Lambda.

    A wave's COPY statements run concurrently (the connector's execute_async, then their
    results by query id): one statement per partition keeps each file named exactly as the
    contract's key and replaced whole (SINGLE = TRUE, OVERWRITE = TRUE, which COPY's PARTITION BY
    cannot give), while the warehouse works on all of them at once."""

    POLL_SECONDS = 0.5

    @property
    def stage(self) -> str:
        return f"{self.settings.clean}.{self.settings.inmet_export_stage}"

    @property
    def daily_stage(self) -> str:
        return f"{self.settings.clean}.{DAILY_STAGE}"

    def export_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        statements = {
            key: copy_into_statement(self.stage, self.settings.view, s, y)
            for s, y, key in partitions
        }
        return self._unload(statements)

    def export_daily_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        table = f"{self.settings.clean}.{DAILY_TABLE}"
        statements = {
            key: daily_copy_into_statement(self.daily_stage, table, s, y)
            for s, y, key in partitions
        }
        return self._unload(statements)

    def _unload(self, statements: dict[str, str]) -> dict[str, int]:
        import snowflake.connector

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

    def remove_daily_partition(self, station_id: str, year: int, key: str) -> None:
        self.run(daily_remove_statement(self.daily_stage, station_id, year))
