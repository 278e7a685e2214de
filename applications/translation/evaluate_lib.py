"""sacreBLEU and chrF of greedy and beam-search translations of a split."""

import keras
import numpy as np
import tensorflow as tf

from applications.translation.model import translate_ids


def compiled_translator(model, max_length, beam_size, alpha, no_repeat_ngram_size=0):
    """`source_ids (numpy) -> target ids (numpy)`, compiled for the backend."""
    backend = keras.backend.backend()

    def run(ids):
        return translate_ids(model, ids, max_length, beam_size=beam_size, alpha=alpha,
                             no_repeat_ngram_size=no_repeat_ngram_size)

    if backend == "tensorflow":
        fn = tf.function(run, reduce_retracing=True)
        return lambda ids: fn(tf.constant(ids)).numpy()
    if backend == "jax":
        import jax

        fn = jax.jit(run)
        return lambda ids: np.asarray(fn(ids))
    return lambda ids: keras.ops.convert_to_numpy(run(ids))


def translate_texts(model, preprocessor, texts, beam_size=5, alpha=0.6, batch_size=64,
                    no_repeat_ngram_size=0):
    """Translate a list of strings; returns `(translations, generated_tokens)`.

    Sources are sorted by length so that a batch pads little; the output is
    in the input order.
    """
    from applications.translation.preprocessing import END_ID
    from applications.translation.preprocessing import PAD_ID

    translator = compiled_translator(model, preprocessor.max_target_length, beam_size, alpha,
                                     no_repeat_ngram_size)
    encoded = [preprocessor.source_ids(tf.constant(texts[i : i + 1024]))[1].numpy()
               for i in range(0, len(texts), 1024)]
    lengths = np.concatenate(encoded) if encoded else np.zeros(0)
    order = np.argsort(lengths, kind="stable")
    out = [""] * len(texts)
    generated = 0
    for start in range(0, len(texts), batch_size):
        index = order[start : start + batch_size]
        ids, _ = preprocessor.source_ids(tf.constant([texts[i] for i in index]))
        # Round the width up so that few shapes get compiled.
        width = max(8, int(np.ceil(ids.shape[1] / 8) * 8))
        ids = np.pad(ids.numpy(), [(0, 0), (0, width - ids.shape[1])])
        tokens = translator(ids)
        generated += int(np.sum((tokens != PAD_ID) & (tokens != END_ID)))
        decoded = preprocessor.detokenize(tokens).numpy()
        for i, text in zip(index, decoded):
            out[i] = text.decode("utf-8") if lengths[i] > 0 else ""
    return out, generated


def score(hypotheses, references):
    """`{"bleu": ..., "chrf": ...}` with sacreBLEU's defaults (13a, cased)."""
    import sacrebleu

    return {
        "bleu": sacrebleu.corpus_bleu(hypotheses, [references]).score,
        "chrf": sacrebleu.corpus_chrf(hypotheses, [references]).score,
    }


def split_texts(dataset, split, data_dir=None, limit=None):
    """`(sources, references)`: the split's text pairs as Python strings."""
    from applications.translation import APPLICATION

    pairs = list(APPLICATION.load_data(dataset, split, data_dir).as_numpy_iterator())
    if limit:
        pairs = pairs[:limit]
    if not pairs:
        raise ValueError(f"The {split} split of {dataset} is empty. Received: split={split!r}")
    return [s.decode("utf-8") for s, _ in pairs], [t.decode("utf-8") for _, t in pairs]


def evaluate(model, preprocessor, config, dataset, data_dir, split, limit=None):
    """sacreBLEU and chrF of greedy and beam-search translations of a split.

    Deterministic (the manifest's metrics are re-checked by a test); decoding
    speed is measured by `bench/translation_speed.py` instead.
    """
    sources, references = split_texts(dataset, split, data_dir, limit)
    beam_size = preprocessor.decoding["beam_size"]
    alpha = preprocessor.decoding["length_penalty"]
    guard = preprocessor.decoding["no_repeat_ngram_size"]
    metrics = {"pairs": len(sources)}
    for name, k, a, n in (("greedy", 1, 0.0, 0), (f"beam{beam_size}", beam_size, alpha, guard)):
        hypotheses, _ = translate_texts(model, preprocessor, sources, k, a, no_repeat_ngram_size=n)
        for key, value in score(hypotheses, references).items():
            metrics[f"{key}_{name}"] = value
    return metrics
