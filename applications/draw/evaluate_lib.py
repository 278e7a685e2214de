"""DRAW's metrics: the negative log-likelihood bound and its importance-
weighted estimate, in nats per image on a split binarized once (fixed seed)."""

import numpy as np

DEFAULT_IWAE_K = 100


def add_arguments(parser):
    parser.add_argument("--iwae-k", type=int, default=DEFAULT_IWAE_K,
                        help="importance samples per image of the importance-weighted estimate "
                        "(Burda et al. 2016); 0 skips it")
    parser.add_argument("--iwae-images", type=int, default=0,
                        help="estimate it on the split's first N images only (0: all)")
    parser.add_argument("--bound-samples", type=int, default=1,
                        help="latent samples per image averaged into the bound (its expectation is the same)")


def scoring_model(draw):
    """A `keras.Model` `(images, noise) -> {"reconstruction", "kl",
    "log_weight"}` over the trained `DRAW` layer `draw`, per image, compiled
    by `predict_on_batch` on every backend."""
    import keras

    from applications.draw.score import Score

    height, width = draw.image_shape
    images = keras.Input((height, width), name="images")
    noise = keras.Input((draw.steps, draw.latent_dim), name="noise")
    return keras.Model([images, noise], Score(draw)(images, noise), name="draw_score")


def _batches(preprocessor, raw, batch_size):
    for x, _ in preprocessor.dataset(raw, batch_size, shuffle=False).as_numpy_iterator():
        yield x


def nll_statistics(model, preprocessor, raw, batch_size=100, iwae_k=DEFAULT_IWAE_K, iwae_images=0,
                   bound_samples=1, seed=0):
    """The bound's terms, per step, and the importance-weighted estimate.

    Args:
        model: a model from `applications.draw.model.build_model`.
        preprocessor: its `Binarizer` (the split is binarized by its fixed,
            evaluation rule).
        raw: unbatched `(intensities, label)` pairs.
        iwae_k: importance samples per image (0: none).
        iwae_images: how many of the first images get the IWAE estimate (0: all).
        bound_samples: latent samples per image averaged into the bound.
        seed: seed of the latent noise (numpy), so results repeat exactly.

    Returns:
        A dict of numbers (nats per image, means over the split).
    """
    from applications.draw.model import draw_layer

    draw = draw_layer(model)
    score = scoring_model(draw)
    # Separate streams: the bound's noise does not depend on the IWAE flags.
    rng, iwae_rng = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    steps, latent = draw.steps, draw.latent_dim
    recon, kl, log_weights, iwae = [], [], [], []
    count = 0
    for x in _batches(preprocessor, raw, batch_size):
        for _ in range(bound_samples):
            noise = rng.standard_normal((len(x), steps, latent)).astype("float32")
            out = score.predict_on_batch([x, noise])
            recon.append(np.asarray(out["reconstruction"]))
            kl.append(np.asarray(out["kl"]))
        if iwae_k and (not iwae_images or count < iwae_images):
            take = x if not iwae_images else x[: iwae_images - count]
            # k samples of each image, in chunks of about `batch_size * 4` rows.
            per_chunk = max(1, (batch_size * 4) // iwae_k)
            for start in range(0, len(take), per_chunk):
                chunk = np.repeat(take[start:start + per_chunk], iwae_k, axis=0)
                noise = iwae_rng.standard_normal((len(chunk), steps, latent)).astype("float32")
                w = np.asarray(score.predict_on_batch([chunk, noise])["log_weight"])
                iwae.append(-log_mean_exp(w.reshape(-1, iwae_k)))
        count += len(x)
    if not count:
        raise ValueError("The split holds no images. Received: 0 images")
    recon = np.concatenate(recon)
    kl = np.concatenate(kl)
    metrics = {
        "nll_bound": float(recon.mean() + kl.sum(axis=1).mean()),
        "reconstruction": float(recon.mean()),
        "kl": float(kl.sum(axis=1).mean()),
        "images": count,
    }
    if iwae:
        iwae = np.concatenate(iwae)
        metrics["iwae_nll"] = float(iwae.mean())
        metrics["iwae_k"] = int(iwae_k)
        metrics["iwae_images"] = int(len(iwae))
    width = len(str(steps))
    for t, value in enumerate(kl.mean(axis=0), 1):
        metrics[f"kl_step_{t:0{width}d}"] = float(value)
    return metrics


def evaluate(model, preprocessor, config, dataset, data_dir, split, iwae_k=DEFAULT_IWAE_K,
             iwae_images=0, bound_samples=1):
    """`zoo.cli`'s evaluate: the metrics of `model` on `dataset`'s `split`."""
    from applications.draw.data import load_data

    if iwae_k < 0 or iwae_images < 0 or bound_samples < 1:
        raise ValueError(
            "--iwae-k and --iwae-images are >= 0 and --bound-samples >= 1. "
            f"Received: iwae_k={iwae_k}, iwae_images={iwae_images}, bound_samples={bound_samples}"
        )
    raw = load_data(dataset, split, data_dir)
    return nll_statistics(model, preprocessor, raw, batch_size=config["batch_size"], iwae_k=iwae_k,
                          iwae_images=iwae_images, bound_samples=bound_samples)


def log_mean_exp(values, axis=-1):
    """`log(mean(exp(values)))` along `axis`, without overflow."""
    values = np.asarray(values, dtype="float64")
    top = values.max(axis=axis, keepdims=True)
    return np.squeeze(top, axis) + np.log(np.exp(values - top).mean(axis=axis))

