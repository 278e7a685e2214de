import io
import os
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest
from PIL import Image

from zoo.datasets import canonical_caption
from zoo.datasets import ground_truth_relations
from zoo.datasets import load_stamps
from zoo.datasets import parse_caption
from zoo.datasets import reference_captions
from zoo.datasets import scenes
from zoo.datasets import tux_paint_stamps
from zoo.datasets.tux_paint_stamps import stamp_name
from zoo.datasets.tux_paint_stamps import stamp_statistics

HAVE_STAMPS = pathlib.Path(tux_paint_stamps.DEFAULT_STAMP_DIR).is_dir()
needs_stamps = pytest.mark.skipif(
    not HAVE_STAMPS,
    reason=f"the Tux Paint stamps are not installed in "
    f"{tux_paint_stamps.DEFAULT_STAMP_DIR} (Debian package "
    f"tuxpaint-stamps-default; `make setup` installs it)",
)


@pytest.mark.parametrize(
    "description, name",
    [
        ("A goat.", "goat"),
        ("An owl.", "owl"),
        ("The treble clef.", "treble clef"),
        ("A bunch of grapes.", "bunch of grapes"),
        ("A floppy-eared bunny.", "floppy eared bunny"),
        ("  A goat\n", "goat"),
        ("A pair of open scissors.", "pair of scissors"),  # alias
        ("A ginger 'root'.", "ginger root"),  # alias
        ("A big red fire truck.", None),  # four words
        ("Boom!!!", None),
        ("Two wild boars.", None),
        ("A US 25 cent piece ($.25) called a quarter.", None),
        ("The letter A.", None),
        ("A sign.", None),
        ("A sword in the stone.", None),
    ],
)
def test_stamp_name_rule(description, name):
    assert stamp_name(description) == name


def test_aliases_give_valid_names():
    for description, name in tux_paint_stamps.ALIASES.items():
        assert stamp_name(description) == name
        assert name == " ".join(name.split()) and name.replace(" ", "").isalpha()


def test_caption_words_are_reserved():
    words = set()
    for canonical, others in scenes._PHRASES.values():
        for phrase in (canonical,) + others:
            words.update(phrase.split())
    for prefix in scenes._PREFIXES:
        words.update(prefix.split())
    words.update(["a", "an", "the", "and"])
    assert words - {"of"} <= tux_paint_stamps.RESERVED_WORDS


def _objects(*items):
    return [{"name": n, "center": c} for n, c in items]


def test_canonical_caption_forms():
    goat, grapes = ("goat", (0.5, 0.2)), ("bunch of grapes", (0.5, 0.8))
    assert canonical_caption(_objects(goat)) == "a goat"
    assert canonical_caption(_objects(("apple", (0.5, 0.5)))) == "an apple"
    assert (
        canonical_caption(_objects(goat, grapes))
        == "a goat to the left of a bunch of grapes"
    )
    three = _objects(("goat", (0.5, 0.1)), ("car", (0.2, 0.4)), ("cat", (0.9, 0.6)))
    assert (
        canonical_caption(three)
        == "a goat to the left of a car and the car above a cat"
    )
    assert ground_truth_relations(three) == [
        ("goat", "to the left of", "car"),
        ("car", "above", "cat"),
    ]
    below = _objects(("cat", (0.9, 0.1)), ("goat", (0.1, 0.3)))
    assert canonical_caption(below) == "a cat below a goat"
    assert ground_truth_relations(below) == [("goat", "above", "cat")]


def test_parse_caption_normalizes_inverse_relations():
    names = ["goat", "bunch of grapes", "cat", "car", "grapes"]
    assert parse_caption("A bunch of grapes, to the right of a goat!", names) == (
        ["bunch of grapes", "goat"],
        [("goat", "to the left of", "bunch of grapes")],
    )
    assert parse_caption("there is a cat beneath a goat", names) == (
        ["cat", "goat"],
        [("goat", "above", "cat")],
    )
    assert parse_caption("a car over the cat and a goat", names) == (
        ["car", "cat", "goat"],
        [("car", "above", "cat")],
    )
    assert parse_caption("", names) == ([], [])


@pytest.fixture(scope="module")
def stamp_cache(tmp_path_factory):
    if not HAVE_STAMPS:
        pytest.skip(needs_stamps.kwargs["reason"])
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def stamps(stamp_cache):
    return load_stamps(cache_dir=stamp_cache)


@pytest.fixture(scope="module")
def textures():
    return scenes.load_textures(32)


def _random_scenes(stamps, textures, count, seed=0):
    names = sorted({s.name for s in stamps})
    class_ids = {n: i + 1 for i, n in enumerate(names)}
    out = []
    for i in range(count):
        rng = np.random.default_rng([seed, i])
        scene = scenes.compose_scene(rng, stamps, textures, 32, 1 + i % 3, class_ids)
        out.append((scene, reference_captions(scene["objects"], rng)))
    return names, class_ids, out


@needs_stamps
def test_stamps_are_premultiplied_cropped_and_named(stamps, stamp_cache):
    stats = stamp_statistics(cache_dir=stamp_cache)
    assert stats["usable"] == len(stamps) > 300
    assert stats["named_by_rule"] + stats["named_by_alias"] > stats["usable"]
    for stamp in stamps:
        assert stamp.rgba.dtype == np.uint8 and max(stamp.rgba.shape[:2]) <= 64
        assert (stamp.rgba[..., :3] <= stamp.rgba[..., 3:]).all()  # premultiplied
        alpha = stamp.rgba[..., 3]  # cropped (shrinking may fade an edge)
        assert alpha[:2].any() and alpha[-2:].any()
        assert alpha[:, :2].any() and alpha[:, -2:].any()
        assert stamp.name == " ".join(stamp.name.split()) and stamp.name.islower()
        assert stamp.path.endswith(".png")
        assert stamp.path.split("/")[0] == stamp.category
    goat = next(s for s in stamps if s.path == "animals/mammals/bovines/goat.png")
    assert goat.name == "goat"


@needs_stamps
def test_every_reference_parses_to_the_ground_truth(stamps, textures):
    names, _, composed = _random_scenes(stamps, textures, 60)
    for scene, references in composed:
        objects = scene["objects"]
        truth = sorted(ground_truth_relations(objects))
        assert len(references) == len(set(references)) == 5
        assert references[0] == canonical_caption(objects)
        for reference in references:
            assert reference == " ".join(reference.split()) and reference.islower()
            assert reference.replace(" ", "").isalpha()
            mentioned, relations = parse_caption(reference, names)
            assert sorted(mentioned) == sorted(o["name"] for o in objects)
            assert sorted(relations) == truth, reference


@needs_stamps
def test_relations_are_decidable_and_objects_visible(stamps, textures):
    _, _, composed = _random_scenes(stamps, textures, 60, seed=1)
    for scene, _ in composed:
        objects = scene["objects"]
        assert [o["center"][1] for o in objects] == sorted(
            o["center"][1] for o in objects
        )
        for a, b in zip(objects, objects[1:]):
            dy = abs(b["center"][0] - a["center"][0])
            dx = abs(b["center"][1] - a["center"][1])
            assert max(dx, dy) >= scenes.AMBIGUITY_RATIO * min(dx, dy)
        ids = set(np.unique(scene["segmentation"])) - {0}
        assert ids == {o["class_id"] for o in objects}
        for o in objects:
            ymin, xmin, ymax, xmax = o["box"]
            assert 0 <= ymin < ymax <= 1 and 0 <= xmin < xmax <= 1


@needs_stamps
def test_scenes_are_deterministic(stamps, textures):
    class_ids = {n: i + 1 for i, n in enumerate(sorted({s.name for s in stamps}))}

    def compose(seed):
        rng = np.random.default_rng(seed)
        return scenes.compose_scene(rng, stamps, textures, 32, 2, class_ids)

    a, b, c = compose(7), compose(7), compose(8)
    assert a["image"].tobytes() == b["image"].tobytes()
    assert a["objects"] == b["objects"]
    assert a["image"].tobytes() != c["image"].tobytes()


def test_missing_stamp_dir_error(tmp_path):
    missing = tmp_path / "no-stamps"
    with pytest.raises(FileNotFoundError) as info:
        load_stamps(stamp_dir=missing, cache_dir=tmp_path)
    message = str(info.value)
    assert "apt-get install tuxpaint-stamps-default" in message
    assert "RNN_ZOO_STAMP_DIR" in message and "stamp_dir=" in message
    assert message.endswith(f"Received: stamp_dir='{missing}'")


def _fake_stamp(folder, stem, description, rgb, flags=None, size=(20, 16)):
    folder.mkdir(parents=True, exist_ok=True)
    rgba = np.zeros((size[1] + 4, size[0] + 4, 4), np.uint8)
    rgba[2:-2, 2:-2, :3] = rgb
    rgba[2:-2, 2:-2, 3] = 255
    Image.fromarray(rgba).save(folder / f"{stem}.png")
    (folder / f"{stem}.txt").write_text(f"{description}\nfr.utf8=Traduction.\n")
    if flags:
        (folder / f"{stem}.dat").write_text(flags + "\n")


def test_load_stamps_filters_warns_and_caches(tmp_path):
    root = tmp_path / "stamps"
    _fake_stamp(root / "animals", "goat", "A goat.", (200, 120, 40))
    _fake_stamp(root / "animals", "cat", "A cat.", (10, 20, 200), "nomirror")
    _fake_stamp(root / "symbols", "shape", "A shape.", (90, 90, 90), "colorable")
    _fake_stamp(root / "symbols", "dot", "A dot.", (250, 0, 0), size=(4, 30))
    _fake_stamp(root / "symbols", "boom", "Boom!!!", (250, 0, 0))
    (root / "animals" / "broken.png").write_bytes(b"not a png")
    (root / "animals" / "broken.txt").write_text("A broken goat.\n")
    cache = tmp_path / "cache"
    with pytest.warns(UserWarning, match="broken.png"):
        stamps = load_stamps(stamp_dir=root, cache_dir=cache, max_side=8)
    assert [(s.path, s.name, s.category, s.mirror) for s in stamps] == [
        ("animals/cat.png", "cat", "animals", False),
        ("animals/goat.png", "goat", "animals", True),
    ]
    assert stamps[1].rgba.shape == (6, 8, 4)
    assert (tmp_path / "cache" / "tux_paint_stamps" / "8" / "stamps.npz").is_file()
    with warnings.catch_warnings(record=True):  # the cached load warns again
        stats = stamp_statistics(stamp_dir=root, cache_dir=cache, max_side=8)
    assert stats == {
        "png_files": 6,
        "with_description": 6,
        "named_by_rule": 5,
        "named_by_alias": 0,
        "unnamed": 1,
        "unreadable": 1,
        "tiny": 1,
        "faint": 0,
        "excluded_greyscale": 1,
        "usable": 2,
        "distinct_names": 2,
        "names_with_2_drawings": 0,
    }
    with warnings.catch_warnings(record=True):
        again = load_stamps(stamp_dir=root, cache_dir=cache, max_side=8)
    assert all(np.array_equal(a.rgba, b.rgba) for a, b in zip(stamps, again))
    os.remove(root / "animals" / "broken.png")  # the file list changed
    assert len(load_stamps(stamp_dir=root, cache_dir=cache, max_side=8)) == 2


def test_importing_zoo_datasets_does_not_import_tfds():
    code = (
        "import sys, zoo.datasets; "
        "assert 'tensorflow_datasets' not in sys.modules; "
        "assert 'tensorflow' not in sys.modules"
    )
    root = pathlib.Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


@needs_stamps
def test_tiny_builder_splits(tmp_path, stamp_cache, stamps):
    import tensorflow_datasets as tfds

    from zoo.datasets import StampScenes
    from zoo.datasets import class_names
    from zoo.datasets import stamp_scenes

    cache = stamp_cache
    builder = StampScenes(config="tiny", cache_dir=cache, data_dir=tmp_path / "tfds")
    builder.download_and_prepare()
    metadata = builder.info.metadata
    names = metadata["class_names"]
    assert names == class_names("tiny", cache_dir=cache) and len(names) == 8
    held_pairs = {tuple(p) for p in metadata["held_out_pairs"]}
    held_drawings = set(metadata["held_out_drawings"])
    assert held_pairs and len(held_drawings) == 8
    config = builder.builder_config
    size = config.image_size
    seen = {}
    for split in ("train", "validation", "test", "test_pairs", "test_unseen"):
        examples = list(tfds.as_numpy(builder.as_dataset(split=split)))
        assert len(examples) == config.split_size(split)
        assert sorted(e["scene_id"] for e in examples) == list(range(len(examples)))
        seen[split] = []
        for e in examples:
            assert e["image"].shape == (size, size, 3)
            assert e["segmentation"].shape == (size, size, 1)
            assert e["segmentation"].dtype == np.uint16
            obj = e["objects"]
            object_names = [n.decode() for n in obj["name"]]
            stamps_used = {s.decode() for s in obj["stamp"]}
            pairs = {
                tuple(sorted((a, b)))
                for i, a in enumerate(object_names)
                for b in object_names[i + 1 :]
            }
            captions = [c.decode() for c in e["captions"]]
            assert captions[0] == e["caption"].decode() and len(captions) == 5
            assert [names[i - 1] for i in obj["class_id"]] == object_names
            ids = set(np.unique(e["segmentation"])) - {0}
            assert ids == set(obj["class_id"].tolist())
            boxes = obj["box"]
            assert ((boxes >= 0) & (boxes <= 1)).all()
            assert (boxes[:, 0] < boxes[:, 2]).all()
            assert (boxes[:, 1] < boxes[:, 3]).all()
            mentioned, _ = parse_caption(captions[0], names)
            assert sorted(mentioned) == sorted(object_names)
            if split == "test_pairs":
                assert len(object_names) >= 2 and pairs <= held_pairs
            else:
                assert not pairs & held_pairs
            if split == "test_unseen":
                assert stamps_used <= held_drawings
            else:
                assert not stamps_used & held_drawings
            seen[split].append(e)
    # Each scene is a function of (seed, split, index) alone.
    plan = stamp_scenes._plan(config, stamps)
    textures = scenes.load_textures(size)
    for split in ("train", "test_unseen"):
        for e in seen[split][:5]:
            again = stamp_scenes._scene(config, plan, textures, split, e["scene_id"])
            image = np.asarray(Image.open(io.BytesIO(again["image"])))
            assert np.array_equal(image, e["image"])
            assert again["caption"] == e["caption"].decode()
