"""Loading the blueprint and the question bank, and exporting the bank back to files."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from questions.bankfile import (
    DEFAULT_READ_OPTIONS,
    BlueprintIndex,
    Problem,
    ReadOptions,
    dump_file,
    parse_files,
    read_text_file,
    read_yaml,
)
from questions.models import Choice, Domain, Exam, Question, QuestionVersion, Tag, TaskStatement

MSG_BLUEPRINT_WEIGHTS = "domain weights of exam {code!r} add up to {total}, not 100"
MSG_BLUEPRINT_KEYS = "blueprint needs the keys: {keys}"
MSG_BLUEPRINT_TASK_PREFIX = "task {task!r} must start with its domain number {number} and a dot"
MSG_BLUEPRINT_DUPLICATE = "{what} {value!r} appears more than once"
MSG_BLUEPRINT_TASK_CODE = (
    "a task code of domain {number} was read as the number {code!r}: task codes must be quoted "
    'strings, e.g. code: "1.10"'
)
MSG_BLUEPRINT_NUMBER = "{what} must be a whole number from {low} to {high}"
MSG_BLUEPRINT_CODE = (
    "code must be 1 to 40 lowercase letters, digits and hyphens, e.g. code: mls-c01"
)
MSG_BLUEPRINT_TEXT = "{what} must be text of 1 to {limit} characters"
EXAM_CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


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


def _check_text(problems: list[str], value: Any, what: str, limit: int) -> None:
    if not (isinstance(value, str) and value.strip() and len(value) <= limit):
        problems.append(MSG_BLUEPRINT_TEXT.format(what=what, limit=limit))


def blueprint_validate(data: Any) -> list[str]:
    """Every problem with a blueprint mapping (as in fixtures/blueprint/*.yaml)."""
    required = ("code", "name", "question_count", "minutes", "pass_mark_percent", "domains")
    if not isinstance(data, Mapping) or any(k not in data for k in required):
        return [MSG_BLUEPRINT_KEYS.format(keys=", ".join(required))]
    problems: list[str] = []
    if not (isinstance(data["code"], str) and EXAM_CODE.fullmatch(data["code"])):
        problems.append(MSG_BLUEPRINT_CODE)
    _check_text(problems, data["name"], "name", Exam._meta.get_field("name").max_length)
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
        _check_text(
            problems,
            domain["name"],
            f"the name of domain {domain['number']}",
            Domain._meta.get_field("name").max_length,
        )
        number = domain["number"]
        if isinstance(number, int) and number in numbers:
            problems.append(MSG_BLUEPRINT_DUPLICATE.format(what="domain", value=number))
        if isinstance(number, int):
            numbers.add(number)
        if isinstance(domain["weight"], int):
            total += domain["weight"]
        tasks = domain["tasks"] or []
        if not isinstance(tasks, list):
            problems.append(f"tasks of domain {number} must be a list")
            continue
        for task in tasks:
            if isinstance(task, Mapping) and not isinstance(task.get("code", ""), str):
                problems.append(MSG_BLUEPRINT_TASK_CODE.format(number=number, code=task["code"]))
                continue
            code = task.get("code", "") if isinstance(task, Mapping) else ""
            if not code or not isinstance(task.get("name"), str):
                problems.append(f"each task of domain {number} needs a code and a name")
                continue
            if not code.startswith(f"{number}."):
                problems.append(MSG_BLUEPRINT_TASK_PREFIX.format(task=code, number=number))
            _check_text(
                problems, code, "a task code", TaskStatement._meta.get_field("code").max_length
            )
            _check_text(
                problems,
                task["name"],
                f"the name of task {code}",
                TaskStatement._meta.get_field("name").max_length,
            )
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
    """Read a blueprint file strictly (see bankfile.read_yaml) and load it.

    Raises BlueprintError listing every problem, each prefixed with the file."""
    text, problem = read_text_file(path)
    if problem:
        raise BlueprintError([f"{path}: {problem}"])
    return blueprint_load_text(text=text, name=str(path))


def blueprint_load_text(*, text: str, name: str) -> Exam:
    """Load a blueprint from its YAML text (a file read into memory, an upload), read as
    strictly as a file. Raises BlueprintError listing every problem, each prefixed with
    `name` (the file's name as the person knows it)."""
    data, problems, _ = read_yaml(text, string_keys=frozenset({"code"}))
    if problems:
        raise BlueprintError([f"{name}: {p}" for p in problems])
    try:
        return blueprint_load(data=data)
    except BlueprintError as exc:
        raise BlueprintError([f"{name}: {p}" for p in exc.problems]) from exc


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

# `--retire-missing` refuses, unless told `--yes`, to retire more than this share of the
# active questions of the exams it touches: a path typo must not empty the bank.
RETIRE_MISSING_MAX_SHARE = 0.10
MSG_RETIRE_TOO_MANY = (
    "--retire-missing would retire {count} of {active} active questions ({share:.0%}, above "
    "the {limit:.0%} safety limit); nothing was written. Check the paths, or add --yes."
)
MSG_CONFLICT = (
    "changed in the admin since the last load and changed in its file too: kept the admin's "
    "version (use --prefer-files to take the file's)"
)

CONTENT_KEYS = ("type", "select", "stem", "choices", "explanation", "references")


def version_as_data(version: QuestionVersion) -> dict[str, Any]:
    """The content part of the file form of one version (expects its choices loaded)."""
    data: dict[str, Any] = {"type": version.type}
    if version.type == Question.Type.MULTIPLE:
        data["select"] = version.select_count
    choices = []
    for choice in sorted(version.choices.all(), key=lambda c: c.position):
        item: dict[str, Any] = {"text": choice.text}
        if choice.is_correct:
            item["correct"] = True
        if choice.rationale:
            item["why"] = choice.rationale
        choices.append(item)
    data.update({"stem": version.stem, "choices": choices, "explanation": version.explanation})
    if version.references:
        data["references"] = list(version.references)
    return data


def question_as_data(question: Question) -> dict[str, Any]:
    """A stored question in file form, from its current version (expects task__domain,
    current_version__choices and tags loaded). Keys in the order files use."""
    content = version_as_data(question.current_version)
    data: dict[str, Any] = {
        "id": question.external_id,
        "domain": question.task.domain.number,
        "task": question.task.code,
        "type": content.pop("type"),
    }
    if "select" in content:
        data["select"] = content.pop("select")
    data["difficulty"] = question.difficulty
    if question.status != Question.Status.ACTIVE:
        data["status"] = question.status
    data["tags"] = sorted(t.name for t in question.tags.all())
    data.update(content)
    return data


def _content(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in CONTENT_KEYS if k in data}


def entry_digest(data: Mapping[str, Any]) -> str:
    """SHA-256 (hex, 64 characters) of a validated file entry, independent of key order."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _draft_flag_changes(question: Question, status: str) -> bool:
    """Whether giving `question` the status `status` needs a new version: its current
    version is a draft and the question is being made active (completed), or it is not
    and the question is being made a draft. Retiring keeps the current version."""
    version = question.current_version
    if version is None:
        return False
    if version.is_draft:
        return status == Question.Status.ACTIVE
    return status == Question.Status.DRAFT


def version_change_summary(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    question: Question | None = None,
    status: str | None = None,
) -> str:
    """One line saying what differs between two versions' content (file form); with
    `question` and its new `status`, also whether a draft is being completed."""
    if old is None:
        return "first version"
    parts: list[str] = []
    if question is not None and status is not None and _draft_flag_changes(question, status):
        parts.append("draft completed" if status != Question.Status.DRAFT else "made a draft")
    for key, label in (("stem", "stem"), ("explanation", "explanation")):
        if old.get(key) != new.get(key):
            parts.append(label)
    if (old.get("type"), old.get("select")) != (new.get("type"), new.get("select")):
        parts.append("type or select count")
    if old.get("references", []) != new.get("references", []):
        parts.append("references")
    old_c, new_c = old.get("choices", []), new.get("choices", [])
    old_texts, new_texts = [c["text"] for c in old_c], [c["text"] for c in new_c]
    if len(old_c) != len(new_c):
        parts.append(f"choices {len(old_c)} → {len(new_c)}")
    elif old_texts != new_texts:
        parts.append(
            "choices reordered" if sorted(old_texts) == sorted(new_texts) else "choice text"
        )
    key_old = {c["text"] for c in old_c if c.get("correct")}
    key_new = {c["text"] for c in new_c if c.get("correct")}
    if key_old != key_new:
        parts.append("key")
    why_old = {c["text"]: c.get("why") for c in old_c}
    if any(why_old.get(c["text"], c.get("why")) != c.get("why") for c in new_c):
        parts.append("rationale")
    return "changed: " + ", ".join(parts) if parts else "no change"


def question_version_create(
    *, question: Question, data: Mapping[str, Any], source: str, summary: str
) -> QuestionVersion:
    """Add a version holding `data`'s content (file form, already validated) and make it
    the question's current one. Earlier versions, and the attempts that pin them, stay."""
    number = (question.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = QuestionVersion.objects.create(
        question=question,
        number=number,
        type=data["type"],
        select_count=data.get("select", 1),
        stem=data["stem"],
        explanation=data["explanation"],
        references=list(data.get("references", [])),
        is_draft=data.get("status") == Question.Status.DRAFT,
        source=source,
        change_summary=summary[:300],
    )
    Choice.objects.bulk_create(
        Choice(
            version=version,
            position=position,
            text=c["text"],
            is_correct=c.get("correct", False),
            rationale=c.get("why", ""),
        )
        for position, c in enumerate(data["choices"])
    )
    question.current_version = version
    Question.objects.filter(pk=question.pk).update(current_version=version)
    return version


@dataclass
class LoadResult:
    created: int = 0
    new_versions: int = 0
    metadata_updated: int = 0
    unchanged: int = 0
    retired: int = 0
    kept_admin: int = 0
    changes: list[str] = field(default_factory=list)  # "id: v3 changed: stem, key"
    conflicts: list[str] = field(default_factory=list)  # "id: message"
    retired_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"created {self.created}, new versions {self.new_versions}, "
            f"metadata updated {self.metadata_updated}, unchanged {self.unchanged}, "
            f"retired {self.retired}, kept admin edits {self.kept_admin}, "
            f"conflicts {len(self.conflicts)}"
        )


class RetireRefused(Exception):
    def __init__(self, message: str, ids: list[str]):
        self.message = message
        self.ids = ids
        super().__init__(message)


def _questions_with_content():
    return Question.objects.select_related(
        "task__domain__exam", "current_version"
    ).prefetch_related("current_version__choices", "tags")


def bank_load(
    *,
    paths: Iterable[Path] = (),
    sources: Iterable[tuple[str, str]] = (),
    options: ReadOptions = DEFAULT_READ_OPTIONS,
    dry_run: bool = False,
    retire_missing: bool = False,
    prefer_files: bool = False,
    allow_mass_retire: bool = False,
) -> LoadResult:
    """Validate every question in every file; load all of them, or nothing.

    Questions are matched by id. A new id is created at version 1; an entry whose
    content differs from the question's current version adds a version (the old one
    stays, with the attempts that showed it); metadata (task, difficulty, tags,
    status) is updated in place. An entry unchanged since the last load is left alone,
    so an admin edit made since survives; when both changed, the admin's version is
    kept and a conflict reported unless `prefer_files`.

    `sources` are files already in memory, [(name, text)], read like files; `options`
    gives the format and, for formats without them, the exam and task to file under.
    `retire_missing` retires active questions that were loaded from a file under
    `paths` but whose id no longer appears there. Raises BankLoadError listing every
    problem found, and RetireRefused (nothing written) when retiring would take more
    than RETIRE_MISSING_MAX_SHARE of the active bank and `allow_mass_retire` is false.
    """
    paths = list(paths)
    blueprint = blueprint_index()
    questions, problems = parse_files(paths, blueprint=blueprint, options=options, sources=sources)
    if problems:
        raise BankLoadError(problems)
    with transaction.atomic():
        result = _bank_upsert(questions, prefer_files=prefer_files)
        if retire_missing:
            _retire_missing(result, paths, questions, allow_mass_retire=allow_mass_retire)
        if result.created or result.new_versions:
            _refresh_statistics()
        if dry_run:
            transaction.set_rollback(True)
    return result


def _refresh_statistics() -> None:
    """ANALYZE the bank's tables after a load changed them, so the planner (SQLite or
    PostgreSQL) knows their sizes: without statistics, a freshly filled bank can get
    nested-loop plans that scan it once per row."""
    tables = [m._meta.db_table for m in (Question, QuestionVersion, Choice, Tag)]
    tables.append(Question.tags.through._meta.db_table)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def _source_path(path: str) -> str:
    """How a file is remembered: relative to the project when inside it."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)


def _under(source_file: str, roots: list[Path]) -> bool:
    if not source_file:
        return False
    resolved = Path(source_file).resolve()
    return any(resolved == root or root in resolved.parents for root in roots)


def _retire_missing(
    result: LoadResult,
    paths: list[Path],
    questions: list[tuple[str, str, dict]],
    *,
    allow_mass_retire: bool,
) -> None:
    roots = [p.resolve() for p in paths]
    loaded_ids = {d["id"] for _, _, d in questions}
    exams = {exam for exam, _, _ in questions}
    active = Question.objects.filter(
        task__domain__exam__code__in=exams, status=Question.Status.ACTIVE
    )
    candidates = [
        (external_id, source)
        for external_id, source in active.exclude(external_id__in=loaded_ids).values_list(
            "external_id", "source_file"
        )
    ]
    missing = sorted(eid for eid, source in candidates if _under(source, roots))
    total = active.count()
    if missing and not allow_mass_retire and len(missing) > RETIRE_MISSING_MAX_SHARE * total:
        raise RetireRefused(
            MSG_RETIRE_TOO_MANY.format(
                count=len(missing),
                active=total,
                share=len(missing) / max(total, 1),
                limit=RETIRE_MISSING_MAX_SHARE,
            ),
            missing,
        )
    Question.objects.filter(external_id__in=missing).update(status=Question.Status.RETIRED)
    result.retired += len(missing)
    result.retired_ids.extend(missing)


def _bank_upsert(questions: list[tuple[str, str, dict]], *, prefer_files: bool) -> LoadResult:
    result = LoadResult()
    tasks = {
        (exam, code): task_id
        for exam, code, task_id in TaskStatement.objects.values_list(
            "domain__exam__code", "code", "id"
        )
    }
    existing = {
        q.external_id: q
        for q in _questions_with_content().filter(
            external_id__in=[d["id"] for _, _, d in questions]
        )
    }
    tag_ids = _ensure_tags({t for _, _, d in questions for t in d["tags"]})
    tag_links: dict[int, list[int]] = {}  # question id → tag ids, written at the end

    for exam, path, data in questions:
        digest = entry_digest(data)
        source_file = _source_path(path)
        task_id = tasks[(exam, data["task"])]
        question = existing.get(data["id"])
        if question is None:
            question = Question.objects.create(
                external_id=data["id"],
                task_id=task_id,
                difficulty=data["difficulty"],
                status=data.get("status", Question.Status.ACTIVE),
                source_file=source_file,
                source_digest=digest,
            )
            question_version_create(
                question=question,
                data=data,
                source=QuestionVersion.Source.FILE,
                summary="first version",
            )
            tag_links[question.pk] = [tag_ids[t] for t in data["tags"]]
            result.created += 1
            continue
        if (
            question.source_digest == digest
            and question.status == data.get("status", Question.Status.ACTIVE)
            and not (prefer_files and question.edited_in_admin)
        ):
            # The file entry is as it was at the last load: whatever the admin did since stands.
            if question.edited_in_admin:
                result.kept_admin += 1
            else:
                result.unchanged += 1
            if question.source_file != source_file:
                Question.objects.filter(pk=question.pk).update(source_file=source_file)
            continue
        current = question_as_data(question)
        if current == data:
            result.unchanged += 1
            Question.objects.filter(pk=question.pk).update(
                source_file=source_file, source_digest=digest, edited_in_admin=False
            )
            continue
        if question.edited_in_admin and not prefer_files:
            result.conflicts.append(f"{question.external_id}: {MSG_CONFLICT}")
            continue
        old_content, new_content = _content(current), _content(data)
        status = data.get("status", Question.Status.ACTIVE)
        if old_content != new_content or _draft_flag_changes(question, status):
            summary = version_change_summary(old_content, new_content, question, status)
            version = question_version_create(
                question=question, data=data, source=QuestionVersion.Source.FILE, summary=summary
            )
            result.new_versions += 1
            result.changes.append(f"{question.external_id}: v{version.number} {summary}")
        else:
            result.metadata_updated += 1
        if status == Question.Status.RETIRED and question.status != status:
            result.retired += 1
            result.retired_ids.append(question.external_id)
        Question.objects.filter(pk=question.pk).update(
            task_id=task_id,
            difficulty=data["difficulty"],
            status=status,
            source_file=source_file,
            source_digest=digest,
            edited_in_admin=False,
            updated_at=timezone.now(),
        )
        tag_links[question.pk] = [tag_ids[t] for t in data["tags"]]
    _replace_tags(tag_links)
    return result


def _replace_tags(tag_links: dict[int, list[int]]) -> None:
    """Set the tags of many questions in two queries (per-question `tags.set` costs a
    query or three each, which a whole-bank load cannot afford)."""
    through = Question.tags.through
    through.objects.filter(question_id__in=list(tag_links)).delete()
    through.objects.bulk_create(
        through(question_id=question_id, tag_id=tag_id)
        for question_id, tags in tag_links.items()
        for tag_id in tags
    )


def _ensure_tags(names: set[str]) -> dict[str, int]:
    Tag.objects.bulk_create([Tag(name=n) for n in sorted(names)], ignore_conflicts=True)
    return dict(Tag.objects.filter(name__in=names).values_list("name", "id"))


@transaction.atomic
def question_admin_save(
    *, question: Question, data: Mapping[str, Any], tag_ids: Iterable[int]
) -> QuestionVersion | None:
    """Save an admin edit (file form `data`, already validated): metadata in place, and a
    new version when the content differs from the current one. Marks the question as
    edited in the admin, so the next file load keeps it (see bank_load). Returns the new
    version, or None when only metadata changed."""
    old = _content(version_as_data(question.current_version)) if question.current_version else None
    new = _content(data)
    status = data.get("status", Question.Status.ACTIVE)
    version = None
    if old != new or _draft_flag_changes(question, status):
        version = question_version_create(
            question=question,
            data=data,
            source=QuestionVersion.Source.ADMIN,
            summary=version_change_summary(old, new, question, status),
        )
    question.edited_in_admin = True
    question.save()
    question.tags.set(list(tag_ids))
    return version


def bank_export(
    *, exam: Exam, folder: Path, fmt: str = "yaml", skipped: list[str] | None = None
) -> list[Path]:
    """Write the exam's active and draft questions (current versions), one file per
    domain, in format `fmt` ("yaml", "gift", "aiken" or "xml"; see questions.formats).
    Loading the files back changes nothing for every question the format can represent;
    the ids of those it cannot (Aiken: multiple response) are appended to `skipped`.
    Returns the paths written."""
    from questions import formats

    folder.mkdir(parents=True, exist_ok=True)
    by_domain: dict[Domain, list[dict]] = defaultdict(list)
    exported = _questions_with_content().filter(
        task__domain__exam=exam, status__in=[Question.Status.ACTIVE, Question.Status.DRAFT]
    )
    for question in exported.order_by("task__domain__number", "task__code", "external_id"):
        data = question_as_data(question)
        if not formats.can_write(fmt, data):
            if skipped is not None:
                skipped.append(data["id"])
            continue
        by_domain[question.task.domain].append(data)
    written = []
    for domain in sorted(by_domain, key=lambda d: d.number):
        path = folder / f"{exam.code}-domain-{domain.number}{formats.EXPORT_SUFFIX[fmt]}"
        if fmt == "yaml":
            text = dump_file(exam.code, by_domain[domain])
        else:
            text = formats.write(fmt, exam=exam.code, questions=by_domain[domain])
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
