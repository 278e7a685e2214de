"""Captioning speed on this machine (one process): images per second
captioned by greedy and beam search (batch 64, held-out scenes, trained
weights, since decoding time depends on how long the captions are), and
training steps per second of `train_on_batch` on real batches.

    python bench/captioning_speed.py                       # the shipped weights
    python bench/captioning_speed.py --weights runs/captioning-quick --json out.json
"""

import argparse
import json
import platform
import statistics
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default=None, help="a run directory or manifest name")
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from applications.captioning import APPLICATION
    from applications.captioning.evaluate_lib import prepared_images
    from applications.captioning.model import caption_ids

    model, preprocessor, run = APPLICATION.from_pretrained(args.weights)
    dataset = run["dataset"]
    examples = APPLICATION.load_data(dataset, "test", None)
    images = np.concatenate(list(prepared_images(
        examples.map(lambda image, caption: {"image": image}).take(args.images),
        preprocessor.image_size, 64)))
    batches = [images[i:i + 64] for i in range(0, len(images), 64)]
    results = {"weights": args.weights or APPLICATION.default_weights, "dataset": dataset,
               "backend": keras.backend.backend(),
               "machine": platform.processor() or platform.machine(),
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "decoding": {}}
    beam = preprocessor.decoding["beam_size"]
    for name, k in (("greedy", 1), (f"beam{beam}", beam)):
        fn = tf.function(lambda x, k=k: caption_ids(model, x, preprocessor.max_length, k,
                                                   preprocessor.decoding["length_penalty"]))
        fn(tf.constant(batches[0]))  # trace and compile
        rates = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            for batch in batches:
                fn(tf.constant(batch)).numpy()
            rates.append(len(images) / (time.perf_counter() - start))
        results["decoding"][name] = {"images_per_second": statistics.median(rates),
                                     "rounds": rates}
    train = list(preprocessor.dataset(examples, 64, shuffle=True, seed=0).take(8))
    for x, y in train:
        model.train_on_batch(x, y)
    times = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        for x, y in train:
            model.train_on_batch(x, y)
        times.append((time.perf_counter() - start) / len(train))
    results["training"] = {"seconds_per_step_batch64": statistics.median(times), "rounds": times}
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
