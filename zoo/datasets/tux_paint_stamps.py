"""The Tux Paint stamp collection as named, cut-out drawings.

Tux Paint's stamps (Debian package `tuxpaint-stamps-default`, GPL-2+,
https://tuxpaint.org) are about 800 PNG drawings with an alpha channel, in
16 top folders under `/usr/share/tuxpaint/stamps`. Beside each `<stem>.png`
lies `<stem>.txt`, whose first line is an English description ("A goat.",
followed by translations), and optionally `<stem>.dat` with flags such as
`nomirror`, `noflip`, `colorable` and `tintable`.

`load_stamps` reads them once, reduces each description to a short name
(`stamp_name`), crops each drawing to its alpha bounding box, premultiplies
its alpha and shrinks it to at most `max_side` pixels, and caches the result
(one npz file per `max_side`, validated against the list of files), so that
the second load takes a fraction of a second. `stamp_statistics` gives the
counts behind the selection.
"""

import dataclasses
import hashlib
import json
import os
import pathlib
import re
import warnings

import numpy as np

from zoo.datasets.registry_files import resolve_cache_dir

DEFAULT_STAMP_DIR = "/usr/share/tuxpaint/stamps"
"""Where Debian's `tuxpaint-stamps-default` installs the stamps."""

STAMP_DIR_ENV = "RNN_ZOO_STAMP_DIR"
"""Environment variable that overrides `DEFAULT_STAMP_DIR`."""

MIN_SIDE = 8
"""Stamps whose alpha bounding box is narrower than this (in the original
drawing, in pixels) are skipped."""

MIN_OPAQUE = 0.1
"""Stamps with fewer opaque pixels (alpha >= 1/2) than this fraction of their
visible pixels (alpha >= 8/255) are skipped: see-through drawings (a glass of
water) that would hardly show on a texture."""

_CACHE_FORMAT = 2

_WORD = r"[a-z]+(?:['-][a-z]+)*"
_RULE = re.compile(rf"^(?:a|an|the) ({_WORD}(?: {_WORD}){{0,2}})\.?$")

# Words that the captions of `zoo.datasets.scenes` use around the names; a
# name containing one could not be parsed back out of a caption ("of" is
# allowed: names start with none of these words, and parsing matches names
# first).
RESERVED_WORDS = frozenset(
    "a an the and there is this to left right above below over under beneath "
    "on picture photo image".split()
)

ALIASES = {
    # Descriptions the rule misses (punctuation, more than three words,
    # no article, a remark after the name).
    "An albino peahen (a female peafowl, or peacock).": "peahen",
    "A peacock (a male peafowl).": "peacock",
    "Tux\u2014the Linux mascot!": "penguin",
    "A singing dinosaur!": "dinosaur",
    "George the blue groper.": "blue groper",
    "A very poisonous lionfish!": "lionfish",
    "A spiny lobster, from the Hawaiian islands.": "lobster",
    "A hoverfly resembles a honeybee drone.": "hoverfly",
    "Teddy bear.": "teddy bear",
    "Edward Bear.": "teddy bear",
    "The baby of a gnu.": "gnu",
    "A baby sheep (a lamb).": "lamb",
    "A happy lion!": "lion",
    "A knight\u2019s helmet.": "helmet",
    "A Seville orange, also called a bitter orange.": "orange",
    "A walnut in its shell.": "walnut",
    "Eat your broccoli!": "broccoli",
    "A \u201cpattypan\u201d squash.": "squash",
    "A head of red lettuce.": "head of lettuce",
    "A ripe, red tomato!": "tomato",
    "A pair of closed scissors.": "pair of scissors",
    "A pair of open scissors.": "pair of scissors",
    "A large pot for pasta and soup.": "pot",
    "Remember to flush the toilet and wash your hands with soap!": "toilet",
    "Measuring tape.": "measuring tape",
    "A plumber\u2019s wrench.": "wrench",
    "A wheelie bin! Give me your trash!": "wheelie bin",
    "A stethoscope lets your doctor listen to your heart and lungs.": (
        "stethoscope"
    ),
    "An F-22 Raptor.": "fighter jet",
    "A red and white anemone flower.": "anemone",
    "A flower covered in dew drops.": "flower",
    "Hibiscus": "hibiscus flower",
    "A plant of common lavender.": "lavender plant",
    "Grandma\u2019s old rag doll.": "rag doll",
    "A candy cane is a traditional Christmas treat in the United States.": (
        "candy cane"
    ),
    "A christmas pudding is eaten on Christmas Day in England.": (
        "christmas pudding"
    ),
    "A mince pie is a traditional Christmas food in the UK. It contains of "
    "dried fruit and spices.": "mince pie",
    "Santa Claus.": "santa claus",
    "A chocolate easter egg. Yum!": "easter egg",
    "A Jack-o\u2019-lantern.": "jack o lantern",
    "Gimel stands for gants or all. If the dreidel lands on gimel, take "
    "everything in the middle.": "dreidel",
    "Hei stands for halb or half. If the dreidel lands on hei, take half of "
    "what\u2019s in the middle plus one if there\u2019s an odd number of "
    "objects.": "dreidel",
    "Nun stands for nisht or nothing. If the dreidel lands on nun, you do "
    "nothing.": "dreidel",
    "Shin stands for shtel arayn or put in. If the dreidel lands on shin, put "
    "two objects into the middle.": "dreidel",
    "Our moon.": "moon",
    "Our moon as a crescent.": "crescent moon",
    "The Apollo lunar lander module.": "lunar lander",
    "An astronaut making a spacewalk!": "astronaut",
    "The Voyager-2 deep-space probe.": "space probe",
    "\u2013 Because a brain is a terrible thing to waste\u2026": "football helmet",
    "A football used in Australian Rules.": "australian football",
    "The red light means you must stop now.": "traffic light",
    "The yellow light means you should stop if it is safe to do so.": (
        "traffic light"
    ),
    "The green light means you can go if it is safe to do so.": "traffic light",
    "A \u201cStop\u201d sign. Stop here, then go when it\u2019s your turn.": (
        "stop sign"
    ),
    "A UK post box. Put your letter in here!": "post box",
    "The Eiffel tower in Paris.": "eiffel tower",
    "An inukshuk (or inuksuk), a landmark made of stones. It was used as a "
    "milestone or directional marker by the Inuit of the Canadian Artic.": (
        "inukshuk"
    ),
    "A wheel! Put the brake calipers toward the rear.": "wheel",
    "A colorful toy cement truck.": "cement truck",
    "A colorful toy tow truck.": "tow truck",
    "A dumper. It carries its load in the front.": "dumper",
    "Tux the penguin in a farm tractor!": "tractor",
    "Eddie the Helicopter.": "helicopter",
    "Tux Airways.": "airplane",
    "A boxcar is used to carry livestock.": "boxcar",
    "The caboose\u2014a carriage for the guard.": "caboose",
    "An old Chinese sailing ship.": "sailing ship",
    "UB2006 \u201cPenguin II\u201d deep sea research vessel.": "submarine",
    "King. Can move one step in any direction. Protect him!": "chess king",
    "Queen. Can move in any direction.": "chess queen",
    "Bishop. Can only move diagonally, staying on the same colored squares.": (
        "chess bishop"
    ),
    "Knight. The only piece that can jump over others. Move forward or back "
    "two, then left or right one\u2014or move left or right two, and forward "
    "or back one.": "chess knight",
    "Rook. Can only move forward, back, left or right, but not diagonally.": (
        "chess rook"
    ),
    "Pawn. Can only move forward, unless capturing. Can move two squares on "
    "the first move, but later only one. Captures diagonally one square.": (
        "chess pawn"
    ),
    # Descriptions the rule reduces, to a name that is clumsy or that splits
    # one kind of thing into several names.
    "A ginger 'root'.": "ginger root",
    "A spider playing soccer.": "spider",
    "A couple of wings.": "pair of wings",
    "A very small pitcher.": "pitcher",
    "A very small pumpkin.": "pumpkin",
    "A huge dump truck.": "dump truck",
    "A colorful toy tugboat.": "tugboat",
    "A big eared rabbit.": "rabbit",
    "A little rabbit.": "rabbit",
    "A birch at winter.": "birch tree",
    "A cluster of grapes.": "bunch of grapes",
    "A blue gnu.": "gnu",
    "A sitting gnu.": "gnu",
    "A Silver Gull.": "seagull",
    "A helmeted guinea fowl.": "guinea fowl",
    "A little penguin.": "penguin",
    "A Magellanic penguin.": "penguin",
    "A red kangaroo.": "kangaroo",
    "A Sumatran tiger.": "tiger",
    "A european bear.": "bear",
    "A Tamworth pig.": "pig",
    "A red headed cep.": "cep",
    "A gravestone.": "gravestone",
    "A headstone.": "gravestone",
    "A grave marker.": "gravestone",
    "A tombstone.": "gravestone",
    "Another tombstone.": "gravestone",
    "A cemetery marker.": "gravestone",
    "A monument stone.": "gravestone",
}
"""Exact English descriptions (first lines) mapped to names, consulted
before the rule of `stamp_name`."""


@dataclasses.dataclass(frozen=True, eq=False)
class Stamp:
    """One drawing: `rgba` is uint8, premultiplied alpha, cropped to its alpha
    bounding box, at most `max_side` pixels on its longer side."""

    path: str
    name: str
    category: str
    mirror: bool
    rgba: np.ndarray = dataclasses.field(repr=False)


def stamp_name(description):
    """The short lowercase name of a stamp's English description, or None.

    `ALIASES` is consulted first (exact description). Otherwise the rule: the
    description, stripped, must read `<article> <words>` with an optional
    final period, where the article is "A", "An" or "The" and there are one
    to three words made of letters, with hyphens or apostrophes only inside
    a word ("A goat." -> "goat", "A bunch of grapes." -> "bunch of grapes",
    "An albino peahen (a female peafowl, or peacock)." -> None). The name is
    lowercased, hyphens become spaces and apostrophes are dropped, so that
    names are lowercase letters and single spaces. Letters and signs
    ("letter a", names starting with "sign") and names containing a word of
    `RESERVED_WORDS` (which captions use around the names) give None.

    Args:
        description: the first line of a stamp's `.txt` file.

    Returns:
        The name (a string), or None when the description does not reduce.

    Example:

    ```python
    stamp_name("A goat.")  # "goat"
    stamp_name("A pair of open scissors.")  # "pair of scissors" (an alias)
    stamp_name("Boom!!!")  # None
    ```
    """
    description = description.strip().lstrip("\ufeff").strip()
    name = ALIASES.get(description)
    if name is None:
        match = _RULE.match(description.lower())
        if match is None:
            return None
        name = match.group(1)
    name = " ".join(name.replace("-", " ").replace("'", "").split())
    words = name.split()
    if (
        not words
        or words[0] in ("letter", "sign")
        or name.startswith("sign")
        or RESERVED_WORDS.intersection(words)
    ):
        return None
    return name


def _name_source(description):
    """("alias" | "rule" | None, name) for a description."""
    name = stamp_name(description)
    if name is None:
        return None, None
    key = description.strip().lstrip("\ufeff").strip()
    return ("alias" if key in ALIASES else "rule"), name


def resolve_stamp_dir(stamp_dir=None):
    """The stamp folder: `stamp_dir`, else `$RNN_ZOO_STAMP_DIR`, else
    `DEFAULT_STAMP_DIR`; raises a `FileNotFoundError` when it is missing."""
    if stamp_dir is None:
        stamp_dir = os.environ.get(STAMP_DIR_ENV) or DEFAULT_STAMP_DIR
    path = pathlib.Path(stamp_dir).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"The Tux Paint stamp directory is missing. The stamps come from "
            f"Debian's `tuxpaint-stamps-default` package (`apt-get install "
            f"tuxpaint-stamps-default`, which installs them in "
            f"{DEFAULT_STAMP_DIR}); to read them from elsewhere set "
            f"${STAMP_DIR_ENV} or pass `stamp_dir=`. "
            f"Received: stamp_dir='{stamp_dir}'"
        )
    return path.resolve()


def _read_description(txt_path):
    with open(txt_path, "rb") as f:
        first = f.readline()
    return first.decode("utf-8", errors="replace").strip()


def _read_flags(png_path):
    """The words of `<stem>.dat`, else of `<base>.dat` for `<base>_mirror`."""
    candidates = [png_path.with_suffix(".dat")]
    if png_path.stem.endswith("_mirror"):
        candidates.append(png_path.with_name(png_path.stem[: -len("_mirror")] + ".dat"))
    for dat in candidates:
        if dat.is_file():
            text = dat.read_text(encoding="utf-8", errors="replace")
            return set(text.replace("=", " ").split())
    return set()


def _file_list(root):
    """Sorted (relative path, size, mtime_ns) of the png, txt and dat files."""
    entries = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in files:
            if name.endswith((".png", ".txt", ".dat")):
                full = os.path.join(folder, name)
                st = os.stat(full)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                entries.append((rel, st.st_size, st.st_mtime_ns))
    entries.sort()
    return entries


def _fingerprint(files, max_side):
    h = hashlib.sha256()
    h.update(json.dumps([_CACHE_FORMAT, max_side, MIN_SIDE, files]).encode())
    h.update(json.dumps(sorted(ALIASES.items())).encode())
    return h.hexdigest()


def _is_greyscale(rgba):
    opaque = rgba[..., 3] >= 128
    if not opaque.any():
        return True
    rgb = rgba[..., :3][opaque].astype(np.int16)
    spread = rgb.max(axis=-1) - rgb.min(axis=-1)
    return bool(np.percentile(spread, 99) <= 12)


def _prepare(png_path, max_side):
    """(premultiplied rgba at most max_side, greyscale, skip reason) of one PNG."""
    from PIL import Image

    with Image.open(png_path) as image:
        image.load()
        rgba = image.convert("RGBA")
    array = np.asarray(rgba)
    rows = np.flatnonzero((array[..., 3] >= 8).any(axis=1))
    cols = np.flatnonzero((array[..., 3] >= 8).any(axis=0))
    if rows.size == 0 or min(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 < MIN_SIDE:
        return None, False, "tiny"
    alpha = array[..., 3]
    if (alpha >= 128).sum() < MIN_OPAQUE * (alpha >= 8).sum():
        return None, False, "faint"
    box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    cropped = rgba.crop(box)
    grey = _is_greyscale(np.asarray(cropped))
    premultiplied = cropped.convert("RGBa")
    w, h = premultiplied.size
    scale = max_side / max(w, h)
    if scale < 1:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        premultiplied = premultiplied.resize(size, Image.Resampling.BOX)
    return np.array(premultiplied, dtype=np.uint8), grey, None


def _build(root, max_side):
    """(records, arrays, statistics) from the stamp folder."""
    stats = dict.fromkeys(
        [
            "png_files",
            "with_description",
            "named_by_rule",
            "named_by_alias",
            "unnamed",
            "unreadable",
            "tiny",
            "faint",
            "excluded_greyscale",
            "usable",
            "distinct_names",
            "names_with_2_drawings",
        ],
        0,
    )
    records, arrays, unreadable = [], [], []
    for png in sorted(root.rglob("*.png")):
        stats["png_files"] += 1
        txt = png.with_suffix(".txt")
        if not txt.is_file():
            continue
        stats["with_description"] += 1
        source, name = _name_source(_read_description(txt))
        if name is None:
            stats["unnamed"] += 1
            continue
        stats[f"named_by_{source}"] += 1
        rel = png.relative_to(root).as_posix()
        try:
            rgba, grey, skip = _prepare(png, max_side)
        except Exception as error:  # noqa: BLE001 - any unreadable file
            warnings.warn(
                f"Skipping the Tux Paint stamp {png}: it cannot be read "
                f"({type(error).__name__}: {error}).",
                stacklevel=3,
            )
            stats["unreadable"] += 1
            unreadable.append(rel)
            continue
        if skip is not None:
            stats[skip] += 1
            continue
        flags = _read_flags(png)
        if grey and flags & {"colorable", "tintable"}:
            stats["excluded_greyscale"] += 1
            continue
        mirror = "nomirror" not in flags and not png.with_name(
            f"{png.stem}_mirror.png"
        ).exists()
        records.append(
            {
                "path": rel,
                "name": name,
                "category": rel.split("/", 1)[0],
                "mirror": mirror,
                "shape": list(rgba.shape),
            }
        )
        arrays.append(rgba)
    counts = {}
    for record in records:
        counts[record["name"]] = counts.get(record["name"], 0) + 1
    stats["usable"] = len(records)
    stats["distinct_names"] = len(counts)
    stats["names_with_2_drawings"] = sum(1 for c in counts.values() if c >= 2)
    return records, arrays, stats, unreadable


def _write_cache(target, meta, arrays):
    from zoo.io import atomic_path

    flat = (
        np.concatenate([a.reshape(-1) for a in arrays])
        if arrays
        else np.zeros(0, np.uint8)
    )
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as out:
            np.savez(out, meta=np.array(json.dumps(meta)), pixels=flat)


def _read_cache(target, fingerprint):
    try:
        with np.load(target, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("fingerprint") != fingerprint:
                return None
            flat = data["pixels"]
    except (OSError, ValueError, KeyError):
        return None
    arrays, start = [], 0
    for record in meta["records"]:
        size = int(np.prod(record["shape"]))
        arrays.append(flat[start : start + size].reshape(record["shape"]))
        start += size
    return meta, arrays


def _load(stamp_dir, cache_dir, max_side):
    if not isinstance(max_side, int) or max_side < MIN_SIDE:
        raise ValueError(
            f"`max_side` must be an integer >= {MIN_SIDE}. "
            f"Received: max_side={max_side!r}"
        )
    root = resolve_stamp_dir(stamp_dir)
    fingerprint = _fingerprint(_file_list(root), max_side)
    target = (
        resolve_cache_dir(cache_dir) / "tux_paint_stamps" / f"{max_side}" / "stamps.npz"
    )
    cached = _read_cache(target, fingerprint) if target.is_file() else None
    if cached is None:
        records, arrays, stats, unreadable = _build(root, max_side)
        meta = {
            "fingerprint": fingerprint,
            "records": records,
            "statistics": stats,
            "unreadable": unreadable,
        }
        _write_cache(target, meta, arrays)
    else:
        meta, arrays = cached
        for rel in meta["unreadable"]:  # _build warned on the first load.
            warnings.warn(
                f"Skipped the Tux Paint stamp {root / rel}: it could not be read.",
                stacklevel=3,
            )
    return meta, arrays


def load_stamps(stamp_dir=None, cache_dir=None, max_side=64):
    """The usable Tux Paint stamps, named, cropped and shrunk.

    A stamp is usable when its description reduces to a name
    (`stamp_name`), its PNG can be read, its alpha bounding box is at least
    `MIN_SIDE` pixels on both sides, it is not see-through (`MIN_OPAQUE`),
    and it is not a greyscale drawing
    flagged `colorable` or `tintable` (Tux Paint paints those in the user's
    colour; as they are they would be grey shapes). A stamp may be mirrored
    (`mirror=True`) unless flagged `nomirror` or shipped with its own
    `<stem>_mirror.png` (drawings with text or a handedness). The first
    call reads every PNG (a few seconds) and writes
    `<cache>/tux_paint_stamps/<max_side>/stamps.npz` atomically; later calls
    read that file while the list of stamp files (names, sizes, times) is
    unchanged.

    Args:
        stamp_dir: the stamp folder; `$RNN_ZOO_STAMP_DIR`, then
            `DEFAULT_STAMP_DIR` when `None`.
        cache_dir: the cache folder (see `zoo.datasets.resolve_cache_dir`).
        max_side: the longest side of the stored drawings, in pixels
            (drawings are shrunk in premultiplied alpha with a box filter,
            never enlarged).

    Returns:
        A list of `Stamp` records (`path` relative to the stamp folder,
        `name`, `category` (top folder), `mirror`, `rgba`: uint8
        `(height, width, 4)`, premultiplied alpha), sorted by path.

    Example:

    ```python
    stamps = load_stamps()
    goat = next(s for s in stamps if s.name == "goat")
    goat.path  # "animals/mammals/bovines/goat.png"
    ```
    """
    meta, arrays = _load(stamp_dir, cache_dir, max_side)
    return [
        Stamp(
            path=r["path"],
            name=r["name"],
            category=r["category"],
            mirror=bool(r["mirror"]),
            rgba=a,
        )
        for r, a in zip(meta["records"], arrays)
    ]


def stamp_statistics(stamp_dir=None, cache_dir=None, max_side=64):
    """How many stamps each step of `load_stamps` keeps or drops.

    Args:
        stamp_dir: as for `load_stamps`.
        cache_dir: as for `load_stamps`.
        max_side: as for `load_stamps` (the counts do not depend on it).

    Returns:
        A dict: `png_files` (all PNGs), `with_description` (with a `.txt`),
        `named_by_rule`, `named_by_alias`, `unnamed` (no name), `unreadable`,
        `tiny` (`MIN_SIDE`), `faint` (`MIN_OPAQUE`), `excluded_greyscale`,
        `usable`, `distinct_names`,
        `names_with_2_drawings` (names with at least two usable drawings).

    Example:

    ```python
    stamp_statistics()["usable"]
    ```
    """
    meta, _ = _load(stamp_dir, cache_dir, max_side)
    return dict(meta["statistics"])
