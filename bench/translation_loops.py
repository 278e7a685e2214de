"""How often beam search loops on unfamiliar input, with and without the
repetition guard.

Translates short everyday English sentences (`bench/data/everyday_en.txt`,
30 sentences written for this probe: nothing like the Bible's verses), with
the weights' beam size and length penalty, once without the guard and once
with each `--no-repeat-ngram-sizes` value, and counts the outputs that
*loop*: a word 3-gram (sacreBLEU's 13a tokens) that occurs more than once.
There are no references: this measures the failure, not the translation.

    python bench/translation_loops.py --weights translation_luong_bible
"""

import argparse
import json
import os
import sys


def loops(text, n=3):
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    words = Tokenizer13a()(text).split()
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return len(grams) != len(set(grams))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="translation_luong_bible")
    parser.add_argument("--sentences", default=os.path.join(os.path.dirname(__file__), "data",
                                                             "everyday_en.txt"))
    parser.add_argument("--no-repeat-ngram-sizes", type=int, nargs="+", default=[3])
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    from applications.translation import APPLICATION
    from applications.translation.evaluate_lib import translate_texts

    with open(args.sentences, encoding="utf-8") as f:
        sentences = [line.strip() for line in f if line.strip()]
    model, preprocessor, _ = APPLICATION.from_pretrained(args.weights)
    beam = preprocessor.decoding["beam_size"]
    alpha = preprocessor.decoding["length_penalty"]
    results = {}
    for size in [0] + args.no_repeat_ngram_sizes:
        outputs, _ = translate_texts(model, preprocessor, sentences, beam, alpha,
                                     no_repeat_ngram_size=size)
        looping = [o for o in outputs if loops(o)]
        results[size] = {"looping": len(looping), "sentences": len(sentences), "outputs": outputs}
        print(f"beam {beam}, alpha {alpha}, no-repeat {size}: {len(looping)} of {len(sentences)} "
              f"outputs loop")
        for source, output in list(zip(sentences, outputs))[:6]:
            print(f"   {source}  ->  {output}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"weights": args.weights, "beam_size": beam, "length_penalty": alpha,
                       "results": results}, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
