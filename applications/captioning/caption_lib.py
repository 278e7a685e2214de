"""`caption`: captions of image files, and the attention of every word drawn
over the image (`--out overlay.png`)."""

import os

import numpy as np

MIN_SIDE = 8
MAX_PIXELS = 40_000_000


def add_arguments(parser):
    parser.add_argument("--out", default=None, metavar="PNG",
                        help="write the images with each word's attention over them")
    parser.add_argument("--beam-size", type=int, default=None,
                        help="beam width (default: the weights' setting; 1 = greedy)")


def read_image(path):
    """The file's pixels as uint8 `(H, W, C)`, C of 1 to 4; a `ValueError`
    naming the file when it is not an image, or is too small or too large."""
    from PIL import Image
    from PIL import UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
            if min(width, height) < MIN_SIDE:
                raise ValueError(
                    f"{path} is {width}x{height} pixels: too small to caption (at least "
                    f"{MIN_SIDE} pixels a side). Received: size={width}x{height}"
                )
            if width * height > MAX_PIXELS:
                raise ValueError(
                    f"{path} is {width}x{height} pixels, over the {MAX_PIXELS // 1_000_000} "
                    f"megapixels caption reads: resize it first. Received: size={width}x{height}"
                )
            mode = {"1": "L", "P": "RGBA", "I;16": "L", "I": "L", "F": "L", "CMYK": "RGB",
                    "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB"}.get(image.mode, image.mode)
            pixels = np.asarray(image.convert(mode))
    except UnidentifiedImageError:
        raise ValueError(
            f"{path} is not an image file caption can read (PNG, JPEG, GIF, BMP, TIFF, WebP). "
            f"Received: {path!r}"
        ) from None
    except OSError as error:  # truncated or damaged image data
        raise ValueError(f"{path} is a damaged image ({error}). Received: {path!r}") from None
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    return pixels.astype("uint8")


def run(application, args, inputs):
    """One row per file: `{"file", "caption"}`; with `--out`, the overlay
    path in `"overlay"`."""
    import keras
    import tensorflow as tf

    from applications.captioning.model import attention_maps
    from applications.captioning.model import caption_ids
    from applications.captioning.preprocessing import prepare_image

    if args.beam_size is not None and args.beam_size < 1:
        raise ValueError(f"--beam-size is at least 1. Received: --beam-size {args.beam_size}")
    pixels = [read_image(path) for path in inputs]
    model, preprocessor, _ = application.from_pretrained(args.weights)
    images = np.stack([prepare_image(tf.constant(p), preprocessor.image_size).numpy()
                       for p in pixels])
    beam = args.beam_size or preprocessor.decoding["beam_size"]
    ids = keras.ops.convert_to_numpy(caption_ids(model, images, preprocessor.max_length, beam,
                                                 preprocessor.decoding["length_penalty"]))
    captions = [c.decode("utf-8") for c in preprocessor.detokenize(ids).numpy()]
    rows = [{"file": path, "caption": caption} for path, caption in zip(inputs, captions)]
    if args.out:
        maps = attention_maps(model, images, ids)
        maps = None if maps is None else keras.ops.convert_to_numpy(maps)
        draw_overlay(args.out, images, captions, maps)
        for row in rows:
            row["overlay"] = args.out
    return rows


def format_row(row):
    return f"{row['file']}: {row['caption']}"


def draw_overlay(path, images, captions, maps=None, max_words=12):
    """One row per image: the image, then each word with the attention it
    was generated with (upsampled over the image). Without attention (a
    Show-and-Tell model) only the images and captions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from zoo.io import atomic_path

    words = [c.split()[:max_words] for c in captions]
    columns = 1 + (max(len(w) for w in words) if maps is not None else 0)
    figure, axes = plt.subplots(len(images), columns, figsize=(1.6 * columns, 1.8 * len(images)),
                                squeeze=False)
    for row, image in enumerate(images):
        axes[row, 0].imshow(image)
        axes[row, 0].set_title(captions[row] if maps is None else "input", fontsize=7)
        for column in range(1, columns):
            ax = axes[row, column]
            if column - 1 < len(words[row]):
                ax.imshow(image)
                attention = maps[row, column - 1]
                ax.imshow(attention / max(attention.max(), 1e-9), cmap="magma", alpha=0.6,
                          extent=(-0.5, image.shape[1] - 0.5, image.shape[0] - 0.5, -0.5),
                          interpolation="bilinear")
                ax.set_title(words[row][column - 1], fontsize=8)
        for ax in axes[row]:
            ax.axis("off")
    figure.tight_layout()
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    plt.close(figure)
    return path
