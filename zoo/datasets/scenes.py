"""Scenes composed of cut-out drawings, with captions that can be parsed back.

`compose_scene` pastes one to a few drawings (`zoo.datasets.tux_paint_stamps`)
on a crop of a texture, and returns the image, a per-pixel class map and the
objects with their visible boxes. Objects are described left to right: the
canonical caption names each object and, between each two consecutive
objects A and B (A left of B, by box centre), one of `RELATIONS`:
"to the left of" when `dx >= |dy|`, otherwise "above" when A's centre is
higher, "below" when lower. Placements whose relations would be ambiguous
(`|dx|` and `|dy|` within a factor `AMBIGUITY_RATIO` of each other) or that
hide more than `MAX_OCCLUSION` of an object are drawn again, so every
relation can be read from the picture.

`reference_captions` gives five phrasings of the same scene (inverse order,
synonyms, prefixes), and `parse_caption` reads any of them back into the
names and relation triples, so that generated captions can be scored on
what they say (`ground_truth_relations`), not only on n-grams.

Relation triples are in normal form: `(a, "to the left of", b)` or
`(a, "above", b)`; "to the right of", "below" and their synonyms are turned
around ("x below y" -> `(y, "above", x)`). Captions are lowercase words
separated by single spaces, without punctuation.
"""

import numpy as np

RELATIONS = ("to the left of", "above", "below")
"""The relations of canonical captions, between consecutive objects."""

AMBIGUITY_RATIO = 1.3
"""A relation is ambiguous when `max(|dx|, |dy|) < AMBIGUITY_RATIO *
min(|dx|, |dy|)`."""

MAX_OCCLUSION = 0.25
"""The largest fraction of an object's pixels that later objects may hide."""

TEXTURES = ("brick", "grass", "gravel", "immunohistochemistry")
"""The `skimage.data` images used as backgrounds (bundled with
scikit-image, no download): `brick`, `grass` and `gravel` are greyscale
photographs under CC0 (from cc0textures.com and DeviantArt, per their
docstrings), tinted with a random colour in each scene;
`immunohistochemistry` is a colour micrograph of stained tissue (CMMI, "no
known copyright restrictions")."""

# Object size (longest side, as a fraction of the image side) by count.
_SIZE_RANGE = {1: (0.5, 0.8), 2: (0.4, 0.6), 3: (0.32, 0.48)}
_ALPHA_CUT = 128
_MAX_TRIES = 1000

# Phrasings: (canonical, synonyms) for each relation of A to B and its
# inverse (B to A).
_PHRASES = {
    "to the left of": ("to the left of", ("left of", "on the left of")),
    "to the right of": ("to the right of", ("right of", "on the right of")),
    "above": ("above", ("over",)),
    "below": ("below", ("under", "beneath")),
}
_INVERSE = {
    "to the left of": "to the right of",
    "above": "below",
    "below": "above",
}
_PREFIXES = ("there is", "a picture of", "a photo of", "an image of", "this is")
# Words of the relation phrases, each with the relation it signals (first
# object to second) in normal form: (swap, relation).
_KEYWORDS = {
    "left": (False, "to the left of"),
    "right": (True, "to the left of"),
    "above": (False, "above"),
    "over": (False, "above"),
    "below": (True, "above"),
    "under": (True, "above"),
    "beneath": (True, "above"),
}


def load_textures(image_size):
    """The background textures, each at a few scales.

    Each image of `TEXTURES` is shrunk (box filter) so that its shorter
    side is 2, 3 and 4 times `image_size`; a scene crops one of them at
    random, which gives the texture several scales.

    Args:
        image_size: the side of the scenes, in pixels.

    Returns:
        A list of uint8 arrays, `(h, w)` greyscale or `(h, w, 3)` colour.

    Example:

    ```python
    textures = load_textures(32)
    ```
    """
    import skimage.data
    from PIL import Image

    textures = []
    for name in TEXTURES:
        array = np.asarray(getattr(skimage.data, name)(), dtype=np.uint8)
        image = Image.fromarray(array)
        for factor in (2, 3, 4):
            side = factor * image_size
            scale = side / min(image.size)
            size = (max(side, round(image.size[0] * scale)),
                    max(side, round(image.size[1] * scale)))  # fmt: skip
            textures.append(np.asarray(image.resize(size, Image.Resampling.BOX)))
    return textures


def article(name):
    """ "an" before a vowel sound (by spelling), else "a"."""
    if name[0] in "aeiou" and not name.startswith(("uni", "use", "eu", "one")):
        return "an"
    return "a"


def _background(rng, textures, size):
    texture = textures[rng.integers(len(textures))]
    y = rng.integers(texture.shape[0] - size + 1)
    x = rng.integers(texture.shape[1] - size + 1)
    crop = texture[y : y + size, x : x + size].astype(np.float32)
    if crop.ndim == 2:
        colour = rng.uniform(0.25, 1.0, size=3)
        colour /= colour.max()
        crop = crop[..., None] * colour
    return crop * rng.uniform(0.6, 1.15)


def _resize(rgba, side, flip):
    """The premultiplied drawing with its longer side `side` pixels."""
    from PIL import Image

    h, w = rgba.shape[:2]
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    image = Image.fromarray(rgba, "RGBa")
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    out = np.asarray(image.resize(size, method))
    return out[:, ::-1] if flip else out


def _relation(a, b):
    """The canonical relation of centre `a` to centre `b` (a left of b)."""
    dy, dx = b[0] - a[0], b[1] - a[1]
    if dx >= abs(dy):
        return "to the left of"
    return "above" if dy > 0 else "below"


def _ambiguous(a, b):
    dy, dx = abs(b[0] - a[0]), abs(b[1] - a[1])
    return max(dx, dy) < AMBIGUITY_RATIO * min(dx, dy)


def _pick(rng, stamps, num_objects):
    """`num_objects` drawings of distinct names (uniform name, then drawing)."""
    by_name = {}
    for stamp in stamps:
        by_name.setdefault(stamp.name, []).append(stamp)
    names = sorted(by_name)
    if len(names) < num_objects:
        raise ValueError(
            f"`stamps` must hold at least `num_objects` distinct names. "
            f"Received: num_objects={num_objects}, names={names}"
        )
    chosen = rng.choice(len(names), size=num_objects, replace=False)
    picked = []
    for i in chosen:
        drawings = by_name[names[i]]
        picked.append(drawings[rng.integers(len(drawings))])
    return picked


def _place(rng, picked, size):
    """One random placement, or None when it hides or confuses an object.

    Returns `(layers, instance, boxes, centres, order)`: `(rgba, y, x,
    area)` per object in painting order, the map of `1 + index` of the
    topmost object per pixel, the visible boxes and their centres in
    pixels, and the object indices sorted left to right.
    """
    low, high = _SIZE_RANGE[min(len(picked), 3)]
    layers = []
    instance = np.zeros((size, size), np.int32)  # 1 + index, topmost wins
    for index, stamp in enumerate(picked):
        side = max(3, round(rng.uniform(low, high) * size))
        flip = bool(stamp.mirror and rng.integers(2))
        rgba = _resize(stamp.rgba, side, flip)
        h, w = rgba.shape[:2]
        y = int(rng.integers(size - h + 1))
        x = int(rng.integers(size - w + 1))
        # Thin lines of a shrunken drawing may have no opaque pixel left.
        mask = rgba[..., 3] >= min(_ALPHA_CUT, max(1, int(rgba[..., 3].max()) // 2))
        instance[y : y + h, x : x + w][mask] = index + 1
        layers.append((rgba, y, x, int(mask.sum())))
    boxes = []
    for index, (_, _, _, area) in enumerate(layers):
        visible = instance == index + 1
        if visible.sum() < (1 - MAX_OCCLUSION) * area:
            return None
        rows = np.flatnonzero(visible.any(axis=1))
        cols = np.flatnonzero(visible.any(axis=0))
        boxes.append((rows[0], cols[0], rows[-1] + 1, cols[-1] + 1))
    centres = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in boxes]
    order = sorted(range(len(picked)), key=lambda i: (centres[i][1], centres[i][0]))
    for i, j in zip(order, order[1:]):
        if _ambiguous(centres[i], centres[j]):
            return None
    return layers, instance, boxes, centres, order


def compose_scene(rng, stamps, textures, image_size, num_objects, class_ids):
    """Paste drawings on a texture: an image, its class map and its objects.

    The background is a random `image_size` square crop of a random texture
    (greyscale textures tinted with a random colour), at a random
    brightness. `num_objects` drawings of distinct names are drawn from
    `stamps` (a uniform name, then a uniform drawing of it; pass exactly
    the drawings wanted to fix them) and pasted in that order, each at a
    random size (its longer side 50-80% of the image side alone, 40-60%
    with two objects, 32-48% with three: at 32 pixels smaller drawings are
    a handful of pixels), flipped left-right at random when
    `stamp.mirror`, at a random position inside the image. Placements where
    an object is more than `MAX_OCCLUSION` hidden, or where two consecutive
    objects (left to right) stand in an ambiguous relation, are drawn again.

    Args:
        rng: a `numpy.random.Generator`; the scene depends only on its state.
        stamps: a sequence of `zoo.datasets.tux_paint_stamps.Stamp`.
        textures: a sequence of uint8 arrays, `(h, w)` greyscale or
            `(h, w, 3)` colour, at least `image_size` on both sides
            (`load_textures`).
        image_size: the side of the image, in pixels.
        num_objects: how many objects to paste (1, 2 or 3).
        class_ids: a mapping from names to class ids (>= 1).

    Returns:
        A dict: `image` (uint8 `(S, S, 3)`), `segmentation` (uint16
        `(S, S)`, the class id of the topmost object whose alpha is at least
        one half (or half its largest alpha, for a drawing whose thin lines
        are all see-through once shrunk), 0 for the background), and
        `objects`, a list sorted by box centre x (left to right) of dicts
        with `name`, `stamp` (its path), `class_id`, `box` (`(ymin, xmin,
        ymax, xmax)` of the visible pixels, normalized to [0, 1]) and
        `center` (`(y, x)` of the box, normalized).

    Example:

    ```python
    stamps = load_stamps()
    names = sorted({s.name for s in stamps})
    scene = compose_scene(
        np.random.default_rng(0), stamps, load_textures(64), 64, 2,
        {n: i + 1 for i, n in enumerate(names)},
    )
    canonical_caption(scene["objects"])  # e.g. "a goat to the left of a cat"
    ```
    """
    if num_objects not in _SIZE_RANGE:
        raise ValueError(
            f"`num_objects` must be 1, 2 or 3. Received: num_objects={num_objects!r}"
        )
    for texture in textures:
        if min(texture.shape[:2]) < image_size:
            raise ValueError(
                f"Every texture must be at least `image_size` on both sides. "
                f"Received: image_size={image_size}, texture shape={texture.shape}"
            )
    picked = _pick(rng, stamps, num_objects)
    for _ in range(_MAX_TRIES):
        placed = _place(rng, picked, image_size)
        if placed is not None:
            break
    else:
        raise RuntimeError(
            f"Could not place the drawings without ambiguity or occlusion in "
            f"{_MAX_TRIES} tries. Received: stamps={[s.path for s in picked]}, "
            f"image_size={image_size}"
        )
    layers, instance, boxes, centres, order = placed
    image = _background(rng, textures, image_size)
    for rgba, y, x, _ in layers:
        h, w = rgba.shape[:2]
        region = image[y : y + h, x : x + w]
        alpha = rgba[..., 3:].astype(np.float32) / 255.0
        region *= 1.0 - alpha
        region += rgba[..., :3]
    image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    lookup = np.zeros(len(picked) + 1, np.uint16)
    for i, stamp in enumerate(picked):
        lookup[i + 1] = class_ids[stamp.name]
    objects = []
    for i in order:
        ymin, xmin, ymax, xmax = boxes[i]
        objects.append(
            {
                "name": picked[i].name,
                "stamp": picked[i].path,
                "class_id": int(class_ids[picked[i].name]),
                "box": tuple(float(v) / image_size for v in (ymin, xmin, ymax, xmax)),
                "center": (centres[i][0] / image_size, centres[i][1] / image_size),
            }
        )
    return {"image": image, "segmentation": lookup[instance], "objects": objects}


def _clauses(objects):
    """[(name_a, relation, name_b)] between consecutive objects."""
    return [
        (a["name"], _relation(a["center"], b["center"]), b["name"])
        for a, b in zip(objects, objects[1:])
    ]


def _render(objects, inverted, synonyms, prefix, rng=None):
    """A caption: each clause optionally inverted, with synonyms or not."""
    if len(objects) == 1:
        name = objects[0]["name"]
        words = [f"{article(name)} {name}"]
    else:
        words = []
        mentioned = set()

        def mention(name):
            det = "the" if name in mentioned else article(name)
            mentioned.add(name)
            return f"{det} {name}"

        for k, (a, relation, b) in enumerate(_clauses(objects)):
            if inverted[k]:
                a, relation, b = b, _INVERSE[relation], a
            canonical, others = _PHRASES[relation]
            phrase = others[rng.integers(len(others))] if synonyms[k] else canonical
            clause = f"{mention(a)} {phrase} {mention(b)}"
            words.append(clause if k == 0 else f"and {clause}")
    text = " ".join(words)
    return f"{prefix} {text}" if prefix else text


def canonical_caption(objects):
    """The canonical caption of a scene's objects (sorted left to right).

    One object: "a goat"; two: "a goat to the left of a bunch of grapes";
    three: "a goat to the left of a car and the car above a cat". "an"
    comes before vowel-initial names.

    Args:
        objects: the `objects` of `compose_scene` (dicts with `name` and
            `center`), sorted by centre x.

    Returns:
        The caption: lowercase words separated by single spaces.

    Example:

    ```python
    canonical_caption([{"name": "apple", "center": (0.5, 0.5)}])  # "an apple"
    ```
    """
    n = len(objects)
    return _render(objects, [False] * n, [False] * n, "")


def reference_captions(objects, rng):
    """Five distinct captions of the same scene, the canonical one first.

    Then: every relation inverted ("a bunch of grapes to the right of a
    goat", "below" for "above"); every relation with a synonym ("left of",
    "on the left of", "over", "under", "beneath"); the canonical caption
    after a prefix ("there is", "a picture of", "a photo of", "an image of",
    "this is"); and a random mix of the three. A single object gets four
    prefixes.

    Args:
        objects: the `objects` of `compose_scene`, sorted by centre x.
        rng: a `numpy.random.Generator` for the random choices.

    Returns:
        A list of 5 captions (lowercase words, single spaces).

    Example:

    ```python
    reference_captions(scene["objects"], np.random.default_rng(0))
    ```
    """
    n = len(objects)
    canonical = canonical_caption(objects)
    if n == 1:
        prefixes = rng.permutation(len(_PREFIXES))[:4]
        return [canonical] + [
            _render(objects, [False], [False], _PREFIXES[i]) for i in prefixes
        ]
    no, yes = [False] * n, [True] * n
    references = [
        canonical,
        _render(objects, yes, no, "", rng),
        _render(objects, no, yes, "", rng),
        _render(objects, no, no, _PREFIXES[rng.integers(len(_PREFIXES))], rng),
    ]
    while len(references) < 5:
        caption = _render(
            objects,
            list(rng.integers(2, size=n).astype(bool)),
            list(rng.integers(2, size=n).astype(bool)),
            (("",) + _PREFIXES)[rng.integers(len(_PREFIXES) + 1)],
            rng,
        )
        if caption not in references:
            references.append(caption)
    return references


def _normal(a, relation, b):
    if relation == "to the left of" or relation == "above":
        return (a, relation, b)
    if relation == "below":
        return (b, "above", a)
    raise ValueError(f"Unknown relation. Received: relation={relation!r}")


def ground_truth_relations(objects):
    """The relation triples of a scene, in normal form.

    Args:
        objects: the `objects` of `compose_scene`, sorted by centre x.

    Returns:
        A list of `(name_a, relation, name_b)` between consecutive objects,
        with relation "to the left of" or "above" ("below" turned around).

    Example:

    ```python
    ground_truth_relations(scene["objects"])
    # [("goat", "to the left of", "bunch of grapes")]
    ```
    """
    return [_normal(*clause) for clause in _clauses(objects)]


def _tokens(text):
    cleaned = "".join(
        c if c.isalpha() else " " for c in str(text).lower().replace("'", "")
    )
    return cleaned.split()


def parse_caption(text, names):
    """The names and relations that a caption states.

    Reads any caption form of `canonical_caption` and `reference_captions`.
    The text is lowercased and everything but letters becomes a space; then,
    left to right, the longest name of `names` that starts at each word is a
    mention. Between two consecutive mentions, a relation word ("left",
    "right", "above", "over", "below", "under", "beneath") states the
    relation of the first to the second; a stretch without one (such as
    "and the") states none. Relations come back in normal form (see the
    module docstring): "x to the right of y" -> `(y, "to the left of", x)`,
    "x below y" -> `(y, "above", x)`.

    Args:
        text: a caption.
        names: the known names (e.g. the class names of the data set).

    Returns:
        `(mentioned_names, relations)`: the distinct names in order of first
        mention, and a list of `(name_a, relation, name_b)` triples.

    Example:

    ```python
    parse_caption("a picture of a cat below a goat", ["cat", "goat"])
    # (["cat", "goat"], [("goat", "above", "cat")])
    ```
    """
    by_first = {}
    for name in set(names):
        words = tuple(_tokens(name))
        if words:
            by_first.setdefault(words[0], []).append((words, name))
    for candidates in by_first.values():
        candidates.sort(key=lambda c: (-len(c[0]), c[1]))
    tokens = _tokens(text)
    mentions = []  # (name, index of the first word after it)
    gaps = [[]]
    i = 0
    while i < len(tokens):
        for words, name in by_first.get(tokens[i], ()):
            if tuple(tokens[i : i + len(words)]) == words:
                mentions.append(name)
                gaps.append([])
                i += len(words)
                break
        else:
            gaps[-1].append(tokens[i])
            i += 1
    mentioned = list(dict.fromkeys(mentions))
    relations = []
    for k in range(len(mentions) - 1):
        gap = gaps[k + 1]
        for word in gap:
            if word in _KEYWORDS:
                swap, relation = _KEYWORDS[word]
                a, b = mentions[k], mentions[k + 1]
                relations.append((b, relation, a) if swap else (a, relation, b))
                break
    return mentioned, relations
