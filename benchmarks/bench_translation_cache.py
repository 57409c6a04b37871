"""The task's time with the local warehouse's translation cache and without, side by side.

Loads the same generated stations (benchmarks/bench_data.py, cached in data/bench/) in batches
into two fakesnow servers, one that keeps each long statement's translation to DuckDB's SQL
(local/inmet_local/emulator/fakesnow_cache.py, the default) and one that translates every
statement anew (``--translate-every-time``), alternating the two in each round. Prints each
task run's seconds and the summed seconds of the runs after the first (the first translates
in both). Run: ``.venv/bin/python benchmarks/bench_translation_cache.py [--stations 120]
[--batch 30] [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from bench_data import bench_year

from inmet_local.emulator.servers import fakesnow_server, fakesnow_server_kwargs
from inmet_local.emulator.warehouse import LocalWarehouse

WAYS = {True: "translated once", False: "translated every time"}


def task_seconds(objects: list[tuple[str, bytes]], batch: int, translate_once: bool) -> list[float]:
    """Each task run's seconds, one run per batch of ``batch`` files, in a fresh server."""
    with tempfile.TemporaryDirectory() as tmp:
        server = fakesnow_server(translate_once=translate_once).start()
        try:
            with LocalWarehouse(fakesnow_server_kwargs(server), work_dir=Path(tmp)) as wh:
                wh.deploy()
                seconds = []
                for start in range(0, len(objects), batch):
                    wh.load_objects(objects[start : start + batch])
                    run = wh.run_task()
                    assert run is not None
                    seconds.append(run.seconds)
                return seconds
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=120, help="files loaded (default 120)")
    parser.add_argument("--batch", type=int, default=30, help="files per task run (default 30)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    objects = list(bench_year().raw_objects)[: args.stations]
    later: dict[bool, list[float]] = {True: [], False: []}
    for n in range(args.rounds):
        for once, name in WAYS.items():
            runs = task_seconds(objects, args.batch, once)
            later[once].append(sum(runs[1:]))
            shown = ", ".join(f"{s:.2f}" for s in runs)
            print(
                f"round {n + 1}  {name:22} task runs {shown} s; "
                f"after the first {later[once][-1]:.1f} s",
                flush=True,
            )
    kept, anew = statistics.median(later[True]), statistics.median(later[False])
    print(
        "median of the runs after the first: "
        f"every time {anew:.1f} s, once {kept:.1f} s ({kept / anew:.2f} x)"
    )


if __name__ == "__main__":
    main()
