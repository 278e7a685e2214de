"""Data sets of the translation application, as `(source, target)` pipelines.

The embedded default, `"bible"`, is the Bible in English (King James Version,
SWORD module `engKJV2006eb`) aligned verse by verse with Spanish (Reina-Valera
1909, `spaRV1909eb`), read with `pysword` from a local SWORD library (on
Debian: `sudo apt-get install sword-text-kjv sword-text-sparv`). Nothing is
downloaded. Both modules use KJV versification, so a verse reference is the
key that pairs an English verse with a Spanish one.

Extraction (about 6 s on one core; `_read_module` caches pysword's
decompressed blocks, without which it takes minutes) gives
30,676 pairs out of 31,102 KJV verse slots. What is left out, and why:

- Verses that are empty on either side (18, all Spanish): where RV1909
  numbers verses differently from the KJV, the module keeps the Spanish
  numbers, leaving KJV slots empty and shifting the Spanish text into the
  neighbouring slots (Numbers 12:16 is Spanish 13:1, Job 38:39-41 are Spanish
  39:1-3, Jonah 1:17 is Spanish 2:1, ...) or merging two verses into one
  (Acts 19:40-41). Every chapter holding such an empty slot is dropped
  whole, and so is the chapter after it when its Spanish text is shifted
  against the English one (detected by comparing verse lengths; see
  `misaligned_chapters`). That is 18 chapters, 426 verse slots, all in
  train books: Numbers 12, 13, 29, 30; I Samuel 23, 24; II Samuel 20;
  II Chronicles 33; Job 35, 38, 39, 40; Hosea 11, 12; Jonah 1, 2; Acts 19;
  II Corinthians 13.

Cleaning (`clean_verse`), applied to the raw OSIS text of each verse:

- KJV titles that sit inside a verse are kept as text, since RV1909 has them
  in the verse text too: psalm superscriptions ("A Psalm of David, when he
  fled from Absalom his son."), the acrostic headings of Psalm 119 (without
  their Hebrew letter) and the colophons of the epistles ("Written to the
  Romans from Corinthus, ..."). Footnotes (`<note>`) are removed with their
  content; all other tags (Strong's numbers in `<w lemma=...>`, added words
  in `<transChange>`, `<divineName>`, line and paragraph milestones) keep
  their content only, through pysword's OSIS cleaner.
- Residue of the source markup is removed: paragraph marks (the pilcrow, at
  the start of 2,970 KJV verses), stray USFM character markers (`\\nd`, in
  27 KJV verses), the square brackets of one KJV verse (I John 2:23, "[but]"
  keeps "but"), and whitespace runs (leading, trailing and doubled spaces).
- Text is Unicode NFC; case and punctuation are kept as printed (RV1909
  capitalizes the first word of each chapter, "EN el principio", and writes
  the accented "á", "é", "ó" of its time).

Splits are by whole books, so that no passage is in two splits: the books in
`VALIDATION_BOOKS` and `TEST_BOOKS` (about 5% of the verses each, mixing Old
and New Testament and the genres) and all other books in train:

| split      | books | pairs  | books                                        |
|------------|------:|-------:|----------------------------------------------|
| train      |    50 | 27,551 | all others                                   |
| validation |     6 |  1,583 | Joshua (OT narrative), Ecclesiastes (wisdom, |
|            |       |        | poetry), Amos, Micah (prophets), Galatians,  |
|            |       |        | Hebrews (epistles)                           |
| test       |    10 |  1,542 | Ruth, Esther (OT narrative), Lamentations    |
|            |       |        | (poetry), Joel, Habakkuk (prophets), Mark    |
|            |       |        | (gospel), Philippians, Colossians, I Peter,  |
|            |       |        | Jude (epistles)                              |

(`book_split_summary()` computes these numbers; `SPLIT_SIZES` pins them.)

The extracted pairs are cached as JSON lines in
`$RNN_ZOO_DATA_DIR/translation` (default `~/.cache/rnn-zoo/translation`),
under a name that holds a hash of the two modules' files, their conf files
and `EXTRACTION_VERSION`: a changed module is extracted again.

Public tfds data sets, downloaded by tfds on first use, can be selected by
name as well: `"ted_hrlr_translate/pt_to_en"`, `"ted_hrlr_translate/es_to_pt"`,
`"wmt13_translate/es-en"` and `"wmt14_translate/de-en"`.

`load_dataset(name, split, direction)` returns any of them as a
`tf.data.Dataset` of `(source_text, target_text)` string scalars;
`load_pairs(split)` returns the Bible pairs as a list of dicts.
"""

import functools
import hashlib
import json
import logging
import os
import pathlib
import re
import time
import unicodedata

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from zoo.datasets import resolve_cache_dir
from zoo.io import atomic_path
from zoo.io import sha256_file

logger = logging.getLogger(__name__)

EN_MODULE = "engKJV2006eb"
ES_MODULE = "spaRV1909eb"
MODULES = {"en": EN_MODULE, "es": ES_MODULE}
SWORD_DIR_ENV = "ZOO_SWORD_DIR"
"""Environment variable naming the SWORD library (with mods.d/, modules/)."""
DEFAULT_SWORD_DIR = "/usr/share/sword"
EXTRACTION_VERSION = "1"
"""Bump when extraction or cleaning changes: it is part of the cache key."""

SPLITS = ("train", "validation", "test")

VALIDATION_BOOKS = (
    "Joshua",  # OT narrative, 658 verses
    "Ecclesiastes",  # wisdom / poetry, 222
    "Amos",  # prophecy, 146
    "Micah",  # prophecy, 105
    "Galatians",  # Pauline epistle, 149
    "Hebrews",  # epistle, 303
)
"""Books of the validation split (1,583 verses, 5.1%)."""

TEST_BOOKS = (
    "Ruth",  # OT narrative, 85 verses
    "Esther",  # OT narrative, 167
    "Lamentations",  # poetry, 154
    "Joel",  # prophecy, 73
    "Habakkuk",  # prophecy, 56
    "Mark",  # gospel, 678
    "Philippians",  # Pauline epistle, 104
    "Colossians",  # Pauline epistle, 95
    "I Peter",  # general epistle, 105
    "Jude",  # general epistle, 25
)
"""Books of the test split (1,542 verses, 5.0%)."""

SPLIT_SIZES = {
    "train": {"books": 50, "pairs": 27551},
    "validation": {"books": 6, "pairs": 1583},
    "test": {"books": 10, "pairs": 1542},
}
"""Books and verse pairs per split of `"bible"` (see `book_split_summary`)."""

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

_BIBLE_CITATION = """\
@misc{crosswire_sword,
  title = {The SWORD Project: King James Version (engKJV2006eb) and
           Reina-Valera 1909 (spaRV1909eb)},
  author = {{CrossWire Bible Society} and {eBible.org}},
  howpublished = {\\url{https://crosswire.org/sword/}},
  note = {Public domain texts},
}"""


# ---------------------------------------------------------------- errors


def _import_pysword():
    try:
        from pysword.modules import SwordModules
    except ImportError as e:
        raise ImportError(
            "The 'bible' dataset reads the SWORD modules with the `pysword` "
            "package, which could not be imported. Install it with "
            f"`pip install pysword`. Received: {type(e).__name__}: {e}"
        ) from e
    return SwordModules


def resolve_sword_dir(sword_dir=None):
    """The SWORD library folder: `sword_dir`, `$ZOO_SWORD_DIR` or the default.

    Args:
        sword_dir: an explicit folder holding `mods.d/` and `modules/`.

    Returns:
        An absolute `pathlib.Path` (not checked).
    """
    if sword_dir is None:
        sword_dir = os.environ.get(SWORD_DIR_ENV) or DEFAULT_SWORD_DIR
    return pathlib.Path(sword_dir).expanduser().resolve()


def _missing_modules_error(sword_dir, missing):
    return FileNotFoundError(
        f"The 'bible' dataset needs the SWORD modules {EN_MODULE} (King James "
        f"Version) and {ES_MODULE} (Reina-Valera 1909); missing: "
        f"{', '.join(missing)}. On Debian or Ubuntu install them with `sudo "
        "apt-get install sword-text-kjv sword-text-sparv` (they go to "
        f"{DEFAULT_SWORD_DIR}). Otherwise download the modules "
        f"{EN_MODULE} and {ES_MODULE} from CrossWire "
        "(https://crosswire.org/sword/) or eBible.org, unzip them into one "
        "directory, and pass `--data-dir DIR` (or `sword_dir=DIR`, or set "
        f"${SWORD_DIR_ENV}) pointing at that directory, which must contain "
        f"mods.d/ and modules/. Received: sword_dir='{sword_dir}'"
    )


def _module_data_path(conf, module):
    """The module's data folder, from the `DataPath=` line of its conf file."""
    default = f"./modules/texts/ztext/{module}/"
    try:
        text = conf.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return default
    match = re.search(r"^DataPath\s*=\s*(\S+)", text, re.MULTILINE)
    return match.group(1) if match else default


def _module_files(sword_dir):
    """The conf file and data files of each module, checked to exist."""
    files, missing = {}, []
    for lang, module in MODULES.items():
        confs = [
            sword_dir / "mods.d" / f"{module}.conf",
            sword_dir / "mods.d" / f"{module.lower()}.conf",
        ]
        conf = next((c for c in confs if c.is_file()), None)
        data_files = []
        if conf is not None:
            data = sword_dir / _module_data_path(conf, module)
            if data.is_dir():
                data_files = sorted(p for p in data.iterdir() if p.is_file())
        if not data_files:
            missing.append(module)
            continue
        files[lang] = [conf] + data_files
    if missing:
        raise _missing_modules_error(sword_dir, missing)
    return files


def check_dataset_name(name):
    """Raise a `ValueError` unless `name` is a data set `load_dataset` knows."""
    if name not in DATASETS:
        valid = ", ".join(repr(n) for n in DATASETS)
        raise ValueError(
            f"Unknown dataset. Valid names: {valid}. Received: dataset={name!r}"
        )
    return name


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(
            f"The 'bible' dataset has the splits {', '.join(map(repr, SPLITS))}. "
            f"Received: split={split!r}"
        )
    return split


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


# -------------------------------------------------------------- cleaning

_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title>", re.DOTALL)
_USFM_MARKER = re.compile(r"\\\+?[a-z]+[0-9]*\*?")
_HEBREW = re.compile(r"[\u0590-\u05ff]+")
_RESIDUE = re.compile(r"[\u00b6\[\]]")  # pilcrow, square brackets
_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=1)
def _osis_cleaner():
    from pysword.cleaner import OSISCleaner

    return OSISCleaner()


def clean_verse(raw):
    """Plain text of one verse from its raw OSIS markup.

    Titles inside the verse keep their text (pysword's cleaner would drop
    them with their content); notes go with their content; other tags keep
    their content only; then the markup residue (pilcrows, USFM markers,
    square brackets, Hebrew acrostic letters) is removed, whitespace runs
    are collapsed and the text is NFC-normalized.

    Args:
        raw: the verse as stored in the module (`clean=False` in pysword).

    Returns:
        The cleaned text; `""` for an empty verse.
    """
    text = _TITLE.sub(lambda m: f" {m.group(1)} ", raw)
    if "<" in text:
        text = _osis_cleaner().clean(text)
    text = _USFM_MARKER.sub(" ", text)
    text = _HEBREW.sub(" ", text)
    text = _RESIDUE.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    return unicodedata.normalize("NFC", text)


# ------------------------------------------------------------ extraction


def _read_module(library, module):
    """`[(book, chapter, verse, raw_text), ...]` of a module, in canon order."""
    bible = library.get_bible_from_module(module)
    # pysword's zText reader decompresses a whole block (a book, in these
    # modules) for each verse it reads: keeping the last blocks makes reading
    # ~30x faster (seconds instead of minutes). Same text either way.
    if hasattr(bible, "_decompressed_text"):
        bible._decompressed_text = functools.lru_cache(maxsize=4)(
            bible._decompressed_text
        )
    rows = []
    for books in bible.get_structure().get_books().values():
        for book in books:
            refs = [
                (book.name, chapter + 1, verse + 1)
                for chapter, n in enumerate(book.chapter_lengths)
                for verse in range(n)
            ]
            texts = list(bible.get_iter(books=[book.name], clean=False))
            if len(texts) != len(refs):
                raise RuntimeError(
                    f"{module}: {book.name} has {len(refs)} verses in its "
                    f"versification but {len(texts)} were read. "
                    f"Received: verses={len(texts)}"
                )
            rows.extend(ref + (text,) for ref, text in zip(refs, texts))
    return rows


def _length_correlation(en_lengths, es_lengths, shift):
    """Correlation of log lengths, English verse v against Spanish v+shift."""
    a, b = np.log1p(en_lengths), np.log1p(es_lengths)
    if shift > 0:
        a, b = a[:-shift], b[shift:]
    elif shift < 0:
        a, b = a[-shift:], b[:shift]
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return -1.0
    return float(np.corrcoef(a, b)[0, 1])


def misaligned_chapters(verses):
    """Chapters whose Spanish verses do not line up with the English ones.

    A chapter is misaligned when one of its verses is empty on either side
    (the Spanish module keeps RV1909's own numbering there, so the text is
    shifted or merged), and so is each chapter following a misaligned one
    when its Spanish verse lengths match the English ones better at a shift
    of 1 to 5 verses than unshifted (the text shifted across the chapter
    boundary).

    Args:
        verses: dicts with keys `book`, `chapter`, `verse`, `en`, `es`, all
            verse slots, in canon order.

    Returns:
        A sorted list of `(book, chapter)`.
    """
    chapters = {}
    for v in verses:
        chapters.setdefault((v["book"], v["chapter"]), []).append(v)
    bad = {key for key, vs in chapters.items() if any(not (v["en"] and v["es"]) for v in vs)}
    queue = sorted(bad)
    while queue:
        book, chapter = queue.pop()
        following = (book, chapter + 1)
        if following in bad or following not in chapters:
            continue
        vs = chapters[following]
        en = np.array([len(v["en"]) for v in vs], float)
        es = np.array([len(v["es"]) for v in vs], float)
        aligned = _length_correlation(en, es, 0)
        shifted = max(_length_correlation(en, es, s) for s in range(1, 6))
        if shifted > aligned:
            bad.add(following)
            queue.append(following)
    order = {key: i for i, key in enumerate(chapters)}
    return sorted(bad, key=order.get)


def extract_pairs(sword_dir=None):
    """Read, clean and align the two modules; no cache.

    Args:
        sword_dir: the SWORD library (see `resolve_sword_dir`).

    Returns:
        A tuple `(pairs, stats)`: the aligned pairs (dicts with keys `book`,
        `chapter`, `verse`, `en`, `es`, in canon order) and a dict of counts
        of what was left out.
    """
    sword_dir = resolve_sword_dir(sword_dir)
    _module_files(sword_dir)
    SwordModules = _import_pysword()
    library = SwordModules(str(sword_dir))
    found = library.parse_modules()
    missing = [m for m in MODULES.values() if m not in found]
    if missing:
        raise _missing_modules_error(sword_dir, missing)
    en_rows = _read_module(library, EN_MODULE)
    es_rows = _read_module(library, ES_MODULE)
    if [r[:3] for r in en_rows] != [r[:3] for r in es_rows]:
        raise RuntimeError(
            f"{EN_MODULE} and {ES_MODULE} do not share one versification, so "
            "their verses cannot be paired by reference. Received: "
            f"verses={len(en_rows)} and {len(es_rows)}"
        )
    verses = [
        {
            "book": book,
            "chapter": chapter,
            "verse": verse,
            "en": clean_verse(en),
            "es": clean_verse(es),
        }
        for (book, chapter, verse, en), (*_, es) in zip(en_rows, es_rows)
    ]
    dropped_chapters = misaligned_chapters(verses)
    drop = set(dropped_chapters)
    pairs = [v for v in verses if (v["book"], v["chapter"]) not in drop]
    stats = {
        "verse_slots": len(verses),
        "empty_en": sum(not v["en"] for v in verses),
        "empty_es": sum(not v["es"] for v in verses),
        "dropped_chapters": [list(c) for c in dropped_chapters],
        "dropped_verses": len(verses) - len(pairs),
        "pairs": len(pairs),
    }
    return pairs, stats


def _cache_key(sword_dir):
    digest = hashlib.sha256(f"extraction-v{EXTRACTION_VERSION}\n".encode())
    for lang, paths in sorted(_module_files(sword_dir).items()):
        for path in paths:
            digest.update(f"{lang} {path.name} {sha256_file(path)}\n".encode())
    return digest.hexdigest()[:16]


def resolve_translation_cache_dir(cache_dir=None):
    """The folder of the cached pairs: `cache_dir`, or `translation/` in the
    rnn-zoo cache (`$RNN_ZOO_DATA_DIR` or `~/.cache/rnn-zoo`)."""
    if cache_dir is not None:
        return pathlib.Path(cache_dir).expanduser().resolve()
    return resolve_cache_dir() / "translation"


def cached_pairs_path(sword_dir=None, cache_dir=None):
    """The JSON-lines file where the pairs of these modules are cached."""
    key = _cache_key(resolve_sword_dir(sword_dir))
    return resolve_translation_cache_dir(cache_dir) / f"bible_en_es-{key}.jsonl"


def _read_cache(path):
    with open(path, encoding="utf-8") as f:
        header = json.loads(f.readline())
        pairs = [json.loads(line) for line in f]
    if header.get("pairs") != len(pairs):
        raise ValueError(f"truncated cache file. Received: path='{path}'")
    return pairs, header


def all_pairs(sword_dir=None, cache_dir=None):
    """All aligned Bible pairs, extracted once and then read from the cache.

    Args:
        sword_dir: the SWORD library (see `resolve_sword_dir`).
        cache_dir: the folder for the cache file (see
            `resolve_translation_cache_dir`).

    Returns:
        A tuple `(pairs, stats)` as `extract_pairs`.
    """
    sword_dir = resolve_sword_dir(sword_dir)
    path = cached_pairs_path(sword_dir, cache_dir)
    if path.is_file():
        try:
            return _read_cache(path)
        except (ValueError, KeyError) as e:
            logger.warning("ignoring unreadable cache %s: %s", path, e)
    start = time.perf_counter()
    pairs, stats = extract_pairs(sword_dir)
    logger.info(
        "bible: extracted %d pairs in %.1f s into %s",
        len(pairs),
        time.perf_counter() - start,
        path,
    )
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(stats, sort_keys=True) + "\n")
            for p in pairs:
                f.write(json.dumps(p, ensure_ascii=False, sort_keys=True) + "\n")
    return pairs, stats


def split_of_book(book):
    """`"validation"`, `"test"` or `"train"`: the split a book belongs to."""
    if book in VALIDATION_BOOKS:
        return "validation"
    if book in TEST_BOOKS:
        return "test"
    return "train"


def load_pairs(split="train", data_dir=None, cache_dir=None):
    """The Bible verse pairs of one split, as a list of dicts.

    Args:
        split: `"train"`, `"validation"` or `"test"`.
        data_dir: the SWORD library holding the two modules (default
            `$ZOO_SWORD_DIR` or `/usr/share/sword`).
        cache_dir: the folder of the cached pairs (default
            `~/.cache/rnn-zoo/translation`, see
            `resolve_translation_cache_dir`).

    Returns:
        A list of dicts with keys `book` (str), `chapter`, `verse` (int),
        `en` and `es` (str), in canon order.
    """
    _check_split(split)
    pairs, _ = all_pairs(data_dir, cache_dir)
    selected = [p for p in pairs if split_of_book(p["book"]) == split]
    if not selected:
        raise ValueError(
            f"The {split!r} split of the 'bible' dataset is empty: none of "
            f"its books is in the modules. Received: split={split!r}"
        )
    return selected


def book_split_summary(data_dir=None, cache_dir=None):
    """Books and verse pairs per split of `"bible"`.

    Returns:
        A dict from split name to `{"books": [...], "pairs": n}` (books in
        canon order).
    """
    pairs, _ = all_pairs(data_dir, cache_dir)
    summary = {s: {"books": [], "pairs": 0} for s in SPLITS}
    for p in pairs:
        entry = summary[split_of_book(p["book"])]
        entry["pairs"] += 1
        if not entry["books"] or entry["books"][-1] != p["book"]:
            entry["books"].append(p["book"])
    return summary


# ---------------------------------------------------------- tfds builder


class BibleEnEs(tfds.core.GeneratorBasedBuilder):
    """The Bible, English (KJV) and Spanish (RV1909), aligned by verse.

    Read from the SWORD modules `engKJV2006eb` and `spaRV1909eb` with
    pysword (see the module docstring for cleaning and alignment); split by
    whole books into train, validation (`VALIDATION_BOOKS`) and test
    (`TEST_BOOKS`).

    Features: `en`, `es`, `book` (strings), `chapter`, `verse` (int32);
    supervised keys `(en, es)`.

    Args:
        sword_dir: the SWORD library (see `resolve_sword_dir`).
        cache_dir: the folder of the cached pairs.
        **kwargs: `tfds.core.DatasetBuilder` arguments, such as `data_dir`.

    Example:

    ```python
    builder = BibleEnEs(data_dir="/tmp/tfds")
    builder.download_and_prepare()
    ds = builder.as_dataset(split="test", as_supervised=True)
    ```
    """

    name = "bible_en_es"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": "KJV (engKJV2006eb) and RV1909 (spaRV1909eb) verse pairs, "
        "misaligned chapters dropped, split by book.",
    }

    def __init__(self, *, sword_dir=None, cache_dir=None, **kwargs):
        self._sword_dir = sword_dir
        self._cache_dir = cache_dir
        super().__init__(**kwargs)

    def _info(self):
        return self.dataset_info_from_configs(
            description="The Bible in English (King James Version) and "
            "Spanish (Reina-Valera 1909), aligned verse by verse; split by "
            "book.",
            features=tfds.features.FeaturesDict(
                {
                    "en": tfds.features.Text(),
                    "es": tfds.features.Text(),
                    "book": tfds.features.Text(),
                    "chapter": tfds.features.Scalar(dtype=np.int32),
                    "verse": tfds.features.Scalar(dtype=np.int32),
                }
            ),
            supervised_keys=("en", "es"),
            homepage="https://crosswire.org/sword/",
            citation=_BIBLE_CITATION,
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # The modules are local files.
        pairs, stats = all_pairs(self._sword_dir, self._cache_dir)
        self.info.metadata["dropped_chapters"] = stats["dropped_chapters"]
        self.info.metadata["dropped_verses"] = stats["dropped_verses"]
        return {
            split: self._generate_examples(
                [p for p in pairs if split_of_book(p["book"]) == split]
            )
            for split in SPLITS
        }

    def _generate_examples(self, pairs):
        for p in pairs:
            yield f"{p['book']} {p['chapter']}:{p['verse']}", dict(p)


def bible_builder(data_dir=None, cache_dir=None):
    """The prepared `BibleEnEs` builder; TFRecords go to `<cache>/tfds`."""
    cache = resolve_translation_cache_dir(cache_dir)
    builder = BibleEnEs(
        sword_dir=data_dir, cache_dir=cache, data_dir=str(cache / "tfds")
    )
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(try_download_gcs=False)
    )
    return builder


# ----------------------------------------------------------- entry point


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
