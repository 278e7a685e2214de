"""Distributed training: `zoo.training.distribute`.

- one-replica mirrored (TensorFlow) / DataParallel (JAX) training matches a
  plain run;
- two MultiWorkerMirroredStrategy workers, two processes on 127.0.0.1, end
  with identical weights that match a single process on the global batch
  (this exercises the keras-team/keras#20585 workaround);
- bad TF_CONFIG, bad names, and the workaround only lives inside its scope.
"""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.zoo import _multiworker_worker as worker
from zoo.training import _keras_20585
from zoo.training import distribute

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "_multiworker_worker.py")
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
            for process in processes:
                process.kill()
                process.communicate()
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
