"""The versions migration: every existing question becomes version 1 of itself, its
choices keep their ids, and every existing attempt item pins that version."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("questions", "0001_initial"), ("exams", "0001_initial")]
AFTER = [("questions", "0004_versions_final"), ("exams", "0004_versions_final")]


@pytest.mark.django_db(transaction=True)
def test_existing_questions_and_attempts_move_to_version_1():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Exam = old.get_model("questions", "Exam")
    Domain = old.get_model("questions", "Domain")
    Task = old.get_model("questions", "TaskStatement")
    Question = old.get_model("questions", "Question")
    Choice = old.get_model("questions", "Choice")
    Attempt = old.get_model("exams", "Attempt")
    Item = old.get_model("exams", "AttemptItem")
    User = old.get_model("auth", "User")

    exam = Exam.objects.create(
        code="mls-c01", name="MLS", question_count=1, minutes=10, pass_mark_percent=75
    )
    domain = Domain.objects.create(exam=exam, number=1, name="D1", weight_percent=100)
    task = Task.objects.create(domain=domain, code="1.1", name="T")
    question = Question.objects.create(
        external_id="q-1", task=task, type="multiple", select_count=2, stem="S", explanation="E"
    )
    choices = [
        Choice.objects.create(question=question, position=i, text=f"c{i}", is_correct=i < 2)
        for i in range(5)
    ]
    user = User.objects.create(username="alice")
    now = timezone.now()
    attempt = Attempt.objects.create(
        user=user, exam=exam, question_count=1, pass_mark_percent=75, started_at=now
    )
    chosen = [choices[1].pk, choices[0].pk]
    Item.objects.create(
        attempt=attempt,
        question=question,
        position=1,
        choice_order=[c.pk for c in choices],
        selected=chosen,
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Question = new.get_model("questions", "Question")
    Item = new.get_model("exams", "AttemptItem")

    migrated = Question.objects.get(external_id="q-1")
    version = migrated.current_version
    assert (version.number, version.type, version.select_count, version.stem) == (
        1,
        "multiple",
        2,
        "S",
    )
    assert sorted(version.choices.values_list("pk", flat=True)) == sorted(c.pk for c in choices)
    assert set(version.choices.filter(is_correct=True).values_list("pk", flat=True)) == {
        choices[0].pk,
        choices[1].pk,
    }
    item = Item.objects.get()
    assert item.version_id == version.pk
    assert item.selected == chosen
    assert item.revision == 0
    # Leave the database as every other test expects it: fully migrated.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
