"""Data-parallel training on several devices or machines.

`--distribute {none,mirrored,multi-worker}` maps to an existing engine:

- TensorFlow backend: `tf.distribute.MirroredStrategy` (all local devices)
  and `tf.distribute.MultiWorkerMirroredStrategy` (one process per machine,
  the cluster read from `TF_CONFIG`). Keras 3's `fit` fails under the latter
  (keras-team/keras#20585); `strategy_scope` applies the smallest workaround,
  `zoo.training._keras_20585`, while the scope is open.
- JAX backend: `keras.distribution.DataParallel` over all local devices.

Typical use:

```python
strategy = get_strategy(args.distribute)  # first, before any TF op
with strategy_scope(strategy):
    model = build_model()
    model.compile(...)
    model.fit(dataset, ...)
with output_dir(args.out, strategy) as out:
    model.save(os.path.join(out, "model.keras"))
```
"""

import atexit
import contextlib
import json
import os
import shutil
import tempfile

import keras

from zoo.training import _keras_20585

DISTRIBUTE_CHOICES = ("none", "mirrored", "multi-worker")
DEFAULT_DISTRIBUTE = "none"
# Also accepted by `get_strategy`: "data-parallel", an alias of "mirrored"
# (the name of the JAX route).
_ALIASES = {"data-parallel": "mirrored"}
# The public `keras.distribution` classes (their base class is not exported).
_KERAS_DISTRIBUTIONS = (
    keras.distribution.DataParallel,
    keras.distribution.ModelParallel,
)


def get_strategy(name=DEFAULT_DISTRIBUTE):
    """The distribution strategy named by `--distribute`.

    - `"none"`: `None` (Keras's default, single-device strategy).
    - `"mirrored"` (alias `"data-parallel"`): TensorFlow
      `tf.distribute.MirroredStrategy` over the local devices; JAX
      `keras.distribution.DataParallel` over the local devices.
    - `"multi-worker"`: TensorFlow `tf.distribute.MultiWorkerMirroredStrategy`
      with the cluster from `TF_CONFIG` (checked by `parse_tf_config`); not
      on JAX (see the error for the `keras.distribution.initialize` route).

    Under `"multi-worker"` every worker runs the same program with its own
    `TF_CONFIG` (the cluster and this worker's place in it), e.g. for the
    second of two workers:

    ```
    TF_CONFIG='{"cluster": {"worker": ["host0:12345", "host1:12345"]},
                "task": {"type": "worker", "index": 1}}'
    ```

    Create the strategy at the start of the program, before any other
    TensorFlow op runs: it configures the TensorFlow runtime for collective
    ops. Every worker must then feed the same global batch size and take the
    same number of steps (all-reduce is collective); Keras shards a
    `tf.data.Dataset` across workers by data. The loss is a mean over the
    global batch, so with SGD the result is that of one process training on
    the global batch.

    Args:
        name: one of `DISTRIBUTE_CHOICES` (`"none"`, `"mirrored"`,
            `"multi-worker"`) or `"data-parallel"`.

    Returns:
        `None`, a `tf.distribute.Strategy` or a
        `keras.distribution.DataParallel`; pass it to `strategy_scope` and
        `is_chief`.

    Example:

    ```python
    strategy = zoo.training.get_strategy("mirrored")
    with zoo.training.strategy_scope(strategy):
        model = keras.Sequential([keras.Input((None, 8)), zoo.layers.LSTM(32),
                                  keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, y, batch_size=64)
    ```

    Reference:
        - [Distributed training with Keras (TensorFlow guide)](
          https://www.tensorflow.org/tutorials/distribute/keras)
        - [Multi-worker training with Keras (TensorFlow guide)](
          https://www.tensorflow.org/tutorials/distribute/multi_worker_with_keras)
        - [Distributed training with JAX (Keras guide)](
          https://keras.io/guides/distribution/)
    """
    key = _ALIASES.get(name, name)
    if key not in DISTRIBUTE_CHOICES:
        raise ValueError(
            f"`name` must be one of {list(DISTRIBUTE_CHOICES)} or "
            f"'data-parallel'. Received: name={name!r}"
        )
    if key == "none":
        return None
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if key == "mirrored":
            return tf.distribute.MirroredStrategy()
        parse_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if backend == "jax":
        if key == "multi-worker":
            raise ValueError(
                "`--distribute multi-worker` runs on the TensorFlow backend "
                "(MultiWorkerMirroredStrategy). On JAX, start every process "
                "with `keras.distribution.initialize(job_addresses, "
                "num_processes, process_id)` and use "
                "`get_strategy('data-parallel')`: `DataParallel` then spans "
                "the devices of all processes. Received: name="
                f"{name!r} with backend={backend!r}"
            )
        devices = keras.distribution.list_devices()
        return keras.distribution.DataParallel(devices=devices)
    raise ValueError(
        "Distributed training runs on the TensorFlow and JAX backends. "
        f"Received: name={name!r} with backend={backend!r}"
    )


def parse_tf_config(value=None):
    """Read and check a `TF_CONFIG` cluster description.

    Args:
        value: the JSON text; `None` reads the `TF_CONFIG` environment
            variable.

    Returns:
        The parsed dict, with `cluster` (job name to a list of
        `"host:port"`) and `task` (`type` and `index` of this process).

    Example:

    ```python
    os.environ["TF_CONFIG"] = json.dumps({
        "cluster": {"worker": ["127.0.0.1:20001", "127.0.0.1:20002"]},
        "task": {"type": "worker", "index": 0},
    })
    config = zoo.training.distribute.parse_tf_config()
    ```
    """
    if value is None:
        value = os.environ.get("TF_CONFIG")
    if value is None or not str(value).strip():
        raise ValueError(
            "`--distribute multi-worker` reads the cluster from the TF_CONFIG "
            "environment variable, e.g. TF_CONFIG='{\"cluster\": {\"worker\": "
            "[\"host0:port\", \"host1:port\"]}, \"task\": {\"type\": "
            "\"worker\", \"index\": 0}}'. Received: TF_CONFIG="
            f"{value!r}"
        )
    try:
        config = json.loads(value)
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"TF_CONFIG must be JSON ({e}). Received: TF_CONFIG={value!r}"
        ) from None

    def bad(what):
        return ValueError(f"TF_CONFIG {what}. Received: TF_CONFIG={value!r}")

    if not isinstance(config, dict):
        raise bad("must be a JSON object with 'cluster' and 'task'")
    cluster = config.get("cluster")
    task = config.get("task")
    if not isinstance(cluster, dict) or not cluster:
        raise bad(
            "needs 'cluster': a map from job name ('worker', 'chief') to a "
            "list of 'host:port' addresses"
        )
    for job, addresses in cluster.items():
        if (
            not isinstance(addresses, list)
            or not addresses
            or not all(isinstance(a, str) and _is_host_port(a) for a in addresses)
        ):
            raise bad(
                f"cluster job {job!r} must be a non-empty list of 'host:port' "
                "addresses"
            )
    if not ({"worker", "chief"} & set(cluster)):
        raise bad("cluster needs a 'worker' (or 'chief') job")
    if not isinstance(task, dict):
        raise bad("needs 'task': {'type': ..., 'index': ...}")
    task_type, index = task.get("type"), task.get("index")
    if task_type not in cluster:
        raise bad(
            f"task type {task_type!r} is not a job of the cluster "
            f"{sorted(cluster)}"
        )
    if isinstance(index, bool) or not isinstance(index, int):
        raise bad(f"task index must be an integer, not {index!r}")
    if not 0 <= index < len(cluster[task_type]):
        raise bad(
            f"task index {index} is out of range for job {task_type!r} of "
            f"{len(cluster[task_type])} address(es)"
        )
    return config


def _is_host_port(address):
    host, sep, port = address.rpartition(":")
    return bool(sep and host and port.isdigit())


def _is_tf_strategy(strategy):
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.Strategy)


def _is_multi_worker(strategy):
    if not _is_tf_strategy(strategy):
        return False
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


@contextlib.contextmanager
def strategy_scope(strategy):
    """Enter `strategy` for model creation, `compile` and `fit`.

    - `None`: does nothing.
    - a `tf.distribute.Strategy`: `strategy.scope()`; for a
      `MultiWorkerMirroredStrategy`, also the keras-team/keras#20585
      workaround (`zoo.training._keras_20585`) on the Keras versions that
      need it, removed again on exit. Call `fit` and `evaluate` inside the
      scope: the workaround must be in place when they first run.
    - a `keras.distribution.DataParallel` or `ModelParallel` (JAX): sets it with
      `keras.distribution.set_distribution` and restores the previous one on
      exit.

    Args:
        strategy: what `get_strategy` returned.

    Example:

    ```python
    with zoo.training.strategy_scope(strategy):
        model = build_model()
        model.compile(optimizer="sgd", loss="mse")
        model.fit(dataset, epochs=3)
    ```
    """
    if strategy is None:
        yield None
        return
    if isinstance(strategy, _KERAS_DISTRIBUTIONS):
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(strategy)
        try:
            yield strategy
        finally:
            keras.distribution.set_distribution(previous)
        return
    if not _is_tf_strategy(strategy):
        raise ValueError(
            "`strategy` must be None, a tf.distribute.Strategy or a "
            "keras.distribution.DataParallel (see `get_strategy`). "
            f"Received: strategy={strategy!r}"
        )
    workaround = (
        _keras_20585.patched()
        if _is_multi_worker(strategy)
        else contextlib.nullcontext()
    )
    with workaround, strategy.scope():
        yield strategy


def shard_dataset(dataset, strategy):
    """`dataset` split across the workers of `strategy`, ready for `fit`.

    Each worker runs the whole input pipeline unchanged and keeps, of every
    global batch, the slices of its own replicas: a global batch of B
    examples is cut into `num_replicas_in_sync` contiguous slices (sizes
    differ by at most one; a last, partial batch is cut the same way), and
    replica r trains on slice r. Every worker sees distinct examples, all
    take the same number of steps, and together they cover each batch once.

    Why not Keras's default (`strategy.experimental_distribute_dataset` with
    auto-sharding): its `AUTO` policy shards by *files* and fails when there
    are fewer files than workers ("Could not apply FILE based sharding", a
    tfds split in one file), and its graph rewrite re-seeds a seeded
    `shuffle(..., reshuffle_each_iteration=True)`, so the workers' batches
    are no longer those of the pipeline and change from run to run. Here the
    dataset is handed to `strategy.distribute_datasets_from_function` as is.

    Batch-size semantics: the dataset's batch size is the *global* batch.
    The loss is a mean over the global batch, so a step is the step one
    process takes on the whole batch: a config's `batch_size` and learning
    rate mean the same with or without `--distribute` (keep B divisible by
    the number of replicas for exactly equal slices). Two caveats of Keras,
    not of the sharding: `clipnorm`/`global_clipnorm` clip each replica's
    share of the gradient before the all-reduce, and dropout draws differ.

    The pipeline must give the same batches in the same order on every
    worker: seed any shuffle identically (the CLI passes `--seed`) and keep
    tf.data's default determinism. Each worker reads and preprocesses all of
    the data; cheap for the zoo's data sets.

    Args:
        dataset: a batched `tf.data.Dataset` of `(inputs, targets)`, what
            goes to `fit` (training or validation data).
        strategy: what `get_strategy` returned.

    Returns:
        A `tf.distribute.DistributedDataset` under multi-worker training (pass
        it to `fit`/`evaluate` as `x` or `validation_data`); `dataset` itself
        for any other strategy.

    Example:

    ```python
    train_ds = shard_dataset(preprocessor.dataset(raw, 64, shuffle=True), strategy)
    with strategy_scope(strategy):
        model.fit(train_ds, validation_data=shard_dataset(val_ds, strategy))
    ```
    """
    if not _is_multi_worker(strategy):
        return dataset
    import tensorflow as tf

    if not isinstance(dataset, tf.data.Dataset):
        raise ValueError(
            "Multi-worker training takes its data as a batched tf.data.Dataset. "
            f"Received: dataset={dataset!r}"
        )
    replicas = strategy.num_replicas_in_sync

    def dataset_fn(context):
        workers = context.num_input_pipelines
        local = replicas // workers
        first = context.input_pipeline_id * local

        def slices(*element):
            element = element[0] if len(element) == 1 else element
            size = tf.shape(tf.nest.flatten(element)[0], out_type=tf.int64)[0]

            def piece(j):
                r = first + j
                lo, hi = size * r // replicas, size * (r + 1) // replicas
                return tf.nest.map_structure(lambda t: t[lo:hi], element)

            return tf.data.Dataset.range(local).map(piece)

        sharded = dataset.flat_map(slices)
        # `flat_map` loses the cardinality; with one replica per worker the
        # distributed dataset's cardinality (that of this per-worker dataset)
        # is the number of global steps. Keep it known when it was: Keras's
        # epoch iterator then opens the same iterators as for `dataset` in
        # one process (with a known size, also a spare one after each epoch),
        # so a reshuffling `shuffle` deals every epoch the same order.
        cardinality = tf.get_static_value(dataset.cardinality())
        if local == 1 and cardinality is not None and (
            cardinality >= 0 or cardinality == tf.data.INFINITE_CARDINALITY
        ):
            sharded = sharded.apply(tf.data.experimental.assert_cardinality(int(cardinality)))
        return sharded

    return strategy.distribute_datasets_from_function(dataset_fn)


def check_workers_agree(strategy, **values):
    """Raise a `ValueError` on every worker unless all workers hold `values`.

    A collective op (an all-gather), so every worker must call it at the
    same point of the program. Under multi-worker training the workers must
    agree on what they resume from: a worker that cannot see the run
    directory of the chief (`--resume` needs it on a file system all
    workers share) would start from scratch and take other steps than the
    others. A no-op for any other strategy.

    Args:
        strategy: what `get_strategy` returned.
        **values: integers that must be the same on all workers, e.g.
            `initial_epoch=3`.

    Example:

    ```python
    check_workers_agree(strategy, initial_epoch=initial_epoch)
    ```
    """
    if not _is_multi_worker(strategy) or not values:
        return
    import numpy as np
    import tensorflow as tf

    names = sorted(values)
    mine = tf.constant([[int(values[n]) for n in names]], tf.int64)

    @tf.function
    def gather():
        return strategy.gather(strategy.run(lambda: tf.identity(mine)), axis=0)

    gathered = np.asarray(gather())
    for i, name in enumerate(names):
        seen = gathered[:, i].tolist()
        if len(set(seen)) > 1:
            raise ValueError(
                f"The workers disagree on {name}; every worker must see the same "
                "run directory (with --resume, on a file system all workers "
                f"share). Received: {name}={seen} (one value per replica)"
            )


def is_chief(strategy):
    """Whether this process writes checkpoints and exports.

    Under multi-worker training every worker runs the same program; only the
    chief's files are kept. The chief is the `chief` task when the cluster
    has one, else worker 0. Single-process strategies, `None` and JAX
    process 0 are the chief.

    Args:
        strategy: what `get_strategy` returned.

    Example:

    ```python
    if zoo.training.is_chief(strategy):
        print("epoch done")
    ```
    """
    if strategy is None:
        return True
    if isinstance(strategy, _KERAS_DISTRIBUTIONS):
        import jax

        return jax.process_index() == 0
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if resolver is None or task_type is None:
        return True
    if task_type == "chief":
        return True
    if task_type != "worker":
        return False
    jobs = resolver.cluster_spec().as_dict()
    return "chief" not in jobs and resolver.task_id == 0


def worker_dir(path, strategy):
    """Where this process writes what belongs in `path`; the same as `output_dir`.

    For code that cannot hold a `with` block open over the run (the CLI's
    callbacks): `path` itself on the chief; on any other worker a fresh
    temporary directory, deleted when the process exits. Every worker must
    still run the same saves (see `output_dir`).

    Args:
        path: the directory the run's outputs belong in.
        strategy: what `get_strategy` returned.

    Returns:
        The directory to write to.

    Example:

    ```python
    out = worker_dir("runs/lm", strategy)
    callbacks = [keras.callbacks.TensorBoard(os.path.join(out, "logs"))]
    ```
    """
    if is_chief(strategy):
        return path
    temp = tempfile.mkdtemp(prefix="zoo-worker-")
    atexit.register(shutil.rmtree, temp, ignore_errors=True)
    return temp


@contextlib.contextmanager
def output_dir(path, strategy):
    """Where this process writes checkpoints and exports meant for `path`.

    The standard multi-worker pattern: every worker saves (saving may run
    collective ops, so all must take part), the chief into `path`, the others
    into a temporary directory that is deleted when the block exits.

    Args:
        path: the directory the run's outputs belong in.
        strategy: what `get_strategy` returned.

    Example:

    ```python
    with zoo.training.output_dir("runs/lm", strategy) as out:
        model.save(os.path.join(out, "model.keras"))
    ```
    """
    if is_chief(strategy):
        os.makedirs(path, exist_ok=True)
        yield path
        return
    temp = tempfile.mkdtemp(prefix="zoo-worker-")
    try:
        yield temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)
