"""The Bible pairs of the translation application: extraction and alignment.

The embedded default data set, `"bible"`, is the Bible in English (King James Version,
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

(`bible_cache.book_split_summary()` computes these numbers; `SPLIT_SIZES` pins
them.) `bible_cache` keeps the extracted pairs, `bible_tfds` wraps them as a
tfds builder and `data` is the entry point over them and the public sets.
"""

import functools
import os
import pathlib
import re
import unicodedata

import numpy as np

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

def _check_split(split):
    if split not in SPLITS:
        raise ValueError(
            f"The 'bible' dataset has the splits {', '.join(map(repr, SPLITS))}. "
            f"Received: split={split!r}"
        )
    return split

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

def split_of_book(book):
    """`"validation"`, `"test"` or `"train"`: the split a book belongs to."""
    if book in VALIDATION_BOOKS:
        return "validation"
    if book in TEST_BOOKS:
        return "test"
    return "train"
