"""One process of the distributed-training test (tests/zoo/test_distribute.py).

    python _multiworker_worker.py MODE OUT.npz

MODE is `multi-worker` (the cluster from TF_CONFIG), `mirrored` or `none`
(one process, the reference). Every mode trains the same model from the
same initial weights on the same data, in the same order, for one epoch of
plain SGD with a mean loss over the global batch, then writes to OUT.npz the
initial (`i0`, `i1`, ...) and final (`w0`, `w1`, ...) weights, whether this
process is the chief and the batch size one replica of it sees. The test
also imports `train` to run the single-process modes in its own process.
"""

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SAMPLES, STEPS, FEATURES, UNITS = 64, 5, 3, 4
GLOBAL_BATCH = 16
LEARNING_RATE = 0.1


def data():
    rng = np.random.RandomState(0)
    x = rng.randn(SAMPLES, STEPS, FEATURES).astype("float32")
    y = rng.randn(SAMPLES, 1).astype("float32")
    return x, y


def build_model():
    """The tiny LSTM regressor with fixed initial weights; call in scope."""
    import keras

    from zoo.layers import LSTM

    model = keras.Sequential(
        [keras.Input((STEPS, FEATURES)), LSTM(UNITS), keras.layers.Dense(1)]
    )
    rng = np.random.RandomState(1)
    model.set_weights(
        [0.3 * rng.randn(*w.shape).astype("float32") for w in model.get_weights()]
    )
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss="mse")
    return model


def dataset():
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(data()).batch(GLOBAL_BATCH)
    options = tf.data.Options()
    # Each worker keeps its slice of every global batch, in order.
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA
    )
    return ds.with_options(options)


def train(mode):
    """Train one epoch under `--distribute mode`; returns a dict of results."""
    from zoo.training import distribute

    strategy = distribute.get_strategy(mode)
    with distribute.strategy_scope(strategy):
        model = build_model()
        initial = model.get_weights()
        model.fit(dataset(), epochs=1, shuffle=False, verbose=0)
    local_batch = GLOBAL_BATCH
    if hasattr(strategy, "experimental_distribute_dataset"):
        # The sharding `fit` used: Keras distributes the dataset this way.
        first = next(iter(strategy.experimental_distribute_dataset(dataset())))
        x = first[0]
        x = x.values[0] if hasattr(x, "values") else x
        local_batch = int(x.shape[0])
    return {
        "initial": initial,
        "final": model.get_weights(),
        "is_chief": distribute.is_chief(strategy),
        "local_batch": local_batch,
    }


def main():
    mode, out = sys.argv[1], sys.argv[2]
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, ROOT)
    import tensorflow as tf

    # Must precede the strategy (it initializes the TF runtime); the test
    # machine is small and shared.
    tf.config.threading.set_intra_op_parallelism_threads(1)
    result = train(mode)
    arrays = {f"i{i}": w for i, w in enumerate(result["initial"])}
    arrays.update({f"w{i}": w for i, w in enumerate(result["final"])})
    np.savez(
        out,
        is_chief=np.array(result["is_chief"]),
        local_batch=np.array(result["local_batch"]),
        **arrays,
    )
    print(f"done: mode={mode} chief={result['is_chief']}", flush=True)


if __name__ == "__main__":
    main()
