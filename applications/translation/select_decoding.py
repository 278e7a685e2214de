"""Choose beam search's length penalty on validation data, after training.

    python -m applications.translation.select_decoding --weights runs/translation-luong

Translates the validation split with beam search for each `--alphas` value
and each `--no-repeat-ngram-sizes` value (beam search's repetition guard; 0
is off), and greedily for reference; prints sacreBLEU and chrF, and writes
the best pair by BLEU into the run directory as `asset_decoding.json`, which
`evaluate`, `translate` and `export` then use (and `zoo.weights add` ships).
The test split is never read.
"""

import argparse
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m applications.translation.select_decoding",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", required=True, help="a run directory written by train")
    parser.add_argument("--dataset", default="bible")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.0, 0.6, 1.0, 1.5])
    parser.add_argument("--no-repeat-ngram-sizes", type=int, nargs="+", default=[0, 3, 4],
                        help="repetition guards to try: no n-gram of this size twice (0: off)")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.weights):
        parser.exit(2, f"{parser.prog}: error: --weights must be a run directory (the choice is "
                       f"written into it). Received: weights={args.weights!r}\n")
    if args.beam_size < 1 or any(a < 0 for a in args.alphas) or any(
            n < 0 for n in args.no_repeat_ngram_sizes):
        parser.exit(2, f"{parser.prog}: error: need --beam-size >= 1, alphas >= 0 and "
                       f"--no-repeat-ngram-sizes >= 0. Received: beam_size={args.beam_size}, "
                       f"alphas={args.alphas}, no_repeat_ngram_sizes={args.no_repeat_ngram_sizes}\n")

    from applications.translation import APPLICATION
    from applications.translation.evaluate_lib import score
    from applications.translation.evaluate_lib import split_texts
    from applications.translation.evaluate_lib import translate_texts
    from applications.translation.preprocessing import DECODING_FILE
    from zoo.io import write_json_atomic

    try:
        model, preprocessor, _ = APPLICATION.from_pretrained(args.weights)
    except ValueError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    sources, references = split_texts(args.dataset, "validation", args.data_dir)
    results = {}
    hypotheses, _ = translate_texts(model, preprocessor, sources, 1, 0.0)
    results["greedy"] = score(hypotheses, references)
    print(f"greedy                 BLEU {results['greedy']['bleu']:6.2f}  chrF {results['greedy']['chrf']:6.2f}")
    best = None
    for alpha in args.alphas:
        for size in args.no_repeat_ngram_sizes:
            hypotheses, _ = translate_texts(model, preprocessor, sources, args.beam_size, alpha,
                                            no_repeat_ngram_size=size)
            result = score(hypotheses, references)
            results[f"beam{args.beam_size}_alpha{alpha}_norepeat{size}"] = result
            print(f"beam {args.beam_size} alpha {alpha:<4} no-repeat {size}  "
                  f"BLEU {result['bleu']:6.2f}  chrF {result['chrf']:6.2f}", flush=True)
            if best is None or result["bleu"] > best[2]:
                best = (alpha, size, result["bleu"])
    choice = {"beam_size": args.beam_size, "length_penalty": best[0], "no_repeat_ngram_size": best[1],
              "selected_on": f"{args.dataset}/validation", "validation": results}
    write_json_atomic(os.path.join(args.weights, DECODING_FILE), choice)
    print(f"chose beam {args.beam_size}, alpha {best[0]}, no-repeat {best[1]} (validation BLEU "
          f"{best[2]:.2f}); "
          f"written to {os.path.join(args.weights, DECODING_FILE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
