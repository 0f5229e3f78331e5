"""Item statistics against hand-computed values, and each worklist rule on its own."""

from __future__ import annotations

import math
import random

import pytest
from django.core.exceptions import ImproperlyConfigured
from scipy import stats as scipy_stats

from exams import item_analysis
from exams.item_analysis import ChoiceStats, ItemStats, Thresholds, worklist_reasons
from exams.models import Attempt, ProblemReport
from questions.models import QuestionVersion
from tests.exams.item_data import Answer, sit
from tests.factories import DomainFactory, ExamFactory, QuestionFactory, TaskStatementFactory

FULL, DRILL = Attempt.Mode.FULL, Attempt.Mode.DRILL


@pytest.fixture(autouse=True)
def fresh_statistics():
    """Every test reads its own history afresh (kept rows are per process)."""
    item_analysis.response_rows_forget()


@pytest.fixture
def small_exam(db):
    exam = ExamFactory(code="small", question_count=3)
    task = TaskStatementFactory(domain=DomainFactory(exam=exam, number=1))
    return exam, [QuestionFactory(external_id=f"q{i}", task=task) for i in (1, 2, 3)]


@pytest.fixture
def fixed_history(small_exam):
    """Five full mocks of three single-answer questions whose key is B.

    attempt  q1            q2  q3   total
    1        B 30 s        B   B    3
    2        B             A   B    2
    3        A 60 s, flag  B   B    2
    4        C 90 s, flag  A   D    0
    5        B             A   -    1
    """
    exam, (q1, q2, q3) = small_exam
    rows = [
        [Answer(q1, "B", seconds=30), Answer(q2, "B"), Answer(q3, "B")],
        [Answer(q1, "B"), Answer(q2, "A"), Answer(q3, "B")],
        [Answer(q1, "A", flagged=True, seconds=60), Answer(q2, "B"), Answer(q3, "B")],
        [Answer(q1, "C", flagged=True, seconds=90), Answer(q2, "A"), Answer(q3, "D")],
        [Answer(q1, "B"), Answer(q2, "A"), Answer(q3, "")],
    ]
    sit(exam, rows)
    return exam, (q1, q2, q3)


def by_question(stats: list[ItemStats], mode: str = FULL) -> dict[str, ItemStats]:
    return {s.external_id: s for s in stats if s.mode == mode}


def picks(s: ItemStats) -> dict[str, int]:
    return {c.letter: c.picks for c in s.choices}


def test_facility_is_the_share_answered_correctly(fixed_history):
    exam, _ = fixed_history
    s = by_question(item_analysis.item_statistics(exam=exam))
    assert (s["q1"].n, s["q1"].correct, s["q1"].facility) == (5, 3, 0.6)
    assert (s["q2"].correct, s["q2"].facility) == (2, 0.4)
    assert (s["q3"].correct, s["q3"].facility, s["q3"].omitted) == (3, 0.6, 1)


def test_discrimination_is_the_correlation_with_the_rest_of_the_mock(fixed_history):
    # q2: x = 1,0,1,0,0; rest y = 2,2,1,0,1: n=5 Σx=2 Σy=6 Σxy=3 Σy²=10
    #     r = (5·3 - 2·6) / √((5·2 - 4)(5·10 - 36)) = 3 / √84
    # q3: x = 1,1,1,0,0; y = 2,1,1,0,1: Σx=3 Σy=5 Σxy=4 Σy²=7 → r = 5 / √60
    # q1: x = 1,1,0,0,1; y = 2,1,2,0,0: Σx=3 Σy=5 Σxy=3 → numerator 15 - 15 = 0
    exam, _ = fixed_history
    s = by_question(item_analysis.item_statistics(exam=exam))
    assert s["q2"].discrimination == pytest.approx(3 / math.sqrt(84))
    assert s["q3"].discrimination == pytest.approx(5 / math.sqrt(60))
    assert s["q1"].discrimination == 0


def test_discrimination_agrees_with_scipy_pointbiserialr_on_the_same_data(fixed_history):
    exam, _ = fixed_history
    s = by_question(item_analysis.item_statistics(exam=exam))
    expected = scipy_stats.pointbiserialr([1, 1, 1, 0, 0], [2, 1, 1, 0, 1]).statistic
    assert s["q3"].discrimination == pytest.approx(expected)


def test_discrimination_agrees_with_scipy_on_a_random_history(small_exam):
    exam, questions = small_exam
    rng = random.Random(7)
    sheets = [[Answer(q, rng.choice("ABCD")) for q in questions] for _ in range(60)]
    sit(exam, sheets)
    s = by_question(item_analysis.item_statistics(exam=exam))
    for index, q in enumerate(questions):
        x = [int(sheet[index].letters == "B") for sheet in sheets]
        totals = [sum(a.letters == "B" for a in sheet) for sheet in sheets]
        y = [t - xi for t, xi in zip(totals, x, strict=True)]
        expected = scipy_stats.pointbiserialr(x, y).statistic
        assert s[q.external_id].discrimination == pytest.approx(expected), q.external_id


def test_choice_counts_count_each_pick_of_each_choice(fixed_history):
    exam, _ = fixed_history
    s = by_question(item_analysis.item_statistics(exam=exam))
    assert picks(s["q1"]) == {"A": 1, "B": 3, "C": 1, "D": 0}
    assert picks(s["q2"]) == {"A": 3, "B": 2, "C": 0, "D": 0}
    assert picks(s["q3"]) == {"A": 0, "B": 3, "C": 0, "D": 1}
    assert [c.share for c in s["q1"].choices] == [0.2, 0.6, 0.2, 0.0]
    assert [c.is_key for c in s["q1"].choices] == [False, True, False, False]


def test_multiple_response_picks_count_every_choice_picked(small_exam):
    exam, _ = small_exam
    multi = QuestionFactory(
        external_id="multi", type="multiple", select_count=2, task=exam.domains.get().tasks.get()
    )
    sit(exam, [[Answer(multi, "AB")], [Answer(multi, "AC")], [Answer(multi, "CE")]])
    s = by_question(item_analysis.item_statistics(exam=exam))["multi"]
    assert picks(s) == {"A": 2, "B": 1, "C": 2, "D": 0, "E": 1}
    assert (s.n, s.correct) == (3, 1)


def test_mean_time_is_over_the_responses_that_recorded_time(fixed_history):
    exam, _ = fixed_history
    q1 = by_question(item_analysis.item_statistics(exam=exam))["q1"]
    assert (q1.time_n, q1.time_total_seconds, q1.mean_time_seconds) == (3, 180, 60)
    q2 = by_question(item_analysis.item_statistics(exam=exam))["q2"]
    assert (q2.time_n, q2.mean_time_seconds) == (0, None)


def test_flagged_share_counts_flags_over_responses(fixed_history):
    exam, _ = fixed_history
    q1 = by_question(item_analysis.item_statistics(exam=exam))["q1"]
    assert (q1.flagged, q1.flagged_share) == (2, 0.4)


def test_upper_and_lower_groups_are_the_top_and_bottom_27_percent_by_score(fixed_history):
    # 27% of 5 responses is 1.35: one attempt each, the best (attempt 1, B on q1) and the
    # worst (attempt 4, C on q1).
    exam, _ = fixed_history
    q1 = by_question(item_analysis.item_statistics(exam=exam))["q1"]
    assert (q1.upper_n, q1.lower_n, q1.upper_correct, q1.lower_correct) == (1, 1, 1, 0)
    assert {c.letter: (c.upper_picks, c.lower_picks) for c in q1.choices} == {
        "A": (0, 0),
        "B": (1, 0),
        "C": (0, 1),
        "D": (0, 0),
    }
    assert q1.discrimination_index == 1.0


def test_abandoned_and_in_progress_attempts_count_nowhere(fixed_history):
    exam, (q1, _, _) = fixed_history
    sit(exam, [[Answer(q1, "D")]], status=Attempt.Status.ABANDONED)
    sit(exam, [[Answer(q1, "D")]], status=Attempt.Status.IN_PROGRESS)
    q1s = by_question(item_analysis.item_statistics(exam=exam))["q1"]
    assert (q1s.n, picks(q1s)["D"]) == (5, 0)


def test_full_mocks_and_drills_are_analysed_apart_and_missed_practice_not_at_all(fixed_history):
    exam, (q1, _, _) = fixed_history
    sit(exam, [[Answer(q1, "A", seconds=20)], [Answer(q1, "B")]], mode=DRILL)
    sit(exam, [[Answer(q1, "D")]], mode=Attempt.Mode.MISSED)
    both = item_analysis.item_statistics(exam=exam, modes=[FULL, DRILL])
    full, drill = by_question(both, FULL)["q1"], by_question(both, DRILL)["q1"]
    assert (full.n, full.correct, picks(full)["D"]) == (5, 3, 0)
    assert (drill.n, drill.correct, drill.mean_time_seconds) == (2, 1, 20)
    assert picks(drill) == {"A": 1, "B": 1, "C": 0, "D": 0}
    assert drill.discrimination is None  # correlation with the rest is for full mocks


def test_each_version_of_a_question_is_analysed_on_its_own(fixed_history):
    exam, (q1, _, _) = fixed_history
    old = q1.current_version
    new = QuestionVersion.objects.create(
        question=q1, number=2, stem="A clearer scenario.", explanation="Why."
    )
    for choice in old.choices.all():
        new.choices.create(position=choice.position, text=choice.text, is_correct=choice.is_correct)
    q1.current_version = new
    q1.save()
    sit(exam, [[Answer(q1, "B", version=new)]])
    rows = item_analysis.item_statistics(exam=exam)
    versions = {(s.external_id, s.version_number): s for s in rows}
    assert versions[("q1", 1)].n == 5 and not versions[("q1", 1)].is_current
    assert versions[("q1", 2)].n == 1 and versions[("q1", 2)].is_current
    current = item_analysis.item_statistics(exam=exam, current_only=True)
    assert [(s.external_id, s.version_number) for s in current] == [
        ("q1", 2),
        ("q2", 1),
        ("q3", 1),
    ]


def test_a_version_nobody_answered_is_listed_without_figures(small_exam):
    exam, _ = small_exam
    s = by_question(item_analysis.item_statistics(exam=exam))["q1"]
    assert (s.n, s.facility, s.discrimination, s.mean_time_seconds, s.reasons) == (
        0,
        None,
        None,
        None,
        [],
    )


def test_problem_reports_are_counted_open_and_in_all(fixed_history):
    exam, (q1, _, _) = fixed_history
    item = q1.attempt_items.first()
    common = {"question": q1, "version": q1.current_version, "kind": "wrong_key"}
    ProblemReport.objects.create(
        user=item.attempt.user, item=item, created_at=item.attempt.started_at, **common
    )
    other = q1.attempt_items.exclude(pk=item.pk).first()
    ProblemReport.objects.create(
        user=other.attempt.user,
        item=other,
        created_at=other.attempt.started_at,
        status="resolved",
        resolved_at=other.attempt.started_at,
        **common,
    )
    s = by_question(item_analysis.item_statistics(exam=exam))["q1"]
    assert (s.reports_open, s.reports_total) == (1, 2)
    assert [r.code for r in s.reasons] == ["reported"]


def test_statistics_take_five_queries_whatever_the_history(small_exam, django_assert_num_queries):
    exam, questions = small_exam
    sit(exam, [[Answer(q, "B") for q in questions]] * 2)
    with django_assert_num_queries(5):
        item_analysis.item_statistics(exam=exam, modes=[FULL, DRILL])
    rng = random.Random(3)
    sit(exam, [[Answer(q, rng.choice("ABCD")) for q in questions] for _ in range(80)])
    sit(exam, [[Answer(q, rng.choice("ABCD")) for q in questions] for _ in range(20)], mode=DRILL)
    with django_assert_num_queries(5):
        stats = item_analysis.item_statistics(exam=exam, modes=[FULL, DRILL])
    assert sum(s.n for s in stats) == 3 * (82 + 20)


def test_asked_again_the_statistics_reuse_the_grouped_responses(
    small_exam, django_assert_num_queries
):
    exam, questions = small_exam
    sit(exam, [[Answer(q, "B") for q in questions]] * 3)
    first = item_analysis.item_statistics(exam=exam)
    with django_assert_num_queries(4):
        again = item_analysis.item_statistics(exam=exam)
    assert [(s.version_id, s.n, s.correct) for s in again] == [
        (s.version_id, s.n, s.correct) for s in first
    ]


def test_a_new_submission_is_counted_at_once(small_exam):
    exam, (q1, _, _) = small_exam
    sit(exam, [[Answer(q1, "B")]])
    assert by_question(item_analysis.item_statistics(exam=exam))["q1"].n == 1
    sit(exam, [[Answer(q1, "A")]])
    q1s = by_question(item_analysis.item_statistics(exam=exam))["q1"]
    assert (q1s.n, q1s.correct) == (2, 1)


def test_kept_responses_are_read_afresh_once_too_old(
    small_exam, monkeypatch, django_assert_num_queries
):
    exam, questions = small_exam
    sit(exam, [[Answer(q, "B") for q in questions]])
    item_analysis.item_statistics(exam=exam)
    monkeypatch.setattr(item_analysis, "RESPONSE_ROWS_SECONDS", 0)
    with django_assert_num_queries(5):
        item_analysis.item_statistics(exam=exam)


def test_an_unknown_mode_is_refused(small_exam):
    exam, _ = small_exam
    with pytest.raises(ValueError):
        item_analysis.item_statistics(exam=exam, modes=[Attempt.Mode.MISSED])


def test_thresholds_come_from_settings(settings):
    settings.ITEM_ANALYSIS = {"min_sample": 50, "too_easy": 0.95}
    limits = item_analysis.thresholds()
    assert (limits.min_sample, limits.too_easy, limits.too_hard) == (50, 0.95, 0.20)


@pytest.mark.parametrize(
    "overrides", [{"min_smaple": 10}, {"too_easy": "high"}, {"min_sample": 2.5}]
)
def test_a_bad_threshold_setting_is_refused(settings, overrides):
    settings.ITEM_ANALYSIS = overrides
    with pytest.raises(ImproperlyConfigured):
        item_analysis.thresholds()


# Worklist rules on statistics built to trigger each one: with n at the minimum sample it
# fires; with the minimum one above n it does not.


def stats_with(
    *,
    n: int = 40,
    correct: int = 24,
    picks: tuple[int, ...] = (8, 24, 4, 4),
    upper: tuple[int, ...] = (1, 8, 1, 0),
    discrimination: float | None = 0.35,
    flagged: int = 2,
    reports_open: int = 0,
    keys: tuple[int, ...] = (1,),
) -> ItemStats:
    s = ItemStats(
        version_id=1,
        question_id=1,
        external_id="q",
        version_number=1,
        is_current=True,
        question_status="active",
        domain_number=1,
        domain_name="Domain",
        task_code="1.1",
        task_name="Task",
        mode=FULL,
        n=n,
        correct=correct,
        flagged=flagged,
        upper_n=n * 27 // 100,
        lower_n=n * 27 // 100,
        discrimination=discrimination,
        reports_open=reports_open,
        reports_total=reports_open,
    )
    for position, (p, u) in enumerate(zip(picks, upper, strict=True)):
        s.choices.append(
            ChoiceStats(
                choice_id=position,
                position=position,
                text=f"Option {position}",
                is_key=position in keys,
                picks=p,
                upper_picks=u,
                share=p / n,
            )
        )
    return s


def codes(s: ItemStats, min_sample: int) -> list[str]:
    return [r.code for r in worklist_reasons(s, Thresholds(min_sample=min_sample))]


def test_a_sound_question_has_no_reason():
    assert codes(stats_with(), 40) == []


RULES = {
    "wrong_key": {"discrimination": -0.15},
    "poor_discrimination": {"discrimination": 0.12},
    "too_easy": {"correct": 38, "picks": (2, 38, 2, 2)},
    "too_hard": {"correct": 6, "picks": (14, 6, 10, 10)},
    "dead_distractor": {"picks": (14, 24, 1, 1)},
    "flagged": {"flagged": 13},
}


@pytest.mark.parametrize("code", RULES)
def test_each_rule_fires_at_the_minimum_sample(code):
    assert code in codes(stats_with(**RULES[code]), 40)


@pytest.mark.parametrize("code", RULES)
def test_no_rule_fires_below_the_minimum_sample(code):
    assert codes(stats_with(**RULES[code]), 41) == []


def test_a_distractor_the_strongest_candidates_prefer_marks_a_likely_wrong_key():
    s = stats_with(upper=(7, 3, 0, 0))
    reasons = worklist_reasons(s, Thresholds(min_sample=40))
    assert [r.code for r in reasons] == ["wrong_key"]
    assert "picked distractor A (7) more often than the key B (3)" in reasons[0].text
    assert codes(s, 41) == []


def test_on_multiple_response_a_distractor_beating_the_least_picked_key_is_marked():
    s = stats_with(picks=(20, 24, 30, 4), upper=(9, 8, 10, 0), keys=(1, 2))
    assert "wrong_key" in codes(s, 40)
    assert "wrong_key" not in codes(stats_with(upper=(7, 8, 10, 0), keys=(1, 2)), 40)


def test_reasons_say_the_figures_in_words():
    texts = [r.text for r in worklist_reasons(stats_with(**RULES["too_easy"]), Thresholds())]
    assert texts == ["Too easy: 95% answered correctly (38 of 40), above 90%."]


def test_an_open_report_marks_the_question_whatever_the_sample():
    assert codes(stats_with(n=3, correct=1, picks=(1, 1, 1, 0), reports_open=1), 30) == ["reported"]
    assert codes(stats_with(n=3, correct=1, picks=(1, 1, 1, 0), reports_open=0), 30) == []


def test_the_rules_fire_on_a_real_history_only_once_the_sample_is_reached(small_exam):
    # Strong candidates (right on q2 and q3) answer q1 with C, weak ones with B (the key):
    # a negative discrimination and a distractor the upper group prefers.
    exam, (q1, q2, q3) = small_exam
    strong = [[Answer(q1, "C"), Answer(q2, "B"), Answer(q3, "B")]] * 6
    weak = [[Answer(q1, "B"), Answer(q2, "A"), Answer(q3, "A")]] * 4
    sit(exam, strong + weak)
    at = by_question(item_analysis.item_statistics(exam=exam, limits=Thresholds(min_sample=10)))
    below = by_question(item_analysis.item_statistics(exam=exam, limits=Thresholds(min_sample=11)))
    assert at["q1"].discrimination == pytest.approx(-1.0)
    assert "wrong_key" in [r.code for r in at["q1"].reasons]
    assert below["q1"].reasons == []
