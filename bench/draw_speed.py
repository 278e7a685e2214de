"""Training and sampling speed of the DRAW application's models.

Builds each preset's model exactly as `train` does (`build_model`, the
compiled Keras model) and times whole `fit` epochs over binary images (real
`mnist_5k` training digits, binarized by the preset's rule) after a warm-up
epoch that traces and compiles, and the scoring of images (the bound's
terms, as `evaluate` computes them, compiled by `predict_on_batch`). Prints
images per second (medians of the timed rounds). The backend is
Keras's current one: run it once per backend, e.g.

    python bench/draw_speed.py --json bench/runs/draw_speed_tf.json
    KERAS_BACKEND=jax python bench/draw_speed.py --json bench/runs/draw_speed_jax.json
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

CASES = {
    "quick": ("quick", {}),
    "quick-no-attention": ("quick", {"attention": False}),
    "full": ("full", {}),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--images", type=int, default=2048, help="training images per timed epoch")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import keras
    import numpy as np

    from applications.draw import APPLICATION
    from applications.draw.data import load_data
    from applications.draw.evaluate_lib import scoring_model
    from applications.draw.model import build_model
    from applications.draw.model import draw_layer
    from applications.draw.preprocessing import Binarizer

    raw = load_data("mnist_5k", "train").take(args.images)
    results = []
    for case in args.cases.split(","):
        preset, overrides = CASES[case]
        config = dict(APPLICATION.preset(preset), **overrides)
        keras.utils.set_random_seed(0)
        model = build_model(config)
        batches = list(Binarizer(config).dataset(raw, config["batch_size"], shuffle=True, seed=0))
        x = np.concatenate([b[0].numpy() for b in batches])
        y = {"logits": x, "kl": np.zeros((len(x), config["steps"]), "float32")}
        model.fit(x, y, batch_size=config["batch_size"], epochs=1, verbose=0)  # trace + compile
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            model.fit(x, y, batch_size=config["batch_size"], epochs=1, verbose=0, shuffle=False)
            times.append(time.perf_counter() - start)
        train = len(x) / statistics.median(times)
        draw = draw_layer(model)
        score = scoring_model(draw)
        images = x[:256]
        noise = np.random.default_rng(0).standard_normal((len(images), draw.steps, draw.latent_dim)).astype("float32")
        score_times = []
        for _ in range(args.rounds + 1):  # the first traces and compiles
            start = time.perf_counter()
            score.predict_on_batch([images, noise])
            score_times.append(time.perf_counter() - start)
        row = {"case": case, "preset": preset, "overrides": overrides, "batch_size": config["batch_size"],
               "steps": config["steps"], "train_images_per_s": round(train, 1),
               "train_epoch_s": [round(t, 3) for t in times],
               "score_images_per_s": round(len(images) / statistics.median(score_times[1:]), 1)}
        results.append(row)
        print(json.dumps(row), flush=True)
    summary = {"date": time.strftime("%Y-%m-%d"), "backend": keras.backend.backend(), "keras": keras.__version__,
               "machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "results": results}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
