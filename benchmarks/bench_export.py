"""Export cost follows the batch, not the table; `inmet fetch` memory stays flat.

1. Export one station-year after 10 and after 500 station-years are loaded; prints both times
   and the ratio (goal: at most 1.5x).
2. `inmet fetch --from snowflake` and `--from s3` peak memory (RSS of the fetch process) with
   10 and with 500 station-years in CLEAN; prints both and the ratio (flat means ~1x).

Uses the files cached by benchmarks/bench_warehouse.py in data/bench/2024-564/ (generates them
when absent). Run: `.venv/bin/python benchmarks/bench_export.py [--small 10] [--large 500]`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from bench_data import bench_year

from inmet_local.emulator.local_adapter import LocalExporter
from inmet_local.emulator.servers import (
    aws_env,
    fakesnow_client_env,
    fakesnow_server,
    fakesnow_server_kwargs,
    fakesnow_settings,
    moto_client_kwargs,
    moto_server,
)
from inmet_local.emulator.warehouse import LocalWarehouse
from inmet_local.snowflake.sqlproject import variables
from inmet_local.workspace.template import LocalNames, provision
from inmet_pipeline.exports import partition_key

REPO = Path(__file__).resolve().parent.parent


def fetch_rss_mb(source: str, env: dict[str, str], out: Path) -> tuple[float, float]:
    """Peak RSS (MB) and seconds of `inmet fetch` in its own process.

    VmHWM from /proc, not getrusage: after fork + exec, ru_maxrss still counts the parent's
    pages, which would charge this benchmark's own memory to the fetch.
    """
    code = (
        "import sys, time; from inmet_local.cli import app; t=time.perf_counter()\n"
        "try:\n    app(['fetch', '--from', sys.argv[1], '--out', sys.argv[2]])\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print(int(hwm.split()[1]) / 1024, time.perf_counter() - t)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, source, str(out)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    rss, seconds = result.stdout.strip().splitlines()[-1].split()
    return float(rss), float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=500)
    args = parser.parse_args()
    objects = bench_year().raw_objects[: args.large]
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        moto = moto_server().start()
        snow = fakesnow_server().start()
        try:
            kwargs = moto_client_kwargs(moto.url)
            provision(kwargs, LocalNames(bucket="bench", table="bench-uploads"))
            s3 = boto3.client("s3", **kwargs)  # type: ignore[call-overload]
            env = {
                **aws_env(moto.url),
                "S3_BUCKET": "bench",
                "INMET_ENV_FILE": "/dev/null",
                **fakesnow_client_env(snow),
            }
            settings = fakesnow_settings(fakesnow_client_env(snow))
            exporter = LocalExporter(settings, s3, "bench")
            with LocalWarehouse(
                fakesnow_server_kwargs(snow), values=variables(), work_dir=tmp / "pipe"
            ) as wh:
                wh.deploy()
                figures = {}
                loaded = 0
                for size in (args.small, args.large):
                    wh.load_objects(objects[loaded:size])
                    wh.run_task()
                    loaded = size
                    station = objects[0][0].split("station=")[1][:4]
                    times = []
                    for _ in range(5):
                        start = time.perf_counter()
                        exporter.export_partitions([(station, 2024, partition_key(station, 2024))])
                        times.append(time.perf_counter() - start)
                    # Export every partition so that fetch --from s3 has them all.
                    for key, _ in objects[:size]:
                        st = key.split("station=")[1][:4]
                        exporter.export_partitions([(st, 2024, partition_key(st, 2024))])
                    rss_wh, t_wh = fetch_rss_mb("snowflake", env, tmp / "wh.csv")
                    rss_s3, t_s3 = fetch_rss_mb("s3", env, tmp / "s3.csv")
                    rows = sum(1 for _ in (tmp / "s3.csv").open()) - 1
                    figures[size] = (min(times), rss_wh, rss_s3, rows, t_wh, t_s3)
                    print(
                        f"{size:4d} station-years in CLEAN ({rows:,} rows): export one "
                        f"station-year {min(times) * 1000:7.1f} ms; fetch peak RSS "
                        f"--from snowflake {rss_wh:6.0f} MB ({t_wh:.1f} s), "
                        f"--from s3 {rss_s3:6.0f} MB ({t_s3:.1f} s)"
                    )
        finally:
            snow.stop()
            moto.stop()
    small, large = figures[args.small], figures[args.large]
    print(f"export time ratio {args.large}/{args.small}: {large[0] / small[0]:.2f} (goal: <= 1.5)")
    print(
        f"fetch memory ratio {args.large}/{args.small}: snowflake "
        f"{large[1] / small[1]:.2f}, s3 {large[2] / small[2]:.2f} for "
        f"{large[3] / small[3]:.0f}x the rows (flat = about 1)"
    )


if __name__ == "__main__":
    main()
