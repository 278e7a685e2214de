"""The `Application.load_data` interface: a split as a `tf.data.Dataset`."""

import numpy as np


def load_dataset(dataset, split, csv=None):
    """Unbatched `(panel_row, next_excess_return)` pairs of one split.

    `panel_row` holds the dataset's panel columns at the decision date
    (`excess`, `rf`, and the extra series, publication-lagged; NaN where a
    series has not started yet); the target is the next period's excess
    return. Splits are `data.SPLITS`' (by the period the return is earned in).
    """
    import tensorflow as tf

    from applications.trading import data as data_lib

    if split not in ("train", "validation", "test"):
        raise ValueError(f"Unknown split; choose train, validation or test. Received: split={split!r}")
    frame, _ = data_lib.load_panel(dataset, csv)
    _, info = data_lib.build_features(frame, "returns", 1)
    masks = data_lib.split_masks(info, data_lib.default_splits(dataset, frame))
    rows = frame.loc[info.index[masks[split]]].to_numpy(dtype="float32")
    target = info["target"].to_numpy(dtype="float32")[masks[split]]
    return tf.data.Dataset.from_tensor_slices((rows, target.astype(np.float32)))
