"""The `generate` command: a grid of new images and the canvas step by step.

    python -m applications.draw.generate --n 64 --seed 0 --out grid.png
"""

import math
import os

import numpy as np


def add_arguments(parser):
    parser.add_argument("--n", type=int, default=64, help="how many images to draw (1..10000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latent noise")
    parser.add_argument("--out", default="draw_samples.png", help="the grid of samples (PNG)")
    parser.add_argument("--steps-out", default=None,
                        help="the canvases after every step, as an animated GIF (.gif) or a strip "
                        "of steps (.png); default: OUT's name with _steps.gif")
    parser.add_argument("--scale", type=int, default=2, help="pixels per image pixel in the pictures")


def tile(images, columns=None, pad=1):
    """Images `(n, H, W)` in [0, 1] as one grid `(rows*(H+pad)+pad, ...)`."""
    images = np.asarray(images)
    n, height, width = images.shape
    columns = columns or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / columns))
    grid = np.ones((rows * (height + pad) + pad, columns * (width + pad) + pad), dtype=images.dtype) * 0.5
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid[pad + r * (height + pad): pad + r * (height + pad) + height,
             pad + c * (width + pad): pad + c * (width + pad) + width] = image
    return grid


def to_pil(array, scale=1):
    from PIL import Image

    image = Image.fromarray(np.clip(np.asarray(array) * 255.0 + 0.5, 0, 255).astype("uint8"), mode="L")
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    return image


def write_pictures(images, canvases, out, steps_out, scale=2):
    """Write the grid of `images` `(n, H, W)` to `out` and the canvases
    `(n, T, H, W)` step by step to `steps_out` (GIF: one frame per step;
    PNG: each step's grid side by side). Both are written whole or not at
    all (a temporary file renamed)."""
    from zoo.io import atomic_path

    with atomic_path(out) as tmp:
        to_pil(tile(images), scale).save(tmp, format="PNG")
    frames = [to_pil(tile(canvases[:, t]), scale) for t in range(canvases.shape[1])]
    with atomic_path(steps_out) as tmp:
        if steps_out.lower().endswith(".gif"):
            # Each step 120 ms, the finished drawing held for 1.5 s.
            durations = [120] * (len(frames) - 1) + [1500]
            frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
        else:
            strip = tile(np.stack([tile(canvases[:, t]) for t in range(canvases.shape[1])]),
                         columns=canvases.shape[1], pad=2)
            to_pil(strip, scale).save(tmp, format="PNG")


def run(application, args, inputs):
    """Draw `--n` images with `--seed` through the SavedModel's own
    `serving_default` function and write the pictures."""
    del inputs
    import tensorflow as tf

    from applications.draw.serving import export_endpoints
    from zoo.export import plain_recurrent_loops

    if not 1 <= args.n <= 10_000:
        raise ValueError(f"--n is between 1 and 10000. Received: --n {args.n}")
    if args.scale < 1:
        raise ValueError(f"--scale is a positive integer. Received: --scale {args.scale}")
    if not args.out.lower().endswith(".png"):
        raise ValueError(f"--out names a .png file. Received: --out {args.out}")
    steps_out = args.steps_out or os.path.splitext(args.out)[0] + "_steps.gif"
    if not steps_out.lower().endswith((".gif", ".png")):
        raise ValueError(f"--steps-out names a .gif or .png file. Received: --steps-out {steps_out}")
    model, _, _ = application.from_pretrained(args.weights)
    generate = export_endpoints(model, None)[0].fn
    with plain_recurrent_loops():
        out = tf.function(generate)(tf.constant(args.n, tf.int32), tf.constant(args.seed, tf.int64))
    images, canvases = out["images"].numpy(), out["canvases"].numpy()
    write_pictures(images, canvases, args.out, steps_out, args.scale)
    return [{"grid": args.out, "steps": steps_out, "n": args.n, "seed": args.seed,
             "drawing_steps": int(canvases.shape[1]), "mean_intensity": round(float(images.mean()), 4)}]


def format_row(row):
    return (f"{row['n']} images (seed {row['seed']}) in {row['grid']}; the canvas over "
            f"{row['drawing_steps']} steps in {row['steps']}")
