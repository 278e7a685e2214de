"""SavedModel export in TensorFlow Serving's layout (`DIR/<model>/<version>/`)."""

import os


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
