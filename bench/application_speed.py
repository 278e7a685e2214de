"""Epoch time of real applications with the zoo's LSTM against Keras's.

What users feel is the application, not the layer: this trains sentiment's
`full` preset and translation's `quick` preset as `train` does (the same
data pipeline, batches and compiled model), once with `zoo.layers.LSTM` and
once with `keras.layers.LSTM` swapped in by this script alone (the
applications always use the zoo's). Both models start from the same weights
(copied) and see the same batches; each round times one whole epoch of
`model.fit` for each, alternating which goes first, after a warm-up that
traces and compiles. It prints the medians, their ratio, and the training
loss of every timed epoch (the loss curves should match up to dropout's
random draws and float rounding).

Only the encoder LSTMs switch: translation's decoder is the zoo's
`AttentionDecoder` in both (Keras has no attention decoder cell), so its
ratio understates what the encoder alone gains.

    python bench/application_speed.py --json bench/runs/application_speed.json
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

CASES = {"sentiment": ("full", "rotten_tomatoes"), "translation": ("quick", "bible")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", default="sentiment,translation")
    parser.add_argument("--rounds", type=int, default=3, help="timed epochs per variant")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import importlib

    import keras

    import zoo.layers

    zoo_lstm = zoo.layers.LSTM
    results = []
    for name in args.applications.split(","):
        preset, dataset = CASES[name]
        application = importlib.import_module(f"applications.{name}").APPLICATION
        config = application.preset(preset)
        keras.utils.set_random_seed(0)
        train_raw = application.load_data(dataset, "train", None)
        preprocessor = application.build_preprocessor(config, train_raw, None)
        train = preprocessor.dataset(train_raw, config["batch_size"], shuffle=True, seed=0)
        train = train.cache()  # the same batches every epoch, for both models
        batches = sum(1 for _ in train)
        models = {}
        for impl, layer in (("zoo", zoo_lstm), ("keras", keras.layers.LSTM)):
            zoo.layers.LSTM = layer  # read by the applications' model builders
            try:
                keras.utils.set_random_seed(0)
                models[impl] = application.build_model(config)
            finally:
                zoo.layers.LSTM = zoo_lstm
        models["keras"].set_weights(models["zoo"].get_weights())
        for model in models.values():  # trace and compile
            model.fit(train.take(3), epochs=1, verbose=0)
        times = {impl: [] for impl in models}
        losses = {impl: [] for impl in models}
        order = list(models)
        for r in range(args.rounds):
            for impl in order if r % 2 == 0 else order[::-1]:
                start = time.perf_counter()
                history = models[impl].fit(train, epochs=1, verbose=0)
                times[impl].append(time.perf_counter() - start)
                losses[impl].append(float(history.history["loss"][-1]))
                print(f"# {name} {impl} epoch {r + 1}: {times[impl][-1]:.1f} s, "
                      f"loss {losses[impl][-1]:.4f}", flush=True)
        medians = {impl: statistics.median(t) for impl, t in times.items()}
        ratio = medians["keras"] / medians["zoo"]
        print(f"{name} ({preset}, {batches} batches of {config['batch_size']}): epoch "
              f"zoo {medians['zoo']:.1f} s, keras {medians['keras']:.1f} s; "
              f"speed-up {ratio:.2f}x", flush=True)
        results.append({"application": name, "preset": preset, "dataset": dataset,
                        "batches": batches, "epoch_seconds": times, "losses": losses,
                        "median_seconds": medians, "speedup": ratio})
    if args.json:
        meta = {"backend": keras.backend.backend(), "keras": keras.__version__,
                "python": platform.python_version(), "machine": platform.machine(),
                "argv": sys.argv, "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
