import pytest

from zoo.datasets import assign_groups
from zoo.datasets import split_records

FRACTIONS = {"train": 0.7, "validation": 0.1, "test": 0.2}


def test_assign_groups_is_deterministic_and_proportional():
    groups = [f"film_{i}" for i in range(100)] * 3
    a = assign_groups(groups, FRACTIONS, salt="s")
    b = assign_groups(list(reversed(groups)), FRACTIONS, salt="s")
    assert a == b
    counts = {name: sum(1 for s in a.values() if s == name) for name in FRACTIONS}
    assert counts == {"train": 70, "validation": 10, "test": 20}
    assert assign_groups(groups, FRACTIONS, salt="other") != a


def test_assign_groups_last_split_takes_remainder():
    a = assign_groups(["a", "b", "c"], {"train": 0.5, "test": 0.5})
    assert sorted(a) == ["a", "b", "c"]
    assert set(a.values()) <= {"train", "test"}


@pytest.mark.parametrize(
    "fractions", [{}, {"train": 0.7, "test": 0.2}, {"train": 1.2, "test": -0.2}]
)
def test_assign_groups_rejects_bad_fractions(fractions):
    with pytest.raises(ValueError, match=r"Received: fractions="):
        assign_groups(["a"], fractions)


def test_split_records_keeps_first_occurrence():
    records = [
        ("train", "x"),
        ("test", "y"),
        ("test", "x"),  # already in train: dropped
        ("train", "y"),  # already in test: dropped
        ("train", "x"),  # repeat inside train: dropped
        ("validation", "z"),
    ]
    splits, dropped = split_records(
        records, split_of=lambda r: r[0], dedupe_key=lambda r: r[1]
    )
    assert dropped == 3
    assert splits == {
        "train": [("train", "x")],
        "test": [("test", "y")],
        "validation": [("validation", "z")],
    }
    splits, dropped = split_records(records, split_of=lambda r: r[0])
    assert dropped == 0 and len(splits["train"]) == 3
