"""The shared test harness: every zoo layer and application runs it.

- `check_layer`: build, call, output shape, `get_config` round trip, `.keras`
  and `.weights.h5` round trips.
- `gradients`: gradients of a scalar loss w.r.t. a layer's weights on the
  current backend (TensorFlow or JAX), for parity tests.
- `check_application`: what every application meets (one training step,
  `from_pretrained` round trip, export served in a fresh process, the bad
  inputs every application refuses).
- `check_export`: `model.export` then `tf.saved_model.load` in a fresh
  process that never imports `zoo` or `applications`; outputs must match.
- `check_saved_model`: the same fresh-process check for a SavedModel written
  by other means (an application's `export` command), against the outputs
  the Python model gives.
- `run_module`: `python -m <module> ...` from the repository root, as a
  user types it.
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def check_layer(layer_factory, input_data, tmp_path, atol=1e-6, call_kwargs=None):
    """Run the layer contract on `layer_factory()` with `input_data`."""
    call_kwargs = call_kwargs or {}
    layer = layer_factory()
    output = layer(input_data, **call_kwargs)
    outputs = output if isinstance(output, (list, tuple)) else [output]

    # Output shape agrees with compute_output_shape.
    expected = layer.compute_output_shape(tuple(input_data.shape))
    expected = expected if isinstance(expected[0], tuple) else [expected]
    for out, shape in zip(outputs, expected):
        assert tuple(out.shape) == tuple(shape), (out.shape, shape)

    # get_config round trip: same config, and same outputs with same weights.
    config = layer.get_config()
    clone = layer.__class__.from_config(config)
    assert clone.get_config() == config
    clone(input_data, **call_kwargs)
    clone.set_weights(layer.get_weights())
    for a, b in zip(outputs, _as_list(clone(input_data, **call_kwargs))):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=atol)

    # Whole-model `.keras` and `.weights.h5` round trips.
    inputs = keras.Input(batch_shape=input_data.shape)
    model = keras.Model(inputs, layer(inputs, **call_kwargs))
    path = os.path.join(str(tmp_path), "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    for a, b in zip(_as_list(model(input_data)), _as_list(loaded(input_data))):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=atol)
    weights_path = os.path.join(str(tmp_path), "model.weights.h5")
    model.save_weights(weights_path)
    fresh = keras.Model(inputs, layer_factory()(inputs, **call_kwargs))
    fresh.load_weights(weights_path)
    for a, b in zip(_as_list(model(input_data)), _as_list(fresh(input_data))):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=atol)
    return layer


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def gradients(layer, inputs, call_kwargs=None, output_weights=None):
    """Outputs and d(sum(outputs * w)) / d(weights, inputs) on this backend.

    `output_weights` (same shape as the output) makes the loss sensitive to
    every output element differently; it is drawn deterministically.
    """
    call_kwargs = call_kwargs or {}
    backend = keras.backend.backend()
    x = keras.ops.convert_to_tensor(inputs)
    out = layer(x, **call_kwargs)
    if output_weights is None:
        rng = np.random.default_rng(0)
        output_weights = rng.standard_normal(tuple(out.shape)).astype("float32")
    w = keras.ops.convert_to_tensor(output_weights)
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            out = layer(x, **call_kwargs)
            loss = tf.reduce_sum(out * w)
        grads = tape.gradient(loss, [v.value for v in layer.trainable_variables] + [x])
    elif backend == "jax":
        import jax

        trainable = [v.value for v in layer.trainable_variables]
        non_trainable = [v.value for v in layer.non_trainable_variables]

        def loss_fn(params, x):
            out, _ = layer.stateless_call(params, non_trainable, x, **call_kwargs)
            return (out * w).sum(), out

        (_, out), (g_params, g_x) = jax.value_and_grad(
            loss_fn, argnums=(0, 1), has_aux=True
        )(trainable, x)
        grads = list(g_params) + [g_x]
    else:
        raise NotImplementedError(f"gradients on backend {backend}")
    names = [v.path for v in layer.trainable_variables] + ["inputs"]
    return to_numpy(out), dict(zip(names, [to_numpy(g) for g in grads])), output_weights


def assert_same_gradients(g_zoo, g_ref, atol=1e-5):
    """Gradients match in order (the zoo and Keras name weights alike)."""
    assert len(g_zoo) == len(g_ref), (list(g_zoo), list(g_ref))
    for (name, a), (_, b) in zip(g_zoo.items(), g_ref.items()):
        np.testing.assert_allclose(a, b, atol=atol, err_msg=name)


_EXPORT_CHECK = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    spec = json.load(open(sys.argv[1]))
    for module in spec.get("imports", []):  # e.g. tensorflow_text: registers ops
        __import__(module)
    loaded = tf.saved_model.load(spec["path"])
    fn = loaded.signatures[spec.get("signature", "serving_default")]
    args = {k: tf.constant(np.load(v, allow_pickle=True)) for k, v in spec["inputs"].items()}  # our own files
    out = fn(**args)
    for name, value in out.items():
        np.save(spec["outputs_dir"] + "/" + name + ".npy", value.numpy())
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("zoo", "applications"))
    json.dump({"outputs": sorted(out), "leaked": leaked},
              open(spec["outputs_dir"] + "/result.json", "w"))
    """
)


def run_saved_model_fresh(path, inputs, tmp_path, signature="serving_default", imports=()):
    """Call a SavedModel signature in a fresh Python that never imports zoo.

    `inputs` maps the signature's argument names to numpy arrays; `imports`
    names modules to import first (libraries that register ops the graph
    uses, such as `tensorflow_text`). Returns the named outputs as numpy
    arrays.
    """
    tmp_path = str(tmp_path)
    spec = {"path": str(path), "signature": signature, "inputs": {}, "outputs_dir": tmp_path,
            "imports": list(imports)}
    for name, value in inputs.items():
        file = os.path.join(tmp_path, f"in_{name}.npy")
        np.save(file, value)
        spec["inputs"][name] = file
    spec_file = os.path.join(tmp_path, "spec.json")
    with open(spec_file, "w") as f:
        json.dump(spec, f)
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONPATH", None)
    # Run from a directory where `zoo` is not importable by accident.
    done = subprocess.run(
        [sys.executable, "-c", _EXPORT_CHECK, spec_file],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, (
        f"loading and calling {path} ({signature}) in a fresh process failed:\n{done.stderr[-4000:]}"
    )
    result = json.load(open(os.path.join(tmp_path, "result.json")))
    assert result["leaked"] == [], result["leaked"]
    return {
        name: np.load(os.path.join(tmp_path, name + ".npy"), allow_pickle=True)  # our own files
        for name in result["outputs"]
    }


def check_export(model, input_data, tmp_path, atol=1e-5):
    """`model.export` + fresh-process load; outputs equal the Keras model's."""
    path = os.path.join(str(tmp_path), "export")
    model.export(path, format="tf_saved_model", verbose=False)
    import tensorflow as tf

    sig = tf.saved_model.load(path).signatures["serving_default"]
    (arg_name,) = sig.structured_input_signature[1].keys()
    expected = _as_list(model(input_data))
    assert len(expected) == 1, len(expected)
    (out_name,) = sig.structured_outputs.keys()
    check_saved_model(path, {arg_name: input_data}, {out_name: expected[0]}, tmp_path, atol=atol)
    return path


def check_saved_model(path, inputs, expected, tmp_path, signature="serving_default",
                      imports=(), atol=1e-5):
    """Call a SavedModel in a fresh process (no `zoo`, no `applications`);
    its outputs must be exactly the names of `expected` and equal them.

    `expected` maps output names to what the Python model gives (tensors or
    arrays): floats within `atol`, strings, integers and booleans exactly.
    Returns the SavedModel's outputs as numpy arrays.
    """
    got = run_saved_model_fresh(path, inputs, tmp_path, signature=signature, imports=imports)
    assert sorted(got) == sorted(expected), (sorted(got), sorted(expected))
    for name, value in expected.items():
        # tf tensors of strings have `.numpy()`; Keras converts the rest.
        want = value.numpy() if hasattr(value, "numpy") else np.asarray(to_numpy(value))
        have = got[name]
        assert have.shape == want.shape, (name, have.shape, want.shape)
        if np.issubdtype(want.dtype, np.floating):
            np.testing.assert_allclose(have, want, atol=atol, err_msg=name)
        else:
            assert have.tolist() == want.tolist(), (name, have.tolist(), want.tolist())
    return got


def run_module(module, args, timeout=900, env=None):
    """`python -m module *args` from the repository root; returns the
    `CompletedProcess` (text stdout and stderr captured). `env` changes the
    environment: a value of None removes the variable."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": ROOT}
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def run_notebook(name, weights, timeout=600):
    """Execute `notebooks/<name>` top to bottom (skipped without nbclient or
    without the shipped `weights` entry); returns how many images it drew."""
    import pytest

    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from zoo import weights as registry

    if weights not in registry.load_manifest():
        pytest.skip(f"no shipped {weights} in weights/manifest.json")
    notebook = nbformat.read(os.path.join(ROOT, "notebooks", name), as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": ROOT}})
    client.execute()
    return sum(
        1
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    )


def check_application(application, config, raw_examples, serving_inputs, tmp_path,
                      dataset=None, run_dir=None, serving_imports=(), atol=1e-5):
    """The contract every application meets, in the spirit of KerasHub's
    `run_task_test`; returns the run directory it trained.

    1. Trains one step of `config` on `raw_examples` (a list of
       `(raw_input, target)` pairs) as `zoo.cli` does: preprocessor fitted on
       them, model built, one `fit` step, a run directory written. An
       application with its own trainer passes that trainer's `run_dir`
       instead.
    2. Round-trips through `from_pretrained`: the reloaded model's serving
       endpoint gives what the trained one gives on `serving_inputs` (a dict
       of numpy arrays named as the first endpoint's inputs).
    3. Runs the application's `export` command (`zoo.cli.export_main`) and
       calls `serving_default` in a fresh process that imports no project
       code: the outputs equal the Python endpoint's.
    4. Refuses what every application must refuse, with the received value
       in the message: an unknown dataset and preset, a `--weights` that is
       neither a directory nor a shipped entry, and a damaged weights file.
    """
    import shutil

    import pytest
    import tensorflow as tf

    from zoo import cli
    from zoo.application import write_run_config
    from zoo.export import plain_recurrent_loops
    from zoo.training.checkpoint import save_model_weights

    dataset = dataset or application.datasets[0]
    if run_dir is None:
        keras.utils.set_random_seed(0)
        inputs, targets = zip(*raw_examples)
        raw = tf.data.Dataset.from_tensor_slices((list(inputs), list(targets)))
        preprocessor = application.build_preprocessor(config, raw, None)
        model = application.build_model(config)
        history = model.fit(preprocessor.dataset(raw, config["batch_size"], shuffle=True, seed=0),
                            epochs=1, steps_per_epoch=1, verbose=0)
        assert np.isfinite(history.history["loss"]).all(), history.history
        run_dir = os.path.join(str(tmp_path), "run")
        os.makedirs(run_dir)
        preprocessor.save(run_dir)
        write_run_config(run_dir, application, "quick", dataset, config)
        save_model_weights(model, os.path.join(run_dir, "model.weights.h5"))
    else:
        model, preprocessor, _ = application.from_pretrained(run_dir)

    def serve(model, preprocessor):
        endpoint = application.export_endpoints(model, preprocessor)[0]
        assert [spec.name for spec in endpoint.input_signature] == list(serving_inputs)
        with plain_recurrent_loops(model):
            return tf.function(endpoint.fn)(**{k: tf.constant(v) for k, v in serving_inputs.items()})

    trained = serve(model, preprocessor)
    reloaded = serve(*application.from_pretrained(run_dir)[:2])
    assert sorted(trained) == sorted(reloaded)
    for name in trained:
        a, b = trained[name].numpy(), reloaded[name].numpy()
        if np.issubdtype(a.dtype, np.floating):
            np.testing.assert_allclose(a, b, atol=atol, err_msg=name)
        else:
            assert a.tolist() == b.tolist(), name

    serving = os.path.join(str(tmp_path), "serving")
    path = cli.export_main(application, ["--weights", run_dir, "--output", serving])
    check_saved_model(path, serving_inputs, trained, tmp_path, imports=serving_imports, atol=atol)


    with pytest.raises(ValueError, match="Received: dataset='no_such_dataset'"):
        application.check_dataset("no_such_dataset")
    with pytest.raises(ValueError, match="Received: preset='no_such_preset'"):
        application.preset("no_such_preset")
    from zoo.weights import WeightsError

    with pytest.raises(WeightsError, match="does not exist"):
        application.from_pretrained(os.path.join(str(tmp_path), "no_such_run"))
    damaged = os.path.join(str(tmp_path), "damaged")
    shutil.copytree(run_dir, damaged)
    weights = os.path.join(damaged, "model.weights.h5")
    with open(weights, "r+b") as f:
        f.truncate(os.path.getsize(weights) // 2)
    with pytest.raises(WeightsError, match="is damaged"):
        application.from_pretrained(damaged)
    return run_dir
