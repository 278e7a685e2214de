"""Training and decoding speed of the translation models (one process).

Training: target tokens per second of `train_on_batch` (forward, backward,
Adam) on real training batches of the embedded Bible data, for each
attention variant at its preset's size, round-robin so that drifts in
machine speed hit every variant alike; medians over rounds.

Decoding: generated target tokens per second of greedy search and of beam
search (beam 5, at the run's own length penalty from `asset_decoding.json`)
over validation sources, batch 64, with trained weights
(decoding speed depends on how long the outputs are, so untrained weights
would measure something else).

    python bench/translation_speed.py      # the shipped weights
    python bench/translation_speed.py --weights runs/translation-luong \\
        runs/translation-bahdanau runs/translation-none
"""

import argparse
import json
import platform
import statistics
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", nargs="+", default=["translation_luong_bible"],
                        help="run directories or manifest names to measure")
    parser.add_argument("--train-batches", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--decode-sentences", type=int, default=256)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import keras
    import numpy as np

    from applications.translation import APPLICATION
    from applications.translation.evaluate_lib import split_texts
    from applications.translation.evaluate_lib import translate_texts

    loaded = {w: APPLICATION.from_pretrained(w) for w in args.weights}
    results = {"backend": keras.backend.backend(), "machine": platform.processor() or platform.machine(),
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "runs": {}}

    # Training speed: the same real batches for every model.
    first = next(iter(loaded.values()))
    batches = list(first[1].dataset(APPLICATION.load_data("bible", "train", None), 64, shuffle=True, seed=0)
                   .take(args.train_batches).as_numpy_iterator())
    tokens = [int((y != 0).sum()) for _, y in batches]
    timings = {w: [] for w in loaded}
    for w, (model, _, _) in loaded.items():  # compile every shape once
        for x, y in batches:
            model.train_on_batch(x, y)
    names = list(loaded)
    for r in range(args.rounds):
        for w in names[r % len(names):] + names[: r % len(names)]:
            model = loaded[w][0]
            start = time.perf_counter()
            for x, y in batches:
                model.train_on_batch(x, y)
            timings[w].append(sum(tokens) / (time.perf_counter() - start))

    sources, _ = split_texts("bible", "validation", limit=args.decode_sentences)
    for w, (model, preprocessor, run) in loaded.items():
        row = {"attention": run["config"]["attention"], "parameters": model.count_params(),
               "train_tokens_per_second": statistics.median(timings[w])}
        penalty = preprocessor.decoding["length_penalty"]
        row["beam5_length_penalty"] = penalty
        for name, beam, alpha in (("greedy", 1, 0.0), ("beam5", 5, penalty)):
            translate_texts(model, preprocessor, sources[:64], beam, alpha)  # compile
            start = time.perf_counter()
            _, generated = translate_texts(model, preprocessor, sources, beam, alpha)
            row[f"{name}_tokens_per_second"] = generated / (time.perf_counter() - start)
            row[f"{name}_generated_tokens"] = generated
        results["runs"][w] = row
        print(json.dumps({w: row}), flush=True)
    print(f"{'weights':32s} {'attention':9s} {'params':>9s} {'train tok/s':>11s} "
          f"{'greedy tok/s':>12s} {'beam5 tok/s':>11s}")
    for w, row in results["runs"].items():
        print(f"{w:32s} {row['attention']:9s} {row['parameters']:9d} "
              f"{row['train_tokens_per_second']:11.0f} {row['greedy_tokens_per_second']:12.0f} "
              f"{row['beam5_tokens_per_second']:11.0f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
