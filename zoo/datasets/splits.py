"""Deterministic, group-aware train / validation / test splits.

Used by dataset builders that have to cut their own splits: whole groups
(a film, a product, a speaker) go to one split, so that nothing about a
group leaks from training into evaluation, and the assignment depends only
on the group names and a salt (never on Python's salted `hash`, the order of
the records, or a random state).
"""

import hashlib


def _check_fractions(fractions):
    names = list(fractions)
    values = list(fractions.values())
    if (
        not names
        or any(not isinstance(v, (int, float)) or v < 0 for v in values)
        or abs(sum(values) - 1.0) > 1e-6
    ):
        raise ValueError(
            "`fractions` must map split names to non-negative numbers that "
            f"sum to 1. Received: fractions={fractions!r}"
        )
    return names, values


def assign_groups(groups, fractions, salt=""):
    """Assign each distinct group to a split, deterministically.

    Groups are ordered by the sha256 of `salt + group` and cut into
    consecutive runs whose sizes are the rounded `fractions` of the number
    of distinct groups (the last split takes the remainder). The same groups
    and salt always give the same assignment, on any machine.

    Args:
        groups: an iterable of group names (strings; repeats are fine).
        fractions: an ordered mapping of split name to fraction of *groups*,
            e.g. `{"train": 0.7, "validation": 0.1, "test": 0.2}`.
        salt: a string mixed into the hash; change it to draw another split.

    Returns:
        A dict mapping each distinct group to its split name.

    Example:

    ```python
    assign_groups(["a", "b", "c", "a"], {"train": 0.5, "test": 0.5})
    # {"b": "train", "c": "train", "a": "test"}  (some fixed assignment)
    ```
    """
    names, values = _check_fractions(fractions)
    unique = sorted(
        set(groups),
        key=lambda g: hashlib.sha256(f"{salt}{g}".encode("utf-8")).hexdigest(),
    )
    total = len(unique)
    assignment = {}
    start = 0
    cumulative = 0.0
    for i, (name, value) in enumerate(zip(names, values)):
        cumulative += value
        stop = total if i == len(names) - 1 else round(cumulative * total)
        for group in unique[start:stop]:
            assignment[group] = name
        start = max(start, stop)
    return assignment


def split_records(records, split_of, dedupe_key=None):
    """Sort records into splits, keeping the first record of each key.

    Records are visited in order. With `dedupe_key`, only the first record
    with a given key is kept (so it fixes the split of that key) and every
    later record with the same key is dropped, whatever its split: no key
    appears in two splits, nor twice in one.

    Args:
        records: an iterable of records (any type).
        split_of: a function from a record to its split name.
        dedupe_key: an optional function from a record to a hashable key
            (e.g. the normalized text).

    Returns:
        A tuple `(splits, dropped)`: a dict from split name to the list of
        its records (in input order), and the number of records dropped.
    """
    splits = {}
    seen = set()
    dropped = 0
    for record in records:
        if dedupe_key is not None:
            key = dedupe_key(record)
            if key in seen:
                dropped += 1
                continue
            seen.add(key)
        splits.setdefault(split_of(record), []).append(record)
    return splits, dropped
