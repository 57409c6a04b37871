"""Run fakesnow's server with every session sharing one warehouse, persisted in ``--db-path``.

fakesnow's own ``fakesnow -s`` keeps the shared warehouse in memory; the local stack wants it
on disk so that CLEAN survives a restart. The server also answers the local unload adapter's
route (``inmet_local.emulator.unload``), standing in for Snowflake's COPY INTO @stage. Usage:
``INMET_LOCAL_UNLOAD_TOKEN=… INMET_LOCAL_WAREHOUSE_PASSWORD=… python -m
inmet_local.emulator.fakesnow_server --port 8765 --db-path .local/warehouse --unload-dir
.local/unload --read-dir .local/pipe``.

fakesnow's server lets any user in with any password, and its DuckDB reads any file this user
can (``read_text('/etc/passwd')``, the stack's own ``stack.json``). Here:

- a login must give the user ``inmet_local`` and the server's password (from the environment);
  a session may not choose its own database file (fakesnow's ``FAKESNOW_DB_PATH``), and
  fakesnow's unauthenticated stage-upload route is closed (the pipe reads its files directly);
- with ``--lock-files``, DuckDB opens files only in ``--db-path``, the ``--read-dir``
  folders and ``--unload-dir`` (where the unload route has it write the CSVs): external access off,
  those folders allowed, and the configuration locked so no session can turn it back on
  ("Securing DuckDB", https://duckdb.org/docs/2.0/operations_manual/securing_duckdb/overview.html:
  ``enable_external_access``, ``allowed_directories``, ``lock_configuration``).
"""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path
from typing import Any

from inmet_local.emulator.local_adapter import LOCAL_USER, PASSWORD_ENV

UNLOAD_TOKEN_ENV = "INMET_LOCAL_UNLOAD_TOKEN"  # noqa: S105 - a variable name, not a secret


def lock_down(duck_conn: Any, readable: list[Path]) -> None:
    """DuckDB opens no file outside ``readable`` from now on, and no session can change it."""
    folders = ", ".join("'" + str(f.resolve()).replace("'", "''") + "/'" for f in readable)
    duck_conn.execute(f"SET allowed_directories = [{folders}]")
    duck_conn.execute("SET enable_external_access = false")
    duck_conn.execute("SET lock_configuration = true")


def login_guard(original: Any, password: str) -> Any:
    """fakesnow's login route, refusing any other user or password (and a session's own
    database file)."""
    import gzip
    import hmac
    import json

    from starlette.requests import Request
    from starlette.responses import JSONResponse

    async def login(request: Request) -> Any:
        body = await request.body()  # Starlette keeps it: the original handler reads it again
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        try:
            data = json.loads(body)["data"]
            user, given = str(data.get("LOGIN_NAME", "")), str(data.get("PASSWORD", ""))
            own_file = "FAKESNOW_DB_PATH" in (data.get("SESSION_PARAMETERS") or {})
        except (ValueError, KeyError, TypeError, AttributeError):
            user, given, own_file = "", "", True
        if (
            own_file
            or user.lower() != LOCAL_USER
            or not hmac.compare_digest(given.encode(), password.encode())
        ):
            return JSONResponse(
                {
                    "data": None,
                    "code": "390100",
                    "message": "Incorrect username or password was specified.",
                    "success": False,
                }
            )
        return await original(request)

    return login


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--db-path",
        type=Path,
        default=None,
        help="folder for the DuckDB files (in memory when omitted)",
    )
    parser.add_argument(
        "--unload-dir",
        type=Path,
        required=True,
        help="the only folder the unload route writes to",
    )
    parser.add_argument(
        "--read-dir",
        type=Path,
        action="append",
        default=[],
        help="a folder whose files the warehouse may read (the pipe's work folder); repeatable",
    )
    parser.add_argument(
        "--lock-files",
        action="store_true",
        help="open no file outside --db-path and the --read-dir folders",
    )
    parser.add_argument(
        "--translate-every-time",
        action="store_true",
        help="translate every statement to DuckDB's SQL anew, keeping none (fakesnow_cache.py)",
    )
    args = parser.parse_args(argv)
    # The unload route's secret comes in the environment, not on the command line (which any
    # user of the machine can read in `ps`).
    token = os.environ.get(UNLOAD_TOKEN_ENV) or secrets.token_urlsafe(24)
    password = os.environ.get(PASSWORD_ENV) or secrets.token_urlsafe(24)

    import importlib

    import uvicorn
    from fakesnow.instance import FakeSnow
    from starlette.responses import Response
    from starlette.routing import Route

    # The module, not the fakesnow.server() helper function of the same name.
    server_module = importlib.import_module("fakesnow.server")
    if args.db_path is not None:
        args.db_path.mkdir(parents=True, exist_ok=True)
        server_module.shared_fs = FakeSnow(db_path=args.db_path)  # type: ignore[attr-defined]
    from inmet_local.emulator import fakesnow_cache, fakesnow_errors
    from inmet_local.emulator.unload import route

    fakesnow_errors.install()  # constraint violations answered as Snowflake's errors, not HTTP 500
    if not args.translate_every_time:
        fakesnow_cache.install()  # each long statement translated to DuckDB's SQL once

    # The unload folder too: the unload route has DuckDB write each query's CSV there itself
    # (unload.py), and only the route writes to it (callers need the stack's token).
    readable = [
        *([args.db_path] if args.db_path is not None else []),
        *args.read_dir,
        args.unload_dir,
    ]
    for folder in readable:
        folder.mkdir(parents=True, exist_ok=True)
    if args.lock_files:
        lock_down(server_module.shared_fs.duck_conn, readable)
    routes = server_module.app.router.routes
    routes.insert(0, route(lambda: server_module.shared_fs, args.unload_dir, token))
    routes.insert(
        0,
        Route(
            "/session/v1/login-request",
            login_guard(server_module.login_request, password),
            methods=["POST"],
        ),
    )
    routes.insert(
        0, Route("/fs_bucket/{path:path}", lambda _: Response(status_code=403), methods=["PUT"])
    )
    uvicorn.run(server_module.app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
