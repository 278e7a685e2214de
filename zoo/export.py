"""SavedModel export in TensorFlow Serving's layout (`DIR/<model>/<version>/`)."""

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


def plain_recurrent_loops(*roots):
    """Trace the zoo's recurrent layers without XLA functions.

    `zoo.layers.RNN` compiles its time loops with XLA by itself
    (`jit_compile="auto"`); a SavedModel holding such a function runs in
    TensorFlow Serving only when it is started with
    `--xla_cpu_compilation_enabled=true`. Inside this context every zoo
    recurrent layer traces its plain loop (`zoo.ops.plain_loops`, a scoped
    flag the layers read); `roots` (models, layers) are accepted for
    compatibility and need not be given.

    Example:

    ```python
    with plain_recurrent_loops():
        model.export("exported")
    ```
    """
    del roots  # the flag holds for every layer traced inside the context
    from zoo.ops import plain_loops

    return plain_loops()


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
    with plain_recurrent_loops():
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
