"""The export's warehouse adapter for the local runtime: the fakesnow server instead of an account.

Local-only, so not in the Lambda layer (issue 16): a deployed function never reaches fakesnow,
and the layer's ``inmet_pipeline.adapters.snowflake`` names none of this. It plugs in through
two seams of that module:

- ``LocalSnowflakeSettings`` subclasses ``SnowflakeSettings``: with ``INMET_SNOWFLAKE_LOCAL_URL``
  set, ``connect_kwargs()`` reaches the fakesnow server (``fakesnow_connect_kwargs``); without
  it, the account as in production.
- ``local_exporter`` is what ``INMET_WAREHOUSE_ADAPTER`` names in the local stack's function
  environment (``inmet_local.emulator.servers.fakesnow_server`` gives it with the URL), so the
  export handler, called in-process or by `inmet local invoke`, builds ``LocalExporter`` through
  ``plugged_exporter``. (`inmet local invoke --built ExportFunction` gets this module alone
  beside the runtime's folder: ``inmet_local.emulator.invoke.local_adapter_dir``.)

``LocalExporter``: fakesnow cannot unload; the fakesnow server's unload route
(``inmet_local.emulator.unload``, served at ``LOCAL_UNLOAD_ROUTE``) writes each partition's CSV,
and the exporter puts each file in S3 whole, behind the contract's header. Progress and
acknowledgements go through the same queries as production (``WarehouseQueries``).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
from pydantic import SecretStr

from inmet_pipeline.adapters.snowflake import SnowflakeSettings, WarehouseQueries
from inmet_pipeline.columns import CLEAN_COLUMNS, DAILY_COLUMNS
from inmet_pipeline.errors import DependencyUnavailable, PartitionRejected
from inmet_pipeline.exports import stations_select
from inmet_pipeline.partitions import DAILY_TABLE, daily_stations_select
from inmet_pipeline.settings import UploadSettings, load_settings

# The fakesnow server's unload route (served by inmet_local.emulator.unload, called by
# LocalExporter).
LOCAL_UNLOAD_ROUTE = "/inmet-local/unload"
# What INMET_WAREHOUSE_ADAPTER names for the local warehouse.
LOCAL_ADAPTER = f"{__name__}:local_exporter"
# The local warehouse's password: the fakesnow server refuses any other (fakesnow_server.py).
PASSWORD_ENV = "INMET_LOCAL_WAREHOUSE_PASSWORD"  # noqa: S105 - a variable name, not a secret
LOCAL_USER = "inmet_local"


def fakesnow_connect_kwargs(
    url: str,
    database: str | None = None,
    password: str = "local",  # noqa: S107 - refused by the servers fakesnow_server() starts
) -> dict[str, Any]:
    """snowflake.connector.connect() arguments for a fakesnow server at ``url``."""
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    kwargs: dict[str, Any] = {
        "user": LOCAL_USER,
        "password": password,
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


class LocalSnowflakeSettings(SnowflakeSettings):
    """SnowflakeSettings plus the local runtime's: the fakesnow server's URL instead of an
    account, and its unload route's token and folder."""

    # The local runtime: the fakesnow server's URL instead of an account.
    inmet_snowflake_local_url: str | None = None
    # The local unload route's token and the only folder it writes to (the local stack sets
    # both; inmet_local.emulator.servers.fakesnow_client_env gives them for a server a test starts).
    inmet_local_unload_token: SecretStr | None = None
    inmet_local_unload_dir: str | None = None
    # The fakesnow server's password (the local stack sets it with the URL).
    inmet_local_warehouse_password: SecretStr | None = None

    @property
    def local(self) -> bool:
        return bool(self.inmet_snowflake_local_url)

    def connect_kwargs(self) -> dict[str, Any]:
        if self.inmet_snowflake_local_url:
            password = self.inmet_local_warehouse_password
            return fakesnow_connect_kwargs(
                self.inmet_snowflake_local_url,
                password=password.get_secret_value() if password else "local",
            )
        return super().connect_kwargs()

    def cache_key(self) -> tuple[Any, ...]:
        return (*super().cache_key(), self.inmet_snowflake_local_url)


def local_exporter() -> LocalExporter:
    """The exporter of the local stack, from the function's environment (INMET_WAREHOUSE_ADAPTER
    names this function)."""
    storage = load_settings(UploadSettings)
    warehouse = load_settings(LocalSnowflakeSettings)
    s3 = boto3.client("s3", **storage.client_kwargs())
    return LocalExporter(warehouse, s3, storage.s3_bucket)


class LocalExporter(WarehouseQueries):
    """fakesnow cannot unload: its server's unload adapter (``inmet_local.emulator.unload``, the
    local stand-in for COPY INTO @stage) writes each partition's CSV to a local file with DuckDB's
    CSV writer, and this exporter puts each file in S3 whole, behind the contract's header."""

    settings: LocalSnowflakeSettings

    def __init__(self, settings: LocalSnowflakeSettings, s3: Any, bucket: str) -> None:
        super().__init__(settings)
        self.settings = settings
        self.s3 = s3
        self.bucket = bucket

    # Partitions per unload request: the adapter runs one query for the group (a scan of
    # CLEAN) and holds its result, ~9,000 rows a partition, while it writes the files.
    GROUP = 48
    # A daily partition holds at most 366 rows: four times as many go in one request (a year's
    # export asks ~1,100 of them; each request costs a query's fixed price).
    DAILY_GROUP = 4 * GROUP
    # The export service's wave (exports.ExportService.wave_size): several groups per call, so
    # that the next group's unload (the fakesnow server) runs while the last group's objects go
    # to S3 (the moto server): the two servers are separate processes, and one waited for the
    # other. A message of <=100 partitions still scans CLEAN 3 times (groups of 48), not 7
    # (waves of 16). Memory stays bounded by GROUP; a wave's files wait on disk for their put.
    partitions_per_call = 4 * GROUP
    # The same for the daily partitions: four groups of DAILY_GROUP a call, so that their
    # unloads overlap their puts too (a batch's daily partitions, two per station-year, then go
    # in one call: with one group a call, each call unloaded, then waited for its puts).
    daily_partitions_per_call = 4 * DAILY_GROUP
    # Puts in flight at once: a boto3 client is thread-safe ("Multithreading or multiprocessing
    # with clients", boto3.amazonaws.com/v1/documentation/api/latest/guide/clients.html) and
    # moto's server is threaded.
    PUTS_AT_ONCE = 4

    def _unload_headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        token = self.settings.inmet_local_unload_token
        if token is not None:
            headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        return headers

    def _unload(
        self, sql: str, params: Sequence[Any], parts: list[dict[str, Any]], time_column: int = 7
    ) -> Any:
        assert self.settings.inmet_snowflake_local_url is not None
        url = self.settings.inmet_snowflake_local_url.rstrip("/") + LOCAL_UNLOAD_ROUTE
        body = json.dumps(
            {"sql": sql, "params": list(params), "partitions": parts, "time_column": time_column}
        ).encode()
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
        return self._export(
            partitions, CLEAN_COLUMNS, stations_select, self.settings.view, 7, self.GROUP
        )

    def export_daily_partitions(self, partitions: Sequence[tuple[str, int, str]]) -> dict[str, int]:
        table = f"{self.settings.clean}.{DAILY_TABLE}"
        return self._export(
            partitions, DAILY_COLUMNS, daily_stations_select, table, 1, self.DAILY_GROUP
        )

    def _export(
        self,
        partitions: Sequence[tuple[str, int, str]],
        columns: Sequence[str],
        select: Any,
        source: str,
        time_column: int,
        group_size: int,
    ) -> dict[str, int]:
        """Unload the partitions a group at a time; each group's objects go to S3 while the
        next group is unloaded. Returns once every object is written; a failed put or unload
        is raised (the objects already written are complete: each is one PUT)."""
        header = (",".join(columns) + "\n").encode("utf-8")
        written: dict[str, int] = {}
        ordered = sorted(partitions)
        # Inside the unload route's folder: the route writes nowhere else.
        folder = self.settings.inmet_local_unload_dir
        # The pool is left (waiting for the puts in flight) before the folder is removed.
        with (
            tempfile.TemporaryDirectory(prefix="inmet-unload-", dir=folder) as tmp,
            ThreadPoolExecutor(max_workers=self.PUTS_AT_ONCE) as pool,
        ):
            puts: list[Future[None]] = []
            for start in range(0, len(ordered), group_size):
                _raise_failed(puts)  # a put failed: stop before unloading more
                group = ordered[start : start + group_size]
                sql, params = select(
                    source,
                    sorted({s for s, _, _ in group}),
                    min(y for _, y, _ in group),
                    max(y for _, y, _ in group),
                )
                paths = {key: Path(tmp, f"{start + i}.csv") for i, (_, _, key) in enumerate(group)}
                rows = self._unload(
                    sql,
                    params,
                    [{"station_id": s, "year": y, "path": str(paths[key])} for s, y, key in group],
                    time_column,
                )
                # A put is mostly waiting on moto, and a year's export puts ~1,700 objects.
                puts.extend(pool.submit(self._put_file, k, p, header) for k, p in paths.items())
                for _, _, key in group:
                    written[key] = int(rows.get(str(paths[key]), 0))
            for put in puts:
                put.result()
        return written

    def _put_file(self, key: str, path: Path, header: bytes) -> None:
        """The unloaded file at ``path`` as object ``key``, behind the contract's header."""
        data = header + (path.read_bytes() if path.exists() else b"")
        path.unlink(missing_ok=True)
        try:
            # One PUT of the whole object: it appears whole or not at all.
            self.s3.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType="text/csv; charset=utf-8"
            )
        except Exception as exc:
            raise DependencyUnavailable("S3", str(exc)) from exc

    def remove_daily_partition(self, station_id: str, year: int, key: str) -> None:
        self.remove_partition(station_id, year, key)

    def remove_partition(self, station_id: str, year: int, key: str) -> None:
        try:
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            raise DependencyUnavailable("S3", str(exc)) from exc


def _raise_failed(futures: Sequence[Future[None]]) -> None:
    """Raise the error of the first finished future that failed, if any."""
    for future in futures:
        if future.done() and future.exception() is not None:
            future.result()
