"""The sentiment classifier: embedding, (bi)LSTM from `zoo.layers`, head."""

import keras

import zoo.layers


def build_model(config):
    """A compiled binary classifier over token ids `(batch, max_length)`.

    Config keys: `vocabulary_size`, `max_length`, `embedding_dim`, `units`,
    `bidirectional`, `layers`, `dropout`, `learning_rate`, `clipnorm`.
    Outputs the probability that the text is positive ("fresh").
    """
    ids = keras.Input((config["max_length"],), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(
        config["vocabulary_size"], config["embedding_dim"], mask_zero=True, name="embedding"
    )(ids)
    x = keras.layers.Dropout(config.get("embedding_dropout", 0.0))(x)
    for i in range(config.get("layers", 1)):
        last = i == config.get("layers", 1) - 1
        rnn = zoo.layers.LSTM(
            config["units"],
            return_sequences=not last,
            dropout=config.get("lstm_dropout", 0.0),
            name=f"lstm_{i}",
        )
        if config.get("bidirectional", True):
            rnn = keras.layers.Bidirectional(rnn, name=f"bilstm_{i}")
        x = rnn(x)
    x = keras.layers.Dropout(config.get("dropout", 0.0))(x)
    probability = keras.layers.Dense(1, activation="sigmoid", name="probability")(x)
    model = keras.Model(ids, probability, name="sentiment_lstm")
    model.compile(
        optimizer=keras.optimizers.Adam(
            config.get("learning_rate", 1e-3), global_clipnorm=config.get("clipnorm", 1.0)
        ),
        loss="binary_crossentropy",
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
    )
    return model
