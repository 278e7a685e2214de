"""Write held-out scenes as PNG files, to try `caption` on.

    python -m applications.captioning.samples --split test --count 6 --output samples/
    python -m applications.captioning.caption samples/*.png --out overlay.png
"""

import argparse
import os


def write_samples(dataset, split, count, output, data_dir=None):
    """The first `count` images of a split as `<output>/<split>_<i>.png`, with
    their reference captions in `<output>/<split>_<i>.txt`; returns the paths."""
    import tensorflow as tf

    from applications.captioning.data import load_examples

    os.makedirs(output, exist_ok=True)
    paths = []
    for i, example in enumerate(load_examples(dataset, split, data_dir).take(count)):
        path = os.path.join(output, f"{split}_{i}.png")
        tf.io.write_file(path, tf.io.encode_png(example["image"]))
        with open(path[:-4] + ".txt", "w", encoding="utf-8") as f:
            f.write("\n".join(r.decode("utf-8") for r in example["references"].numpy()) + "\n")
        paths.append(path)
    return paths


def main(argv=None):
    from applications.captioning import APPLICATION
    from zoo.cli import prepare_console

    parser = argparse.ArgumentParser(prog="python -m applications.captioning.samples",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default=APPLICATION.datasets[0], choices=APPLICATION.datasets)
    parser.add_argument("--split", default="test")
    parser.add_argument("--count", type=int, default=6)
    parser.add_argument("--output", required=True)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    prepare_console()
    try:
        paths = write_samples(args.dataset, args.split, args.count, args.output, args.data_dir)
    except ValueError as error:
        parser.error(str(error))
    print("\n".join(paths))
    return paths


if __name__ == "__main__":
    main()
