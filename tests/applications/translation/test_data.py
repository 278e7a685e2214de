"""Data of the translation application.

The Bible tests read the real SWORD modules (Debian packages sword-text-kjv
and sword-text-sparv, or `$ZOO_SWORD_DIR`); they are skipped when the
modules are not installed. The extracted pairs are cached in the rnn-zoo
cache (`$RNN_ZOO_DATA_DIR` or `~/.cache/rnn-zoo`, folder `translation/`), so
only the first run pays for the extraction (a few seconds). The cache and
builder tests use small fake extractions.
"""

import re
import shutil
import sys
import unicodedata

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from applications.translation import APPLICATION
from applications.translation import bible as bible_lib
from applications.translation import bible_cache
from applications.translation import bible_tfds
from applications.translation import data

pytest.importorskip("pysword")

SPLITS = ("train", "validation", "test")


def _modules_installed():
    try:
        bible_lib._module_files(bible_lib.resolve_sword_dir())
    except FileNotFoundError:
        return False
    return True


needs_modules = pytest.mark.skipif(
    not _modules_installed(),
    reason="SWORD modules engKJV2006eb and spaRV1909eb not installed",
)


@pytest.fixture(scope="module")
def bible():
    pairs, stats = bible_cache.all_pairs()
    return pairs, stats


@pytest.fixture(scope="module")
def by_ref(bible):
    return {(p["book"], p["chapter"], p["verse"]): p for p in bible[0]}


def assert_pairs(ds):
    assert ds.element_spec == (
        tf.TensorSpec((), tf.string),
        tf.TensorSpec((), tf.string),
    )


FAKE_PAIRS = [
    {"book": "Genesis", "chapter": 1, "verse": 1, "en": "In.", "es": "En."},
    {"book": "Genesis", "chapter": 1, "verse": 2, "en": "And.", "es": "Y."},
    {"book": "Joshua", "chapter": 1, "verse": 1, "en": "Now.", "es": "Y."},
    {"book": "Mark", "chapter": 1, "verse": 1, "en": "The.", "es": "Principio."},
]
FAKE_STATS = {"pairs": len(FAKE_PAIRS), "dropped_chapters": [], "dropped_verses": 0}


@pytest.fixture
def fake_library(tmp_path):
    """A SWORD library with the two modules' files (copies), for cache keys."""
    if not _modules_installed():
        pytest.skip("SWORD modules not installed")
    source = bible_lib.resolve_sword_dir()
    library = tmp_path / "sword"
    for lang, paths in bible_lib._module_files(source).items():
        for path in paths:
            target = library / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    return library


@pytest.fixture
def fake_extraction(monkeypatch):
    calls = []

    def extract_pairs(sword_dir=None):
        calls.append(sword_dir)
        return [dict(p) for p in FAKE_PAIRS], dict(FAKE_STATS)

    monkeypatch.setattr(bible_cache, "extract_pairs", extract_pairs)
    return calls


# ------------------------------------------------------------- alignment


@needs_modules
@pytest.mark.parametrize(
    "ref, en, es",
    [
        (
            ("Genesis", 1, 1),
            "In the beginning God created the heaven and the earth.",
            "EN el principio crió Dios los cielos y la tierra.",
        ),
        (
            ("John", 3, 16),
            "For God so loved the world, that he gave his only begotten Son, "
            "that whosoever believeth in him should not perish, but have "
            "everlasting life.",
            "Porque de tal manera amó Dios al mundo, que ha dado á su Hijo "
            "unigénito, para que todo aquel que en él cree, no se pierda, mas "
            "tenga vida eterna.",
        ),
        (
            ("Psalms", 23, 1),
            "A Psalm of David. The LORD is my shepherd; I shall not want.",
            "Salmo de David. JEHOVÁ es mi pastor; nada me faltará.",
        ),
        (  # after the dropped, shifted Numbers 13
            ("Numbers", 14, 1),
            "And all the congregation lifted up their voice, and cried; and "
            "the people wept that night.",
            "ENTONCES toda la congregación alzaron grita, y dieron voces: y "
            "el pueblo lloró aquella noche.",
        ),
        (  # "\\nd" USFM residue in the KJV module
            ("Exodus", 6, 3),
            "And I appeared unto Abraham, unto Isaac, and unto Jacob, by the "
            "name of God Almighty, but by my name JEHOVAH was I not known to "
            "them.",
            "Y aparecí á Abraham, á Isaac y á Jacob bajo el nombre de Dios "
            "Omnipotente, mas en mi nombre JEHOVÁ no me notifiqué á ellos.",
        ),
    ],
)
def test_known_verses(by_ref, ref, en, es):
    assert by_ref[ref]["en"] == en
    assert by_ref[ref]["es"] == es


@needs_modules
def test_cleaning_keeps_titles_and_drops_markup(by_ref):
    # The KJV's pilcrow paragraph marks are gone.
    assert by_ref[("Genesis", 1, 6)]["en"].startswith("And God said, Let there")
    # Psalm superscriptions and colophons are in the verse on both sides.
    assert by_ref[("Psalms", 3, 1)]["en"].startswith("A Psalm of David, when")
    assert by_ref[("Psalms", 3, 1)]["es"].startswith("Salmo de David, cuando")
    assert by_ref[("Romans", 16, 27)]["en"].endswith("church at Cenchrea.")
    # Psalm 119's acrostic heading, without its Hebrew letter.
    assert by_ref[("Psalms", 119, 9)]["en"].startswith("BETH. Wherewithal")
    # The KJV's "[but]" in I John 2:23 keeps its word only.
    assert "Father: but he that" in by_ref[("I John", 2, 23)]["en"]


def test_clean_verse():
    raw = (
        '<div type="x-milestone" subType="x-preverse" sID="pv1"/>'
        '<title canonical="true" type="psalm">A <w lemma="strong:H4210">'
        "Psalm</w>.</title> <l level=\"1\" sID=\"g1\"/>\u00b6 The "
        '<divineName><w lemma="strong:H3068">LORD</w></divineName> \\nd '
        "is [my] shepherd.<note placement=\"foot\"><reference type=\"annotate"
        'Ref">23.1 </reference>a note</note>  '
    )
    assert bible_lib.clean_verse(raw) == "A Psalm. The LORD is my shepherd."
    assert bible_lib.clean_verse("<title><foreign>\u05d1 BETH.</foreign></title> x") == (
        "BETH. x"
    )
    decomposed = "Jehova\u0301"
    assert bible_lib.clean_verse(decomposed) == "Jehová"
    assert bible_lib.clean_verse(" ") == ""


@needs_modules
def test_no_markup_residue(bible):
    pairs, _ = bible
    for p in pairs:
        for lang in ("en", "es"):
            text = p[lang]
            assert text, p
            assert text == text.strip() and "  " not in text, p
            assert not set(text) & set("<>[]{}\\\u00b6*|/0123456789"), p
            assert not any("\u0590" <= c <= "\u05ff" for c in text), p
            assert unicodedata.is_normalized("NFC", text), p


@needs_modules
def test_misaligned_chapters_dropped(bible, by_ref):
    pairs, stats = bible
    assert stats["verse_slots"] == 31102
    assert stats["empty_en"] == 0 and stats["empty_es"] == 18
    assert [tuple(c) for c in stats["dropped_chapters"]] == [
        ("Numbers", 12),
        ("Numbers", 13),
        ("Numbers", 29),
        ("Numbers", 30),
        ("I Samuel", 23),
        ("I Samuel", 24),
        ("II Samuel", 20),
        ("II Chronicles", 33),
        ("Job", 35),
        ("Job", 38),
        ("Job", 39),
        ("Job", 40),
        ("Hosea", 11),
        ("Hosea", 12),
        ("Jonah", 1),
        ("Jonah", 2),
        ("Acts", 19),
        ("II Corinthians", 13),
    ]
    assert stats["dropped_verses"] == 426
    assert len(pairs) == stats["pairs"] == 31102 - 426
    assert ("Numbers", 13, 1) not in by_ref and ("Job", 41, 1) in by_ref
    # Verse lengths agree: a shifted chapter would break this correlation.
    en = [len(p["en"]) for p in pairs]
    es = [len(p["es"]) for p in pairs]
    corr = np.corrcoef(np.log(en), np.log(es))[0, 1]
    assert corr > 0.9


def test_misaligned_chapters_detects_a_shift():
    def chapter(book, number, en, es):
        return [
            {"book": book, "chapter": number, "verse": i + 1, "en": a, "es": b}
            for i, (a, b) in enumerate(zip(en, es))
        ]

    lengths = [5, 40, 12, 70, 9, 33, 50, 7]
    en = ["x" * n for n in lengths]
    verses = (
        chapter("A", 1, en, en[:-1] + [""])  # last Spanish slot empty
        + chapter("A", 2, en, [en[-1]] + en[:-1])  # Spanish shifted by one
        + chapter("A", 3, en, en)
        + chapter("B", 1, en, en)
    )
    assert bible_lib.misaligned_chapters(verses) == [("A", 1), ("A", 2)]


# ---------------------------------------------------------------- splits


def test_book_lists_are_disjoint():
    assert not set(bible_lib.VALIDATION_BOOKS) & set(bible_lib.TEST_BOOKS)
    assert len(set(bible_lib.VALIDATION_BOOKS)) == len(bible_lib.VALIDATION_BOOKS)
    assert len(set(bible_lib.TEST_BOOKS)) == len(bible_lib.TEST_BOOKS)
    for book in bible_lib.VALIDATION_BOOKS:
        assert bible_lib.split_of_book(book) == "validation"
    for book in bible_lib.TEST_BOOKS:
        assert bible_lib.split_of_book(book) == "test"
    assert bible_lib.split_of_book("Genesis") == "train"


@needs_modules
def test_splits_by_book(bible):
    pairs, _ = bible
    books = {s: set() for s in SPLITS}
    refs = {s: set() for s in SPLITS}
    for split in SPLITS:
        for p in bible_cache.load_pairs(split):
            books[split].add(p["book"])
            refs[split].add((p["book"], p["chapter"], p["verse"]))
    for i, a in enumerate(SPLITS):
        for b in SPLITS[i + 1 :]:
            assert not books[a] & books[b], (a, b)
    assert books["validation"] == set(bible_lib.VALIDATION_BOOKS)
    assert books["test"] == set(bible_lib.TEST_BOOKS)
    assert len(books["train"]) + len(books["validation"]) + len(books["test"]) == 66
    assert sum(len(r) for r in refs.values()) == len(pairs)
    # Pinned: a change here changes every reported Bible number.
    summary = bible_cache.book_split_summary()
    sizes = {s: {"books": len(v["books"]), "pairs": v["pairs"]} for s, v in summary.items()}
    assert sizes == bible_lib.SPLIT_SIZES
    assert {s: len(refs[s]) for s in SPLITS} == {
        s: bible_lib.SPLIT_SIZES[s]["pairs"] for s in SPLITS
    }
    for split in ("validation", "test"):
        share = bible_lib.SPLIT_SIZES[split]["pairs"] / len(pairs)
        assert 0.045 < share < 0.055, split
    # Both testaments in each held-out split.
    nt = {"Mark", "Galatians", "Hebrews", "Philippians", "Colossians", "I Peter", "Jude"}
    for split in ("validation", "test"):
        assert books[split] & nt and books[split] - nt, split


# ----------------------------------------------------------- load_dataset


@needs_modules
def test_load_dataset_bible_directions():
    ds = data.load_dataset()  # bible, train, en-es
    assert_pairs(ds)
    assert ds.cardinality() == bible_lib.SPLIT_SIZES["train"]["pairs"]
    source, target = next(iter(tfds.as_numpy(ds)))
    assert source == b"In the beginning God created the heaven and the earth."
    assert target == "EN el principio crió Dios los cielos y la tierra.".encode()
    first = bible_cache.load_pairs("test")[0]
    # The direction is a part of the name, or an argument.
    for ds in (data.load_dataset("bible/es-en", "test"),
               data.load_dataset("bible", "test", direction="es-en")):
        ((source, target),) = list(tfds.as_numpy(ds.take(1)))
        assert (source.decode(), target.decode()) == (first["es"], first["en"])


@pytest.mark.parametrize("direction", ["en-pt", "es", "EN-ES", "en_es", 3, ""])
def test_bible_invalid_direction(direction):
    with pytest.raises(ValueError) as info:
        data.load_dataset("bible", "train", direction=direction)
    message = str(info.value)
    assert "'en-es'" in message and "'es-en'" in message
    assert message.endswith(f"Received: direction={direction!r}")


@pytest.mark.parametrize("split", ["", "dev", "train[:10%]", "all"])
def test_bible_invalid_split(split):
    with pytest.raises(ValueError) as info:
        bible_cache.load_pairs(split)
    assert str(info.value).endswith(f"Received: split={split!r}")


def test_bible_empty_split(monkeypatch):
    monkeypatch.setattr(
        bible_cache, "all_pairs", lambda *a, **k: ([dict(FAKE_PAIRS[0])], FAKE_STATS)
    )
    with pytest.raises(ValueError, match="split of the 'bible' dataset is empty") as info:
        data.load_dataset("bible", "test")
    assert str(info.value).endswith("Received: split='test'")


@pytest.mark.parametrize("name", ["nope", "Bible", "", "ted_hrlr_translate", "wmt14"])
def test_unknown_dataset(name):
    # The declaration's check, which lists the names.
    with pytest.raises(ValueError, match="Unknown dataset for translation") as info:
        data.load_dataset(name, "train")
    assert "'bible/es-en'" in str(info.value)
    assert str(info.value).endswith(f"Received: dataset={name!r}")


def test_datasets_names():
    names = APPLICATION.datasets
    assert names[0] == data.DEFAULT_DATASET == "bible"
    assert names[:6] == ("bible", "bible/es-en", *data.PUBLIC_DATASETS)
    assert "ted_hrlr_translate/pt_to_en/en-pt" in names
    assert "wmt14_translate/de-en/en-de" in names
    assert len(names) == 10 and len(set(names)) == len(names)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("bible", ("bible", None)),
        ("bible/es-en", ("bible", "es-en")),
        ("wmt14_translate/de-en", ("wmt14_translate/de-en", None)),
        ("wmt14_translate/de-en/en-de", ("wmt14_translate/de-en", "en-de")),
        ("ted_hrlr_translate/pt_to_en", ("ted_hrlr_translate/pt_to_en", None)),
    ],
)
def test_split_dataset_name(name, expected):
    assert data.split_dataset_name(name) == expected


def test_every_declared_name_has_a_direction():
    for name in APPLICATION.datasets:
        base, direction = data.split_dataset_name(name)
        source, target = data.parse_direction(base, direction)
        assert source != target, name


def test_direction_given_twice():
    with pytest.raises(ValueError, match=r"already says the direction 'es-en'.*Received: direction='en-es'$"):
        data.load_dataset("bible/es-en", "train", direction="en-es")


# -------------------------------------------------------- errors, cache


def test_missing_modules(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        data.load_dataset("bible", "train", data_dir=tmp_path)
    message = str(info.value)
    assert "sudo apt-get install sword-text-kjv sword-text-sparv" in message
    assert "engKJV2006eb" in message and "spaRV1909eb" in message
    assert "--data-dir" in message and "mods.d/" in message
    assert message.endswith(f"Received: sword_dir='{tmp_path.resolve()}'")


def test_sword_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(bible_lib.SWORD_DIR_ENV, str(tmp_path))
    assert bible_lib.resolve_sword_dir() == tmp_path.resolve()
    with pytest.raises(FileNotFoundError, match=r"Received: sword_dir='"):
        bible_cache.load_pairs("train")


def test_one_module_missing(fake_library):
    shutil.rmtree(fake_library / "modules" / "texts" / "ztext" / bible_lib.ES_MODULE)
    with pytest.raises(FileNotFoundError, match=r"missing: spaRV1909eb\."):
        bible_cache.load_pairs("train", data_dir=fake_library)


def test_without_pysword(fake_library, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pysword.modules", None)  # import fails
    with pytest.raises(ImportError) as info:
        bible_cache.load_pairs("train", data_dir=fake_library, cache_dir=tmp_path / "c")
    message = str(info.value)
    assert "`pip install pysword`" in message
    assert re.search(r"Received: (ModuleNotFound|Import)Error: ", message)


def test_cache_reused_and_keyed_by_modules(fake_library, fake_extraction, tmp_path):
    cache = tmp_path / "cache"
    pairs = bible_cache.load_pairs("train", data_dir=fake_library, cache_dir=cache)
    assert [p["book"] for p in pairs] == ["Genesis", "Genesis"]
    assert len(fake_extraction) == 1
    (path,) = cache.glob("bible_en_es-*.jsonl")
    assert path == bible_cache.cached_pairs_path(fake_library, cache)
    # Read back from the cache, not extracted again.
    assert bible_cache.load_pairs("test", data_dir=fake_library, cache_dir=cache) == [
        FAKE_PAIRS[3]
    ]
    assert len(fake_extraction) == 1
    # A changed module file changes the key: extracted again, into a new file.
    conf = next((fake_library / "mods.d").glob("*.conf"))
    conf.write_text(conf.read_text() + "\n# changed\n")
    bible_cache.load_pairs("validation", data_dir=fake_library, cache_dir=cache)
    assert len(fake_extraction) == 2
    assert len(list(cache.glob("bible_en_es-*.jsonl"))) == 2


def test_truncated_cache_is_rebuilt(fake_library, fake_extraction, tmp_path):
    cache = tmp_path / "cache"
    bible_cache.all_pairs(fake_library, cache)
    path = bible_cache.cached_pairs_path(fake_library, cache)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))
    pairs, _ = bible_cache.all_pairs(fake_library, cache)
    assert pairs == FAKE_PAIRS and len(fake_extraction) == 2


# ----------------------------------------------------------- tfds builder


def test_builder(fake_library, fake_extraction, tmp_path):
    builder = bible_tfds.BibleEnEs(
        sword_dir=fake_library,
        cache_dir=tmp_path / "cache",
        data_dir=str(tmp_path / "tfds"),
    )
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(try_download_gcs=False)
    )
    assert builder.name == "bible_en_es"
    sizes = {s: builder.info.splits[s].num_examples for s in SPLITS}
    assert sizes == {"train": 2, "validation": 1, "test": 1}
    (example,) = list(tfds.as_numpy(builder.as_dataset(split="test")))
    assert example == {
        "book": b"Mark",
        "chapter": 1,
        "verse": 1,
        "en": b"The.",
        "es": b"Principio.",
    }
    features = builder.info.features
    assert features["chapter"].dtype == tf.int32
    assert features["verse"].dtype == tf.int32
    (pair,) = list(tfds.as_numpy(builder.as_dataset(split="test", as_supervised=True)))
    assert pair == (b"The.", b"Principio.")


# -------------------------------------------------------- public datasets


@pytest.mark.parametrize(
    "name, direction, expected",
    [
        ("ted_hrlr_translate/pt_to_en", None, ("pt", "en")),
        ("ted_hrlr_translate/pt_to_en", "pt-en", ("pt", "en")),
        ("ted_hrlr_translate/pt_to_en", "en-pt", ("en", "pt")),
        ("ted_hrlr_translate/es_to_pt", "es-pt", ("es", "pt")),
        ("wmt13_translate/es-en", "en-es", ("en", "es")),
        ("wmt14_translate/de-en", None, ("de", "en")),
        ("wmt14_translate/de-en", "en-de", ("en", "de")),
    ],
)
def test_public_dataset_directions(name, direction, expected, tmp_path):
    languages = data.PUBLIC_DATASETS[name]
    requested = []

    def as_dataset(self, split, **kwargs):
        requested.append(str(split))
        return tf.data.Dataset.from_tensors({lang: f"text {lang}" for lang in languages})

    with tfds.testing.mock_data(as_dataset_fn=as_dataset, data_dir=str(tmp_path)):
        ds = data.load_dataset(name, "validation", direction=direction)
        assert_pairs(ds)
        ((source, target),) = list(tfds.as_numpy(ds))
    assert requested == ["validation"]
    assert (source, target) == tuple(f"text {lang}".encode() for lang in expected)


@pytest.mark.parametrize("name", ["ted_hrlr_translate/pt_to_en", "wmt14_translate/de-en"])
def test_public_datasets_mock_data(name, tmp_path):
    with tfds.testing.mock_data(num_examples=4, data_dir=str(tmp_path)):
        for split in SPLITS:
            ds = data.load_dataset(name, split, direction=None)
            assert_pairs(ds)
            pairs = list(tfds.as_numpy(ds))
            assert len(pairs) == 4
            assert all(isinstance(s, bytes) and isinstance(t, bytes) for s, t in pairs)


@pytest.mark.parametrize(
    "name, direction",
    [
        ("ted_hrlr_translate/pt_to_en", "en-es"),
        ("wmt14_translate/de-en", "en-es"),
        ("wmt14_translate/de-en", "de-fr"),
        ("wmt13_translate/es-en", "es-es"),
    ],
)
def test_public_dataset_wrong_direction(name, direction):
    with pytest.raises(ValueError) as info:
        data.load_dataset(name, "train", direction=direction)
    message = str(info.value)
    source, target = data.PUBLIC_DATASETS[name]
    assert f"'{source}-{target}'" in message and f"'{target}-{source}'" in message
    assert message.endswith(f"Received: direction={direction!r}")


def test_public_dataset_empty_split():
    with pytest.raises(ValueError, match=r"Received: split=''$"):
        data.load_dataset("wmt14_translate/de-en", "", direction="de-en")


def test_load_data_is_the_declared_hook(tmp_path):
    # `APPLICATION.load_data` is found by convention (data.py:load_data) and
    # takes the data directory third.
    assert APPLICATION.load_data is data.load_data
    with tfds.testing.mock_data(num_examples=2, data_dir=str(tmp_path)):
        pairs = list(tfds.as_numpy(data.load_data("wmt14_translate/de-en/en-de", "test", str(tmp_path))))
    assert len(pairs) == 2
