"""Caption metrics of a split: BLEU-1..4, METEOR and CIDEr-D (pycocoevalcap),
object recall and precision and spatial-relation accuracy (from the scenes'
ground truth), beside two baselines: nearest-neighbour retrieval in the
encoder's feature space (Devlin et al. 2015) and the most frequent
training caption.

CIDEr-D on templated references is not on the COCO scale: the references of
a scene share most of their words, so n-gram consensus is high and scores
reach 4-5 rather than COCO's ~1.
"""

import collections
import contextlib

import keras
import numpy as np
import tensorflow as tf

from applications.captioning import data
from applications.captioning.model import caption_ids
from applications.captioning.model import image_features
from applications.captioning.preprocessing import prepare_image


def _compiled(fn):
    if keras.backend.backend() == "tensorflow":
        traced = tf.function(fn, reduce_retracing=True)
        return lambda x: traced(tf.constant(x)).numpy()
    if keras.backend.backend() == "jax":
        import jax

        traced = jax.jit(fn)
        return lambda x: np.asarray(traced(x))
    return lambda x: keras.ops.convert_to_numpy(fn(x))


def prepared_images(examples, size, batch_size=256):
    """Batches (numpy) of prepared images of an `examples` dataset."""
    images = examples.map(lambda ex: prepare_image(ex["image"], size),
                          num_parallel_calls=tf.data.AUTOTUNE)
    return images.batch(batch_size).prefetch(2).as_numpy_iterator()


def generate(model, preprocessor, examples, beam_size, alpha, batch_size=256):
    """Captions (Python strings) of every image of `examples`."""
    run = _compiled(lambda x: caption_ids(model, x, preprocessor.max_length, beam_size, alpha))
    captions = []
    for images in prepared_images(examples, preprocessor.image_size, batch_size):
        ids = run(images)
        captions += [c.decode("utf-8") for c in preprocessor.detokenize(ids).numpy()]
    return captions


def features(model, preprocessor, examples, batch_size=256):
    run = _compiled(lambda x: image_features(model, x))
    return np.concatenate([run(x) for x in prepared_images(examples, preprocessor.image_size,
                                                            batch_size)])


@contextlib.contextmanager
def _without_tokenizer_notes():
    """Hold stderr (the file descriptor, which the tokenizer's Java process
    inherits) and write it back without its "PTBTokenizer tokenized N
    tokens at ..." lines; everything else, errors included, is kept."""
    import os
    import re
    import sys
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            text = held.read().decode("utf-8", errors="replace")
            text = re.sub(r"(?m)^PTBTokenizer tokenized \d+ tokens at [\d.]+ tokens per second\.\n", "", text)
            sys.stderr.write(text)


def coco_scores(hypotheses, references, meteor=True):
    """BLEU-1..4, METEOR and CIDEr-D of pycocoevalcap (PTB tokenization),
    as COCO's evaluation server computes them. Needs Java."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tokenizer = PTBTokenizer()
    with _without_tokenizer_notes():
        gts = tokenizer.tokenize({i: [{"caption": r} for r in refs]
                                  for i, refs in enumerate(references)})
        res = tokenizer.tokenize({i: [{"caption": h}] for i, h in enumerate(hypotheses)})
    # An empty caption stays a (scored-as-nothing) caption of one empty token.
    res = {i: [h[0] if h and h[0] else ""] for i, h in res.items()}
    scores = {}
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    for n, value in enumerate(bleu, 1):
        scores[f"bleu_{n}"] = float(value)
    if meteor:
        from pycocoevalcap.meteor.meteor import Meteor

        scorer = Meteor()  # a Java process, ended when the scorer is collected
        scores["meteor"] = float(scorer.compute_score(gts, res)[0])
        del scorer
    scores["cider_d"] = float(Cider().compute_score(gts, res)[0])
    return scores


def scene_scores(hypotheses, canonical, names):
    """Object recall and precision, relation accuracy and exact match of
    captions against the scenes' canonical captions (their ground truth).

    Objects are counted as multisets (two goats need "goat" twice); a
    relation counts when the caption states it between the right objects.
    """
    from zoo.datasets import parse_caption

    found = present = mentioned = right = relations = exact = 0
    for hypothesis, truth in zip(hypotheses, canonical):
        got_names, got_relations = parse_caption(hypothesis, names)
        true_names, true_relations = parse_caption(truth, names)
        overlap = collections.Counter(got_names) & collections.Counter(true_names)
        found += sum(overlap.values())
        present += len(true_names)
        mentioned += len(got_names)
        relations += len(true_relations)
        right += sum(1 for r in set(true_relations) if r in set(got_relations))
        exact += hypothesis.strip() == truth.strip()
    return {
        "object_recall": found / max(present, 1),
        "object_precision": found / max(mentioned, 1),
        "relation_accuracy": right / max(relations, 1),
        "exact_match": exact / max(len(hypotheses), 1),
    }


def _texts(values):
    return [v.decode("utf-8") for v in values]


def evaluate(model, preprocessor, config, dataset, data_dir, split, limit=None, meteor=True):
    """Metrics of beam search (no prefix), greedy search (`greedy_`),
    nearest-neighbour retrieval (`retrieval_`) and the most frequent
    training caption (`constant_`) on a split. Deterministic."""
    examples = data.load_examples(dataset, split, data_dir)
    if limit:
        examples = examples.take(limit)
    rows = list(examples.map(lambda ex: {k: v for k, v in ex.items() if k != "image"})
                .as_numpy_iterator())
    if not rows:
        raise ValueError(f"The {split} split of {dataset} is empty. Received: split={split!r}")
    references = [_texts(r["references"]) for r in rows]
    scenes = dataset.startswith("stamp_scenes/")

    train = data.load_examples(dataset, "train", data_dir)
    if scenes:
        train_captions = [c.decode("utf-8") for c in
                          train.map(lambda ex: ex["caption"]).as_numpy_iterator()]
    else:
        train_captions = [c.decode("utf-8") for c in
                          train.map(lambda ex: ex["references"][0]).as_numpy_iterator()]
    train_features = features(model, preprocessor, train)
    test_features = features(model, preprocessor, examples)
    nearest = np.concatenate([np.argmax(chunk @ train_features.T, axis=1)
                              for chunk in np.array_split(test_features, max(1, len(test_features) // 512))])
    constant = collections.Counter(train_captions).most_common(1)[0][0]

    systems = {
        "": generate(model, preprocessor, examples, preprocessor.decoding["beam_size"],
                     preprocessor.decoding["length_penalty"]),
        "greedy_": generate(model, preprocessor, examples, 1, 0.0),
        "retrieval_": [train_captions[i] for i in nearest],
        "constant_": [constant] * len(rows),
    }
    metrics = {"images": len(rows)}
    names = None
    if scenes:
        from zoo.datasets import class_names

        names = class_names(dataset.split("/", 1)[1])
        canonical = [r["caption"].decode("utf-8") for r in rows]
    for prefix, hypotheses in systems.items():
        for key, value in coco_scores(hypotheses, references, meteor=meteor).items():
            metrics[prefix + key] = value
        if scenes:
            for key, value in scene_scores(hypotheses, canonical, names).items():
                metrics[prefix + key] = value
    return metrics
