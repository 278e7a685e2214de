"""Images and captions to model inputs, outside the model: in tf.data and in
the export endpoint (image bytes in, caption strings out)."""

import os

import keras
import tensorflow as tf

VOCABULARY_FILE = "asset_vocabulary.txt"
PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3
SPECIAL_TOKENS = ("[START]", "[END]")  # ids 2 and 3, after padding and [UNK]
CACHE_BYTES = 1 << 30


def clean_captions(texts):
    """Lower-case, punctuation to spaces (tf ops; invalid UTF-8 replaced)."""
    texts = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace",
                                         replacement_char=0xFFFD)
    texts = tf.strings.lower(texts, encoding="utf-8")
    return tf.strings.regex_replace(texts, r"[^\w\s']", " ")


def prepare_image(image, size):
    """One image `(H, W, C)` uint8, C of 1 (grey), 2 (grey + alpha), 3 (RGB)
    or 4 (RGBA), to `(size, size, 3)` float32 in [0, 1].

    Transparent pixels are composited over white; the image is resized with
    antialiasing whatever its size or aspect ratio (the scenes are square).
    """
    image = tf.cast(image, tf.float32) / 255.0
    channels = tf.shape(image)[-1]
    rgb = tf.cond(channels < 3, lambda: tf.tile(image[..., :1], [1, 1, 3]),
                  lambda: image[..., :3])
    alpha = tf.cond(tf.equal(channels % 2, 0), lambda: image[..., -1:],
                    lambda: tf.ones_like(image[..., :1]))
    rgb = rgb * alpha + (1.0 - alpha)
    shape = tf.shape(rgb)
    rgb = tf.cond(tf.logical_and(tf.equal(shape[0], size), tf.equal(shape[1], size)),
                  lambda: rgb, lambda: tf.image.resize(rgb, (size, size), antialias=True))
    return tf.ensure_shape(tf.clip_by_value(rgb, 0.0, 1.0), (size, size, 3))


def decode_image(data, size):
    """Encoded PNG / JPEG / GIF / BMP bytes (one scalar) to `prepare_image`'s output."""
    image = tf.io.decode_image(data, channels=0, expand_animations=False)
    return prepare_image(image, size)


class CaptionPreprocessor:
    """Prepares images and word ids for the captioning model.

    Captions are lower-cased, stripped of punctuation, split on spaces and
    mapped through a word vocabulary fitted on the training captions: id 0
    is padding, 1 unknown words, 2 `[START]`, 3 `[END]`. A caption becomes
    `[START] w1 ... wn [END]`, at most `max_length` + 1 ids; the model reads
    all but the last (`caption_in`) and predicts all but the first
    (`caption_out`), both padded to `max_length`.

    Args:
        image_size: the side of the square images the model reads.
        max_length: decoder steps (words + 1 for `[END]`).
        vocabulary: the word list (without the four special tokens).
        decoding: `{"beam_size": k, "length_penalty": alpha}` of the
            serving endpoint (default beam 3, no length penalty).
    """

    def __init__(self, image_size, max_length, vocabulary, decoding=None):
        self.image_size = image_size
        self.max_length = max_length
        self.words = list(vocabulary)
        self.decoding = dict(decoding or {"beam_size": 3, "length_penalty": 0.0})
        self.lookup = keras.layers.StringLookup(
            vocabulary=list(SPECIAL_TOKENS) + self.words, mask_token="", oov_token="[UNK]",
            output_mode="int",
        )
        self.lookup.build(None)  # an export tracks it before any call
        self.tokens = tf.constant(["", "[UNK]", *SPECIAL_TOKENS, *self.words])

    @property
    def vocabulary_size(self):
        return len(self.words) + 4

    @classmethod
    def fit(cls, config, captions):
        """The vocabulary of a `tf.data.Dataset` of training captions: words
        seen at least twice, most frequent first, at most
        `config["vocabulary_size"]` ids in all."""
        import collections

        counts = collections.Counter()
        for batch in captions.batch(4096).map(clean_captions).as_numpy_iterator():
            for text in batch:
                counts.update(text.decode("utf-8").split())
        words = [w for w, n in sorted(counts.items(), key=lambda x: (-x[1], x[0])) if n >= 2]
        words = words[: config["vocabulary_size"] - 4]
        if not words:
            raise ValueError("The training captions hold no word seen twice: is the training "
                             f"split empty? Received: {sum(counts.values())} words")
        return cls(config["image_size"], config["max_length"], words, _decoding(config))

    @classmethod
    def load(cls, config, directory):
        path = os.path.join(directory, VOCABULARY_FILE)
        if not os.path.exists(path):
            raise ValueError(
                f"{directory} has no {VOCABULARY_FILE} (written by train with the weights): is it "
                f"a captioning run directory? Received: directory={directory!r}"
            )
        with open(path, encoding="utf-8") as f:
            words = [w for w in f.read().split("\n") if w]
        return cls(config["image_size"], config["max_length"], words, _decoding(config))

    def save(self, directory):
        from zoo.io import atomic_path

        with atomic_path(os.path.join(directory, VOCABULARY_FILE)) as tmp:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write("\n".join(self.words))

    def caption_ids(self, texts):
        """`(caption_in, caption_out)`, int32 `(batch, max_length)` each."""
        words = tf.strings.split(clean_captions(texts))[:, : self.max_length - 1]
        ids = tf.cast(self.lookup(words), tf.int32)
        batch = tf.shape(texts)[0]
        sequence = tf.concat(
            [tf.fill([batch, 1], START_ID), ids, tf.fill([batch, 1], END_ID)], axis=1
        ).to_tensor(PAD_ID, shape=[None, self.max_length + 1])
        return sequence[:, :-1], sequence[:, 1:]

    def detokenize(self, ids):
        """Caption strings of id rows, up to their first `[END]`."""
        ids = tf.cast(ids, tf.int32)
        before_end = tf.equal(tf.cumsum(tf.cast(tf.equal(ids, END_ID), tf.int32), axis=1), 0)
        # No padding, unknown or special token, nor an id past the vocabulary
        # (the model's output layer may be wider: `vocabulary_size` is a cap).
        keep = before_end & (ids > END_ID) & (ids < self.vocabulary_size)
        ids = tf.minimum(ids, self.vocabulary_size - 1)
        words = tf.ragged.boolean_mask(tf.gather(self.tokens, ids), keep)
        return tf.strings.reduce_join(words, axis=1, separator=" ")

    def dataset(self, raw, batch_size, shuffle=False, seed=0):
        """Batched `((images, caption_in), caption_out)` from `(image, caption)` pairs."""
        size = self.image_size

        def prepare(images, captions):
            caption_in, caption_out = self.caption_ids(captions)
            return {"images": images, "caption_in": caption_in}, caption_out

        examples = raw.map(lambda image, caption: (prepare_image(image, size), caption),
                           num_parallel_calls=tf.data.AUTOTUNE)
        # Decoding and preparing the images again every epoch costs about a
        # third of a training step on 2 CPU cores; a split whose prepared
        # images fit in CACHE_BYTES is kept in memory after the first epoch.
        count = int(examples.cardinality())
        if 0 < count * size * size * 3 * 4 <= CACHE_BYTES:
            examples = examples.cache()
        if shuffle:
            examples = examples.shuffle(20000, seed=seed, reshuffle_each_iteration=True)
        return (
            examples.batch(batch_size)
            .map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE)
        )

    def trackables(self):
        return [self.lookup]


def _decoding(config):
    return {"beam_size": config.get("beam_size", 3),
            "length_penalty": config.get("length_penalty", 0.0)}


def build_preprocessor(config, train_data, directory):
    """Read back from `directory`'s assets, or fitted on `train_data`'s captions."""
    if directory is not None:
        return CaptionPreprocessor.load(config, directory)
    return CaptionPreprocessor.fit(config, train_data.map(lambda image, caption: caption))
