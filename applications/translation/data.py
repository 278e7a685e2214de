"""Data sets of the translation application, as `(source, target)` pipelines.

The embedded default, `"bible"`, is the Bible in English (King James Version)
aligned verse by verse with Spanish (Reina-Valera 1909), read from local
SWORD modules: `bible` extracts and aligns it, `bible_cache` caches the pairs
and `bible_tfds` wraps them as a tfds builder.

Public tfds data sets, downloaded by tfds on first use, can be selected by
name as well: `"ted_hrlr_translate/pt_to_en"`, `"ted_hrlr_translate/es_to_pt"`,
`"wmt13_translate/es-en"` and `"wmt14_translate/de-en"`.

`load_dataset(name, split, direction)` returns any of them as a
`tf.data.Dataset` of `(source_text, target_text)` string scalars;
`load_pairs(split)` returns the Bible pairs as a list of dicts.
"""

import tensorflow as tf
import tensorflow_datasets as tfds

from applications.translation.bible_cache import load_pairs

DEFAULT_DATASET = "bible"

PUBLIC_DATASETS = {
    "ted_hrlr_translate/pt_to_en": ("pt", "en"),
    "ted_hrlr_translate/es_to_pt": ("es", "pt"),
    "wmt13_translate/es-en": ("es", "en"),
    "wmt14_translate/de-en": ("de", "en"),
}
"""The tfds data sets `load_dataset` knows, with their two languages."""

DATASETS = (DEFAULT_DATASET,) + tuple(PUBLIC_DATASETS)
"""Names `load_dataset` accepts, the embedded default first."""

def check_dataset_name(name):
    """Raise a `ValueError` unless `name` is a data set `load_dataset` knows."""
    if name not in DATASETS:
        valid = ", ".join(repr(n) for n in DATASETS)
        raise ValueError(
            f"Unknown dataset. Valid names: {valid}. Received: dataset={name!r}"
        )
    return name


def parse_direction(name, direction):
    """The `(source, target)` languages of `direction` for data set `name`.

    Args:
        name: a name in `DATASETS`.
        direction: `"src-tgt"`, e.g. `"en-es"`; for a public data set, `None`
            means its own direction (e.g. `"pt-en"` for
            `"ted_hrlr_translate/pt_to_en"`).

    Returns:
        A tuple of two language codes.
    """
    languages = ("en", "es") if name == DEFAULT_DATASET else PUBLIC_DATASETS[name]
    if direction is None and name != DEFAULT_DATASET:
        return languages
    valid = (f"{languages[0]}-{languages[1]}", f"{languages[1]}-{languages[0]}")
    if not isinstance(direction, str) or direction not in valid:
        raise ValueError(
            f"Invalid direction for dataset {name!r}: it translates between "
            f"{languages[0]!r} and {languages[1]!r}, so the direction must be "
            f"one of {', '.join(map(repr, valid))}. Received: "
            f"direction={direction!r}"
        )
    source, target = direction.split("-")
    return source, target


def load_dataset(name=DEFAULT_DATASET, split="train", direction="en-es", data_dir=None):
    """Load a translation data set as a `tf.data.Dataset` of text pairs.

    Args:
        name: one of `DATASETS`: `"bible"` (default) or a public tfds data
            set such as `"ted_hrlr_translate/pt_to_en"`.
        split: `"train"`, `"validation"` or `"test"`; for the public data
            sets any tfds split string (e.g. `"train[:10%]"`).
        direction: `"source-target"`: `"en-es"` (default) or `"es-en"` for
            `"bible"`; for a public data set one of its two directions
            (e.g. `"pt-en"` or `"en-pt"`), or `None` for its own.
        data_dir: for `"bible"`, the SWORD library holding the modules
            (default `$ZOO_SWORD_DIR` or `/usr/share/sword`); for the tfds
            ones, tfds's `data_dir`.

    Returns:
        An unbatched `tf.data.Dataset` of `(source_text, target_text)`, two
        `tf.string` scalars.

    Example:

    ```python
    train = load_dataset("bible", "train", "en-es").batch(64)
    ```
    """
    check_dataset_name(name)
    source, target = parse_direction(name, direction)
    if name == DEFAULT_DATASET:
        pairs = load_pairs(split, data_dir=data_dir)
        return tf.data.Dataset.from_tensor_slices(
            (
                tf.constant([p[source] for p in pairs], tf.string),
                tf.constant([p[target] for p in pairs], tf.string),
            )
        )
    if not isinstance(split, str) or not split:
        raise ValueError(
            f"The split must be a tfds split string such as 'train'. "
            f"Received: split={split!r}"
        )
    ds = tfds.load(name, split=split, data_dir=data_dir)
    return ds.map(
        lambda ex: (ex[source], ex[target]), num_parallel_calls=tf.data.AUTOTUNE
    )
