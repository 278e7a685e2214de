"""SavedModel export in TensorFlow Serving's layout (`DIR/<model>/<version>/`)."""

import contextlib
import os


def contains_xla_function(saved_model_dir):
    """Whether a SavedModel's graph holds a function that must be XLA-compiled.

    TensorFlow Serving refuses to run such functions unless it is started
    with `--xla_cpu_compilation_enabled=true`; the zoo's exports contain none.
    """
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    path = tf.io.gfile.join(str(saved_model_dir), "saved_model.pb")
    with tf.io.gfile.GFile(path, "rb") as f:
        proto.ParseFromString(f.read())
    for meta_graph in proto.meta_graphs:
        for function in meta_graph.graph_def.library.function:
            attr = function.attr.get("_XlaMustCompile")
            if attr is not None and attr.b:
                return True
    return False


@contextlib.contextmanager
def plain_recurrent_loops(*roots):
    """Trace the zoo's recurrent layers under `roots` without XLA functions.

    `zoo.layers.RNN` compiles its time loops with XLA by itself
    (`jit_compile="auto"`); a SavedModel holding such a function runs in
    TensorFlow Serving only when it is started with
    `--xla_cpu_compilation_enabled=true`. Inside this context every zoo
    recurrent layer reachable from `roots` (models, layers) runs its plain
    loop; the setting is restored on exit.

    Example:

    ```python
    with plain_recurrent_loops(model):
        model.export("exported")
    ```
    """
    from zoo.layers.rnn import RNN

    saved = []
    seen = set()
    for root in roots:
        layers = root._flatten_layers() if hasattr(root, "_flatten_layers") else []
        for layer in layers:
            if isinstance(layer, RNN) and id(layer) not in seen:
                seen.add(id(layer))
                saved.append((layer, layer.jit_compile))
                layer.jit_compile = False
    try:
        yield
    finally:
        for layer, value in saved:
            layer.jit_compile = value


def export_saved_model(model, endpoints, directory, model_name, version=1, track=()):
    """Write `directory/model_name/version/` with the given endpoints.

    Args:
        model: the Keras model (its variables are tracked).
        endpoints: list of `zoo.application.Endpoint`; the first one is also
            `serving_default`, the signature TensorFlow Serving calls.
        directory: the serving base directory (`--model_base_path`'s parent).
        model_name: TensorFlow Serving's model name.
        version: integer version directory.
        track: further layers or resources the endpoints use (lookup tables
            of preprocessing layers, ...).

    Returns:
        The version directory's path.

    Example:

    ```python
    export_saved_model(model, [Endpoint("serve_text", fn, [spec])], "exports", "sentiment")
    ```
    """
    import keras

    if not endpoints:
        raise ValueError("At least one endpoint is needed. Received: endpoints=[]")
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"`version` must be a positive integer. Received: version={version!r}")
    path = os.path.join(str(directory), model_name, str(version))
    # Functions are traced while the archive is written: without the zoo's
    # own XLA loops, so that TensorFlow Serving runs the model as it is.
    with plain_recurrent_loops(model, *track):
        archive = keras.export.ExportArchive()
        archive.track(model)
        for resource in track:
            archive.track(resource)
        first = endpoints[0]
        archive.add_endpoint("serving_default", first.fn, first.input_signature)
        for endpoint in endpoints:
            archive.add_endpoint(endpoint.name, endpoint.fn, endpoint.input_signature)
        archive.write_out(path, verbose=False)
    return path
