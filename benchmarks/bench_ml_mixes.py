"""The model against persistence on mixes of the real INMET files: every single file, every
pair of files, and all files (issue 18's goal: >= 15% lower MAE than persistence overall and no
station worse than persistence by more than 5%). With --compare, also the alternatives the
README weighs: one global model of the temperature itself, and one model per station.

CLEAN comes from the project's own path: `inmet local run --upload` of the real files (the
whole local stack: upload API, pipe, task, export, fetch), cached in data/bench/real_clean.csv.
Each INMET file is one station-year, so a mix of files is CLEAN filtered to those
station-years. Run: `.venv/bin/python benchmarks/bench_ml_mixes.py [--compare]`.
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bench_data import BENCH_DIR, REPO
from threadpoolctl import threadpool_limits

from inmet_local.ml.data import load_clean
from inmet_local.ml.features import FEATURES, TARGET, build_features, station_split
from inmet_local.ml.train import MODEL_PARAMS, NextHourRegressor, evaluate, train_threads

REAL_DIR = REPO.parent / "shared" / "data" / "inmet_real"


def real_clean() -> pd.DataFrame:
    out = BENCH_DIR / "real_clean.csv"
    if not out.exists():
        files = sorted(str(p) for p in REAL_DIR.glob("*.CSV"))
        print(f"cleaning {len(files)} real files through the local stack …", flush=True)
        subprocess.run(
            [
                str(Path(sys.executable).with_name("inmet")),
                "local",
                "run",
                "--upload",
                *files,
                "--out",
                str(out),
                "--data-dir",
                str(BENCH_DIR / "real-local"),
                "--port",
                "8791",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return load_clean(out)


def alternative(clean: pd.DataFrame, kind: str) -> tuple[float, float]:
    """(overall improvement, worst station improvement) of an alternative model."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    split = station_split(build_features(clean))
    train, test = split.train, split.test
    predicted = np.zeros(len(test))
    if kind == "global-level":
        model = HistGradientBoostingRegressor(max_iter=300, **MODEL_PARAMS)
        model.fit(train[FEATURES], train[TARGET])
        predicted = model.predict(test[FEATURES])
    else:  # per-station, each on its own rows (the change, as the global model)
        for station_id, rows in train.groupby("station_id"):
            mask = (test["station_id"] == station_id).to_numpy()
            one = NextHourRegressor(**MODEL_PARAMS).fit(rows, rows[TARGET])
            predicted[mask] = one.predict(test[mask])
    error = np.abs(predicted - test[TARGET].to_numpy())
    persistence = np.abs(test["air_temp_c"].to_numpy() - test[TARGET].to_numpy())
    masks = [(test["station_id"] == s).to_numpy() for s in test["station_id"].unique()]
    worst = min(1 - error[m].mean() / persistence[m].mean() for m in masks)
    return 1 - error.mean() / persistence.mean(), worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--compare", action="store_true", help="also the two alternatives")
    args = parser.parse_args()
    clean = real_clean()
    years = clean["observed_at"].dt.year
    files = sorted({(str(s), int(y)) for s, y in zip(clean["station_id"], years, strict=True)})
    print(f"{len(clean):,} CLEAN rows; {len(files)} station-years with data: {files}")
    mixes: list[tuple[tuple[str, int], ...]] = [(f,) for f in files]
    mixes += [*itertools.combinations(files, 2), tuple(files)]
    header = f"{'mix':30s} {'model':>6s} {'pers.':>6s} {'gain':>6s} {'worst st.':>9s} {'s':>5s}"
    if args.compare:
        header += f" {'level: gain/worst':>18s} {'per-st.: gain/worst':>20s}"
    print(header)
    rows: list[dict[str, Any]] = []
    with threadpool_limits(limits=train_threads(), user_api="openmp"):
        for mix in mixes:
            keys = pd.Series(list(zip(clean["station_id"], years, strict=True)))
            subset = clean[keys.isin(set(mix)).to_numpy()]
            start = time.perf_counter()
            result = evaluate(subset)
            seconds = time.perf_counter() - start
            overall, stations = result["overall"], result["per_station"]
            gain = 1 - overall["mae_model"] / overall["mae_persistence"]
            worst = min(s["improvement_vs_persistence"] for s in stations.values())
            name = "all files" if len(mix) == len(files) else " + ".join(f"{s}/{y}" for s, y in mix)
            line = (
                f"{name:30s} {overall['mae_model']:6.3f} {overall['mae_persistence']:6.3f} "
                f"{gain:+6.1%} {worst:+9.1%} {seconds:5.1f}"
            )
            if args.compare:
                level, per = alternative(subset, "global-level"), alternative(subset, "per-station")
                line += f"   {level[0]:+6.1%} / {level[1]:+6.1%}   {per[0]:+6.1%} / {per[1]:+6.1%}"
            print(line, flush=True)
            rows.append({"mix": name, "gain": gain, "worst": worst})
    met = [r for r in rows if r["gain"] >= 0.15 and r["worst"] >= -0.05]
    print(
        f"goal met on {len(met)} of {len(rows)} mixes; lowest overall gain "
        f"{min(r['gain'] for r in rows):+.1%}, lowest station {min(r['worst'] for r in rows):+.1%}"
    )


if __name__ == "__main__":
    main()
