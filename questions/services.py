"""Loading the blueprint and the question bank, and exporting the bank back to files."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from questions.bankfile import BlueprintIndex, Problem, dump_file, parse_files
from questions.models import Choice, Domain, Exam, Question, Tag, TaskStatement

MSG_BLUEPRINT_WEIGHTS = "domain weights of exam {code!r} add up to {total}, not 100"
MSG_BLUEPRINT_KEYS = "blueprint needs the keys: {keys}"
MSG_BLUEPRINT_TASK_PREFIX = "task {task!r} must start with its domain number {number} and a dot"
MSG_BLUEPRINT_DUPLICATE = "{what} {value!r} appears more than once"
MSG_BLUEPRINT_NUMBER = "{what} must be a whole number from {low} to {high}"


class BlueprintError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class BankLoadError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the question files")


# --- blueprint -------------------------------------------------------------------------


def _check_number(problems: list[str], data: Mapping, key: str, low: int, high: int) -> None:
    value = data.get(key)
    if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
        problems.append(MSG_BLUEPRINT_NUMBER.format(what=key, low=low, high=high))


def blueprint_validate(data: Any) -> list[str]:
    """Every problem with a blueprint mapping (as in fixtures/blueprint/*.yaml)."""
    required = ("code", "name", "question_count", "minutes", "pass_mark_percent", "domains")
    if not isinstance(data, Mapping) or any(k not in data for k in required):
        return [MSG_BLUEPRINT_KEYS.format(keys=", ".join(required))]
    problems: list[str] = []
    _check_number(problems, data, "question_count", 1, 500)
    _check_number(problems, data, "minutes", 1, 1000)
    _check_number(problems, data, "pass_mark_percent", 1, 100)
    domains = data["domains"]
    if not isinstance(domains, list) or not domains:
        return [*problems, "domains must be a non-empty list"]
    numbers: set[int] = set()
    task_codes: set[str] = set()
    total = 0
    for domain in domains:
        if not isinstance(domain, Mapping) or any(
            k not in domain for k in ("number", "name", "weight", "tasks")
        ):
            problems.append("each domain needs number, name, weight and tasks")
            continue
        _check_number(problems, domain, "number", 1, 99)
        _check_number(problems, domain, "weight", 1, 100)
        number = domain["number"]
        if number in numbers:
            problems.append(MSG_BLUEPRINT_DUPLICATE.format(what="domain", value=number))
        numbers.add(number)
        if isinstance(domain["weight"], int):
            total += domain["weight"]
        for task in domain["tasks"] or []:
            code = str(task.get("code", "")) if isinstance(task, Mapping) else ""
            if not code or not isinstance(task.get("name"), str):
                problems.append(f"each task of domain {number} needs a code and a name")
                continue
            if not code.startswith(f"{number}."):
                problems.append(MSG_BLUEPRINT_TASK_PREFIX.format(task=code, number=number))
            if code in task_codes:
                problems.append(MSG_BLUEPRINT_DUPLICATE.format(what="task", value=code))
            task_codes.add(code)
    if total != 100:
        problems.append(MSG_BLUEPRINT_WEIGHTS.format(code=data["code"], total=total))
    return problems


@transaction.atomic
def blueprint_load(*, data: Mapping[str, Any]) -> Exam:
    """Create or update an exam's blueprint from its mapping form."""
    problems = blueprint_validate(data)
    if problems:
        raise BlueprintError(problems)
    exam, _ = Exam.objects.update_or_create(
        code=data["code"],
        defaults={
            "name": data["name"],
            "question_count": data["question_count"],
            "minutes": data["minutes"],
            "pass_mark_percent": data["pass_mark_percent"],
        },
    )
    for d in data["domains"]:
        domain, _ = Domain.objects.update_or_create(
            exam=exam,
            number=d["number"],
            defaults={"name": d["name"], "weight_percent": d["weight"]},
        )
        for t in d["tasks"]:
            TaskStatement.objects.update_or_create(
                domain=domain, code=str(t["code"]), defaults={"name": t["name"]}
            )
    return exam


def blueprint_load_file(*, path: Path) -> Exam:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BlueprintError([f"{path}: malformed YAML: {exc}"]) from exc
    return blueprint_load(data=data)


def blueprint_index() -> BlueprintIndex:
    exams: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for exam_code, number, task_code in TaskStatement.objects.values_list(
        "domain__exam__code", "domain__number", "code"
    ):
        exams[exam_code][number].add(task_code)
    for exam_code, number in Domain.objects.values_list("exam__code", "number"):
        exams[exam_code].setdefault(number, set())
    return BlueprintIndex(
        exams={e: {n: frozenset(t) for n, t in d.items()} for e, d in exams.items()}
    )


# --- question bank ---------------------------------------------------------------------


def question_as_data(question: Question) -> dict[str, Any]:
    """A stored question in file form (expects task__domain, choices and tags loaded)."""
    data: dict[str, Any] = {
        "id": question.external_id,
        "domain": question.task.domain.number,
        "task": question.task.code,
        "type": question.type,
    }
    if question.type == Question.Type.MULTIPLE:
        data["select"] = question.select_count
    choices = []
    for choice in sorted(question.choices.all(), key=lambda c: c.position):
        item: dict[str, Any] = {"text": choice.text}
        if choice.is_correct:
            item["correct"] = True
        if choice.rationale:
            item["why"] = choice.rationale
        choices.append(item)
    data.update(
        {
            "difficulty": question.difficulty,
            "tags": sorted(t.name for t in question.tags.all()),
            "stem": question.stem,
            "choices": choices,
            "explanation": question.explanation,
        }
    )
    return data


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0


def _questions_with_content():
    return Question.objects.select_related("task__domain__exam").prefetch_related("choices", "tags")


def bank_load(
    *, paths: Iterable[Path], dry_run: bool = False, retire_missing: bool = False
) -> LoadResult:
    """Validate every question in every file; load all of them, or nothing.

    Raises BankLoadError listing every problem found. Questions are matched by id:
    new ones are created, changed ones updated (choices are kept by position so past
    attempts keep pointing at them), identical ones left alone.
    """
    questions, problems = parse_files(paths, blueprint=blueprint_index())
    if problems:
        raise BankLoadError(problems)
    with transaction.atomic():
        result = _bank_upsert(questions, retire_missing=retire_missing)
        if dry_run:
            transaction.set_rollback(True)
    return result


def _bank_upsert(questions: list[tuple[str, dict]], *, retire_missing: bool) -> LoadResult:
    result = LoadResult()
    tasks = {
        (exam, code): task_id
        for exam, code, task_id in TaskStatement.objects.values_list(
            "domain__exam__code", "code", "id"
        )
    }
    existing = {
        q.external_id: q
        for q in _questions_with_content().filter(external_id__in=[d["id"] for _, d in questions])
    }
    tag_ids = _ensure_tags({t for _, d in questions for t in d["tags"]})

    to_create: list[tuple[Question, dict]] = []
    for exam, data in questions:
        current = existing.get(data["id"])
        if current is None:
            to_create.append((_question_from_data(data, task_id=tasks[(exam, data["task"])]), data))
            continue
        if question_as_data(current) == data and current.status == Question.Status.ACTIVE:
            result.unchanged += 1
            continue
        _question_update(current, data, task_id=tasks[(exam, data["task"])], tag_ids=tag_ids)
        result.updated += 1

    if to_create:
        Question.objects.bulk_create([q for q, _ in to_create])
        ids = dict(
            Question.objects.filter(
                external_id__in=[q.external_id for q, _ in to_create]
            ).values_list("external_id", "id")
        )
        Choice.objects.bulk_create(
            _choice(ids[data["id"]], position, c)
            for _, data in to_create
            for position, c in enumerate(data["choices"])
        )
        Question.tags.through.objects.bulk_create(
            Question.tags.through(question_id=ids[data["id"]], tag_id=tag_ids[t])
            for _, data in to_create
            for t in data["tags"]
        )
        result.created = len(to_create)

    if retire_missing:
        exams = {exam for exam, _ in questions}
        result.retired = (
            Question.objects.filter(
                task__domain__exam__code__in=exams, status=Question.Status.ACTIVE
            )
            .exclude(external_id__in=[d["id"] for _, d in questions])
            .update(status=Question.Status.RETIRED)
        )
    return result


def _ensure_tags(names: set[str]) -> dict[str, int]:
    Tag.objects.bulk_create([Tag(name=n) for n in sorted(names)], ignore_conflicts=True)
    return dict(Tag.objects.filter(name__in=names).values_list("name", "id"))


def _question_fields(data: dict, *, task_id: int) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "type": data["type"],
        "select_count": data.get("select", 1),
        "difficulty": data["difficulty"],
        "stem": data["stem"],
        "explanation": data["explanation"],
        "status": Question.Status.ACTIVE,
    }


def _question_from_data(data: dict, *, task_id: int) -> Question:
    return Question(external_id=data["id"], **_question_fields(data, task_id=task_id))


def _choice(question_id: int, position: int, data: dict) -> Choice:
    return Choice(
        question_id=question_id,
        position=position,
        text=data["text"],
        is_correct=data.get("correct", False),
        rationale=data.get("why", ""),
    )


def _question_update(
    question: Question, data: dict, *, task_id: int, tag_ids: dict[str, int]
) -> None:
    for name, value in _question_fields(data, task_id=task_id).items():
        setattr(question, name, value)
    question.save()
    question_replace_choices(question=question, choices=data["choices"])
    question.tags.set([tag_ids[t] for t in data["tags"]])


def question_replace_choices(*, question: Question, choices: list[dict]) -> None:
    """Rewrite a question's choices in place, keeping each position's row (and its id).

    Past attempts store choice ids; keeping rows by position keeps them valid. Texts
    are first moved aside so the unique (question, text) constraint holds mid-way
    when two choices swap texts.
    """
    current = {c.position: c for c in Choice.objects.filter(question=question)}
    Choice.objects.filter(question=question, position__gte=len(choices)).delete()
    keep = [current[p] for p in range(len(choices)) if p in current]
    for c in keep:
        c.text = f"(being replaced: choice {c.pk})"
    Choice.objects.bulk_update(keep, ["text"])
    Choice.objects.bulk_update(
        [
            _with_pk(_choice(question.pk, p, item), current[p].pk)
            for p, item in enumerate(choices)
            if p in current
        ],
        ["text", "is_correct", "rationale"],
    )
    Choice.objects.bulk_create(
        _choice(question.pk, p, item) for p, item in enumerate(choices) if p not in current
    )


def _with_pk(choice: Choice, pk: int) -> Choice:
    choice.pk = pk
    return choice


def bank_export(*, exam: Exam, folder: Path) -> list[Path]:
    """Write the exam's active questions, one file per domain, in the question file format."""
    folder.mkdir(parents=True, exist_ok=True)
    by_domain: dict[Domain, list[dict]] = defaultdict(list)
    active = _questions_with_content().filter(
        task__domain__exam=exam, status=Question.Status.ACTIVE
    )
    for question in active.order_by("external_id"):
        by_domain[question.task.domain].append(question_as_data(question))
    written = []
    for domain in sorted(by_domain, key=lambda d: d.number):
        path = folder / f"{exam.code}-domain-{domain.number}.yaml"
        path.write_text(dump_file(exam.code, by_domain[domain]), encoding="utf-8")
        written.append(path)
    return written
