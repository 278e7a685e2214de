"""The cache of the extracted Bible pairs, and the pairs of one split.

The extracted pairs are cached as JSON lines in
`$RNN_ZOO_DATA_DIR/translation` (default `~/.cache/rnn-zoo/translation`),
under a name that holds a hash of the two modules' files, their conf files
and `EXTRACTION_VERSION`: a changed module is extracted again.
"""

import hashlib
import json
import logging
import pathlib
import time

from applications.translation.bible import SPLITS
from applications.translation.bible import _check_split
from applications.translation.bible import _module_files
from applications.translation.bible import EXTRACTION_VERSION
from applications.translation.bible import extract_pairs
from applications.translation.bible import resolve_sword_dir
from applications.translation.bible import split_of_book
from zoo.datasets import resolve_cache_dir
from zoo.io import atomic_path
from zoo.io import sha256_file

logger = logging.getLogger(__name__)


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
