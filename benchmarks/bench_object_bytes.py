"""Would compressed S3 objects make the local run faster? (issue 17's first lever)

The local run moves a year's bytes through the moto server: each station file to ``landing/``
and ``raw/`` (441 MB each), read back by the pipe, and ~750 MB of exported partitions written
and fetched. Gzip would cut those bytes several times, but it is not free: someone compresses
every object and someone decompresses it. This prints, side by side in one run:

- moto's CPU per request for a tiny object and for a station-year-sized one (put and get), and
  the client's, so the cost of a megabyte is separated from the cost of a request;
- gzip's CPU to compress and decompress the same bytes (levels 1 and 6);
- the year's balance: the CPU the smaller bodies would save in moto and its clients against the
  CPU compression would add, for the raw/ objects and for the exported partitions.

Run: ``.venv/bin/python benchmarks/bench_object_bytes.py [--requests 60]``.
"""

from __future__ import annotations

import argparse
import time
import zlib
from collections.abc import Callable

import boto3
import psutil

from inmet_local.emulator.servers import moto_client_kwargs, moto_server
from inmet_local.synth.synth import generate_station_year, station_catalogue
from inmet_pipeline.uploads import raw_object

# A year of 564 stations (bench_data.bench_year): what goes through moto, in MB.
RAW_MB = 441.0  # raw/ bodies, written by the upload and read by the pipe
EXPORT_MB = 750.0  # processed/ partitions, written by the export and read by `inmet fetch`


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def per_request(
    proc: psutil.Process, requests: int, call: Callable[[int], object]
) -> tuple[float, float]:
    """(server ms, client ms) of CPU per request."""
    server, client = _cpu(proc), time.process_time()
    for i in range(requests):
        call(i)
    return (
        (_cpu(proc) - server) / requests * 1000,
        (time.process_time() - client) / requests * 1000,
    )


def gzip_ms_per_mb(data: bytes, level: int) -> tuple[float, float, float]:
    """(compress ms/MB, decompress ms/MB, ratio) with zlib's gzip container."""
    rounds = 5
    start = time.process_time()
    for _ in range(rounds):
        packer = zlib.compressobj(level, zlib.DEFLATED, 31)
        packed = packer.compress(data) + packer.flush()
    compress = (time.process_time() - start) / rounds
    start = time.process_time()
    for _ in range(rounds):
        zlib.decompress(packed, 47)
    decompress = (time.process_time() - start) / rounds
    mb = len(data) / 1e6
    return compress / mb * 1000, decompress / mb * 1000, len(data) / len(packed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    station = station_catalogue(1)[0]
    _key, body = raw_object(generate_station_year(station, 2024, seed=1).data)
    # An exported partition: the CLEAN CSV is ~1.7x the raw body (station columns repeated).
    partition = (body.replace(b";", b",") * 2)[: int(len(body) * 1.7)]

    server = moto_server().start()
    try:
        assert server.process is not None
        s3 = boto3.client("s3", **moto_client_kwargs(server.url))  # type: ignore[call-overload]
        s3.create_bucket(Bucket="bench-objects")
        proc = psutil.Process(server.process.pid)
        n = args.requests
        size_mb = len(body) / 1e6

        def put(data: bytes) -> Callable[[int], object]:
            return lambda i: s3.put_object(Bucket="bench-objects", Key=f"k{i}", Body=data)

        def get(i: int) -> object:
            return s3.get_object(Bucket="bench-objects", Key=f"k{i}")["Body"].read()

        tiny_put = per_request(proc, n, put(b"x"))
        tiny_get = per_request(proc, n, get)
        big_put = per_request(proc, n, put(body))
        big_get = per_request(proc, n, get)
    finally:
        server.stop()

    print(f"moto server, {n} requests each (CPU per request: server / client)")
    print(f"  put 1 byte        {tiny_put[0]:6.1f} / {tiny_put[1]:5.1f} ms")
    print(f"  put {size_mb:.2f} MB      {big_put[0]:6.1f} / {big_put[1]:5.1f} ms")
    print(f"  get 1 byte        {tiny_get[0]:6.1f} / {tiny_get[1]:5.1f} ms")
    print(f"  get {size_mb:.2f} MB      {big_get[0]:6.1f} / {big_get[1]:5.1f} ms")
    put_mb = (big_put[0] - tiny_put[0] + big_put[1] - tiny_put[1]) / size_mb
    get_mb = (big_get[0] - tiny_get[0] + big_get[1] - tiny_get[1]) / size_mb
    print(f"  a megabyte costs {put_mb:.1f} ms to put and {get_mb:.1f} ms to get (server + client)")

    for level in (1, 6):
        for name, data, year_mb in (
            ("raw/ body", body, RAW_MB),
            ("partition", partition, EXPORT_MB),
        ):
            pack, unpack, ratio = gzip_ms_per_mb(data, level)
            saved = year_mb * (1 - 1 / ratio) * (put_mb + get_mb) / 1000
            added = year_mb * (pack + unpack) / 1000
            print(
                f"gzip -{level} {name:<10} {ratio:4.1f}x smaller, compress {pack:5.1f} ms/MB, "
                f"decompress {unpack:4.1f} ms/MB; a year ({year_mb:.0f} MB): moto and clients "
                f"save {saved:4.1f} s, compression adds {added:4.1f} s: "
                f"net {saved - added:+5.1f} s"
            )


if __name__ == "__main__":
    main()
