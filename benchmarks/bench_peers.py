"""The local run side by side with what a data engineer would use instead, in one run (issue 17).

Three ways to turn a year of INMET station files into CLEAN (docs/contracts.md §3), each in its
own process, one after the other, on the same files:

- **DuckDB one query**: the rules as one SQL statement over the raw/ bodies
  (benchmarks/baseline.py), the floor of what a single engine does on this machine.
- **dlt**: the loader a data engineer would pick: pandas reads each station file (both layouts,
  either encoding, decimal commas, ``-9999``), the rules of §3 in pandas, one Arrow table per file
  into dlt's DuckDB destination with ``write_disposition="merge"`` on (station_id, observed_at),
  then the CSV written from DuckDB (the same deliverable as the local run: a CLEAN CSV).
- **inmet local run --upload**: the whole pipeline on the local stand-ins (upload API → moto S3
  → pipe → fakesnow RAW → task → CLEAN → notification → export → fetch).

For each: wall time, CPU time (user + system of the process and every process it waited for),
peak memory (the largest single process's high-water mark, and the highest sum over the
process tree sampled every 0.2 s), and rows. Then the ratios to dlt (issue 17's goal: the local
run at most 1.5x dlt). The three must agree on the number of CLEAN rows.

Data: a generated year (``--stations``, cached in data/bench/), or the real files of a folder
(``--real DIR``) repeated ``--copies`` times under new station codes to reach a year's volume.

Run: ``make bench-peers`` or ``.venv/bin/python benchmarks/bench_peers.py [--stations 564]``,
``… --real ../shared/data/inmet_real --copies 64``. dlt comes from the ``bench`` extra
(pyproject.toml); it is never part of the functions or the local stack.

Why one module (over 400 lines): the script measures each contender by starting itself again in
a child process (``--only NAME``), so the contenders, the measuring and the side-by-side rounds
(``--against``) live in the one file that child is started from.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from peer_dlt import run_dlt

from inmet_local.cli.runner import run_command
from inmet_local.emulator.servers import free_port
from inmet_pipeline.uploads import raw_object

HERE = Path(__file__).resolve().parent
GOAL = 1.5  # issue 17: the local run at most this many times dlt's wall time


# ---------------------------------------------------------------------------------------------
# The data


def generated_year(stations: int, year: int) -> Path:
    from bench_data import bench_year

    return bench_year(stations, year).folder


_CODE_LINE = re.compile(rb"^(CODIGO \(WMO\):;)([A-Z][0-9]{3})", re.MULTILINE)


def scaled_real(source: Path, copies: int, out: Path) -> Path:
    """The real files of ``source``, each written ``copies`` times under new station codes
    (``A001`` → ``B001``, ``C001`` …, then other digits): a year's volume of real lines. Every
    copy is a different station, so nothing merges away and each is one upload."""
    files = sorted(p for p in source.iterdir() if p.suffix.upper() == ".CSV")
    if not files:
        raise SystemExit(f"no INMET .CSV files in {source}")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.CSV"):
        old.unlink()
    used: set[str] = set()
    for path in files:
        data = path.read_bytes()
        match = _CODE_LINE.search(data)
        if match is None:
            raise SystemExit(f"{path.name}: no 'CODIGO (WMO):;' line")
        code = match.group(2).decode()
        for copy in range(copies):
            new = _new_code(code, copy, used)
            body = _CODE_LINE.sub(rb"\g<1>" + new.encode(), data, count=1)
            (out / path.name.replace(f"_{code}_", f"_{new}_")).write_bytes(body)
    return out


def _new_code(code: str, copy: int, used: set[str]) -> str:
    letters = "BCDEFGHJKLMNPQRSTUVWXYZ"
    number = int(code[1:])
    for step in range(10_000):
        candidate = (
            f"{letters[(copy + step) % len(letters)]}{(number + copy * 7 + step) % 1000:03d}"
        )
        if candidate not in used:
            used.add(candidate)
            return candidate
    raise SystemExit("ran out of station codes")


# ---------------------------------------------------------------------------------------------
# The contenders, each run as `bench_peers.py --only NAME FOLDER OUT` in a process of its own


def raw_bodies(folder: Path, raw: Path) -> Path:
    """What raw/ would hold for each station file (UTF-8, LF: what the pipe loads), written
    before the timing starts: DuckDB's query reads these, as the pipeline's COPY does."""
    raw.mkdir(parents=True, exist_ok=True)
    for path in sorted(folder.glob("*.CSV")):
        _key, body = raw_object(path.read_bytes())
        (raw / f"{path.stem}.csv").write_bytes(body)
    return raw


def run_duckdb(raw: Path, out: Path) -> int:
    """The rules as one query over the raw/ bodies (``raw`` is the folder ``raw_bodies``
    wrote)."""
    import duckdb
    from baseline import duckdb_clean_rows

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return duckdb_clean_rows(con, str(raw / "*.csv"))


def run_local(folder: Path, out: Path) -> int:
    """`inmet local run --upload FOLDER` exactly as a user types it; the stack's own summary
    lines (time:, cpu: …) are passed through."""
    work = out.parent
    result = subprocess.run(
        run_command(folder, work, free_port(), timeout=3600),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(result.stdout[-3000:] + result.stderr[-3000:])
    for line in result.stdout.splitlines():
        if line.startswith(("time:", "warehouse:", "uploads:", "runtime:", "cpu:")):
            print("  " + line)
    with out.open() as fh:
        return sum(1 for _ in fh) - 1


def _path_with(folder: str) -> str:
    """PYTHONPATH with ``folder`` first (no empty entry: that would put the working folder on
    sys.path)."""
    return os.pathsep.join(p for p in (folder, os.environ.get("PYTHONPATH", "")) if p)


def run_local_before(folder: Path, out: Path) -> int:
    """The same with two optimisations switched off: the processes start with
    benchmarks/levers_off on PYTHONPATH (its sitecustomize switches off the validator's block
    path and the local export's waves of 48)."""
    before = str(HERE / "levers_off")
    os.environ["PYTHONPATH"] = _path_with(before)
    return run_local(folder, out)


CONTENDERS = {
    "duckdb": run_duckdb,
    "dlt": run_dlt,
    "local-before": run_local_before,
    "local": run_local,
}
LABELS = {
    "duckdb": "DuckDB one query",
    "dlt": "dlt (pandas → DuckDB)",
    "local-before": "inmet local run (levers off)",
    "local": "inmet local run",
}


# ---------------------------------------------------------------------------------------------
# Measuring


@dataclass(frozen=True, slots=True)
class Figures:
    name: str
    wall_s: float
    cpu_s: float
    peak_mb: float  # the largest single process
    tree_peak_mb: float  # the highest sum over the process tree
    rows: int
    output: str


def _tree_rss(pid: int) -> int:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def measure(
    name: str, folder: Path, work: Path, checkout: Path | None = None, first_path: str = ""
) -> Figures:
    """Run one contender in its own process; wait4 gives its CPU and peak memory with those of
    every process it waited for (the local stack's servers are waited for by the run).
    ``checkout``: another checkout of the project (with its own .venv, as `make install` makes
    it) whose contender runs instead of this one's. ``first_path``: a folder put first on the
    contender's PYTHONPATH (its sitecustomize switches something off, e.g. benchmarks/daily_off)."""
    out = work / name / "inmet_clean.csv"
    out.parent.mkdir(parents=True)
    source = work / "raw" if name == "duckdb" else folder
    python, here = sys.executable, HERE
    if checkout is not None:
        python, here = str(checkout / ".venv" / "bin" / "python"), checkout / "benchmarks"
    argv = [python, str(here / "bench_peers.py"), "--only", name, str(source), str(out)]
    env = {
        **os.environ,
        "PYTHONPATH": _path_with(os.pathsep.join(p for p in (first_path, str(here)) if p)),
    }
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    tree_peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal tree_peak
        while not stop.wait(0.2):
            tree_peak = max(tree_peak, _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stdout is not None
    output = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed ({proc.returncode}):\n{output[-4000:]}")
    rows_line = [line for line in output.splitlines() if line.startswith("ROWS ")]
    rows = int(rows_line[-1].split()[1])
    notes = "\n".join(line for line in output.splitlines() if not line.startswith("ROWS "))
    return Figures(
        name,
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        tree_peak / 1e6,
        rows,
        notes,
    )


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a side-by-side run: another checkout (None: this one), and a folder put
    first on its PYTHONPATH (empty: none)."""

    label: str
    checkout: Path | None
    first_path: str = ""


def parse_side(value: str) -> Side:
    """``CHECKOUT`` or ``CHECKOUT@FOLDER`` (FOLDER first on that side's PYTHONPATH, relative to
    the checkout); ``.`` is this checkout."""
    checkout_text, _, first = value.partition("@")
    checkout = Path(checkout_text).resolve()
    here = checkout == HERE.parent.resolve()
    label = ("this checkout" if here else checkout.name) + (f" @ {first}" if first else "")
    path = str((checkout / first).resolve()) if first else ""
    return Side(label, None if here else checkout, path)


def side_by_side(folder: Path, work: Path, others: list[Side], rounds: int) -> None:
    """The local run of each of ``others`` and of this checkout in turn (others first, in the
    order given), ``rounds`` times: each run's figures and stages, then the ratios of the
    medians, each side to each side before it. The same machine sees all of them within
    minutes, so their ratios hold where one run's seconds do not."""
    for side in others:
        if side.checkout is not None and not (side.checkout / ".venv" / "bin" / "python").exists():
            raise SystemExit(
                f"{side.checkout}: no .venv; run `make install EXTRAS=dev,ml,bench` in that "
                "checkout first"
            )
    sides = [*others, Side("this checkout", None)]
    runs: dict[str, list[Figures]] = {side.label: [] for side in sides}
    for n in range(1, rounds + 1):
        for i, side in enumerate(sides):
            figures = measure(
                "local", folder, work / f"side{i}-{n}", side.checkout, side.first_path
            )
            runs[side.label].append(figures)
            print(
                f"round {n} {side.label:<36} {figures.wall_s:7.1f} s wall "
                f"{figures.cpu_s:7.1f} s CPU {figures.rows:>10,} rows",
                flush=True,
            )
            print(figures.output.rstrip(), flush=True)
    for what, of in (("wall", "wall_s"), ("CPU", "cpu_s")):
        median = {k: statistics.median(getattr(f, of) for f in v) for k, v in runs.items()}
        for j, later in enumerate(sides):
            for earlier in sides[:j]:
                print(
                    f"median {what}: {earlier.label} {median[earlier.label]:.1f} s -> "
                    f"{later.label} {median[later.label]:.1f} s "
                    f"({median[later.label] / median[earlier.label]:.2f} x)"
                )
    if len({f.rows for v in runs.values() for f in v}) > 1:
        raise SystemExit("the checkouts disagree on CLEAN's rows")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--stations", type=int, default=564, help="generated stations (default 564)"
    )
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument(
        "--real", type=Path, help="a folder of real INMET files, instead of generated"
    )
    parser.add_argument("--copies", type=int, default=1, help="with --real: copies of each file")
    parser.add_argument(
        "--skip", action="append", default=[], choices=sorted(CONTENDERS), help="leave one out"
    )
    parser.add_argument(
        "--before",
        action="store_true",
        help="also run the local pipeline with the validator's block path and the local export's "
        "waves of 48 switched off",
    )
    parser.add_argument(
        "--against",
        type=parse_side,
        action="append",
        default=[],
        metavar="CHECKOUT[@FOLDER]",
        help="only the local run, of this checkout and of CHECKOUT (another commit's worktree "
        "after its `make install EXTRAS=dev,ml,bench`, or . for this one), in turn for --rounds "
        "rounds; prints the ratios of the medians. @FOLDER puts a folder of that checkout first "
        "on that side's PYTHONPATH: `--against .@benchmarks/daily_off` is this checkout with the "
        "daily values switched off. Repeatable: the sides run in the order given, this one last",
    )
    parser.add_argument("--rounds", type=int, default=3, help="with --against (default 3)")
    parser.add_argument("--only", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:  # a child: run one contender, print its row count
        folder, out = args.paths
        print(f"ROWS {CONTENDERS[args.only](folder, out)}", flush=True)
        return

    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        work = Path(tmp)
        if args.real:
            folder = scaled_real(args.real, args.copies, work / "real")
            what = f"real files of {args.real} x {args.copies}"
        else:
            folder = generated_year(args.stations, args.year)
            what = f"generated year {args.year}"
        files = sorted(folder.glob("*.CSV"))
        size = sum(p.stat().st_size for p in files)
        print(f"{what}: {len(files)} station files, {size / 1e6:.0f} MB; {os.cpu_count()} cores")
        if args.against:
            side_by_side(folder, work, args.against, args.rounds)
            return
        if "duckdb" not in args.skip:
            raw_bodies(folder, work / "raw")
        results: dict[str, Figures] = {}
        for name in CONTENDERS:
            if name in args.skip or (name == "local-before" and not args.before):
                continue
            figures = measure(name, folder, work)
            results[name] = figures
            print(
                f"{LABELS[name]:<26} {figures.wall_s:7.1f} s wall {figures.cpu_s:7.1f} s CPU  "
                f"peak {figures.peak_mb:6.0f} MB (process) {figures.tree_peak_mb:6.0f} MB (tree)  "
                f"{figures.rows:>10,} rows",
                flush=True,
            )
            if figures.output.strip():
                print(figures.output.rstrip())
        if "dlt" in results:
            base = results["dlt"]
            for name, figures in results.items():
                print(
                    f"{LABELS[name]:<26} {figures.wall_s / base.wall_s:5.2f} x dlt's wall time, "
                    f"{figures.cpu_s / base.cpu_s:5.2f} x its CPU"
                )
        if "local" in results and "dlt" in results:
            ratio = results["local"].wall_s / results["dlt"].wall_s
            verdict = "met" if ratio <= GOAL else "not met"
            print(f"goal: local run <= {GOAL} x dlt: {ratio:.2f} x, {verdict}")
        counts = {figures.rows for figures in results.values()}
        if len(counts) > 1:
            raise SystemExit(f"the contenders disagree on CLEAN's rows: {counts}")


if __name__ == "__main__":
    main()
