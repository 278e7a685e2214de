"""Workaround for keras-team/keras#20585: `fit` under MultiWorkerMirroredStrategy.

Keras 3's TensorFlow trainer fails under
`tf.distribute.MultiWorkerMirroredStrategy` (MWMS) in two places, both in
`keras/src/backend/tensorflow/trainer.py` (reproduced with Keras 3.15.1 and
TensorFlow 2.21; upstream issue keras-team/keras#20585, also
tensorflow/tensorflow#72388, still open):

1. `TensorFlowTrainer._maybe_symbolic_build` reduces the first distributed
   batch with `strategy.reduce("MEAN", batch, axis=None)` only to learn its
   shapes. MWMS's `reduce` cannot take a nested structure of `PerReplica`
   values: "Attempt to convert a value (PerReplica:{...}) with an
   unsupported type". Fix: build from the first local replica's *spec*
   (`element_spec` of the distributed dataset; only shapes and dtypes
   matter here), without reading a batch at all. Reading one, as upstream
   does, opens an extra iterator of the data set before the first epoch's:
   a seeded `shuffle(..., reshuffle_each_iteration=True)` gives every
   iterator the next order, so every epoch of a distributed `fit` saw the
   order of the epoch after it, and its steps differed from one process
   training on the same global batches (the same happens upstream under
   `MirroredStrategy`, which this module leaves alone).
2. `reduce_per_replica(..., reduction="auto")` becomes `"mean"` and, for
   MWMS, calls `strategy.reduce("MEAN", v, axis=0)` on the scalar logs of
   `train_step` / `test_step`: "Invalid reduction dimension 0 for input with
   0 dimensions". Fix: reduce across replicas only (`axis=None`), the same
   element-wise mean across replicas that the single-worker branch computes.

Nothing here runs at import. `patched()` installs both fixes while a
multi-worker `strategy_scope` is open and restores Keras's own functions on
exit; the train/test functions are traced during the first `fit` /
`evaluate`, so those calls must happen inside the scope. The fixes only
apply to Keras versions in `AFFECTED_KERAS`; check again (and widen the
range, or delete this module) when the Keras pin moves past it.
"""

import contextlib
import threading

import keras

# keras-team/keras#20585 is reproduced up to the newest Keras our pin allows
# (setup.cfg: keras<3.16). Newer Keras is left untouched.
AFFECTED_KERAS = ((3, 0), (3, 16))

_lock = threading.Lock()
_depth = 0
_originals = None


def _keras_version():
    parts = []
    for piece in keras.version().split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def is_affected():
    """Whether the installed Keras has keras-team/keras#20585."""
    low, high = AFFECTED_KERAS
    return keras.backend.backend() == "tensorflow" and (
        low <= _keras_version() < high
    )


def _trainer_module():
    from keras.src.backend.tensorflow import trainer

    return trainer


def _is_multi_worker(strategy):
    return _trainer_module()._collective_all_reduce_multi_worker(strategy)


def _make_symbolic_build(original):
    import tensorflow as tf
    from keras.src import tree

    def first_local(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return value.values[0]
        return value

    def first_local_spec(spec):
        # A `PerReplicaSpec` holds one `TensorSpec` per local replica.
        specs = getattr(spec, "_value_specs", None)
        return specs[0] if specs else spec

    def element_spec(iterator):
        adapter = getattr(iterator, "data_adapter", None)
        dataset = adapter.get_tf_dataset() if adapter is not None else None
        spec = getattr(dataset, "element_spec", None)
        if spec is None:
            return None
        spec = tf.nest.map_structure(first_local_spec, spec)
        leaves = tf.nest.flatten(spec)
        if not all(hasattr(s, "shape") and hasattr(s, "dtype") for s in leaves):
            return None
        return spec

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = self._distribute_strategy
        if iterator is None or strategy is None or not _is_multi_worker(strategy):
            return original(self, iterator=iterator, data_batch=data_batch)
        # Build from one replica's element spec: reading a batch would open
        # an iterator and so take one reshuffle of the data (module doc, 1.).
        data_batch = element_spec(iterator)
        if data_batch is None:
            # Fallback, as upstream: peek at the first batch of the
            # distributed iterator, one replica's slice of it.
            for _, _, it in iterator:
                data_batch = tree.map_structure(first_local, next(it))
                break
        return original(self, data_batch=data_batch)

    return _maybe_symbolic_build


def _make_reduce_per_replica(original):
    import tensorflow as tf
    from keras.src import tree

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and _is_multi_worker(strategy):
            return tree.map_structure(
                lambda v: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None),
                values,
            )
        return original(values, strategy, reduction)

    return reduce_per_replica


def _install():
    global _originals
    trainer = _trainer_module()
    cls = trainer.TensorFlowTrainer
    _originals = (cls._maybe_symbolic_build, trainer.reduce_per_replica)
    cls._maybe_symbolic_build = _make_symbolic_build(_originals[0])
    trainer.reduce_per_replica = _make_reduce_per_replica(_originals[1])


def _uninstall():
    global _originals
    trainer = _trainer_module()
    trainer.TensorFlowTrainer._maybe_symbolic_build = _originals[0]
    trainer.reduce_per_replica = _originals[1]
    _originals = None


def is_active():
    """Whether the patch is installed right now."""
    return _originals is not None


@contextlib.contextmanager
def patched():
    """Apply the keras-team/keras#20585 workaround within the block.

    Re-entrant: nested blocks install it once and the outermost exit
    restores Keras's own functions. A no-op on unaffected Keras versions
    and on backends other than TensorFlow.
    """
    global _depth
    if not is_affected():
        yield
        return
    with _lock:
        if _depth == 0:
            _install()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _uninstall()
