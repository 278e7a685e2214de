"""Distributed training: `zoo.training.distribute`.

- one-replica mirrored (TensorFlow) / DataParallel (JAX) training matches a
  plain run;
- two MultiWorkerMirroredStrategy workers, two processes on 127.0.0.1, end
  with identical weights that match a single process on the global batch
  (this exercises the keras-team/keras#20585 workaround);
- a real application through its `train` command: sentiment's tfds pipeline
  (one TFRecord file per split) on a tiny data dir, two workers on 127.0.0.1
  sharing one --output-dir, against a single-process run of the same
  command; then both workers resume it;
- bad TF_CONFIG, bad names, and the workaround only lives inside its scope.
"""

import json
import os
import socket
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest

from tests.zoo import _multiworker_worker as worker
from tests.zoo import _tiny_sentiment
from zoo import cli
from zoo.training import _keras_20585
from zoo.training import distribute

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "_multiworker_worker.py")
ROOT = os.path.dirname(os.path.dirname(HERE))
TIMEOUT_S = 240
BACKEND = keras.backend.backend()


def _assert_close(a, b, atol):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=atol, rtol=0)


def _moved(initial, final):
    return max(float(np.abs(a - b).max()) for a, b in zip(initial, final))


def test_mirrored_matches_plain_run():
    plain = worker.train("none")
    mirrored = worker.train("mirrored")
    assert mirrored["is_chief"]
    _assert_close(plain["initial"], mirrored["initial"], atol=0)
    assert _moved(plain["initial"], plain["final"]) > 1e-3
    _assert_close(plain["final"], mirrored["final"], atol=1e-5)


def _free_ports(n):
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _start(mode, out, tf_config=None):
    env = dict(os.environ)
    env.pop("TF_CONFIG", None)
    env.update(CUDA_VISIBLE_DEVICES="", KERAS_BACKEND="tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return subprocess.Popen(
        [sys.executable, WORKER, mode, out],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(processes):
    """Wait for all processes; never hangs, kills all on the first failure."""
    logs = [None] * len(processes)
    try:
        for i, process in enumerate(processes):
            try:
                logs[i], _ = process.communicate(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pytest.fail(f"process {i} ran past {TIMEOUT_S} s")
            if process.returncode != 0:
                pytest.fail(
                    f"process {i} exited with {process.returncode}:\n"
                    + logs[i][-4000:]
                )
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    return logs


def _kill(processes):
    for process in processes:
        process.kill()
        process.communicate()


def _load(path):
    data = np.load(path)
    count = len([k for k in data.files if k.startswith("w")])
    return {
        "initial": [data[f"i{i}"] for i in range(count)],
        "final": [data[f"w{i}"] for i in range(count)],
        "is_chief": bool(data["is_chief"]),
        "local_batch": int(data["local_batch"]),
    }


def test_two_workers_match_single_process(tmp_path):
    addresses = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    outs = [str(tmp_path / f"worker{i}.npz") for i in range(2)]
    reference_out = str(tmp_path / "single.npz")
    processes = [
        _start(
            "multi-worker",
            outs[i],
            {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": i}},
        )
        for i in range(2)
    ]
    if BACKEND == "tensorflow":
        # The single-process reference, here while the workers start up.
        try:
            single = worker.train("none")
        except BaseException:
            _kill(processes)
            raise
    else:
        processes.append(_start("none", reference_out))
    _finish(processes)

    workers = [_load(path) for path in outs]
    if BACKEND != "tensorflow":
        single = _load(reference_out)
    assert [w["is_chief"] for w in workers] == [True, False]
    # Each worker trained on its half of every global batch.
    assert [w["local_batch"] for w in workers] == [worker.GLOBAL_BATCH // 2] * 2
    assert single["local_batch"] == worker.GLOBAL_BATCH
    _assert_close(workers[0]["initial"], single["initial"], atol=0)
    assert _moved(single["initial"], single["final"]) > 1e-3
    # Identical on both workers, and the single-process result within 1e-5.
    _assert_close(workers[0]["final"], workers[1]["final"], atol=0)
    _assert_close(workers[0]["final"], single["final"], atol=1e-5)


# sentiment's quick preset, made tiny. Dropout off and no gradient clipping:
# the two-worker run can then match the single-process one (Keras clips each
# replica's gradient before the all-reduce, a different clip than one
# process's; dropout draws differ by worker).
SENTIMENT_ARGS = [
    "--preset", "quick", "--verbose", "0",
    "--set", "vocabulary_size=200", "--set", "embedding_dim=8",
    "--set", "units=4", "--set", "dropout=0", "--set", "embedding_dropout=0",
    "--set", "clipnorm=null",
]  # fmt: skip


def _start_cli(args, keep=None, tf_config=None):
    """`python -m applications.sentiment.train ARGS` (via the recording wrapper)."""
    env = dict(os.environ, PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES="",
               KERAS_BACKEND="tensorflow", TF_NUM_INTRAOP_THREADS="1",
               TF_NUM_INTEROP_THREADS="2")  # fmt: skip
    env.pop("TF_CONFIG", None)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    if keep is None:
        command = ["-m", "applications.sentiment.train"]
    else:
        command = ["-m", "tests.zoo._multiworker_cli", keep, "applications.sentiment"]
    return subprocess.Popen(
        [sys.executable] + command + args,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _start_workers(args, keeps):
    addresses = [f"127.0.0.1:{port}" for port in _free_ports(len(keeps))]
    return [
        _start_cli(
            args + ["--distribute", "multi-worker"],
            keep,
            {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": i}},
        )
        for i, keep in enumerate(keeps)
    ]


def _checkpoint_weights(run_dir):
    """Every array of `checkpoint.keras` (the model's and the optimizer's)."""
    import h5py

    arrays = {}
    with zipfile.ZipFile(os.path.join(run_dir, "checkpoint.keras")) as archive:
        with archive.open("model.weights.h5") as f, h5py.File(f, "r") as h5:
            h5.visititems(
                lambda name, item: arrays.__setitem__(name, item[()])
                if isinstance(item, h5py.Dataset)
                else None
            )
    return arrays


def _state(run_dir):
    with open(os.path.join(run_dir, "train_state.json")) as f:
        return json.load(f)


def _run_files(run_dir):
    """The files under `run_dir`; a TensorBoard event file as its folder."""
    files = []
    for folder, _, names in os.walk(run_dir):
        for name in names:
            path = os.path.relpath(os.path.join(folder, name), run_dir)
            if name.startswith("events.out.tfevents"):
                path = os.path.dirname(path)
            files.append(path.replace(os.sep, "/"))
    return sorted(files)


@pytest.fixture(scope="module")
def tiny_sentiment_data(tmp_path_factory):
    data_dir = str(tmp_path_factory.mktemp("sentiment_data"))
    sizes = _tiny_sentiment.make_data_dir(data_dir)
    assert sizes["train"] % 64 and sizes["validation"] < 64  # a partial batch each
    return data_dir


@pytest.mark.skipif(BACKEND != "tensorflow", reason="the reference runs in-process")
def test_sentiment_two_workers_match_single_process(tiny_sentiment_data, tmp_path):
    """Was: "Could not apply FILE based sharding" (a tfds split is one file)."""
    from applications.sentiment import APPLICATION

    args = SENTIMENT_ARGS + ["--epochs", "2", "--data-dir", tiny_sentiment_data]
    run = str(tmp_path / "run")  # the same --output-dir for both workers
    keeps = [str(tmp_path / f"keep{i}") for i in range(2)]
    processes = _start_workers(args + ["--output-dir", run], keeps)
    try:  # The single-process reference, here while the workers start up.
        cli.train_main(APPLICATION, args + ["--output-dir", str(tmp_path / "single")])
    except BaseException:
        _kill(processes)
        raise
    _finish(processes)

    # Only the chief wrote into the run directory: one event file per log.
    assert _run_files(run) == [
        "asset_vocabulary.txt", "checkpoint.keras", "config.json",
        "logs/train", "logs/validation", "model.weights.h5", "train_state.json",
    ]  # fmt: skip
    written = []
    for keep in keeps:
        with open(os.path.join(keep, "worker_dir.txt")) as f:
            written.append(f.read())
    assert written[0] == run
    assert written[1] != run and not os.path.exists(written[1])  # deleted at exit

    chief, other = _checkpoint_weights(run), _checkpoint_weights(keeps[1] + "/files")
    single = _checkpoint_weights(str(tmp_path / "single"))
    assert sorted(chief) == sorted(other) == sorted(single)
    state, single_state = _state(run), _state(str(tmp_path / "single"))
    assert state == _state(keeps[1] + "/files")
    assert state["epoch"] == 2
    # Training progressed...
    losses = [epoch["loss"] for epoch in state["history"]]
    assert losses[1] < losses[0]
    # ... identically on both workers, and as one process does on the global
    # batch: each step took its 64 examples half per worker.
    for name in chief:
        np.testing.assert_array_equal(chief[name], other[name], err_msg=name)
        np.testing.assert_allclose(chief[name], single[name], atol=1e-4, rtol=0, err_msg=name)
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose(
            [e[key] for e in state["history"]],
            [e[key] for e in single_state["history"]],
            atol=1e-4,
            err_msg=key,
        )


@pytest.mark.parametrize(
    "value, message",
    [
        (None, "reads the cluster from the TF_CONFIG"),
        ("", "reads the cluster from the TF_CONFIG"),
        ("{not json", "must be JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"task": {"type": "worker", "index": 0}}', "needs 'cluster'"),
        ('{"cluster": {"worker": ["127.0.0.1"]}}', "'host:port'"),
        ('{"cluster": {"ps": ["127.0.0.1:1"]}, "task": {}}', "'worker'"),
        ('{"cluster": {"worker": ["127.0.0.1:1"]}}', "needs 'task'"),
        (
            '{"cluster": {"worker": ["127.0.0.1:1"]}, '
            '"task": {"type": "chief", "index": 0}}',
            "not a job of the cluster",
        ),
        (
            '{"cluster": {"worker": ["127.0.0.1:1"]}, '
            '"task": {"type": "worker", "index": "0"}}',
            "must be an integer",
        ),
        (
            '{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, '
            '"task": {"type": "worker", "index": 2}}',
            "out of range",
        ),
    ],
)
def test_bad_tf_config(monkeypatch, value, message):
    if value is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", value)
    with pytest.raises(ValueError, match=message) as info:
        distribute.parse_tf_config()
    assert f"Received: TF_CONFIG={value!r}" in str(info.value)
    if BACKEND == "tensorflow":
        # Checked before any strategy (and TF runtime setup) is created.
        with pytest.raises(ValueError, match="Received: TF_CONFIG="):
            distribute.get_strategy("multi-worker")


def test_good_tf_config():
    config = {
        "cluster": {"worker": ["127.0.0.1:20001", "127.0.0.1:20002"]},
        "task": {"type": "worker", "index": 1},
    }
    assert distribute.parse_tf_config(json.dumps(config)) == config


def test_bad_name():
    with pytest.raises(ValueError, match="Received: name='horovod'"):
        distribute.get_strategy("horovod")
    assert distribute.get_strategy("none") is None
    assert distribute.is_chief(None)
    with pytest.raises(ValueError, match="Received: strategy="):
        with distribute.strategy_scope("mirrored"):
            pass


@pytest.mark.skipif(BACKEND != "jax", reason="the JAX route")
def test_jax_data_parallel():
    strategy = distribute.get_strategy("data-parallel")
    assert isinstance(strategy, keras.distribution.DataParallel)
    assert distribute.is_chief(strategy)
    before = keras.distribution.distribution()
    with distribute.strategy_scope(strategy):
        assert keras.distribution.distribution() is strategy
    assert keras.distribution.distribution() is before
    with pytest.raises(ValueError, match="Received: name='multi-worker'"):
        distribute.get_strategy("multi-worker")


def test_output_dir(tmp_path):
    target = str(tmp_path / "run")
    with distribute.output_dir(target, None) as out:
        assert out == target and os.path.isdir(out)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tf.distribute only")
def test_keras_20585_workaround_is_scoped():
    from keras.src.backend.tensorflow import trainer

    original = (
        trainer.TensorFlowTrainer._maybe_symbolic_build,
        trainer.reduce_per_replica,
    )
    assert not _keras_20585.is_active()
    with _keras_20585.patched():
        with _keras_20585.patched():
            assert _keras_20585.is_active() == _keras_20585.is_affected()
        assert _keras_20585.is_active() == _keras_20585.is_affected()
    assert not _keras_20585.is_active()
    assert (
        trainer.TensorFlowTrainer._maybe_symbolic_build,
        trainer.reduce_per_replica,
    ) == original
    # A single-worker strategy never installs it.
    import tensorflow as tf

    with distribute.strategy_scope(tf.distribute.MirroredStrategy()):
        assert not _keras_20585.is_active()
