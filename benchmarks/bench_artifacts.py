"""Size and cold import time of each function that `sam build` wrote to .aws-sam/build.

For each function of template.yaml: the unzipped size of its folder plus its layers (what counts
against Lambda's 250 MB limit), and the cold import time of its handler module, measured in
fresh runtime-Python processes started like Lambda (`-I -S`, only the function's folder, its
layers and the runtime's boto3 on the path). Goals (issue 6): UploadFunction <= 30 MB,
ExportFunction <= 150 MB, every import <= 1 s. Exit code 1 when a goal is missed.

Run: `make sizes` (builds first), or `.venv/bin/python benchmarks/bench_artifacts.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from inmet_local.emulator.invoke import (
    BUILD_DIR,
    built_paths,
    function_spec,
    functions,
    runtime_dir,
    runtime_python,
)

SIZE_GOALS_MB = {"UploadFunction": 30.0, "ExportFunction": 150.0}
IMPORT_GOAL_S = 1.0

_TIMER = r"""
import json, sys, time
sys.path[:0] = json.loads(sys.argv[1])
start = time.perf_counter()
__import__(sys.argv[2])
print(time.perf_counter() - start)
"""


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def cold_import_seconds(python: str, paths: list[Path], module: str, env: dict[str, str]) -> float:
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", _TIMER, json.dumps([str(p) for p in paths]), module],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd="/",
    )
    if result.returncode != 0:
        sys.exit(f"importing {module} failed:\n{result.stderr[-3000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per module")
    args = parser.parse_args()

    python = runtime_python()
    runtime = runtime_dir(python, args.build_dir)
    print(f"runtime Python: {python}; build: {args.build_dir}")
    print(f"{'function':<27}{'own MB':>8}{'layers MB':>11}{'total MB':>10}{'goal':>7}"
          f"{'import s (median/max)':>24}{'goal':>6}")  # fmt: skip
    missed: list[str] = []
    for name in sorted(functions()):
        spec = function_spec(name)
        paths = built_paths(spec, args.build_dir)
        own = folder_bytes(paths[0]) / 1e6
        layers = sum(folder_bytes(p.parent) for p in paths[1:]) / 1e6
        total = own + layers
        module = spec.handler.rsplit(".", 1)[0]
        env = {
            "PATH": os.environ.get("PATH", ""),
            **spec.environment,
            "AWS_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": name,
        }
        times = [
            cold_import_seconds(python, [*paths, runtime], module, env) for _ in range(args.runs)
        ]
        median, worst = statistics.median(times), max(times)
        size_goal = SIZE_GOALS_MB.get(name)
        size_ok = size_goal is None or total <= size_goal
        import_ok = worst <= IMPORT_GOAL_S
        if not size_ok:
            missed.append(f"{name}: {total:.1f} MB > {size_goal:.0f} MB")
        if not import_ok:
            missed.append(f"{name}: import {worst:.2f} s > {IMPORT_GOAL_S:.0f} s")
        goal = f"{size_goal:.0f}" if size_goal else "-"
        print(
            f"{name:<27}{own:>8.2f}{layers:>11.1f}{total:>10.1f}{goal:>7}"
            f"{median:>15.3f} / {worst:.3f}{'ok' if import_ok else 'MISS':>6}"
            + ("" if size_ok else "  size MISS")
        )
    print(
        f"sizes are unzipped; imports: {args.runs} fresh processes each, with -B (Lambda's "
        "/var/task and /opt are read-only: only the .pyc that the build ships are used)"
    )
    if missed:
        print("goals missed: " + "; ".join(missed))
        sys.exit(1)
    print("all goals met")


if __name__ == "__main__":
    main()
