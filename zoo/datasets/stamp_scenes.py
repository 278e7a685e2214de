"""Captioned scenes of Tux Paint stamps on textures, as a tfds builder.

`StampScenes` composes seeded scenes (`zoo.datasets.scenes.compose_scene`)
of one to three Tux Paint drawings (`zoo.datasets.tux_paint_stamps`) on
scikit-image textures (`zoo.datasets.scenes.TEXTURES`), with captions,
per-pixel class maps and boxes. Every scene is a function of the config's
seed, its split and its index alone, so preparing twice, or on another
machine, writes the same examples.

Names and held-out material are chosen once per config from the seed:

* names: those with at least two usable drawings come first (sorted; a
  seeded sample of them when the config wants fewer), then a seeded sample
  of the names with one drawing fills the config's `num_names` (all usable
  names when `num_names` is None). Class id `i + 1` is the `i`-th chosen
  name in alphabetical order (`class_names`); 0 is the background.
* held-out drawings: one drawing, drawn at random, of every chosen name
  that has two or more; only `test_unseen` uses them.
* held-out pairs: `pair_holdout` (10%) of the unordered pairs of chosen
  names; only `test_pairs` puts them together.

Splits: `train`, `validation` and `test` are scenes of the same
distribution (no held-out drawing, no held-out pair); `test_pairs` are
scenes of two or more objects in which every pair of names is a held-out
pair (three objects only where three names are pairwise held out, two
otherwise); `test_unseen` are scenes whose objects are all held-out drawings
(of names that the other splits show in other drawings), without held-out
pairs.
"""

import dataclasses
import itertools

import numpy as np
import tensorflow_datasets as tfds

from zoo.datasets.registry_files import resolve_cache_dir
from zoo.datasets.scenes import TEXTURES
from zoo.datasets.scenes import canonical_caption
from zoo.datasets.scenes import compose_scene
from zoo.datasets.scenes import load_textures
from zoo.datasets.scenes import reference_captions
from zoo.datasets.tux_paint_stamps import load_stamps

STAMP_SIDE = 64
"""The `max_side` of the stamp cache that the scenes are drawn from."""

SPLITS = ("train", "validation", "test", "test_pairs", "test_unseen")
_SPLIT_CODE = {split: i + 1 for i, split in enumerate(SPLITS)}

_CITATION = """\
@misc{tuxpaint_stamps,
  title = {Tux Paint Stamps (tuxpaint-stamps-default)},
  author = {{New Breed Software} and {the Tux Paint contributors}},
  howpublished = {\\url{https://tuxpaint.org}},
  note = {GNU General Public License, version 2 or later},
}
@article{scikit-image,
  title = {scikit-image: image processing in {P}ython},
  author = {van der Walt, St{\\'e}fan and Sch{\\"o}nberger, Johannes L. and
            Nunez-Iglesias, Juan and Boulogne, Fran{\\c{c}}ois and Warner,
            Joshua D. and Yager, Neil and Gouillart, Emmanuelle and Yu, Tony
            and the scikit-image contributors},
  journal = {PeerJ},
  volume = {2},
  pages = {e453},
  year = {2014},
  note = {Textures from skimage.data: brick, grass, gravel (CC0),
          immunohistochemistry (no known copyright restrictions)},
}"""


@dataclasses.dataclass(eq=False)
class _StampScenesConfig(tfds.core.BuilderConfig):
    """A `StampScenes` configuration (see `StampScenes.BUILDER_CONFIGS`)."""

    num_names: int | None = None
    image_size: int = 32
    min_objects: int = 1
    max_objects: int = 2
    num_train: int = 20000
    num_validation: int = 1000
    num_test: int = 1000
    num_test_pairs: int = 1000
    num_test_unseen: int = 1000
    pair_holdout: float = 0.1
    seed: int = 0

    def split_size(self, split):
        return getattr(self, f"num_{split}")


_CONFIGS = (
    _StampScenesConfig(
        name="quick",
        description="60 names (those with two drawings or more first), "
        "32x32 images, 1-2 objects; 20000 train scenes.",
        num_names=60,
        image_size=32,
        min_objects=1,
        max_objects=2,
    ),
    _StampScenesConfig(
        name="full",
        description="Every usable name, 64x64 images, 1-3 objects; 60000 "
        "train scenes.",
        num_names=None,
        image_size=64,
        min_objects=1,
        max_objects=3,
        num_train=60000,
        num_validation=2000,
        num_test=2000,
        num_test_pairs=2000,
        num_test_unseen=2000,
    ),
    _StampScenesConfig(
        name="tiny",
        description="8 names, 16x16 images, 1-3 objects, a few dozen scenes "
        "per split (for tests).",
        num_names=8,
        image_size=16,
        min_objects=1,
        max_objects=3,
        num_train=40,
        num_validation=12,
        num_test=12,
        num_test_pairs=12,
        num_test_unseen=12,
    ),
)
_CONFIGS_BY_NAME = {config.name: config for config in _CONFIGS}


def _resolve_config(config):
    if isinstance(config, _StampScenesConfig):
        return config
    if config in _CONFIGS_BY_NAME:
        return _CONFIGS_BY_NAME[config]
    raise ValueError(
        f"Unknown StampScenes config. Expected one of "
        f"{sorted(_CONFIGS_BY_NAME)} or a config object. Received: config={config!r}"
    )


def _plan(config, stamps):
    """The chosen names, held-out drawings and pairs of a config."""
    by_name = {}
    for stamp in sorted(stamps, key=lambda s: s.path):
        by_name.setdefault(stamp.name, []).append(stamp)
    multi = sorted(n for n, d in by_name.items() if len(d) >= 2)
    single = sorted(n for n, d in by_name.items() if len(d) == 1)
    rng = np.random.default_rng([config.seed, 101])
    if config.num_names is None:
        chosen = multi + single
    elif config.num_names <= len(multi):
        picks = rng.choice(len(multi), config.num_names, replace=False)
        chosen = [multi[i] for i in picks]
    elif config.num_names <= len(multi) + len(single):
        extra = rng.choice(len(single), config.num_names - len(multi), replace=False)
        chosen = multi + [single[i] for i in extra]
    else:
        raise ValueError(
            f"The config wants more names than there are usable stamps "
            f"({len(multi) + len(single)}). Received: num_names={config.num_names}"
        )
    names = sorted(chosen)
    rng = np.random.default_rng([config.seed, 102])
    held_out = {}
    for name in names:
        if len(by_name[name]) >= 2:
            held_out[name] = by_name[name][rng.integers(len(by_name[name]))]
    pairs = list(itertools.combinations(names, 2))
    count = round(config.pair_holdout * len(pairs))
    if config.max_objects >= 2 and config.num_test_pairs > 0:
        count = max(count, 1)
    if count > len(pairs) or (config.num_test_unseen > 0 and not held_out):
        raise ValueError(
            f"The config needs at least two names for `test_pairs` and a name "
            f"with two drawings for `test_unseen`. Received: names={names}"
        )
    rng = np.random.default_rng([config.seed, 103])
    reserved = {pairs[i] for i in rng.choice(len(pairs), count, replace=False)}
    drawings = {
        name: [s for s in by_name[name] if s is not held_out.get(name)]
        for name in names
    }
    partners = {name: set() for name in names}
    for a, b in reserved:
        partners[a].add(b)
        partners[b].add(a)
    return {
        "names": names,
        "class_ids": {name: i + 1 for i, name in enumerate(names)},
        "drawings": drawings,
        "held_out": held_out,
        "reserved_pairs": reserved,
        "reserved_list": sorted(reserved),
        "partners": partners,
    }


def _choose_names(rng, plan, pool, count):
    """Up to `count` distinct names of `pool`, no held-out pair among them."""
    partners = plan["partners"]
    picked = []
    for _ in range(count):
        candidates = [
            n
            for n in pool
            if n not in picked and not any(n in partners[p] for p in picked)
        ]
        if not candidates:
            break
        picked.append(candidates[rng.integers(len(candidates))])
    return picked


def _choose_held_out_pair(rng, plan, count):
    """A held-out pair, and a third name pairwise held out when possible."""
    pairs = plan["reserved_list"]
    a, b = pairs[rng.integers(len(pairs))]
    picked = [a, b]
    if count >= 3:
        candidates = sorted(plan["partners"][a] & plan["partners"][b])
        if candidates:
            picked.append(candidates[rng.integers(len(candidates))])
    return picked


def _png(array):
    """PNG bytes of a uint8 `(h, w, 3)` or uint16 `(h, w)` array (Pillow,
    fast compression: for images this small far faster than the TensorFlow
    graph `tfds.features.Image` runs per array; tfds stores the bytes as
    given)."""
    import io

    from PIL import Image

    if not ((array.dtype == np.uint16 and array.ndim == 2)
            or (array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] == 3)):
        raise ValueError(
            f"Expected a uint8 (h, w, 3) or uint16 (h, w) array. "
            f"Received: dtype={array.dtype}, shape={array.shape}"
        )
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _scene(config, plan, textures, split, index):
    """One example of `split`, from (seed, split, index) alone."""
    rng = np.random.default_rng([config.seed, _SPLIT_CODE[split], index])
    low = 2 if split == "test_pairs" else config.min_objects
    count = int(rng.integers(low, config.max_objects + 1))
    if split == "test_pairs":
        names = _choose_held_out_pair(rng, plan, count)
    elif split == "test_unseen":
        names = _choose_names(rng, plan, sorted(plan["held_out"]), count)
    else:
        names = _choose_names(rng, plan, plan["names"], count)
    if split == "test_unseen":
        picked = [plan["held_out"][n] for n in names]
    else:
        picked = [
            plan["drawings"][n][rng.integers(len(plan["drawings"][n]))] for n in names
        ]
    scene = compose_scene(
        rng, picked, textures, config.image_size, len(picked), plan["class_ids"]
    )
    captions = reference_captions(scene["objects"], rng)
    return {
        "image": _png(scene["image"]),
        "caption": canonical_caption(scene["objects"]),
        "captions": captions,
        "objects": [
            {
                "name": o["name"],
                "stamp": o["stamp"],
                "class_id": o["class_id"],
                "box": tfds.features.BBox(*o["box"]),
            }
            for o in scene["objects"]
        ],
        "segmentation": _png(scene["segmentation"]),
        "scene_id": index,
    }


def class_names(config_name, stamp_dir=None, cache_dir=None):
    """The class names of a `StampScenes` config, without building it.

    Args:
        config_name: "quick", "full", "tiny", or a config object.
        stamp_dir: the Tux Paint stamp folder (see `load_stamps`).
        cache_dir: the cache folder of the stamps.

    Returns:
        A list of names; class id `i + 1` is `names[i]` (0 is the
        background). The same list as the builder's
        `info.metadata["class_names"]`.

    Example:

    ```python
    names = class_names("quick")
    len(names)  # 60
    ```
    """
    config = _resolve_config(config_name)
    stamps = load_stamps(stamp_dir, cache_dir, max_side=STAMP_SIDE)
    return list(_plan(config, stamps)["names"])


class StampScenes(tfds.core.GeneratorBasedBuilder):
    """Scenes of Tux Paint stamps on textures, with captions and class maps.

    See the module docstring for how names, held-out drawings and held-out
    pairs are chosen and what each split holds. Configs: `quick` (60 names,
    32x32, 1-2 objects, 20000 / 1000 / 1000 / 1000 / 1000 scenes in
    train / validation / test / test_pairs / test_unseen), `full` (every
    usable name, 64x64, 1-3 objects, 60000 / 2000 / 2000 / 2000 / 2000) and
    `tiny` (8 names, 16x16, 1-3 objects, a few dozen scenes, for tests).

    Features: `image` (uint8 `(S, S, 3)`, PNG), `caption` (the canonical
    caption), `captions` (five references, the canonical one first),
    `objects` (a sequence of `name`, `stamp` (path in the stamp folder),
    `class_id` (int32) and `box` (`tfds.features.BBoxFeature` of the visible
    pixels)), `segmentation` (uint16 `(S, S, 1)` class ids, PNG) and
    `scene_id` (int64, the index in its split). Supervised keys
    `(image, caption)`. `info.metadata["class_names"]` lists the names
    (class id `i + 1` is entry `i`).

    Args:
        config: a config name ("quick", "full", "tiny") or a config object
            (e.g. `dataclasses.replace(StampScenes.builder_configs["tiny"],
            name="mine", num_train=100)`).
        stamp_dir: the Tux Paint stamp folder (see `load_stamps`).
        cache_dir: the folder of rnn-zoo's caches (see
            `zoo.datasets.resolve_cache_dir`).
        data_dir: where tfds writes the prepared data; `<cache_dir>/tfds`
            when `None`.
        **kwargs: other `tfds.core.DatasetBuilder` arguments.

    Example:

    ```python
    builder = StampScenes(config="quick")
    builder.download_and_prepare()
    ds = builder.as_dataset(split="train", as_supervised=True)
    names = builder.info.metadata["class_names"]
    ```
    """

    name = "stamp_scenes"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Tux Paint stamps on scikit-image textures; captions with "
        "left/above/below relations; five splits.",
    }
    BUILDER_CONFIGS = list(_CONFIGS)

    def __init__(
        self, config="quick", stamp_dir=None, cache_dir=None, data_dir=None, **kwargs
    ):
        self._stamp_dir = stamp_dir
        self._cache_dir = cache_dir
        if data_dir is None:
            data_dir = str(resolve_cache_dir(cache_dir) / "tfds")
        super().__init__(config=_resolve_config(config), data_dir=data_dir, **kwargs)

    def download_and_prepare(self, *, download_config=None, **kwargs):
        """Prepare the splits (offline: never looks for the data on GCS)."""
        if download_config is None:
            download_config = tfds.download.DownloadConfig(try_download_gcs=False)
        return super().download_and_prepare(download_config=download_config, **kwargs)

    def _info(self):
        size = self.builder_config.image_size
        return self.dataset_info_from_configs(
            description="Scenes of one to three Tux Paint stamps pasted on "
            "scikit-image textures (" + ", ".join(TEXTURES) + "), with "
            "captions naming the objects and their left/above/below "
            "relations, per-pixel class maps and boxes.",
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(
                        shape=(size, size, 3), encoding_format="png"
                    ),
                    "caption": tfds.features.Text(),
                    "captions": tfds.features.Sequence(tfds.features.Text()),
                    "objects": tfds.features.Sequence(
                        {
                            "name": tfds.features.Text(),
                            "stamp": tfds.features.Text(),
                            "class_id": tfds.features.Scalar(dtype=np.int32),
                            "box": tfds.features.BBoxFeature(),
                        }
                    ),
                    "segmentation": tfds.features.Image(
                        shape=(size, size, 1), dtype=np.uint16, encoding_format="png"
                    ),
                    "scene_id": tfds.features.Scalar(dtype=np.int64),
                }
            ),
            supervised_keys=("image", "caption"),
            homepage="https://tuxpaint.org",
            citation=_CITATION,
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # The stamps and textures are local files.
        config = self.builder_config
        stamps = load_stamps(self._stamp_dir, self._cache_dir, max_side=STAMP_SIDE)
        plan = _plan(config, stamps)
        self.info.metadata["class_names"] = list(plan["names"])
        self.info.metadata["textures"] = list(TEXTURES)
        self.info.metadata["held_out_drawings"] = sorted(
            s.path for s in plan["held_out"].values()
        )
        self.info.metadata["held_out_pairs"] = [
            list(p) for p in sorted(plan["reserved_pairs"])
        ]
        textures = load_textures(config.image_size)
        return {
            split: self._generate_examples(config, plan, textures, split)
            for split in SPLITS
            if config.split_size(split) > 0
        }

    def _generate_examples(self, config, plan, textures, split):
        for index in range(config.split_size(split)):
            yield index, _scene(config, plan, textures, split, index)
