"""The Bible pairs as a tfds builder (`BibleEnEs`)."""

import numpy as np
import tensorflow_datasets as tfds

from applications.translation.bible import SPLITS
from applications.translation.bible import split_of_book
from applications.translation.bible_cache import all_pairs
from applications.translation.bible_cache import resolve_translation_cache_dir

_BIBLE_CITATION = """\
@misc{crosswire_sword,
  title = {The SWORD Project: King James Version (engKJV2006eb) and
           Reina-Valera 1909 (spaRV1909eb)},
  author = {{CrossWire Bible Society} and {eBible.org}},
  howpublished = {\\url{https://crosswire.org/sword/}},
  note = {Public domain texts},
}"""


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
