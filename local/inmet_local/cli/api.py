"""`inmet upload` and `inmet status`: the commands that call the upload API, and how they find
it (discovery's precedence: --api-url / INMET_API_URL, else the running local stack)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer

from inmet_local.cli.options import (
    ApiKeyOption,
    ApiUrlOption,
    AuthMode,
    AuthOption,
    DataDirOption,
    input_files,
    parse_choice,
)
from inmet_local.cli.output import (
    err_console,
    fail,
    outcome_dict,
    print_upload_summary,
    progress_bar,
    using,
)
from inmet_local.client.client import ApiClient, Outcome, upload_many
from inmet_local.workspace.discovery import DEFAULT_DATA_DIR, StackNotFound, configured, read_stack


def signer(auth: AuthMode | None, url: str) -> httpx.Auth | None:
    """The request signer for --auth (None for the API key). Without --auth or INMET_API_AUTH
    in the environment, INMET_API_AUTH in .env decides, checked as the option is."""
    if auth is None:
        try:
            auth = parse_choice(AuthMode, "--auth", configured("INMET_API_AUTH") or AuthMode.KEY)
        except typer.BadParameter as exc:
            raise fail(exc.message) from exc
    if auth is AuthMode.KEY:
        return None
    from inmet_local.client.signing import (
        CredentialsMissingError,
        SigV4HttpxAuth,
        default_credentials,
        region_of,
    )

    region = region_of(url) or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise fail(f"--auth iam: cannot tell the region from {url}; set AWS_REGION")
    try:
        return SigV4HttpxAuth(default_credentials(), region)
    except CredentialsMissingError as exc:
        raise fail(str(exc)) from exc


def api_target(api_url: str | None, api_key: str | None, data_dir: Path) -> tuple[str, str | None]:
    """(URL, key) of the upload API, by discovery's precedence: --api-url / INMET_API_URL
    (environment or .env), else the local stack running with --data-dir, else an error."""
    url = api_url or configured("INMET_API_URL")
    if url and not url.startswith(("http://", "https://")):
        raise fail(f"--api-url / INMET_API_URL must start with http:// or https://, not {url!r}")
    if url:
        using(f"the upload API at {url} (--api-url / INMET_API_URL)")
        return url, api_key or configured("INMET_API_KEY")
    try:
        stack = read_stack(data_dir)
    except StackNotFound as exc:
        raise fail(f"{exc}; or point at an API with --api-url or INMET_API_URL", 1) from exc
    using(stack.describe())
    # The stack's own key when it has one (it is the key that works there; a key in .env is
    # for the deployed API), else whatever was given.
    return stack.api_url, stack.api_key or api_key


def upload_command(
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="PATH", help="Files, folders or INMET yearly .zip archives."),
    ],
    api_url: ApiUrlOption = None,
    api_key: ApiKeyOption = None,
    auth: AuthOption = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Requests in flight.")] = 8,
    retries: Annotated[
        int, typer.Option(min=1, max=20, help="Attempts per file on 429/503/connection errors.")
    ] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list for scripts.")] = (
        False
    ),
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
) -> None:
    """Upload station files to the API (one request per file, retried with backoff).

    Sends to --api-url / INMET_API_URL when set, else to the local stack running with
    --data-dir (`inmet local up`). A failed upload is started over by uploading it again.

    Exit code 0 when every file was accepted or already there, 1 when any was rejected or
    failed, 2 for a usage problem.
    """
    from inmet_local.synth.sample import is_generated

    files = input_files(paths)
    url, key = api_target(api_url, api_key, data_dir)
    generated = sum(1 for f in files if is_generated(f))
    if generated:
        err_console.print(
            f"[yellow]note:[/] {generated} of these {len(files)} file(s) are generated samples "
            "(listed in a GENERATED_BY_INMET_SYNTH.json), not real INMET data",
            highlight=False,
        )
    auth_signer = signer(auth, url)
    with (
        ApiClient(url, key, max_attempts=retries, auth=auth_signer) as client,
        progress_bar("uploading", disable=as_json) as progress,
    ):
        task = progress.add_task("upload", total=len(files))
        results = upload_many(client, files, concurrency, on_done=lambda _r: progress.advance(task))
    results.sort(key=lambda r: r.source)
    if as_json:
        sys.stdout.write(
            json.dumps([outcome_dict(r) for r in results], ensure_ascii=False, indent=2) + "\n"
        )
    else:
        print_upload_summary(results, url)
    if results and all(r.outcome == Outcome.FAILED and r.status_code is None for r in results):
        raise fail(f"cannot reach the upload API at {url}: {results[0].message}", 1)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def status_command(
    upload_id: Annotated[
        str,
        typer.Argument(
            metavar="UPLOAD_ID",
            help="The upload_id that POST /uploads returned, or a unique prefix of it (at "
            "least 4 characters, as `inmet upload` prints them).",
        ),
    ],
    api_url: ApiUrlOption = None,
    api_key: ApiKeyOption = None,
    auth: AuthOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
) -> None:
    """Print an upload's status document (received → exported, or failed).

    Asks --api-url / INMET_API_URL when set, else the local stack running with --data-dir.
    """
    url, key = api_target(api_url, api_key, data_dir)
    with ApiClient(url, key, max_attempts=1, auth=signer(auth, url)) as client:
        try:
            response = client.status(upload_id.strip().lower())
        except httpx.TransportError as exc:
            raise fail(f"cannot reach {url}: {exc}", 1) from exc
    if response.status_code != 200:
        try:
            error = response.json()["error"]
            message = str(error["message"])
        except (ValueError, KeyError, TypeError):
            error, message = {}, response.text[:200]
        candidates = [
            f"{d.get('upload_id', '')[:16]} {d.get('filename') or ''}".strip()
            for d in (error.get("details") or [])
            if isinstance(d, dict) and d.get("upload_id")
        ]
        raise fail(
            f"HTTP {response.status_code}: {message}"
            + (f" Candidates: {'; '.join(candidates)}" if candidates else ""),
            1,
        )
    sys.stdout.write(json.dumps(response.json(), ensure_ascii=False, indent=2) + "\n")
