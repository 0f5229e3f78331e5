"""The question bank that ships in fixtures/questions."""

from __future__ import annotations

import re
import statistics
from collections import Counter

import pytest
import yaml

from exams.scoring import allocate_quotas
from questions.bankfile import BlueprintIndex, parse_files
from questions.models import Question
from questions.services import bank_load
from tests.conftest import BLUEPRINT, QUESTIONS

MOCKS_WITHOUT_REPEATS = 10  # a candidate can sit this many full mocks and meet no question twice
MIN_PER_TASK = 25


@pytest.fixture
def loaded(exam):
    return bank_load(paths=[QUESTIONS])


def test_every_shipped_question_is_valid_and_loads(loaded):
    assert loaded.created == Question.objects.count() > 0
    assert loaded.new_versions == loaded.metadata_updated == loaded.unchanged == 0


def test_loading_the_bank_again_changes_nothing(exam, loaded):
    again = bank_load(paths=[QUESTIONS])
    assert (again.created, again.new_versions, again.metadata_updated, again.unchanged) == (
        0,
        0,
        0,
        loaded.created,
    )


def test_each_domain_holds_ten_full_mocks_without_a_repeat(exam, loaded):
    quotas = allocate_quotas(
        exam.question_count, {d.number: d.weight_percent for d in exam.domains.all()}
    )
    held = Counter(
        Question.objects.filter(status="active").values_list("task__domain__number", flat=True)
    )
    for number, quota in quotas.items():
        assert held[number] >= MOCKS_WITHOUT_REPEATS * quota, (
            f"domain {number}: {held[number]} < {MOCKS_WITHOUT_REPEATS} x {quota}"
        )


def test_every_task_statement_is_covered(exam, loaded):
    held = Counter(Question.objects.values_list("task__code", flat=True))
    for task in exam.domains.values_list("tasks__code", flat=True):
        assert held[task] >= MIN_PER_TASK, f"task {task}: {held[task]} questions"


def test_multiple_response_questions_say_how_many_to_choose(loaded):
    multiple = Question.objects.filter(current_version__type="multiple").select_related(
        "current_version"
    )
    assert multiple.exists()
    for q in multiple:
        v = q.current_version
        word = {2: "two", 3: "three"}.get(v.select_count, str(v.select_count))
        assert f"Choose {word}" in " ".join(v.stem.split()), q.external_id


# What the bank must hold per domain to prepare for the real exam (the question guide):
# at least this many active questions, and the balance figures below.
DOMAIN_MINIMUM = {1: 150, 2: 180, 3: 260, 4: 150}
QUALIFIER = re.compile(
    r"\b(most|least|lowest|fewest|minimal|minimum|minimize|fastest|quickest|cheapest|smallest|"
    r"best meets|highest)\b",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def shipped() -> list[dict]:
    """Every active question of the shipped files, validated by the loader's own parser
    (no database: the blueprint index comes from the blueprint file)."""
    blueprint = yaml.safe_load(BLUEPRINT.read_text())
    index = BlueprintIndex(
        exams={
            blueprint["code"]: {
                d["number"]: frozenset(t["code"] for t in d["tasks"]) for d in blueprint["domains"]
            }
        }
    )
    questions, problems = parse_files([QUESTIONS], blueprint=index)
    assert problems == []
    return [data for _, _, data in questions if data.get("status", "active") == "active"]


def of_domain(shipped: list[dict], domain: int) -> list[dict]:
    return [q for q in shipped if q["domain"] == domain]


def key_positions(question: dict) -> set[int]:
    return {i for i, c in enumerate(question["choices"]) if c.get("correct")}


@pytest.mark.parametrize("domain", sorted(DOMAIN_MINIMUM))
class TestEachDomainMeetsTheGuide:
    def test_it_holds_enough_active_questions(self, shipped, domain):
        assert len(of_domain(shipped, domain)) >= DOMAIN_MINIMUM[domain]

    def test_question_shapes_and_multiple_response_share(self, shipped, domain):
        questions = of_domain(shipped, domain)
        for q in questions:
            expected = (4,) if q["type"] == "single" else (5, 6)
            assert len(q["choices"]) in expected, q["id"]
        share = sum(q["type"] == "multiple" for q in questions) / len(questions)
        assert 0.15 <= share <= 0.25, share

    def test_keys_are_spread_and_not_given_away_by_length(self, shipped, domain):
        singles = [q for q in of_domain(shipped, domain) if q["type"] == "single"]
        positions = Counter(min(key_positions(q)) for q in singles)
        for position in range(4):
            assert 0.20 <= positions[position] / len(singles) <= 0.30, positions

        def longest(q: dict, n: int) -> set[int]:
            lengths = sorted(range(len(q["choices"])), key=lambda i: -len(q["choices"][i]["text"]))
            return set(lengths[:n])

        assert sum(longest(q, 1) == key_positions(q) for q in singles) / len(singles) <= 0.30
        multiples = [q for q in of_domain(shipped, domain) if q["type"] == "multiple"]
        exactly = sum(longest(q, q["select"]) == key_positions(q) for q in multiples)
        assert exactly / len(multiples) <= 0.20

    def test_difficulty_one_is_rare(self, shipped, domain):
        questions = of_domain(shipped, domain)
        assert sum(q["difficulty"] == 1 for q in questions) / len(questions) <= 0.15

    def test_every_question_cites_documentation(self, shipped, domain):
        for q in of_domain(shipped, domain):
            assert any(r.startswith("https://") for r in q.get("references", [])), q["id"]

    def test_scenarios_with_a_qualifier_dominate(self, shipped, domain):
        questions = of_domain(shipped, domain)
        assert sum(bool(QUALIFIER.search(q["stem"])) for q in questions) / len(questions) >= 0.70
        assert 60 <= statistics.median(len(q["stem"].split()) for q in questions) <= 120
