"""How every `inmet` command finds the running local stack: one rule, stated once.

`inmet local up` (and `inmet local run`) hold a lock on ``<data-dir>/stack.lock`` for as long as
they run and write ``<data-dir>/stack.json``: the process id, the upload API's URL, the
functions' environment (moto's endpoint and credentials, the bucket, the fakesnow URL) and the
local resource names. A command that talks to the pipeline (`upload`, `status`, `fetch`,
`local invoke`) reads that file through :func:`read_stack`, so all of them find the same stack
the same way, and each says which one it uses.

Precedence, the same for every command (decided here, documented in the README):

1. an explicit target: the command's option (``--api-url``), or the setting in the environment
   or ``.env`` (``INMET_API_URL`` for upload/status; ``S3_BUCKET`` for ``fetch``;
   ``SNOWFLAKE_ACCOUNT`` or ``INMET_SNOWFLAKE_LOCAL_URL`` for ``fetch --from snowflake``) — a
   deployed pipeline, or a server started by hand;
2. else the local stack running with ``--data-dir`` (default ``.local``, env
   ``INMET_DATA_DIR``);
3. else a one-line error that names both ways.

Explicit settings win because they cannot be there by accident, while a stack left running in
another terminal can. A setting that is empty (``S3_BUCKET=`` as in .env.example) counts as
unset.

The settings in "environment or ``.env``" are read by the one `.env` reader at the end of this
module (:func:`configured`, :func:`environment`), which the CLI and ``sqlproject`` share.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

STATE_FILE: Final = "stack.json"
LOCK_FILE: Final = "stack.lock"
DATA_DIR_ENV: Final = "INMET_DATA_DIR"
DEFAULT_DATA_DIR: Final = Path(".local")


class StackNotFound(RuntimeError):  # noqa: N818 - a condition, not a malfunction
    """No local stack runs with this data dir; the message says what to do."""


class DataDirInUse(RuntimeError):  # noqa: N818 - a condition, not a malfunction
    """Another local stack holds this data dir; the message names it."""


@dataclass(frozen=True, slots=True)
class StackInfo:
    """What a running local stack wrote about itself (``<data-dir>/stack.json``)."""

    data_dir: Path
    pid: int
    api_url: str
    env: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    # The key the stack's API requires, when it has one (x-api-key); passed along by every
    # command that calls the API.
    api_key: str | None = None
    sample: bool = False  # the stack of the generated sample (its own data dir)

    def describe(self) -> str:
        what = "the generated-sample stack" if self.sample else "the local stack"
        return f"{what} in {self.data_dir} (pid {self.pid}, {self.api_url})"

    @property
    def bucket(self) -> str:
        return self.names.get("DataBucket") or self.env.get("S3_BUCKET", "")

    @property
    def table(self) -> str:
        return self.names.get("UploadsTable") or self.env.get("INMET_STATUS_TABLE", "")

    def aws_client_kwargs(self) -> dict[str, Any]:
        """boto3 client arguments for the stack's moto server."""
        return {
            "endpoint_url": self.env["AWS_ENDPOINT_URL"],
            "region_name": self.env.get("AWS_REGION", "us-east-1"),
            "aws_access_key_id": self.env.get("AWS_ACCESS_KEY_ID", "local"),
            "aws_secret_access_key": self.env.get("AWS_SECRET_ACCESS_KEY", "local"),
        }


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def read_stack(data_dir: Path) -> StackInfo:
    """The stack running with ``data_dir``, or ``StackNotFound`` saying why there is none."""
    path = data_dir / STATE_FILE
    try:
        state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StackNotFound(
            f"no local stack is running with --data-dir {data_dir} ({path} does not exist); "
            "start one with `inmet local up` in another terminal"
        ) from None
    except (OSError, ValueError) as exc:
        raise StackNotFound(f"{path} cannot be read ({exc}); restart `inmet local up`") from None
    pid = int(state.get("pid") or 0)
    if not pid_alive(pid):
        raise StackNotFound(
            f"the local stack recorded in {path} (pid {pid}) is not running any more; "
            "start it again with `inmet local up`"
        )
    return StackInfo(
        data_dir=data_dir,
        pid=pid,
        api_url=str(state.get("api_url", "")),
        env={str(k): str(v) for k, v in (state.get("env") or {}).items()},
        names={str(k): str(v) for k, v in (state.get("names") or {}).items()},
        api_key=state.get("api_key") or None,
        sample=bool(state.get("sample")),
    )


def write_state(data_dir: Path, state: dict[str, Any]) -> Path:
    """Write stack.json atomically (a reader never sees half a file)."""
    path = data_dir / STATE_FILE
    tmp = path.with_suffix(".json.tmp")
    # It holds the stack's API key: readable by this user only.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(state, indent=2))
    tmp.replace(path)
    return path


class DataDirLock:
    """An exclusive lock on ``<data-dir>/stack.lock`` for a stack's lifetime.

    The warehouse in a data dir is one DuckDB file, which one process can hold; a second stack
    on it would fail deep inside fakesnow. The lock is taken first, so the second stack says in
    one line who holds the folder. The operating system releases it when the process dies, so a
    crashed stack never leaves the folder locked.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        import fcntl  # POSIX, like the stack itself; imported here so `inmet validate` needs none

        self.data_dir.mkdir(parents=True, exist_ok=True)
        handle = (self.data_dir / LOCK_FILE).open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise DataDirInUse(in_use_message(self.data_dir, holder)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            import fcntl

            with contextlib.suppress(OSError):
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def held(self) -> bool:
        return self._handle is not None


def in_use_message(data_dir: Path, holder_pid: str = "") -> str:
    try:
        stack = read_stack(data_dir)
        who = f"the local stack running at {stack.api_url} (pid {stack.pid})"
    except StackNotFound:
        who = f"another `inmet local` process (pid {holder_pid or '?'}), still starting"
    return (
        f"the data dir {data_dir} is in use by {who}; stop it, or give this one another "
        "--data-dir (each stack needs its own warehouse)"
    )


# -- the .env file: one reader for every command ------------------------------------------------
# The environment wins over .env and an empty value counts as unset, as in
# inmet_pipeline.settings (pydantic-settings, env_ignore_empty). The differences from the
# settings are deliberate: the file is read at each call (INMET_ENV_FILE is looked up then, not
# once at import, so a command and the tests see the file as it is now), and its names are
# matched case-insensitively (as the settings' case_sensitive=False does) by upper-casing them.
ENV_FILE_ENV: Final = "INMET_ENV_FILE"


def env_file() -> Path:
    """The `.env` every command reads: INMET_ENV_FILE, else ./.env."""
    return Path(os.environ.get(ENV_FILE_ENV, ".env"))


def dotenv_settings(path: Path | None = None) -> dict[str, str]:
    """The non-empty values of the `.env` file (``path``, default :func:`env_file`), names
    upper-cased; empty when there is no such file or it cannot be read."""
    path = env_file() if path is None else path
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    try:
        values = dotenv_values(path)
    except (OSError, ValueError):
        return {}
    return {name.upper(): value for name, value in values.items() if value}


def environment() -> dict[str, str]:
    """The process environment over the values of `.env` (the environment wins, as in
    pydantic-settings): what a child process such as schemachange should see."""
    values = dotenv_settings()
    values.update({k: v for k, v in os.environ.items() if v})
    return values


def configured(name: str) -> str | None:
    """A setting's value from the environment, else from the .env file (INMET_ENV_FILE); an
    empty value counts as unset, as in inmet_pipeline.settings."""
    return os.environ.get(name) or dotenv_settings().get(name.upper())
