"""Sentiment application: classify review texts as positive or negative.

    python -m applications.sentiment.train --preset quick
    python -m applications.sentiment.evaluate
    python -m applications.sentiment.export --output exports
    python -m applications.sentiment.predict "a gripping, funny film"
"""

from zoo.application import Application
from zoo.application import UserCommand


PRESETS = {
    # A few minutes on 2 CPU cores.
    "quick": {
        "vocabulary_size": 10000,
        "max_length": 48,
        "embedding_dim": 64,
        "units": 32,
        "bidirectional": True,
        "layers": 1,
        "dropout": 0.3,
        "embedding_dropout": 0.2,
        "learning_rate": 2e-3,
        "clipnorm": 1.0,
        "epochs": 3,
        "batch_size": 64,
    },
    # What produced the shipped weights: a BiLSTM with masked max+mean
    # pooling over its outputs and heavy dropout (it overfits the 8.9k
    # snippets within 2-3 epochs; train keeps the best validation epoch).
    # max_length 49 (99% of snippets have <= 40 tokens) was chosen while
    # zoo.ops.scan still failed for lengths divisible by 2-4 with an unknown
    # batch size (fixed since); it is kept because it made the shipped weights.
    # Language-model pretraining (`python -m applications.sentiment.pretrain`,
    # then "pretrained_encoder": "<dir>/encoder.npz") did not help on
    # validation within this budget; see bench/sentiment.md.
    "full": {
        "vocabulary_size": 16000,
        "max_length": 49,
        "embedding_dim": 128,
        "units": 64,
        "bidirectional": True,
        "layers": 1,
        "pooling": "max_mean",
        "dropout": 0.5,
        "embedding_dropout": 0.6,
        "lstm_dropout": 0.4,
        "learning_rate": 1e-3,
        "clipnorm": 1.0,
        "epochs": 5,
        "batch_size": 64,
    },
}

APPLICATION = Application(
    name="sentiment",
    description="Sentiment classification (many-to-one): a (bi)LSTM from zoo.layers over review snippets.",
    presets=PRESETS,
    datasets=("rotten_tomatoes", "fine_food", "imdb_reviews", "glue/sst2"),
    load_data="applications.sentiment.data:load_dataset",
    monitor="val_accuracy",
    monitor_mode="max",
    default_weights="sentiment_bilstm_rt",
    user_command=UserCommand(
        name="predict",
        description="Print the label and probability of each text.",
        run="applications.sentiment.serving:predict",
        format="applications.sentiment.serving:format_prediction",
    ),
)
