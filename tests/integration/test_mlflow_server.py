"""The Compose stack's MLflow set-up without Docker: the same MLflow version as the image, a real
MySQL-compatible backend (the machine's MariaDB, a fresh database per run) and artifacts on an
S3 API (moto server) through MLFLOW_S3_ENDPOINT_URL, as compose.yml wires MinIO."""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from inmet_local.emulator.servers import ManagedProcess, free_port, moto_server
from inmet_local.ml.data import sample_clean
from inmet_local.ml.features import FEATURES, build_features
from inmet_local.ml.passport import PASSPORT_FIELDS
from inmet_local.ml.train import train

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mariadb_database() -> Iterator[str]:
    pymysql = pytest.importorskip("pymysql")
    try:
        conn = pymysql.connect(
            host="127.0.0.1", port=3306, user="root", password="", connect_timeout=5
        )
    except pymysql.err.OperationalError as exc:
        pytest.skip(f"no MySQL-compatible server on 127.0.0.1:3306 ({exc})")
    name = f"mlflow_test_{uuid.uuid4().hex[:10]}"
    with conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    yield f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
    conn.close()


@pytest.fixture(scope="module")
def mlflow_server(
    mariadb_database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ManagedProcess, ManagedProcess]]:
    logs = tmp_path_factory.mktemp("logs")
    moto = moto_server(log_path=logs / "moto.log").start()
    s3_env = {
        "MLFLOW_S3_ENDPOINT_URL": moto.url,
        "AWS_ACCESS_KEY_ID": "minio",
        "AWS_SECRET_ACCESS_KEY": "minio-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    boto3.client(
        "s3",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="minio",
        aws_secret_access_key="minio-secret",
    ).create_bucket(Bucket="mlflow")
    port = free_port()
    mlflow_bin = str(Path(sys.executable).with_name("mlflow"))
    server = ManagedProcess(
        "mlflow server",
        [
            mlflow_bin,
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            mariadb_database,
            "--artifacts-destination",
            "s3://mlflow/",
            "--serve-artifacts",
            "--workers",
            "1",
        ],
        f"http://127.0.0.1:{port}",
        f"http://127.0.0.1:{port}/health",
        env=s3_env,
        log_path=logs / "mlflow.log",
    ).start(timeout=180)
    yield server, moto
    server.stop()
    moto.stop()


def test_server_version_is_the_image_pin(
    mlflow_server: tuple[ManagedProcess, ManagedProcess],
) -> None:
    import httpx

    server, _ = mlflow_server
    version = httpx.get(f"{server.url}/version", timeout=10).text.strip()
    dockerfile = (ROOT / "local" / "mlflow" / "Dockerfile").read_text()
    pin = re.search(r'"mlflow==([\d.]+)"', dockerfile)
    assert pin is not None
    assert version == pin.group(1)


def test_train_then_load_the_registered_model_and_predict(
    mlflow_server: tuple[ManagedProcess, ManagedProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    server, moto = mlflow_server
    # The client uploads artifacts through the server (--serve-artifacts): it needs no S3
    # credentials of its own, exactly as a notebook in the Compose stack.
    for name in ("MLFLOW_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    clean = sample_clean(stations=2, year=2020)
    result = train(clean, tracking_uri=server.url, model_name="inmet-it-model", max_iter=100)
    assert result["mae_model"] < result["mae_persistence"]
    mlflow.set_tracking_uri(server.url)
    # The data passport is in the run on the server (MySQL backend), every field of it.
    run = mlflow.get_run(result["run_id"])
    assert set(PASSPORT_FIELDS) <= set(run.data.params)
    assert run.data.params["data_sha256"] == result["data_sha256"]
    assert run.data.params["data_origin"] == "generated"
    assert run.data.params["data_stations"] == "A001,A101"
    assert {"mae_model_A001", "mae_persistence_A101", "improvement_vs_persistence"} <= set(
        run.data.metrics
    )
    model = mlflow.pyfunc.load_model("models:/inmet-it-model/1")
    predictions = model.predict(build_features(clean)[FEATURES].head(10))
    assert len(predictions) == 10
    # The artifacts really are in the S3 bucket behind the server.
    s3 = boto3.client(
        "s3",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="minio",
        aws_secret_access_key="minio-secret",
    )
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="mlflow").get("Contents", [])]
    assert any(k.endswith("predicted_vs_observed.png") for k in keys)
    assert any(k.endswith("passport.json") for k in keys)
    assert any(k.endswith("error_by_hour.png") for k in keys)
    assert any("model" in k for k in keys)
