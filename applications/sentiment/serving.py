"""Serving endpoints: raw UTF-8 strings in, label and probability out."""

import tensorflow as tf

from zoo.application import Endpoint


def export_endpoints(model, preprocessor):
    """`serve_text` (the `serving_default`) and the plain `serve_tokens`.

    `serve_text` takes a batch of strings (`texts`) and returns `label`
    ("positive" / "negative"), `probability` (of that label),
    `positive_probability` and `num_tokens` (tokens before truncation to the
    model's length; 0 for an empty text, whose prediction is the model's
    prior). Invalid UTF-8 bytes are replaced, never an error.
    """
    max_length = preprocessor.max_length

    def serve_text(texts):
        ids = preprocessor(texts)
        positive = tf.reshape(model(ids, training=False), [-1])
        is_positive = positive >= 0.5
        return {
            "label": tf.where(is_positive, tf.constant("positive"), tf.constant("negative")),
            "probability": tf.where(is_positive, positive, 1.0 - positive),
            "positive_probability": positive,
            "num_tokens": preprocessor.num_tokens(texts),
        }

    def serve_tokens(token_ids):
        return {"positive_probability": tf.reshape(model(token_ids, training=False), [-1])}

    return [
        Endpoint("serve_text", serve_text, [tf.TensorSpec([None], tf.string, name="texts")]),
        Endpoint(
            "serve_tokens",
            serve_tokens,
            [tf.TensorSpec([None, max_length], tf.int32, name="token_ids")],
        ),
    ]


def predict(application, args, texts):
    """The `predict` command: each text's label and probability, through the
    same function as the SavedModel's `serving_default`."""
    model, preprocessor, _ = application.from_pretrained(args.weights)
    serve = export_endpoints(model, preprocessor)[0].fn
    out = serve(tf.constant([t.encode("utf-8") for t in texts]))
    rows = []
    for i, text in enumerate(texts):
        rows.append({
            "text": text,
            "label": out["label"][i].numpy().decode(),
            "probability": float(out["probability"][i]),
            "positive_probability": float(out["positive_probability"][i]),
            "num_tokens": int(out["num_tokens"][i]),
            "max_length": int(preprocessor.max_length),
        })
    return rows


def format_prediction(row):
    """One `predict` result as a console line, with a note on what the
    model could not read."""
    n = row["num_tokens"]
    note = ""
    if n == 0:
        note = "  (empty text: no known words, this is the model's prior)"
    elif n > row["max_length"]:
        note = f"  (truncated: {n} tokens, the first {row['max_length']} were read)"
    return f"{row['label']:8s} {row['probability']:.3f}  {row['text'][:60]!r}{note}"
