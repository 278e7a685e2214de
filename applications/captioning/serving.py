"""Serving endpoints: encoded image bytes in, caption strings out.

Decoding (beam search) runs inside the SavedModel, so a process that loads
the export needs TensorFlow only: no project code, no extra op library.
"""

import tensorflow as tf

from applications.captioning.model import caption_ids
from applications.captioning.preprocessing import decode_image
from zoo.application import Endpoint


def caption_function(model, preprocessor, beam_size, alpha):
    """`images (encoded bytes) -> {"caption": strings}` (tf ops)."""
    size = preprocessor.image_size

    def caption(images):
        pixels = tf.map_fn(lambda data: decode_image(data, size), images,
                           fn_output_signature=tf.TensorSpec((size, size, 3), tf.float32))
        ids = caption_ids(model, pixels, preprocessor.max_length, beam_size=beam_size, alpha=alpha)
        return {"caption": preprocessor.detokenize(ids)}

    return caption


def export_endpoints(model, preprocessor, beam_size=None, alpha=None):
    """`caption` (beam search with the weights' settings; the
    `serving_default`) and `caption_greedy`. Each takes `images`, a vector of
    encoded PNG, JPEG, GIF or BMP images of any size, grey, RGB or RGBA."""
    config = preprocessor.decoding
    beam_size = beam_size or config["beam_size"]
    alpha = config["length_penalty"] if alpha is None else alpha
    spec = [tf.TensorSpec([None], tf.string, name="images")]
    return [
        Endpoint("caption", caption_function(model, preprocessor, beam_size, alpha), spec),
        Endpoint("caption_greedy", caption_function(model, preprocessor, 1, 0.0), spec),
    ]
