"""Data sets of the captioning application.

- `stamp_scenes/quick`, `stamp_scenes/full` (the embedded default): scenes
  composed of Tux Paint stamps (Debian package `tuxpaint-stamps-default`,
  GPL-2+) on scikit-image textures, built by `zoo.datasets.StampScenes`
  (deterministic by seed) into tfds files under `--data-dir` (default
  `~/.cache/rnn-zoo/tfds`). Splits: `train`, `validation`, `test` (held-out
  scenes), `test_pairs` (pairs of objects never composed together in
  training) and `test_unseen` (stamp drawings training never saw, of names
  it knows from other drawings).
- `coco_captions` (tfds, downloaded by tfds on first use): COCO 2014 with
  the Karpathy splits; `validation` is its `val`, and every reference
  caption of a training image is a training example.
"""

import tensorflow as tf

from applications.captioning import APPLICATION

SCENE_SPLITS = ("train", "validation", "test", "test_pairs", "test_unseen")
COCO_SPLITS = {"train": "train", "validation": "val", "test": "test"}


def _scene_config(dataset):
    return dataset.split("/", 1)[1]


def scene_builder(dataset, data_dir=None):
    """The prepared `zoo.datasets.StampScenes` builder of `stamp_scenes/<config>`."""
    import contextlib
    import os
    import sys

    from zoo.datasets import StampScenes
    from zoo.datasets import resolve_cache_dir

    data_dir = data_dir or os.path.join(resolve_cache_dir(), "tfds")
    builder = StampScenes(config=_scene_config(dataset), data_dir=data_dir)
    try:
        # tfds prints its "preparing ... prepared" notes on stdout, where the
        # commands print their results (samples: one path per line).
        with contextlib.redirect_stdout(sys.stderr):
            builder.download_and_prepare()
    except FileNotFoundError as error:  # no stamps: one error line, not a traceback
        raise ValueError(str(error)) from None
    return builder


def _check_split(dataset, split):
    valid = SCENE_SPLITS if dataset.startswith("stamp_scenes/") else tuple(COCO_SPLITS)
    if split not in valid:
        raise ValueError(f"{dataset} has the splits {list(valid)}. Received: split={split!r}")


def load_examples(dataset, split, data_dir=None):
    """A split with everything evaluation needs: an unbatched dataset of
    dicts with `image` (uint8 `(H, W, 3)`), `references` (strings) and, for
    the scenes, `caption` (the canonical one) and `names` (the objects
    present)."""
    APPLICATION.check_dataset(dataset)
    _check_split(dataset, split)
    if dataset.startswith("stamp_scenes/"):
        ds = scene_builder(dataset, data_dir).as_dataset(split=split)
        return ds.map(lambda ex: {"image": ex["image"], "references": ex["captions"],
                                  "caption": ex["caption"], "names": ex["objects"]["name"]})
    import tensorflow_datasets as tfds

    ds = tfds.load(dataset, split=COCO_SPLITS[split], data_dir=data_dir)
    return ds.map(lambda ex: {"image": ex["image"], "references": ex["captions"]["text"]})


def load_data(dataset, split, data_dir=None):
    """The application's `load_data`: unbatched `(image, caption)` pairs:
    the canonical caption of each scene; every reference of a COCO image."""
    examples = load_examples(dataset, split, data_dir)
    if dataset.startswith("stamp_scenes/"):
        return examples.map(lambda ex: (ex["image"], ex["caption"]))
    return examples.flat_map(
        lambda ex: tf.data.Dataset.from_tensor_slices(ex["references"]).map(
            lambda text: (ex["image"], text)
        )
    )
