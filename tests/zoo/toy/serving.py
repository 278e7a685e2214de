"""The toy endpoint, and the `predict` command that runs it."""

import numpy as np
import tensorflow as tf

from tests.zoo.toy.data import LENGTH
from zoo.application import Endpoint


def export_endpoints(model, preprocessor):
    def serve(x):
        p = tf.reshape(model(preprocessor(x)), [-1])
        return {"positive_probability": p, "label": tf.cast(p >= 0.5, tf.int32)}

    return [Endpoint("serve_sequences", serve, [tf.TensorSpec([None, LENGTH, 1], tf.float32, name="x")])]


def predict(application, args, texts):
    rows = []
    for text in texts:
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            raise ValueError(f"A sequence is {LENGTH} numbers separated by commas. Received: {text!r}") from None
        if len(values) != LENGTH:
            raise ValueError(f"A sequence is {LENGTH} numbers. Received: {len(values)} in {text!r}")
        rows.append(values)
    model, preprocessor, _ = application.from_pretrained(args.weights)
    serve = export_endpoints(model, preprocessor)[0].fn
    out = serve(tf.constant(np.array(rows, "float32")[..., None]))
    p = out["positive_probability"].numpy()
    return [{"sequence": text, "positive_probability": float(q)} for text, q in zip(texts, p)]


def format_prediction(row):
    return f"{row['positive_probability']:.3f}  {row['sequence']}"
