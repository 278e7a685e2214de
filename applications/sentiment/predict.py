"""Print the label and probability of each text.

    python -m applications.sentiment.predict "a gripping, funny film" "dull"
    echo "a text per line" | python -m applications.sentiment.predict -
"""

import argparse
import sys


def main(argv=None):
    from applications.sentiment import APPLICATION

    parser = argparse.ArgumentParser(prog="python -m applications.sentiment.predict", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("texts", nargs="*", help="texts to classify; '-' reads one text per line from stdin")
    parser.add_argument("--weights", default=APPLICATION.default_weights,
                        help="a pretrained entry of weights/manifest.json or a run directory")
    args = parser.parse_args(argv)
    texts = args.texts
    if texts == ["-"] or not texts:
        texts = [line.rstrip("\n") for line in sys.stdin.buffer.read().decode("utf-8", "replace").splitlines()]
    if not texts:
        parser.exit(2, f"{parser.prog}: error: no text given. Received: texts=[]\n")

    from zoo.cli import prepare_console

    prepare_console()
    import tensorflow as tf

    from applications.sentiment.serving import export_endpoints
    from zoo.weights import WeightsError

    try:
        model, preprocessor, _ = APPLICATION.from_pretrained(args.weights)
    except (ValueError, WeightsError) as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    serve = export_endpoints(model, preprocessor)[0].fn
    out = serve(tf.constant([t.encode("utf-8", "surrogateescape") for t in texts]))
    rows = []
    for i, text in enumerate(texts):
        n = int(out["num_tokens"][i])
        note = ""
        if n == 0:
            note = "  (empty text: no known words, this is the model's prior)"
        elif n > preprocessor.max_length:
            note = f"  (truncated: {n} tokens, the first {preprocessor.max_length} were read)"
        label = out["label"][i].numpy().decode()
        rows.append(f"{label:8s} {float(out['probability'][i]):.3f}  {text[:60]!r}{note}")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
