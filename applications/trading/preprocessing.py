"""Feature scaling with statistics from the training window only."""

import json
import os

import numpy as np

ASSET = "asset_scaler.json"


class FeatureScaler:
    """`(x - mean) / std` per feature, the statistics fitted on past data.

    Fitted on the training window, applied to everything after it: the
    scaling of a period never depends on later data.

    Args:
        names: feature names; `mean`, `std`: one number per feature.

    Example:

    ```python
    scaler = FeatureScaler.fit(train_features)      # a DataFrame
    x = scaler.transform(all_features)              # float64 (time, d)
    ```
    """

    def __init__(self, names, mean, std):
        self.names = list(names)
        self.mean = np.asarray(mean, dtype="float64")
        self.std = np.asarray(std, dtype="float64")
        if not (len(self.names) == self.mean.size == self.std.size):
            raise ValueError(
                f"names, mean and std must have one entry per feature. Received: "
                f"{len(self.names)} names, {self.mean.size} means, {self.std.size} stds"
            )

    @classmethod
    def fit(cls, features):
        """Statistics of a training window (a DataFrame of features)."""
        values = features.to_numpy(dtype="float64")
        if len(values) < 2:
            raise ValueError(f"Fitting the scaler needs at least 2 rows. Received: rows={len(values)}")
        if not np.isfinite(values).all():
            raise ValueError("The training window holds missing values. Received: NaN or inf in "
                             f"{[c for c in features.columns if not np.isfinite(features[c]).all()]}")
        std = values.std(axis=0)
        constant = [name for name, s in zip(features.columns, std) if not s > 1e-12]
        if constant:
            raise ValueError(
                "Zero-variance features in the training window: they carry no information and cannot be "
                f"scaled; use a longer window or another feature set. Received: constant features={constant}"
            )
        return cls(features.columns, values.mean(axis=0), std)

    def transform(self, features):
        values = features.to_numpy(dtype="float64") if hasattr(features, "to_numpy") else np.asarray(features, "float64")
        if values.shape[-1] != self.mean.size:
            raise ValueError(f"Expected {self.mean.size} features {self.names}. Received: shape={values.shape}")
        return (values - self.mean) / self.std

    def save(self, directory):
        with open(os.path.join(directory, ASSET), "w") as f:
            json.dump({"names": self.names, "mean": self.mean.tolist(), "std": self.std.tolist()}, f, indent=1)

    @classmethod
    def load(cls, directory):
        path = os.path.join(directory, ASSET)
        if not os.path.exists(path):
            raise ValueError(f"{directory} holds no {ASSET} (written by train). Received: directory={directory!r}")
        from zoo.weights import WeightsError
        from zoo.weights import read_json_file

        fix = "It is written by train with the weights; copy the run directory again or train again."
        data = read_json_file(path, "the feature scaler", fix)
        if not (isinstance(data, dict) and {"names", "mean", "std"} <= set(data)):
            raise WeightsError(f"{path} is not a feature scaler: it needs names, mean and std. {fix} "
                               f"Received: {sorted(data) if isinstance(data, dict) else type(data).__name__}")
        return cls(data["names"], data["mean"], data["std"])

    def trackables(self):
        return []


def build_preprocessor(config, train_data, directory):
    """The `Application.build_preprocessor` hook: the run's scaler, read back from `directory`.

    The trainer (`applications.trading.trainer`) fits a `FeatureScaler` on
    each candidate's training window itself, so nothing fits one from
    `train_data`; `from_pretrained` calls this with the run directory.
    """
    if directory is None:
        raise ValueError(
            "The trading scaler is fitted by the trainer on its training window (applications.trading."
            "trainer), never from train_data; build_preprocessor reads a run's back: pass its directory. "
            "Received: directory=None"
        )
    return FeatureScaler.load(directory)
