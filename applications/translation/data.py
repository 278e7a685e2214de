"""Data sets of the translation application, as `(source, target)` pipelines.

The embedded default, `"bible"`, is the Bible in English (King James Version)
aligned verse by verse with Spanish (Reina-Valera 1909), read from local
SWORD modules: `bible` extracts and aligns it, `bible_cache` caches the pairs
and `bible_tfds` wraps them as a tfds builder.

Public tfds data sets, downloaded by tfds on first use, can be selected by
name as well: `"ted_hrlr_translate/pt_to_en"`, `"ted_hrlr_translate/es_to_pt"`,
`"wmt13_translate/es-en"` and `"wmt14_translate/de-en"`. The names and their
languages are declared once, in `applications.translation` (no TensorFlow
there); a name may carry the direction: `"bible/es-en"`.

`load_dataset(name, split, direction, data_dir)` (the application's
`load_data`, through `load_data`) returns any of them as a `tf.data.Dataset`
of `(source_text, target_text)` string scalars; `load_pairs(split)` returns
the Bible pairs as a list of dicts.
"""

import tensorflow as tf
import tensorflow_datasets as tfds

from applications.translation import APPLICATION
from applications.translation import DEFAULT_DATASET
from applications.translation import PUBLIC_DATASETS
from applications.translation.bible_cache import load_pairs

DIRECTION_SEPARATOR = "/"


def split_dataset_name(name):
    """`"bible/es-en"` -> `("bible", "es-en")`; a name without a direction -> `(name, None)`.

    `"wmt14_translate/de-en"` is a data set's own name (its `de-en` is no
    direction); `"wmt14_translate/de-en/en-de"` is it reversed.
    """
    head, _, tail = name.rpartition(DIRECTION_SEPARATOR)
    if head == DEFAULT_DATASET or head in PUBLIC_DATASETS:
        return head, tail
    return name, None


def parse_direction(name, direction):
    """The `(source, target)` languages of `direction` for data set `name`.

    Args:
        name: a data set without a direction: `"bible"` or a key of
            `PUBLIC_DATASETS`.
        direction: `"src-tgt"`, e.g. `"en-es"`, or `None` for the data set's
            own direction (`"en-es"` for `"bible"`, `"pt-en"` for
            `"ted_hrlr_translate/pt_to_en"`).

    Returns:
        A tuple of two language codes.
    """
    languages = ("en", "es") if name == DEFAULT_DATASET else PUBLIC_DATASETS[name]
    if direction is None:
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


def load_data(dataset, split, data_dir=None):
    """The application's `load_data`: `load_dataset` of a declared name."""
    return load_dataset(dataset, split, data_dir=data_dir)


def load_dataset(name=DEFAULT_DATASET, split="train", direction=None, data_dir=None):
    """Load a translation data set as a `tf.data.Dataset` of text pairs.

    Args:
        name: one of `APPLICATION.datasets`: `"bible"` (default, English to
            Spanish), `"bible/es-en"`, or a public tfds data set such as
            `"ted_hrlr_translate/pt_to_en"`, optionally reversed
            (`"ted_hrlr_translate/pt_to_en/en-pt"`).
        split: `"train"`, `"validation"` or `"test"`; for the public data
            sets any tfds split string (e.g. `"train[:10%]"`).
        direction: `"source-target"` for a name without one (`"es-en"` for
            `"bible"`); default: the name's direction.
        data_dir: for `"bible"`, the SWORD library holding the modules
            (default `$ZOO_SWORD_DIR` or `/usr/share/sword`); for the tfds
            ones, tfds's `data_dir`.

    Returns:
        An unbatched `tf.data.Dataset` of `(source_text, target_text)`, two
        `tf.string` scalars.

    Example:

    ```python
    train = load_dataset("bible/es-en", "train").batch(64)
    ```
    """
    base, named = split_dataset_name(APPLICATION.check_dataset(name))
    if named is not None and direction is not None and direction != named:
        raise ValueError(
            f"The dataset name {name!r} already says the direction {named!r}; pass "
            f"either the name {base!r} and a direction, or the name alone. "
            f"Received: direction={direction!r}"
        )
    source, target = parse_direction(base, named or direction)
    if base == DEFAULT_DATASET:
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
    ds = tfds.load(base, split=split, data_dir=data_dir)
    return ds.map(
        lambda ex: (ex[source], ex[target]), num_parallel_calls=tf.data.AUTOTUNE
    )
