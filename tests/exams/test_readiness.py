"""Readiness that admits its uncertainty: Wilson intervals and a plain verdict."""

from __future__ import annotations

import random

import pytest

from exams import scoring, selectors, services
from questions.models import Choice
from tests.conftest import fill_bank

WEIGHTS = {1: 20, 2: 24, 3: 36, 4: 20}


def test_the_wilson_interval_matches_hand_computed_values():
    # 8 of 10: centre (8 + z²/2) / (10 + z²), half-width z·sqrt(pq/n + z²/4n²) / (1 + z²/n)
    # with z = 1.959964: 0.4902 to 0.9433.
    estimate = scoring.wilson_interval(8, 10)
    assert estimate.percent == 80
    assert estimate.low == pytest.approx(49.02, abs=0.01)
    assert estimate.high == pytest.approx(94.33, abs=0.01)
    assert estimate.questions == 10
    # 0 of 20 stays inside 0-100%: 0 to z²/(n + z²) = 16.11%.
    nothing = scoring.wilson_interval(0, 20)
    assert nothing.low == pytest.approx(0, abs=1e-9)
    assert nothing.high == pytest.approx(16.11, abs=0.01)
    assert scoring.wilson_interval(0, 0) is None


@pytest.mark.parametrize(
    ("counts", "verdict"),
    [
        ({1: (95, 100), 2: (95, 100), 3: (95, 100), 4: (95, 100)}, "ready"),
        ({1: (40, 100), 2: (40, 100), 3: (40, 100), 4: (40, 100)}, "not yet"),
        ({1: (75, 100), 2: (75, 100), 3: (75, 100), 4: (75, 100)}, "borderline"),
        ({1: (10, 10), 2: (10, 10), 3: (10, 10), 4: (3, 3)}, "not enough data"),
        ({1: (9, 9), 2: (9, 9), 3: (9, 9)}, "not enough data"),
    ],
)
def test_the_verdict(counts, verdict):
    assert scoring.readiness(counts, WEIGHTS, pass_mark=75).verdict == verdict


def test_overall_is_weighted_like_the_blueprint():
    counts = {1: (10, 10), 2: (0, 10), 3: (10, 10), 4: (10, 10)}
    result = scoring.readiness(counts, WEIGHTS, pass_mark=75)
    assert result.overall.percent == pytest.approx(76.0)  # (20 + 36 + 20) / 100
    low = sum(scoring.wilson_interval(*counts[n]).low * w for n, w in WEIGHTS.items()) / 100
    assert result.overall.low == pytest.approx(low)
    assert result.overall.questions == 40


def test_counts_come_from_the_latest_mocks_and_drills(alice, exam, django_assert_num_queries):
    fill_bank(exam, per_domain={1: 26, 2: 32, 3: 46, 4: 26})
    mock = services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(1))
    for item in mock.items.select_related("attempt", "version"):
        key = list(
            Choice.objects.filter(version=item.version, is_correct=True).values_list(
                "id", flat=True
            )
        )
        wrong = [c for c in item.choice_order if c not in key][:1]
        chosen = key if item.question.task.domain.number != 2 else wrong
        services.attempt_answer(item=item, choice_ids=chosen, revision=0)
    services.attempt_submit(attempt=mock)
    with django_assert_num_queries(1):
        counts = selectors.readiness_counts(user=alice, exam=exam)
    assert counts == {1: (13, 13), 2: (0, 16), 3: (23, 23), 4: (13, 13)}


def test_the_dashboard_and_progress_show_the_estimate(alice_client, alice, exam):
    fill_bank(exam)
    html = alice_client.get("/").content.decode()
    assert "Not enough data" in html
    mock = services.attempt_start_full_mock(user=alice, exam=exam, rng=random.Random(1))
    for item in mock.items.select_related("attempt", "version"):
        key = list(
            Choice.objects.filter(version=item.version, is_correct=True).values_list(
                "id", flat=True
            )
        )
        services.attempt_answer(item=item, choice_ids=key, revision=0)
    services.attempt_submit(attempt=mock)
    for url in ("/", "/progress/"):
        html = alice_client.get(url).content.decode()
        assert "Ready</strong>" in html and "rests on 65 questions" in html
