from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exams.scoring import (
    ItemOutcome,
    allocate_quotas,
    allocate_quotas_capped,
    item_is_correct,
    meets,
    score_items,
)


def test_the_mls_c01_weights_give_13_16_23_13():
    assert allocate_quotas(65, {1: 20, 2: 24, 3: 36, 4: 20}) == {1: 13, 2: 16, 3: 23, 4: 13}


@pytest.mark.parametrize(
    ("count", "weights", "expected"),
    [
        (10, {"a": 20, "b": 24, "c": 36, "d": 20}, {"a": 2, "b": 2, "c": 4, "d": 2}),
        (
            5,
            {"a": 1, "b": 1, "c": 1},
            {"a": 2, "b": 2, "c": 1},
        ),  # ties go to the key that comes first
        (7, {"a": 50, "b": 50}, {"a": 4, "b": 3}),
        (0, {"a": 20, "b": 80}, {"a": 0, "b": 0}),
        (3, {"a": 0, "b": 100}, {"a": 0, "b": 3}),
    ],
)
def test_quotas_for_chosen_cases(count, weights, expected):
    assert allocate_quotas(count, weights) == expected


@given(
    count=st.integers(min_value=0, max_value=500),
    weights=st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=12).filter(any),
)
def test_quotas_always_sum_to_the_count_and_stay_within_one_of_the_exact_share(count, weights):
    keyed = dict(enumerate(weights))
    quotas = allocate_quotas(count, keyed)
    assert sum(quotas.values()) == count
    total = sum(weights)
    for key, weight in keyed.items():
        share = Fraction(weight * count, total)
        assert share - 1 < quotas[key] < share + 1
        if weight == 0:
            assert quotas[key] == 0


def test_quotas_refuse_impossible_input():
    with pytest.raises(ValueError):
        allocate_quotas(5, {})
    with pytest.raises(ValueError):
        allocate_quotas(5, {"a": 0})
    with pytest.raises(ValueError):
        allocate_quotas(-1, {"a": 1})


@pytest.mark.parametrize(
    ("selected", "correct", "expected"),
    [
        ({1}, {1}, True),  # single, right
        ({2}, {1}, False),  # single, wrong
        ({1, 2}, {1, 2}, True),  # multiple, exact
        ({1}, {1, 2}, False),  # multiple, partial: no partial credit
        ({1, 3}, {1, 2}, False),  # multiple, one right one wrong
        (set(), {1}, False),  # unanswered
    ],
)
def test_an_item_is_correct_only_when_the_sets_match(selected, correct, expected):
    assert item_is_correct(selected, correct) is expected


def test_the_pass_mark_uses_exact_arithmetic():
    assert meets(49, 65, 75)  # 75.4%
    assert not meets(48, 65, 75)  # 73.8%
    assert meets(3, 4, 75)
    assert not meets(0, 0, 75)


def outcome(domain: int, task: str, right: bool, *, flagged=False, answered=True) -> ItemOutcome:
    return ItemOutcome(
        domain,
        f"Domain {domain}",
        task,
        f"Task {task}",
        selected=frozenset({1} if right else ({2} if answered else set())),
        correct=frozenset({1}),
        flagged=flagged,
    )


def test_score_items_breaks_the_score_down_by_domain_and_task():
    items = [
        outcome(1, "1.1", True),
        outcome(1, "1.2", True),
        outcome(1, "1.2", True),
        outcome(1, "1.1", False, flagged=True),
        outcome(2, "2.1", True),
        outcome(2, "2.1", False, answered=False),
    ]
    result = score_items(items, pass_mark_percent=75)
    assert (result["correct"], result["total"], result["percent"], result["passed"]) == (
        4,
        6,
        66.7,
        False,
    )
    assert (result["answered"], result["flagged"]) == (5, 1)
    assert [
        (d["number"], d["correct"], d["total"], d["percent"], d["meets"]) for d in result["domains"]
    ] == [
        (1, 3, 4, 75.0, True),
        (2, 1, 2, 50.0, False),
    ]
    assert [(t["code"], t["correct"], t["total"]) for t in result["tasks"]] == [
        ("1.1", 1, 2),
        ("1.2", 2, 2),
        ("2.1", 1, 2),
    ]


def test_tasks_sort_by_number_not_text():
    items = [outcome(3, "3.10", True), outcome(3, "3.2", True)]
    assert [t["code"] for t in score_items(items, pass_mark_percent=75)["tasks"]] == ["3.2", "3.10"]


@given(
    data=st.lists(
        st.tuples(st.integers(min_value=1, max_value=100), st.integers(min_value=0, max_value=40)),
        min_size=1,
        max_size=6,
    ),
    fraction=st.floats(min_value=0, max_value=1),
)
def test_capped_quotas_fill_the_count_without_passing_any_capacity(data, fraction):
    weights = {i: w for i, (w, _) in enumerate(data)}
    capacity = {i: c for i, (_, c) in enumerate(data)}
    count = int(sum(capacity.values()) * fraction)
    quotas = allocate_quotas_capped(count, weights, capacity)
    assert sum(quotas.values()) == count
    assert all(0 <= quotas[k] <= capacity[k] for k in weights)


def test_capped_quotas_follow_the_weights_when_nothing_is_full():
    assert allocate_quotas_capped(
        65, {1: 20, 2: 24, 3: 36, 4: 20}, dict.fromkeys(range(1, 5), 100)
    ) == {
        1: 13,
        2: 16,
        3: 23,
        4: 13,
    }


def test_what_a_full_key_cannot_take_goes_to_the_others():
    assert allocate_quotas_capped(20, {"a": 50, "b": 50}, {"a": 3, "b": 100}) == {"a": 3, "b": 17}


def test_capped_quotas_refuse_more_than_the_capacity():
    with pytest.raises(ValueError):
        allocate_quotas_capped(10, {"a": 1, "b": 1}, {"a": 3, "b": 4})
