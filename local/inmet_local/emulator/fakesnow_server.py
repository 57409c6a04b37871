"""Run fakesnow's server with every session sharing one warehouse, persisted in ``--db-path``.

fakesnow's own ``fakesnow -s`` keeps the shared warehouse in memory; the local stack wants it
on disk so that CLEAN survives a restart. The server also answers the local unload adapter's
route (``inmet_local.emulator.unload``), standing in for Snowflake's COPY INTO @stage. Usage:
``INMET_LOCAL_UNLOAD_TOKEN=… python -m inmet_local.emulator.fakesnow_server --port 8765 --db-path
.local/warehouse --unload-dir .local/unload``.
"""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path

UNLOAD_TOKEN_ENV = "INMET_LOCAL_UNLOAD_TOKEN"  # noqa: S105 - a variable name, not a secret


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
    args = parser.parse_args(argv)
    # The unload route's secret comes in the environment, not on the command line (which any
    # user of the machine can read in `ps`).
    token = os.environ.get(UNLOAD_TOKEN_ENV) or secrets.token_urlsafe(24)

    import importlib

    import uvicorn
    from fakesnow.instance import FakeSnow

    # The module, not the fakesnow.server() helper function of the same name.
    server_module = importlib.import_module("fakesnow.server")
    if args.db_path is not None:
        args.db_path.mkdir(parents=True, exist_ok=True)
        server_module.shared_fs = FakeSnow(db_path=args.db_path)  # type: ignore[attr-defined]
    from inmet_local.emulator.fakesnow_errors import install
    from inmet_local.emulator.unload import route

    install()  # constraint violations answered as Snowflake's errors, not HTTP 500

    args.unload_dir.mkdir(parents=True, exist_ok=True)
    server_module.app.router.routes.insert(
        0, route(lambda: server_module.shared_fs, args.unload_dir, token)
    )
    uvicorn.run(server_module.app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
