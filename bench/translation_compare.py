"""The translation comparison: no attention vs Bahdanau vs Luong, greedy vs beam.

For each run directory, after `python -m applications.translation.select_decoding`
chose the beam's length penalty on the validation books (written to the run's
`asset_decoding.json`, whose validation scores this script repeats): sacreBLEU
and chrF of greedy and beam decoding on the test books, decoding speed
included. Writes one JSON file and prints the table that `bench/translation.md`
and the README quote.

    python bench/translation_compare.py runs/translation-none \\
        runs/translation-bahdanau runs/translation-luong --json runs/translation-compare.json
"""

import argparse
import json
import os
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="run directories (select_decoding already run)")
    parser.add_argument("--dataset", default="bible")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from applications.translation import APPLICATION
    from applications.translation.evaluate_lib import score
    from applications.translation.evaluate_lib import split_texts
    from applications.translation.evaluate_lib import translate_texts
    from applications.translation.preprocessing import DECODING_FILE

    sources, references = split_texts(args.dataset, "test")
    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "runs": {}}
    for run in args.runs:
        with open(os.path.join(run, DECODING_FILE)) as f:
            chosen = json.load(f)
        model, preprocessor, config = APPLICATION.from_pretrained(run)
        beam, alpha = preprocessor.decoding["beam_size"], preprocessor.decoding["length_penalty"]
        row = {"attention": config["config"]["attention"], "parameters": model.count_params(),
               "chosen_alpha": alpha, "validation": chosen["validation"]}
        outputs = {}
        for name, k, a in (("greedy", 1, 0.0), ("beam", beam, alpha)):
            start = time.perf_counter()
            hypotheses, generated = translate_texts(model, preprocessor, sources, k, a)
            seconds = time.perf_counter() - start
            row[f"test_{name}"] = dict(score(hypotheses, references),
                                       tokens_per_second=generated / seconds, seconds=seconds)
            outputs[name] = hypotheses
            print(run, name, {k2: round(v, 2) for k2, v in row[f"test_{name}"].items()}, flush=True)
        row["test_examples"] = [
            {"source": sources[i], "reference": references[i], "greedy": outputs["greedy"][i],
             "beam": outputs["beam"][i]} for i in (0, 100, 1000)
        ]
        results["runs"][run] = row

    print(f"\n{'run':28s} {'attention':9s} {'params':>9s}  {'val greedy':>10s} {'val beam':>8s} "
          f"alpha  {'test greedy BLEU / chrF':>23s}  {'test beam BLEU / chrF':>21s}")
    for run, row in results["runs"].items():
        val_beam = max(v["bleu"] for k, v in row["validation"].items() if k.startswith("beam"))
        print(f"{run:28s} {row['attention']:9s} {row['parameters']:9d}  "
              f"{row['validation']['greedy']['bleu']:10.2f} {val_beam:8.2f} {row['chosen_alpha']:5.1f}  "
              f"{row['test_greedy']['bleu']:12.2f} / {row['test_greedy']['chrf']:6.2f}  "
              f"{row['test_beam']['bleu']:10.2f} / {row['test_beam']['chrf']:6.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
