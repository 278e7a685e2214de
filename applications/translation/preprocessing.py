"""Subword tokenization of source and target text (tf ops, in the SavedModel).

WordPiece (Wu et al., 2016) vocabularies, one per language, learned from the
training split only with KerasHub's `compute_word_piece_vocabulary` and
applied with its `WordPieceTokenizer` (TensorFlow Text ops). Why WordPiece:
both languages are morphologically rich enough (Spanish verb endings, KJV's
"-eth" forms) that a word vocabulary of a CPU-sized softmax leaves many words
unknown, while subwords cover every word seen in training and spell rare
names piece by piece; KerasHub learns and applies it in TensorFlow ops, so the
exported SavedModel tokenizes raw strings itself. Case and accents are kept,
since sacreBLEU scores cased text.
"""

import os

import tensorflow as tf

PAD, UNK, START, END = "[PAD]", "[UNK]", "[START]", "[END]"
RESERVED_TOKENS = [PAD, UNK, START, END]
PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3
SOURCE_VOCABULARY_FILE = "asset_source_vocabulary.txt"
TARGET_VOCABULARY_FILE = "asset_target_vocabulary.txt"
# Decoding settings chosen on validation data after training
# (`python -m applications.translation.select_decoding`); they override the
# config's `beam_size` / `length_penalty`.
DECODING_FILE = "asset_decoding.json"


def normalize_text(texts):
    """Replace invalid UTF-8, apply NFC and collapse whitespace (tf ops)."""
    import tensorflow_text as tf_text

    texts = tf.strings.unicode_transcode(
        texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
    )
    texts = tf_text.normalize_utf8(texts, "NFC")
    texts = tf.strings.regex_replace(texts, r"\s+", " ")
    return tf.strings.strip(texts)


def detokenize_text(joined):
    """Undo the tokenizer's spaces around punctuation (tf ops)."""
    text = tf.strings.regex_replace(joined, r"\s+([.,;:!?)\]»])", r"\1")
    text = tf.strings.regex_replace(text, r"([(\[¿¡«])\s+", r"\1")
    text = tf.strings.regex_replace(text, r"\s*-\s*", "-")
    text = tf.strings.regex_replace(text, r"\s*'\s*", "'")
    return tf.strings.strip(text)


def _cached_vocabulary(texts, size, cache_dir=None):
    import hashlib
    import json

    import keras_hub

    from zoo.io import write_json_atomic

    digest = hashlib.sha256()
    for text in texts.batch(4096).as_numpy_iterator():
        for t in text:
            digest.update(t + b"\n")
    key = hashlib.sha256(f"{digest.hexdigest()}-{size}-wordpiece-1".encode()).hexdigest()[:16]
    if cache_dir is None:
        from applications.translation.bible_cache import resolve_translation_cache_dir

        cache_dir = resolve_translation_cache_dir()
    path = os.path.join(cache_dir, f"wordpiece-{key}.json")
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except ValueError:
            pass  # a damaged cache file is learned again
    vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
        texts.batch(1000),
        vocabulary_size=size,
        lowercase=False,
        strip_accents=False,
        reserved_tokens=RESERVED_TOKENS,
    )
    os.makedirs(cache_dir, exist_ok=True)
    write_json_atomic(path, vocabulary)
    return vocabulary


def _tokenizer(vocabulary):
    import keras_hub

    return keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary,
        lowercase=False,
        strip_accents=False,
        oov_token=UNK,
        dtype="int32",
    )


class TranslationPreprocessor:
    """Source and target tokenizers, length limits and the training pipeline.

    Source ids are `(batch, <= max_source_length)` WordPiece ids, longer
    texts truncated (`source_lengths` says by how much). Target sequences are
    `[START] pieces [END]`; in training, pairs whose target does not fit
    `max_target_length` are left out (never cut, so the model always sees
    where a sentence ends).

    Args:
        source_vocabulary: list of source pieces, the reserved tokens first.
        target_vocabulary: list of target pieces, the reserved tokens first.
        max_source_length: source pieces kept.
        max_target_length: target pieces generated at most (END included).
    """

    def __init__(self, source_vocabulary, target_vocabulary, max_source_length, max_target_length,
                 config=None):
        for name, vocabulary in (("source", source_vocabulary), ("target", target_vocabulary)):
            if list(vocabulary[: len(RESERVED_TOKENS)]) != RESERVED_TOKENS:
                raise ValueError(
                    f"The {name} vocabulary must start with {RESERVED_TOKENS}. "
                    f"Received: {list(vocabulary[:4])}"
                )
        self.source_vocabulary = list(source_vocabulary)
        self.target_vocabulary = list(target_vocabulary)
        self.max_source_length = int(max_source_length)
        self.max_target_length = int(max_target_length)
        config = dict(config or {})
        self.decoding = {
            "beam_size": int(config.get("beam_size", 5)),
            "length_penalty": float(config.get("length_penalty", 0.6)),
            # Beam search's repetition guard (0: off); chosen on validation
            # by select_decoding, like the length penalty.
            "no_repeat_ngram_size": int(config.get("no_repeat_ngram_size", 0)),
        }
        self.source_tokenizer = _tokenizer(self.source_vocabulary)
        self.target_tokenizer = _tokenizer(self.target_vocabulary)
        # Weightless layers: marked built now, so that an export
        # (`ExportArchive.track` refuses an unbuilt layer) works however the
        # preprocessor was made, fitted or read back from its assets.
        for tokenizer in (self.source_tokenizer, self.target_tokenizer):
            tokenizer.build(None)
        # KerasHub turns eager outputs into Python lists; traced, they stay
        # (ragged) tensors, which is what every caller here wants.
        self._tokenize_source = tf.function(self.source_tokenizer.tokenize)
        self._tokenize_target = tf.function(self.target_tokenizer.tokenize)
        self._detokenize_target = tf.function(self.target_tokenizer.detokenize)

    # -- vocabularies ----------------------------------------------------
    @classmethod
    def fit(cls, config, pairs, cache_dir=None):
        """Learn both vocabularies from a dataset of (source, target) strings.

        Learning takes minutes on 2 cores, so a vocabulary is cached under
        `cache_dir` (default: the translation data cache), keyed by the
        sha256 of the texts and the requested size.
        """
        vocabularies = []
        for index, side in enumerate(("source", "target")):
            texts = pairs.map(lambda *pair, i=index: normalize_text(pair[i]))
            vocabularies.append(
                _cached_vocabulary(texts, config[f"{side}_vocabulary_size"], cache_dir)
            )
        return cls(vocabularies[0], vocabularies[1], config["max_source_length"],
                   config["max_target_length"], config)

    @classmethod
    def load(cls, config, directory):
        vocabularies = []
        for name in (SOURCE_VOCABULARY_FILE, TARGET_VOCABULARY_FILE):
            path = os.path.join(directory, name)
            if not os.path.exists(path):
                raise ValueError(
                    f"{directory} has no {name}: is it a translation run directory? "
                    f"Received: directory={directory!r}"
                )
            with open(path, encoding="utf-8") as f:
                vocabularies.append(f.read().split("\n"))
        preprocessor = cls(vocabularies[0], vocabularies[1], config["max_source_length"],
                           config["max_target_length"], config)
        path = os.path.join(directory, DECODING_FILE)
        if os.path.exists(path):
            import json

            with open(path, encoding="utf-8") as f:
                chosen = json.load(f)
            preprocessor.decoding.update(
                beam_size=int(chosen["beam_size"]), length_penalty=float(chosen["length_penalty"]),
                no_repeat_ngram_size=int(chosen.get("no_repeat_ngram_size", 0)),
            )
        return preprocessor

    def save(self, directory):
        from zoo.io import atomic_path

        for name, vocabulary in ((SOURCE_VOCABULARY_FILE, self.source_vocabulary),
                                 (TARGET_VOCABULARY_FILE, self.target_vocabulary)):
            with atomic_path(os.path.join(directory, name)) as tmp:
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write("\n".join(vocabulary))

    # -- tokenization ----------------------------------------------------
    def source_pieces(self, texts):
        """Ragged source ids of a batch of strings, not truncated."""
        return self._tokenize_source(normalize_text(texts))

    def source_ids(self, texts):
        """`(ids, lengths)`: padded `(batch, <= max_source_length)` int32 ids
        and each text's piece count before truncation."""
        pieces = self.source_pieces(texts)
        lengths = tf.cast(pieces.row_lengths(), tf.int32)
        ids = pieces[:, : self.max_source_length].to_tensor(default_value=PAD_ID)
        return tf.cast(ids, tf.int32), lengths

    def target_sequences(self, texts):
        """Ragged `[START] pieces [END]` ids of a batch of target strings."""
        pieces = tf.cast(self._tokenize_target(normalize_text(texts)), tf.int32)
        batch = pieces.nrows()
        start = tf.fill([batch, 1], START_ID)
        end = tf.fill([batch, 1], END_ID)
        return tf.concat([start, pieces, end], axis=1)

    def detokenize(self, ids):
        """Strings from `(batch, length)` target ids; stops at [END]/[PAD]."""
        ids = tf.convert_to_tensor(ids)
        ids = tf.cast(ids, tf.int32)
        stop = tf.logical_or(tf.equal(ids, END_ID), tf.equal(ids, PAD_ID))
        keep = tf.equal(tf.cumsum(tf.cast(stop, tf.int32), axis=1), 0)
        keep = tf.logical_and(keep, tf.not_equal(ids, START_ID))
        ragged = tf.ragged.boolean_mask(ids, keep)
        joined = self._detokenize_target(ragged)
        return detokenize_text(joined)

    # -- the training pipeline --------------------------------------------
    def dataset(self, raw, batch_size, shuffle=False, seed=0):
        """`((source_ids, target_in), target_out)` batches, bucketed by length."""
        max_target = self.max_target_length + 1  # [START] + at most max_target_length

        def encode(source, target):
            source_ids = self._tokenize_source(normalize_text(source))[: self.max_source_length]
            target_seq = self.target_sequences(tf.expand_dims(target, 0))[0]
            return tf.cast(source_ids, tf.int32), target_seq

        data = raw.map(encode, num_parallel_calls=tf.data.AUTOTUNE)
        data = data.filter(
            lambda s, t: tf.logical_and(tf.size(s) > 0, tf.size(t) <= max_target)
        )
        if shuffle:
            data = data.shuffle(30000, seed=seed, reshuffle_each_iteration=True)
        boundaries = [b for b in (16, 24, 32, 40, 48, 64, 80) if b < max_target]
        data = data.bucket_by_sequence_length(
            lambda s, t: tf.shape(t)[0],
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            pad_to_bucket_boundary=False,
            drop_remainder=False,
        )
        if shuffle:
            data = data.shuffle(64, seed=seed, reshuffle_each_iteration=True)
        return data.map(
            lambda s, t: ((s, t[:, :-1]), t[:, 1:]), num_parallel_calls=tf.data.AUTOTUNE
        ).prefetch(tf.data.AUTOTUNE)

    def trackables(self):
        """What an export must track: the two tokenizers (built in `__init__`)."""
        return [self.source_tokenizer, self.target_tokenizer]


def build_preprocessor(config, train_data, directory):
    """The application's preprocessor: read back from `directory`'s assets,
    or fitted on `train_data`'s `(source, target)` pairs."""
    # Registers the model's custom layers and loss, which `train --resume`
    # needs to load its checkpoint before any model is built.
    import applications.translation.model  # noqa: F401

    if directory is not None:
        return TranslationPreprocessor.load(config, directory)
    return TranslationPreprocessor.fit(config, train_data)
