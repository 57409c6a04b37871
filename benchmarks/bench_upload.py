"""Latency of POST /uploads and throughput of `inmet upload`, over real HTTP on 127.0.0.1.

uvicorn (one worker) serves the upload API against moto server; both are child processes.
Goal (issue 3): p50 of POST /uploads with a ~0.8 MB file at most 150 ms on a 2-core machine.

Run: `.venv/bin/python benchmarks/bench_upload.py [--requests 60] [--files 100] [--durable]`.
``--durable``: moto as the local stack runs it, keeping the bucket and the status table on disk
and requiring the stack's access key (``inmet_local.emulator.aws_state``), to measure what that
costs each upload.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from inmet_local.emulator.servers import aws_env, moto_client_kwargs, moto_server, uvicorn_server
from inmet_local.synth.synth import generate_archive, generate_station_year, station_catalogue
from inmet_local.workspace.template import LocalNames, provision


def _variants(base: bytes, count: int) -> list[bytes]:
    """``count`` distinct valid files of the same size: the last row's rain value differs."""
    head, last = base.rstrip(b"\n").rsplit(b"\n", 1)
    fields = last.split(b";")
    out = []
    for i in range(count):
        fields[2] = str(i % 400).encode()
        out.append(head + b"\n" + b";".join(fields) + b"\n")
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--durable", action="store_true", help="moto keeps its state on disk")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        key = "LOCALBENCH" if args.durable else "local"
        moto = moto_server(
            log_path=tmp / "moto.log",
            state_dir=tmp / "aws" if args.durable else None,
            access_key=key if args.durable else None,
        ).start()
        try:
            provision(
                moto_client_kwargs(moto.url, access_key=key),
                LocalNames(bucket="bench", table="bench-uploads"),
            )
            env = {
                **aws_env(moto.url, access_key=key),
                "S3_BUCKET": "bench",
                "INMET_STATUS_TABLE": "bench-uploads",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
            api = uvicorn_server(env, log_path=tmp / "api.log").start()
            try:
                station = station_catalogue(1)[0]
                base = generate_station_year(station, 2024, seed=1).data
                files = _variants(base, args.requests + 5)
                print(
                    f"POST /uploads: {args.requests} distinct files of {len(base) / 1e6:.2f} MB"
                    f" through uvicorn on 127.0.0.1 against moto server"
                )
                with httpx.Client(base_url=api.url, timeout=60) as client:
                    for warm in files[:5]:
                        client.post("/uploads", content=warm, headers={"Content-Type": "text/csv"})
                    latencies = []
                    for data in files[5:]:
                        start = time.perf_counter()
                        response = client.post(
                            "/uploads", content=data, headers={"Content-Type": "text/csv"}
                        )
                        latencies.append((time.perf_counter() - start) * 1000)
                        assert response.status_code == 201, response.text
                    dup = []
                    for data in files[5:25]:
                        start = time.perf_counter()
                        response = client.post(
                            "/uploads", content=data, headers={"Content-Type": "text/csv"}
                        )
                        dup.append((time.perf_counter() - start) * 1000)
                        assert response.status_code == 200
                print(
                    f"  new file      p50 {statistics.median(latencies):6.1f} ms   "
                    f"p95 {_pct(latencies, 0.95):6.1f} ms   max {max(latencies):6.1f} ms   "
                    "(goal: p50 <= 150 ms)"
                )
                print(
                    f"  duplicate     p50 {statistics.median(dup):6.1f} ms   "
                    f"p95 {_pct(dup, 0.95):6.1f} ms"
                )

                folder = tmp / "archive"
                paths = list(generate_archive(folder, stations=args.files, year=2023, seed=2))
                size = sum(p.stat().st_size for p in paths)
                start = time.perf_counter()
                result = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "inmet_local",
                        "upload",
                        "--api-url",
                        api.url,
                        "--json",
                        str(folder),
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                elapsed = time.perf_counter() - start
                assert result.returncode == 0, result.stderr[-2000:]
                print(
                    f"inmet upload: {len(paths)} files, {size / 1e6:.1f} MB in {elapsed:.1f} s"
                    f" = {len(paths) / elapsed:.1f} files/s, {size / 1e6 / elapsed:.1f} MB/s "
                    "(concurrency 8, CLI start-up included)"
                )
            finally:
                api.stop()
        finally:
            moto.stop()


if __name__ == "__main__":
    main()
