"""factory_boy factories for every model."""

from __future__ import annotations

import factory
from django.contrib.auth.models import User
from django.utils import timezone

from exams.models import Attempt, AttemptItem
from questions.models import Choice, Domain, Exam, Question, QuestionVersion, Tag, TaskStatement


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class ExamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exam

    code = factory.Sequence(lambda n: f"exam-{n}")
    name = factory.LazyAttribute(lambda e: f"Exam {e.code}")
    question_count = 10
    minutes = 30
    pass_mark_percent = 75


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain

    exam = factory.SubFactory(ExamFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda d: f"Domain {d.number}")
    weight_percent = 100


class TaskStatementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskStatement

    domain = factory.SubFactory(DomainFactory)
    code = factory.LazyAttributeSequence(lambda t, n: f"{t.domain.number}.{n + 1}")
    name = factory.LazyAttribute(lambda t: f"Task {t.code}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"tag-{n}")


QUESTION_CONTENT = ("type", "select_count", "stem", "explanation", "references")


class QuestionFactory(factory.django.DjangoModelFactory):
    """A valid single-answer question with four choices, the second one correct, at
    version 1.

    `QuestionFactory(type="multiple", select_count=2)` marks the first two correct
    of five choices; `choices=[(text, correct), ...]` gives them explicitly.
    """

    class Meta:
        model = Question
        skip_postgeneration_save = True

    external_id = factory.Sequence(lambda n: f"q-{n:05d}")
    task = factory.SubFactory(TaskStatementFactory)
    difficulty = 2
    # Content of version 1 (not fields of Question): taken out in _create.
    type = Question.Type.SINGLE
    select_count = 1
    stem = factory.LazyAttribute(lambda q: f"Scenario for {q.external_id}: which option fits best?")
    explanation = factory.LazyAttribute(lambda q: f"Why the key of {q.external_id} is right.")
    references = ()

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        content = {k: kwargs.pop(k) for k in QUESTION_CONTENT}
        question = super()._create(model_class, *args, **kwargs)
        question._content = content
        return question

    @factory.post_generation
    def choices(self, create, extracted, **kwargs):
        if not create:
            return
        params = self._content
        if extracted is not None:
            rows = extracted
        elif params["type"] == Question.Type.MULTIPLE:
            rows = [
                (f"Option {i} of {self.external_id}", i < params["select_count"]) for i in range(5)
            ]
        else:
            rows = [(f"Option {i} of {self.external_id}", i == 1) for i in range(4)]
        version = QuestionVersion.objects.create(
            question=self,
            number=1,
            type=params["type"],
            select_count=params["select_count"],
            stem=params["stem"],
            explanation=params["explanation"],
            references=list(params["references"]),
        )
        Choice.objects.bulk_create(
            Choice(
                version=version,
                position=i,
                text=text,
                is_correct=correct,
                rationale=f"Rationale {i}",
            )
            for i, (text, correct) in enumerate(rows)
        )
        self.current_version = version
        Question.objects.filter(pk=self.pk).update(current_version=version)


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Choice

    version = factory.LazyAttribute(lambda c: QuestionFactory(choices=[]).current_version)
    position = factory.Sequence(lambda n: n % 6)
    text = factory.Sequence(lambda n: f"Choice text {n}")
    is_correct = False


class AttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attempt

    user = factory.SubFactory(UserFactory)
    exam = factory.SubFactory(ExamFactory)
    mode = Attempt.Mode.FULL
    question_count = factory.LazyAttribute(lambda a: a.exam.question_count)
    pass_mark_percent = factory.LazyAttribute(lambda a: a.exam.pass_mark_percent)
    started_at = factory.LazyFunction(timezone.now)
    deadline = factory.LazyAttribute(
        lambda a: a.started_at + timezone.timedelta(minutes=a.exam.minutes)
    )


class AttemptItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AttemptItem

    attempt = factory.SubFactory(AttemptFactory)
    question = factory.SubFactory(QuestionFactory)
    version = factory.LazyAttribute(lambda i: i.question.current_version)
    position = factory.Sequence(lambda n: n + 1)
    choice_order = factory.LazyAttribute(
        lambda i: list(i.version.choices.values_list("id", flat=True))
    )
