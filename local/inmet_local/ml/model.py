"""The model: one global gradient-boosting model (scikit-learn's HistGradientBoostingRegressor,
which takes missing values as they are) that predicts the change over the next hour from the
features of ``features.FEATURES``, station attributes included. Why global and why the
change: README, "Experiments" (measured on every pair of the real files).

The class is a scikit-learn estimator, so MLflow logs and serves it as a scikit-learn model;
a logged model names it by its import path (``inmet_local.ml.model.NextHourRegressor``;
models logged before this module existed name ``inmet_local.ml.train.NextHourRegressor``,
which train.py still re-exports so that they load).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor

from inmet_local.ml.features import FEATURES

# Small trees, strongly regularised: on the smallest mix (Manaus, 2000 and 2020) 31-leaf trees
# with l2 1.0 overfitted (15.1% better than persistence; these: 22.4%), and the larger mixes
# are unchanged (README, "Experiments").
MODEL_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "l2_regularization": 5.0,
    # Reproducible: no random validation hold-out, the same trees for the same data.
    "early_stopping": False,
    "random_state": 0,
}

# OpenMP threads for fitting: 1 unless INMET_TRAIN_THREADS says more. On this project's shared
# 2-core machine, one fit of ~16,000 rows took 2.5 s on one thread and 27-34 s on two: OpenMP's
# threads busy-wait for each other when another process holds a core.
TRAIN_THREADS_ENV = "INMET_TRAIN_THREADS"


def train_threads() -> int:
    try:
        return max(1, int(os.environ.get(TRAIN_THREADS_ENV, "1")))
    except ValueError:
        return 1


Progress = Callable[[str, int, int], None]
"""progress(step, done, total): a step's name and how far it is (total 0: no count)."""


class NextHourRegressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Predicts the next hour's temperature as this hour's plus a boosted-trees estimate of
    the change (a scikit-learn estimator, so MLflow logs and serves it as a scikit-learn
    model: ``predict(features)`` gives °C)."""

    def __init__(
        self,
        max_iter: int = 300,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        l2_regularization: float = 5.0,
        early_stopping: bool = False,
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.early_stopping = early_stopping
        self.random_state = random_state

    def fit(
        self,
        features: pd.DataFrame,
        target: pd.Series,
        progress: Progress | None = None,
        step: int = 50,
    ) -> NextHourRegressor:
        """Fit on the change ``target - air_temp_c``; ``progress`` hears every ``step`` trees
        (warm start adds trees to the same model: the same trees as one fit).

        Runs on ``TRAIN_THREADS`` OpenMP threads (see there).
        """
        from threadpoolctl import threadpool_limits

        change = target.to_numpy(dtype="float64") - features["air_temp_c"].to_numpy("float64")
        self.model_ = HistGradientBoostingRegressor(
            max_iter=0,
            warm_start=True,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            l2_regularization=self.l2_regularization,
            early_stopping=self.early_stopping,
            random_state=self.random_state,
        )
        done = 0
        with threadpool_limits(limits=train_threads(), user_api="openmp"):
            while done < self.max_iter:
                done = min(done + step, self.max_iter)
                self.model_.set_params(max_iter=done)
                self.model_.fit(features[FEATURES], change)
                if progress:
                    progress("fitting (trees)", done, self.max_iter)
        return self

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        current = features["air_temp_c"].to_numpy(dtype="float64")
        return current + np.asarray(self.model_.predict(features[FEATURES]), dtype="float64")
