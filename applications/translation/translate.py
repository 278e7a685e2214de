"""Translate sentences with the shipped (or given) weights.

    python -m applications.translation.translate "In the beginning was the Word."
    echo "one sentence per line" | python -m applications.translation.translate -
    python -m applications.translation.translate --greedy "And God said"
"""

import argparse
import sys


def main(argv=None):
    from applications.translation import APPLICATION

    parser = argparse.ArgumentParser(
        prog="python -m applications.translation.translate", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("texts", nargs="*", help="sentences; '-' reads one per line from stdin")
    parser.add_argument("--weights", default=APPLICATION.default_weights,
                        help="a pretrained entry of weights/manifest.json or a run directory")
    parser.add_argument("--beam-size", type=int, default=None,
                        help="beam width (default: the weights' decoding settings, 5)")
    parser.add_argument("--greedy", action="store_true", help="greedy decoding (beam size 1)")
    args = parser.parse_args(argv)
    texts = args.texts
    if texts == ["-"] or not texts:
        data = sys.stdin.buffer.read().decode("utf-8", "replace")
        texts = [line for line in data.splitlines()]
    if not texts:
        parser.exit(2, f"{parser.prog}: error: no sentence given. Received: texts=[]\n")
    if args.beam_size is not None and args.beam_size < 1:
        parser.exit(2, f"{parser.prog}: error: --beam-size must be >= 1. "
                       f"Received: beam_size={args.beam_size}\n")

    from zoo.cli import prepare_console

    prepare_console()
    import tensorflow as tf

    from applications.translation.serving import translate_function

    try:
        model, preprocessor, run = APPLICATION.from_pretrained(args.weights)
    except ValueError as error:  # WeightsError is a ValueError
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    beam = 1 if args.greedy else (args.beam_size or preprocessor.decoding["beam_size"])
    alpha = 0.0 if beam == 1 else preprocessor.decoding["length_penalty"]
    translate = tf.function(translate_function(model, preprocessor, beam, alpha))
    out = translate(tf.constant([t.encode("utf-8", "surrogateescape") for t in texts]))
    for i, text in enumerate(texts):
        line = out["translation"][i].numpy().decode("utf-8")
        notes = []
        n = int(out["source_tokens"][i])
        if n == 0:
            notes.append("empty source: nothing to translate")
        if bool(out["truncated"][i]):
            notes.append(f"truncated: {n} source pieces, the first "
                         f"{preprocessor.max_source_length} were read")
        unknown = int(out["unknown_tokens"][i])
        if unknown:
            notes.append(f"{unknown} piece(s) outside the vocabulary")
        print(line + (f"    [{'; '.join(notes)}]" if notes else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
