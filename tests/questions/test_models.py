from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from questions.models import Choice, Question
from tests.factories import (
    ChoiceFactory,
    DomainFactory,
    ExamFactory,
    QuestionFactory,
    TaskStatementFactory,
)


def violates(name: str, make) -> None:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        make()
    message = str(caught.value)
    # PostgreSQL and SQLite name a failed CHECK; SQLite names the columns of a failed UNIQUE.
    assert name in message or message.startswith("UNIQUE constraint failed"), message


@pytest.mark.django_db
class TestQuestionConstraints:
    def test_difficulty_is_1_to_3(self):
        violates("question_difficulty_1_to_3", lambda: QuestionFactory(difficulty=4))

    def test_a_single_answer_question_selects_one(self):
        violates(
            "version_select_count_matches_type",
            lambda: QuestionFactory(type="single", select_count=2),
        )

    def test_a_multiple_response_question_selects_at_least_two(self):
        violates(
            "version_select_count_matches_type",
            lambda: QuestionFactory(type="multiple", select_count=1),
        )

    def test_explanation_is_required(self):
        violates("version_explanation_not_empty", lambda: QuestionFactory(explanation=""))

    def test_external_id_is_unique(self):
        QuestionFactory(external_id="same")
        violates("external_id", lambda: QuestionFactory(external_id="same"))

    def test_a_valid_question_saves(self):
        q = QuestionFactory(type="multiple", select_count=2)
        assert q.current_version.choices.filter(is_correct=True).count() == 2


@pytest.mark.django_db
class TestChoiceConstraints:
    def test_positions_are_unique_per_version(self):
        v = QuestionFactory().current_version
        violates(
            "choice_position_unique_per_version",
            lambda: Choice.objects.create(version=v, position=0, text="new"),
        )

    def test_texts_are_unique_per_version(self):
        v = QuestionFactory().current_version
        violates(
            "choice_text_unique_per_version",
            lambda: Choice.objects.create(version=v, position=5, text=v.choices.first().text),
        )

    def test_at_most_six_positions(self):
        violates("choice_position_below_max", lambda: ChoiceFactory(position=6))


@pytest.mark.django_db
class TestBlueprintConstraints:
    def test_domain_numbers_are_unique_per_exam(self):
        exam = ExamFactory()
        DomainFactory(exam=exam, number=1)
        violates("domain_number_unique_per_exam", lambda: DomainFactory(exam=exam, number=1))

    def test_weights_are_percentages(self):
        violates("domain_weight_is_a_percent", lambda: DomainFactory(weight_percent=0))

    def test_pass_mark_is_a_percentage(self):
        violates("exam_pass_mark_is_a_percent", lambda: ExamFactory(pass_mark_percent=101))

    def test_task_codes_are_unique_per_domain(self):
        task = TaskStatementFactory()
        violates(
            "task_code_unique_per_domain",
            lambda: TaskStatementFactory(domain=task.domain, code=task.code),
        )


@pytest.mark.django_db
def test_a_question_that_was_asked_cannot_be_deleted():
    from tests.factories import AttemptItemFactory

    item = AttemptItemFactory()
    with pytest.raises(Exception, match="protected"):
        Question.objects.filter(pk=item.question_id).delete()
