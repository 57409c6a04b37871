"""Start and stop the local servers (moto, uvicorn, fakesnow) as child processes on 127.0.0.1.

Each server runs in its own process group so that stopping it also stops anything it spawned,
and readiness is polled (never a fixed sleep). Each is started through
``inmet_local.emulator.watchdog``, so that it stops when the process that started it dies.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from inmet_local.emulator.aws_state import ACCESS_KEY_ENV, READY_PATH, STATE_DIR_ENV
from inmet_local.emulator.local_adapter import (
    LOCAL_ADAPTER,
    PASSWORD_ENV,
    LocalSnowflakeSettings,
    fakesnow_connect_kwargs,
)
from inmet_local.emulator.watchdog import WATCH_FD_ENV, watch_fd

HOST = "127.0.0.1"
WATCHED = [sys.executable, "-m", "inmet_local.emulator.watchdog"]  # + the server's module
__all__ = ["fakesnow_connect_kwargs"]  # re-exported for the tools: one definition


class ServerError(RuntimeError):
    """A server did not start; the message says which and shows its last log lines."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, alive: Callable[[], bool] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    pause = 0.05
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise ServerError(f"{what} exited during start-up")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(pause)
        pause = min(pause * 1.5, 0.5)
    raise ServerError(f"{what} not ready after {timeout:g} s")


def http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        return httpx.get(url, timeout=2.0).status_code < 500

    return check


@dataclass
class ManagedProcess:
    name: str
    argv: Sequence[str]
    url: str
    ready_url: str
    env: Mapping[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    # Variables a client of this server needs (secrets it was started with), if any.
    client_env: Mapping[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ManagedProcess:
        env = {**os.environ, **self.env}
        pass_fds: tuple[int, ...] = ()
        if list(self.argv[: len(WATCHED)]) == WATCHED:
            pass_fds = (watch_fd(),)  # the server stops when this process dies (watchdog.py)
            env[WATCH_FD_ENV] = str(pass_fds[0])
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            list(self.argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self._log else subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() ends its children too
            pass_fds=pass_fds,
        )
        try:
            wait_until(http_ok(self.ready_url), timeout, self.name, alive=self.alive)
        except ServerError as exc:
            self.stop()
            raise ServerError(f"{exc}{self._tail()}") from None
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").splitlines()[-15:]
        return "\n  " + "\n  ".join(lines) if lines else ""

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the server has used so far; None when it is not running
        or the system has no /proc (the figure is for the run summary only)."""
        if not self.alive():
            return None
        assert self.process is not None
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, timeout: float = 10.0) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None


def moto_server(
    port: int | None = None,
    log_path: Path | None = None,
    state_dir: Path | None = None,
    access_key: str | None = None,
) -> ManagedProcess:
    """moto server; with ``state_dir`` the bucket and the table are kept there, with
    ``access_key`` it refuses requests signed with any other key
    (``inmet_local.emulator.aws_state``)."""
    port = port or free_port()
    url = f"http://{HOST}:{port}"
    env = {}
    if state_dir is not None:
        env[STATE_DIR_ENV] = str(state_dir)
    if access_key is not None:
        env[ACCESS_KEY_ENV] = access_key
    return ManagedProcess(
        "moto server",
        [*WATCHED, "inmet_local.emulator.moto_server", "-H", HOST, "-p", str(port)],
        url,
        f"{url}{READY_PATH}",
        env=env,
        log_path=log_path,
        client_env={"AWS_ACCESS_KEY_ID": access_key or "local"},
    )


def uvicorn_server(
    env: Mapping[str, str], port: int | None = None, log_path: Path | None = None, workers: int = 1
) -> ManagedProcess:
    """The upload API under uvicorn, behind the local body-read deadline
    (``inmet_local.emulator.api_app``)."""
    port = port or free_port()
    url = f"http://{HOST}:{port}"
    argv = [
        *WATCHED,
        "uvicorn",
        "inmet_local.emulator.api_app:app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if workers > 1:
        argv += ["--workers", str(workers)]
    return ManagedProcess(
        "upload API (uvicorn)", argv, url, f"{url}/health", env=env, log_path=log_path
    )


def aws_env(
    endpoint_url: str, region: str = "us-east-1", access_key: str = "local"
) -> dict[str, str]:
    """Credentials and endpoint for talking to moto server: the stack's access key (moto
    checks no signature, so the secret is any text; the key is what aws_state checks)."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": "local",
    }


def moto_client_kwargs(
    endpoint_url: str, region: str = "us-east-1", access_key: str = "local"
) -> dict[str, str]:
    """boto3 client/resource keyword arguments for moto server (aws_env, as arguments)."""
    return {
        "endpoint_url": endpoint_url,
        "region_name": region,
        "aws_access_key_id": access_key,
        "aws_secret_access_key": "local",
    }


def moto_access_key(server: ManagedProcess) -> str:
    """The access key a moto server started by moto_server() accepts."""
    return server.client_env.get("AWS_ACCESS_KEY_ID", "local")


def fakesnow_server(
    db_path: Path | None = None,
    port: int | None = None,
    log_path: Path | None = None,
    unload_dir: Path | None = None,
    read_dirs: Sequence[Path] | None = None,
    translate_once: bool = True,
) -> ManagedProcess:
    """The local Snowflake: fakesnow's HTTP server, one shared warehouse (on disk if db_path).

    It accepts only sessions that log in with its password (generated here; in
    ``client_env`` and ``fakesnow_server_kwargs``). Given ``read_dirs`` (the pipe's work
    folder), its DuckDB opens no file outside them and ``db_path``; without (the tests' and
    benchmarks' own servers, whose pipes write to temporary folders) file access is as
    fakesnow has it. Its unload route writes only
    inside ``unload_dir`` (a fresh temporary folder by default) and only for callers with the
    server's token: ``fakesnow_client_env`` gives the variables the exporter needs to reach it.
    ``translate_once=False`` has it translate every statement anew (fakesnow_cache.py: its
    translation cache off, for the tests and benchmarks that compare both ways)."""
    import secrets
    import tempfile

    port = port or free_port()
    url = f"http://{HOST}:{port}"
    folder = unload_dir or Path(tempfile.mkdtemp(prefix="inmet-unload-"))
    argv = [
        *WATCHED,
        "inmet_local.emulator.fakesnow_server",
        "--host",
        HOST,
        "--port",
        str(port),
        "--unload-dir",
        str(folder),
    ]
    if db_path is not None:
        argv += ["--db-path", str(db_path)]
    if not translate_once:
        argv.append("--translate-every-time")
    if read_dirs is not None:
        argv.append("--lock-files")
        for folder_read in read_dirs:
            argv += ["--read-dir", str(folder_read)]
    token = secrets.token_urlsafe(24)
    password = secrets.token_urlsafe(24)
    return ManagedProcess(
        "fakesnow server",
        argv,
        url,
        f"{url}/",
        env={"INMET_LOCAL_UNLOAD_TOKEN": token, PASSWORD_ENV: password},
        log_path=log_path,
        client_env={
            "INMET_SNOWFLAKE_LOCAL_URL": url,
            "INMET_LOCAL_UNLOAD_TOKEN": token,
            "INMET_LOCAL_UNLOAD_DIR": str(folder),
            PASSWORD_ENV: password,
            # The export's warehouse adapter (inmet_pipeline.adapters.snowflake.plugged_exporter).
            "INMET_WAREHOUSE_ADAPTER": LOCAL_ADAPTER,
        },
    )


def fakesnow_server_kwargs(server: ManagedProcess, database: str | None = None) -> dict[str, Any]:
    """snowflake.connector.connect() arguments for a server started by fakesnow_server(), with
    its password."""
    return fakesnow_connect_kwargs(server.url, database, password=server.client_env[PASSWORD_ENV])


def fakesnow_client_env(server: ManagedProcess) -> dict[str, str]:
    """What a client of the fakesnow server (the local exporter) needs in its environment:
    the URL, the unload route's token and folder, and the adapter that uses them."""
    return dict(server.client_env)


def fakesnow_settings(env: Mapping[str, str], database: str = "INMET") -> LocalSnowflakeSettings:
    """The exporter's settings for the fakesnow server that ``env`` (fakesnow_client_env)
    describes, ignoring .env and the process environment's own."""
    from pydantic import SecretStr

    return LocalSnowflakeSettings(
        _env_file=None,
        inmet_snowflake_local_url=env["INMET_SNOWFLAKE_LOCAL_URL"],
        inmet_local_unload_token=SecretStr(env["INMET_LOCAL_UNLOAD_TOKEN"]),
        inmet_local_unload_dir=env["INMET_LOCAL_UNLOAD_DIR"],
        inmet_local_warehouse_password=SecretStr(env[PASSWORD_ENV]),
        snowflake_database=database,
    )
