"""Mean ± std over seeds of the sentiment evaluation JSON files, and CPU throughput.

    python bench/sentiment_seeds.py runs/sentiment-full-s0/test_metrics.json \
        runs/sentiment-full-s1/test_metrics.json runs/sentiment-full-s2/test_metrics.json

prints a Markdown table: each run's test accuracy, fine-food cross-domain
accuracy and best validation accuracy (read from the run directory beside
the JSON file, `train_state.json`, when there), then the mean and the
sample standard deviation (ddof=1) with a t-based 95% interval of the mean,
and the baselines (the same in every file).

    python bench/sentiment_seeds.py --throughput RUN_DIR [--repeats 5]

times `model.predict` over the Rotten Tomatoes test split (already
tokenized, batch 256) and prints the median sentences per second.
"""

import argparse
import json
import math
import os
import statistics
import sys

T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def best_validation(json_path):
    state = os.path.join(os.path.dirname(os.path.abspath(json_path)), "train_state.json")
    if not os.path.exists(state):
        return None
    with open(state) as f:
        data = json.load(f)
    for key in ("best", "best_value", "monitor_best"):
        if isinstance(data.get(key), (int, float)):
            return float(data[key])
    return None


def summary(values):
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    half = T_975.get(len(values) - 1, 1.96) * std / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return mean, std, half


def table(paths):
    rows = []
    for path in paths:
        with open(path) as f:
            rows.append((path, json.load(f), best_validation(path)))
    lines = ["| run | val acc (best epoch) | test acc | fine-food acc |", "|---|---|---|---|"]
    for path, m, val in rows:
        val_text = f"{val:.4f}" if val is not None else "n/a"
        lines.append(f"| {path} | {val_text} | {m['accuracy']:.4f} | "
                     f"{m.get('cross_domain_fine_food_accuracy', float('nan')):.4f} |")
    for key, label in (("accuracy", "test"), ("cross_domain_fine_food_accuracy", "fine-food")):
        values = [m[key] for _, m, _ in rows if key in m]
        if values:
            mean, std, half = summary(values)
            lines.append(f"\n{label}: mean {100 * mean:.2f}% ± {100 * std:.2f}% (std, n={len(values)}); "
                         f"95% t-interval of the mean [{100 * (mean - half):.2f}%, {100 * (mean + half):.2f}%]")
    m = rows[0][1]
    lines.append(f"\nbaselines (test): majority {100 * m['baseline_majority_accuracy']:.2f}%, "
                 f"TF-IDF(1-2 gram)+LR {100 * m['baseline_tfidf_lr_accuracy']:.2f}% "
                 f"(C={m['baseline_tfidf_lr_C']:g}, chosen on validation)")
    return "\n".join(lines)


def throughput(run_dir, repeats=5, batch_size=256):
    import time

    import numpy as np

    from applications.sentiment import APPLICATION
    from applications.sentiment.evaluate_lib import texts_and_labels

    model, preprocessor, _ = APPLICATION.from_pretrained(run_dir)
    texts, _ = texts_and_labels(APPLICATION.load_data("rotten_tomatoes", "test", None))
    ids = np.asarray(preprocessor(np.array(texts, dtype=object)))
    model.predict(ids[:batch_size], batch_size=batch_size, verbose=0)  # trace
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(ids, batch_size=batch_size, verbose=0)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return len(texts), median, len(texts) / median, times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="*", help="evaluate --json files, one per seed")
    parser.add_argument("--throughput", metavar="RUN_DIR", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if args.json:
        print(table(args.json))
    if args.throughput:
        n, median, rate, times = throughput(args.throughput, args.repeats)
        print(f"model.predict over {n} test sentences (pre-tokenized, batch 256): median "
              f"{median:.3f} s of {len(times)} runs -> {rate:.0f} sentences/s "
              f"(runs: {', '.join(f'{t:.3f}' for t in times)})")
    if not args.json and not args.throughput:
        parser.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
