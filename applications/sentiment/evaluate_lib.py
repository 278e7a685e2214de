"""Metrics for the sentiment model, with the baselines on the same splits."""

import numpy as np


def texts_and_labels(ds):
    texts, labels = [], []
    for text, label in ds.as_numpy_iterator():
        texts.append(text.decode("utf-8", errors="replace"))
        labels.append(int(label))
    return texts, np.array(labels, dtype="int32")


def predict_probabilities(model, preprocessor, raw, batch_size=256):
    probs = model.predict(preprocessor.dataset(raw, batch_size), verbose=0)
    return np.asarray(probs).reshape(-1)


def tfidf_logistic_regression(train, validation, test, c_grid=(0.1, 0.3, 1.0, 3.0, 10.0, 30.0)):
    """TF-IDF of word 1-2 grams + logistic regression, C chosen on validation.

    Returns `(test_accuracy, best_C, validation_accuracy)`.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    x_train = vectorizer.fit_transform(train[0])
    x_val, x_test = vectorizer.transform(validation[0]), vectorizer.transform(test[0])
    best = None
    for c in c_grid:
        clf = LogisticRegression(C=c, max_iter=2000)
        clf.fit(x_train, train[1])
        acc = float((clf.predict(x_val) == validation[1]).mean())
        if best is None or acc > best[0]:
            best = (acc, c, clf)
    test_acc = float((best[2].predict(x_test) == test[1]).mean())
    return test_acc, best[1], best[0]


def evaluate(model, preprocessor, config, dataset, data_dir, split="test"):
    """Accuracy of the model and of the baselines, as a flat dict.

    Keys: `accuracy`, `n_examples`, `baseline_majority_accuracy`,
    `baseline_tfidf_lr_accuracy`, `baseline_tfidf_lr_C`, and for the
    embedded Rotten Tomatoes data `cross_domain_fine_food_accuracy`.
    The baselines are fitted on the same dataset's train split, C chosen on
    its validation split; the test split is read once.
    """
    from applications.sentiment.data import load_dataset

    raw = load_dataset(dataset, split, data_dir)
    test = texts_and_labels(raw)
    if len(test[1]) == 0:
        raise ValueError(f"The {dataset} {split} split is empty. Received: split={split!r}")
    probs = predict_probabilities(model, preprocessor, raw, config.get("batch_size", 256))
    predictions = (probs >= 0.5).astype("int32")
    metrics = {
        "accuracy": float((predictions == test[1]).mean()),
        "n_examples": int(len(test[1])),
    }
    train = texts_and_labels(load_dataset(dataset, "train", data_dir))
    validation = texts_and_labels(load_dataset(dataset, "validation", data_dir))
    majority = int(np.bincount(train[1]).argmax())
    metrics["baseline_majority_accuracy"] = float((test[1] == majority).mean())
    acc, c, _ = tfidf_logistic_regression(train, validation, test)
    metrics["baseline_tfidf_lr_accuracy"] = acc
    metrics["baseline_tfidf_lr_C"] = c
    if dataset == "rotten_tomatoes":
        food_raw = load_dataset("fine_food", "test", data_dir)
        food = texts_and_labels(food_raw)
        food_probs = predict_probabilities(model, preprocessor, food_raw)
        metrics["cross_domain_fine_food_accuracy"] = float(
            ((food_probs >= 0.5).astype("int32") == food[1]).mean()
        )
    return metrics
