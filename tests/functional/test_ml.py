"""Training and the notebooks, on generated data (and on the real Brasília 2024 file)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from inmet_local.cli import app
from inmet_local.ml.data import load_clean, sample_clean
from inmet_local.ml.features import FEATURES, TARGET, build_features, time_split
from inmet_local.ml.train import train
from inmet_pipeline.columns import CLEAN_COLUMNS, MEASURE_NAMES
from tests.conftest import REPO_ROOT, real_file
from tests.oracle import expected_clean

pytestmark = [pytest.mark.functional, pytest.mark.slow]


def test_features_are_built_per_station_on_an_hourly_grid() -> None:
    clean = sample_clean(stations=2, year=2023)
    clean = clean.drop(index=clean.index[100:110])  # a gap of 10 hours
    features = build_features(clean)
    one = features[features["station_id"] == "A001"].set_index("observed_at")
    hour = pd.Timestamp("2023-01-03 12:00", tz="UTC")
    temps = one["air_temp_c"].astype("float64")
    assert one["lag_1h"].astype("float64")[hour] == temps[hour - pd.Timedelta(hours=1)]
    assert one[TARGET].astype("float64")[hour] == temps[hour + pd.Timedelta(hours=1)]
    train_set, test_set = time_split(features)
    assert train_set["observed_at"].max() < test_set["observed_at"].min()
    assert set(FEATURES) <= set(features.columns)


def test_inmet_train_logs_a_run_and_registers_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    csv = tmp_path / "inmet_clean.csv"
    sample = sample_clean(stations=2, year=2022)
    sample.assign(observed_at=sample["observed_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(
        csv, index=False
    )
    assert tuple(load_clean(csv).columns) == CLEAN_COLUMNS
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            str(csv),
            "--tracking-uri",
            uri,
            "--station",
            "A001",
            "--station",
            "A101",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"run_id", "mae_model", "mae_persistence", "mae_climatology"} <= set(summary)
    assert summary["mae_model"] < summary["mae_persistence"] < summary["mae_climatology"]
    mlflow.set_tracking_uri(uri)
    run = mlflow.get_run(summary["run_id"])
    assert run.data.params["model"] == "HistGradientBoostingRegressor"
    assert {"mae_model", "rmse_model", "mae_model_A001", "mae_model_A101"} <= set(run.data.metrics)
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(summary["run_id"])}
    assert {
        "predicted_vs_observed.png",
        "residuals_by_hour.png",
        "feature_importance.png",
    } <= artifacts
    model = mlflow.pyfunc.load_model("models:/inmet-next-hour-temperature/latest")
    frame = build_features(sample)[FEATURES].head(3)
    assert len(model.predict(frame)) == 3
    assert model.metadata.signature is not None


def test_unknown_station_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["train", "--station", "Z999", "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}"]
    )
    assert result.exit_code == 1
    assert "no data for station(s) Z999" in result.output


@pytest.mark.real_data
def test_brasilia_2024_model_beats_persistence_by_15_percent(
    real_dir: Path, tmp_path: Path
) -> None:
    data = real_file(real_dir, "INMET_CO_DF_A001_BRASILIA").read_bytes()
    clean = expected_clean([data])
    frame = pd.DataFrame(
        [(s, t, *v) for (s, t), v in clean.items()],
        columns=["station_id", "observed_at", *MEASURE_NAMES],
    )
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True)
    frame[list(MEASURE_NAMES)] = frame[list(MEASURE_NAMES)].astype("float64")
    result = train(frame, tracking_uri=f"sqlite:///{tmp_path / 'm.db'}", model_name=None)
    print(json.dumps(result))  # the three MAEs, for the record
    assert result["mae_model"] <= 0.85 * result["mae_persistence"]
    assert result["mae_climatology"] > result["mae_persistence"]


@pytest.mark.parametrize("name", ["exploracao.ipynb", "modelagem.ipynb"])
def test_notebooks_run_headless(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    csv = tmp_path / "inmet_clean.csv"
    sample = sample_clean(stations=3, year=2021)
    sample.assign(observed_at=sample["observed_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(
        csv, index=False
    )
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("INMET_CLEAN_CSV", str(csv))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    path = REPO_ROOT / "local" / "notebooks" / name
    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    if name == "modelagem.ipynb":
        import mlflow

        mlflow.set_tracking_uri(uri)
        runs = mlflow.search_runs(experiment_names=["inmet-next-hour-temperature"])
        assert len(runs) == 1
    assert os.environ["INMET_CLEAN_CSV"] == str(csv)
