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

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from questions.bankfile import (
    DEFAULT_READ_OPTIONS,
    MAX_FILE_BYTES,
    MSG_FILE_TOO_BIG,
    BlueprintIndex,
    Problem,
    ReadOptions,
    dump_file,
    format_of,
    parse_files,
    read_text_file,
    read_yaml,
)
from questions.models import (
    BankUpload,
    Choice,
    Domain,
    Exam,
    Question,
    QuestionVersion,
    Tag,
    TaskStatement,
)

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


def bank_revision_bump() -> None:
    """Record that the bank or a blueprint changed: raise every exam's `bank_revision` by
    one (one UPDATE, in the caller's transaction, so a rolled-back load leaves it alone).

    Every service that writes questions, versions, domains or task statements calls it;
    pages that memoise figures about the bank key them on the revision (see
    exams.selectors.candidate_standing). Every exam, not just the one changed: bank
    changes are rare, and a question may move between exams' task statements."""
    Exam.objects.update(bank_revision=F("bank_revision") + 1)


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
    bank_revision_bump()
    exam.refresh_from_db(fields=["bank_revision"])
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
        bank_revision_bump()
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


ENTRY_NEW = "new"
ENTRY_UNCHANGED_SINCE_LOAD = "unchanged_since_load"
ENTRY_KEPT_ADMIN = "kept_admin"
ENTRY_UNCHANGED = "unchanged"
ENTRY_CONFLICT = "conflict"
ENTRY_NEW_VERSION = "new_version"
ENTRY_METADATA = "metadata"


def entry_change(
    question: Question | None, data: Mapping[str, Any], *, digest: str, prefer_files: bool
) -> tuple[str, dict[str, Any] | None]:
    """What loading the validated file entry `data` (whose entry_digest is `digest`) would
    do to `question` (None: no question has its id; else loaded as _questions_with_content
    loads it). Returns (kind, the question's current file form or None), kind one of the
    ENTRY_* constants. The single decision both bank_load and the upload preview use, so a
    preview and the load it announces cannot disagree."""
    if question is None:
        return ENTRY_NEW, None
    if (
        question.source_digest == digest
        and question.status == data.get("status", Question.Status.ACTIVE)
        and not (prefer_files and question.edited_in_admin)
    ):
        kind = ENTRY_KEPT_ADMIN if question.edited_in_admin else ENTRY_UNCHANGED_SINCE_LOAD
        return kind, None
    current = question_as_data(question)
    if current == data:
        return ENTRY_UNCHANGED, current
    if question.edited_in_admin and not prefer_files:
        return ENTRY_CONFLICT, current
    status = data.get("status", Question.Status.ACTIVE)
    if _content(current) != _content(data) or _draft_flag_changes(question, status):
        return ENTRY_NEW_VERSION, current
    return ENTRY_METADATA, current


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
        kind, current = entry_change(question, data, digest=digest, prefer_files=prefer_files)
        if kind == ENTRY_NEW:
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
        if kind in (ENTRY_UNCHANGED_SINCE_LOAD, ENTRY_KEPT_ADMIN):
            # The file entry is as it was at the last load: whatever the admin did since stands.
            if kind == ENTRY_KEPT_ADMIN:
                result.kept_admin += 1
            else:
                result.unchanged += 1
            if question.source_file != source_file:
                Question.objects.filter(pk=question.pk).update(source_file=source_file)
            continue
        if kind == ENTRY_UNCHANGED:
            result.unchanged += 1
            Question.objects.filter(pk=question.pk).update(
                source_file=source_file, source_digest=digest, edited_in_admin=False
            )
            continue
        if kind == ENTRY_CONFLICT:
            result.conflicts.append(f"{question.external_id}: {MSG_CONFLICT}")
            continue
        old_content, new_content = _content(current), _content(data)
        status = data.get("status", Question.Status.ACTIVE)
        if kind == ENTRY_NEW_VERSION:
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
    bank_revision_bump()
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


# --- browser uploads -------------------------------------------------------------------

UPLOAD_SOURCE_PREFIX = "upload:"
MSG_UPLOAD_NOT_UTF8 = (
    "is not UTF-8 text (byte {position} cannot be decoded): save it as UTF-8 and upload it again"
)
MSG_UPLOAD_BINARY = "holds a NUL byte: it is not a text file"
MSG_UPLOAD_EMPTY_FILE = "is empty"
MSG_UPLOAD_SAME_NAME = "two files are named {name!r}: give each file its own name"
MSG_UPLOAD_TOO_MANY = "{count} files were sent; at most {limit} files per upload"
MSG_UPLOAD_TOTAL_TOO_BIG = "the files add up to more than {limit} bytes, the limit per upload"
MSG_UPLOAD_DUPLICATE_EXAM = "the blueprint of exam {code!r} is also in {other}"
MSG_UPLOAD_NOTHING = "the files hold no questions and no blueprint"
MSG_UPLOAD_APPLIED = "Applied: {summary}."
MSG_UPLOAD_STALE = (
    "Not applied: the question bank changed after this preview was made. Here is a fresh "
    "preview of the same files against the bank as it is now; check it and apply again."
)
MSG_UPLOAD_ALREADY_APPLIED = "This upload was already applied; nothing was done again."
MSG_UPLOAD_ALREADY_DISCARDED = "This upload was discarded; it cannot be applied."
MSG_UPLOAD_WAS_STALE = (
    "This preview is out of date (the bank changed after it); apply the fresh preview instead."
)
MSG_UPLOAD_INVALID = "This upload has problems in its files; fix them and upload again."
MSG_UPLOAD_NOT_YOURS = "Only the instructor who uploaded these files can apply or discard them."
MSG_UPLOAD_CONFLICT = (
    "changed in the admin since the last load and changed in this file too: the admin's "
    "version is kept"
)
MSG_UPLOAD_KEPT_ADMIN = (
    "edited in the admin since the last load and unchanged in this file: the admin's version stays"
)
MSG_UPLOAD_DISCARDED = "Discarded: nothing was loaded."
MSG_UPLOAD_CONFIRM_MASS_RETIRE = (
    "Retiring {count} of {active} active questions ({share:.0%}) is above the {limit:.0%} "
    "safety limit: tick the confirmation to retire them, or apply without retiring."
)

PLAN_ITEM_KINDS = (
    ENTRY_NEW,
    ENTRY_NEW_VERSION,
    ENTRY_METADATA,
    ENTRY_CONFLICT,
    ENTRY_KEPT_ADMIN,
    ENTRY_UNCHANGED,
)
METADATA_KEYS = ("domain", "task", "difficulty", "tags", "status")


class UploadRefused(Exception):
    """Apply or discard was refused; `message` says why (one of the MSG_UPLOAD_* texts)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass
class UploadFile:
    """One uploaded file: its name as sent (no folders) and its raw bytes."""

    name: str
    content: bytes


@dataclass
class UploadPreview:
    """What the files would do: problems (each {file, line, question, message}) or a plan
    (see bank_plan), and the digest of the bank state it was computed from."""

    problems: list[dict[str, str]]
    plan: dict[str, Any]
    bank_state: str
    files: list[dict[str, Any]]
    exam_code: str | None
    questions: list[tuple[str, str, dict]] = field(default_factory=list)
    blueprints: list[dict[str, Any]] = field(default_factory=list)
    contents: dict[str, str] = field(default_factory=dict)  # name → text of each readable file


@dataclass
class ApplyOutcome:
    """The upload as it ended, the message to show, and the fresh preview made instead when
    the bank had changed (None otherwise)."""

    upload: BankUpload
    message: str
    fresh: BankUpload | None = None


def upload_source_name(name: str) -> str:
    """The `Question.source_file` of questions loaded from the uploaded file `name`: the
    prefix keeps uploads apart from files on disk, so retiring "what is no longer in
    upload:x.gift" concerns only questions an earlier upload of x.gift brought."""
    return f"{UPLOAD_SOURCE_PREFIX}{name}"


def _problem_row(problem: Problem) -> dict[str, str]:
    """A loader Problem as {file, line, question, message} for the preview table."""
    line, question = "", problem.where
    match = re.fullmatch(r"line (\S+): (.*)", problem.where)
    if match:
        line, question = match.group(1), match.group(2)
        line = "" if line == "?" else line
    elif (found := re.match(r"line (\d+)\b", problem.message)) is not None:
        line = found.group(1)
    return {"file": problem.file, "line": line, "question": question, "message": problem.message}


def _decode_files(
    files: list[UploadFile],
) -> tuple[list[tuple[str, str]], list[dict[str, Any]], list[dict[str, str]]]:
    """Decode each file as UTF-8. Returns ([(name, text)], file records, problems)."""
    sources: list[tuple[str, str]] = []
    records: list[dict[str, Any]] = []
    problems: list[dict[str, str]] = []
    names: set[str] = set()

    def refuse(name: str, message: str) -> None:
        problems.append({"file": name, "line": "", "question": "", "message": message})

    total = sum(len(f.content) for f in files)
    if len(files) > settings.UPLOAD_MAX_FILES:
        refuse("", MSG_UPLOAD_TOO_MANY.format(count=len(files), limit=settings.UPLOAD_MAX_FILES))
    if total > settings.UPLOAD_MAX_TOTAL_BYTES:
        refuse("", MSG_UPLOAD_TOTAL_TOO_BIG.format(limit=settings.UPLOAD_MAX_TOTAL_BYTES))
    for f in files:
        records.append(
            {
                "name": f.name,
                "size": len(f.content),
                "sha256": hashlib.sha256(f.content).hexdigest(),
                "format": format_of(f.name),
            }
        )
        if f.name in names:
            refuse(f.name, MSG_UPLOAD_SAME_NAME.format(name=f.name))
            continue
        names.add(f.name)
        if len(f.content) > MAX_FILE_BYTES:
            refuse(f.name, MSG_FILE_TOO_BIG.format(size=len(f.content), limit=MAX_FILE_BYTES))
            continue
        if not f.content.strip():
            refuse(f.name, MSG_UPLOAD_EMPTY_FILE)
            continue
        try:
            text = f.content.decode("utf-8")
        except UnicodeDecodeError as exc:
            refuse(f.name, MSG_UPLOAD_NOT_UTF8.format(position=exc.start + 1))
            continue
        if "\x00" in text:  # PostgreSQL cannot store it in JSON, and no question file has it
            refuse(f.name, MSG_UPLOAD_BINARY)
            continue
        sources.append((f.name, text))
    return sources, records, problems


def _blueprint_of(name: str, text: str, fmt: str | None) -> Any:
    """The parsed mapping when the file is a blueprint (YAML with 'domains' and no
    'questions'), else None. Read with the same strict reader as load_blueprint."""
    if (fmt or format_of(name)) != "yaml":
        return None
    data, problems, _ = read_yaml(text, string_keys=frozenset({"code"}))
    if problems or not isinstance(data, Mapping):
        return None
    return data if "domains" in data and "questions" not in data else None


def blueprint_as_data(exam: Exam) -> dict[str, Any]:
    """An exam's blueprint as loaded, in the mapping form of fixtures/blueprint/*.yaml."""
    domains = exam.domains.order_by("number").prefetch_related("tasks")
    return {
        "code": exam.code,
        "name": exam.name,
        "question_count": exam.question_count,
        "minutes": exam.minutes,
        "pass_mark_percent": exam.pass_mark_percent,
        "domains": [
            {
                "number": d.number,
                "name": d.name,
                "weight": d.weight_percent,
                "tasks": [
                    {"code": t.code, "name": t.name}
                    for t in sorted(d.tasks.all(), key=lambda t: t.code)
                ],
            }
            for d in domains
        ],
    }


def blueprint_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """What loading blueprint `new` changes in the loaded `old` (None: a new exam), one
    line each. Loading never removes a domain or task statement, so those only missing
    from `new` are said to stay."""
    if old is None:
        return [f"new exam {new['code']}"]
    lines: list[str] = []
    labels = {
        "name": "name",
        "question_count": "questions",
        "minutes": "minutes",
        "pass_mark_percent": "pass mark %",
    }
    for key, label in labels.items():
        if old[key] != new[key]:
            lines.append(f"{label}: {old[key]} → {new[key]}")
    old_domains = {d["number"]: d for d in old["domains"]}
    new_numbers = set()
    for d in new["domains"]:
        new_numbers.add(d["number"])
        before = old_domains.get(d["number"])
        if before is None:
            lines.append(f"domain {d['number']} added: {d['name']} ({d['weight']}%)")
            continue
        if before["name"] != d["name"]:
            lines.append(f"domain {d['number']} name: {before['name']} → {d['name']}")
        if before["weight"] != d["weight"]:
            lines.append(f"domain {d['number']} weight: {before['weight']}% → {d['weight']}%")
        old_tasks = {t["code"]: t["name"] for t in before["tasks"]}
        new_tasks = {str(t["code"]): t["name"] for t in d["tasks"] or []}
        for code, name in new_tasks.items():
            if code not in old_tasks:
                lines.append(f"task {code} added: {name}")
            elif old_tasks[code] != name:
                lines.append(f"task {code} name: {old_tasks[code]} → {name}")
        for code in sorted(set(old_tasks) - set(new_tasks)):
            lines.append(f"task {code} is not in the file; it stays loaded")
    for number in sorted(set(old_domains) - new_numbers):
        lines.append(f"domain {number} is not in the file; it stays loaded")
    return lines


def _blueprint_plan(data: Mapping[str, Any]) -> dict[str, Any]:
    exam = Exam.objects.filter(code=data["code"]).first()
    old = blueprint_as_data(exam) if exam else None
    return {
        "code": data["code"],
        "name": data["name"],
        "question_count": data["question_count"],
        "minutes": data["minutes"],
        "pass_mark_percent": data["pass_mark_percent"],
        "domains": [
            {
                "number": d["number"],
                "name": d["name"],
                "weight": d["weight"],
                "tasks": [{"code": str(t["code"]), "name": t["name"]} for t in d["tasks"] or []],
            }
            for d in data["domains"]
        ],
        "is_new": old is None,
        "changes": blueprint_changes(old, data),
    }


def _metadata_changes(current: Mapping[str, Any], data: Mapping[str, Any]) -> list[list[Any]]:
    changes = []
    for key in METADATA_KEYS:
        default = Question.Status.ACTIVE.value if key == "status" else None
        old, new = current.get(key, default), data.get(key, default)
        if old != new:
            changes.append([key, old, new])
    return changes


def _question_state(question: Question | None) -> list[Any] | None:
    """Every field of a question that entry_change or the retire step reads."""
    if question is None:
        return None
    return [
        question.external_id,
        question.current_version_id,
        question.status,
        question.task_id,
        question.difficulty,
        sorted(t.name for t in question.tags.all()),
        question.source_file,
        question.source_digest,
        question.edited_in_admin,
    ]


def _state_digest(parts: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def bank_plan(
    *, questions: list[tuple[str, str, dict]], source_names: Iterable[str]
) -> tuple[dict[str, Any], str]:
    """The detailed plan of loading validated `questions` ([(exam, source_file, data)] with
    source_file already as it will be stored) and the digest of the bank rows it read.

    Returns (plan, bank_state). plan = {"counts": {kind: n, ..., "retire": n, "active": n},
    "items": [{"id", "file", "kind", "summary", "old", "new", "metadata": [[key, old,
    new]]}], "retire": [{"id", "file", "stem"}], "retire_share": float,
    "retire_needs_confirmation": bool}; kinds are the ENTRY_* constants (the two kinds of
    unchanged merged). "retire" lists the active questions of the same exams that an
    earlier load took from one of `source_names` and that are no longer there: retired only
    when the instructor asks. bank_state is SHA-256 (hex) over every field entry_change
    reads of each question named in the files, plus the id, status and source of every
    retire candidate and the number of active questions (the safety limit's base): a
    change to any of them can change the plan, and nothing else can.
    """
    existing = {
        q.external_id: q
        for q in _questions_with_content().filter(
            external_id__in=[d["id"] for _, _, d in questions]
        )
    }
    counts = dict.fromkeys(PLAN_ITEM_KINDS, 0)
    items: list[dict[str, Any]] = []
    for _exam, source_file, data in questions:
        question = existing.get(data["id"])
        kind, current = entry_change(question, data, digest=entry_digest(data), prefer_files=False)
        if kind == ENTRY_UNCHANGED_SINCE_LOAD:
            kind = ENTRY_UNCHANGED
        counts[kind] += 1
        item: dict[str, Any] = {"id": data["id"], "file": source_file, "kind": kind}
        if kind == ENTRY_NEW:
            item.update(summary="new question", new=data)
        elif kind == ENTRY_KEPT_ADMIN:
            item["summary"] = MSG_UPLOAD_KEPT_ADMIN
        elif kind in (ENTRY_NEW_VERSION, ENTRY_METADATA, ENTRY_CONFLICT):
            metadata = _metadata_changes(current, data)
            content_summary = version_change_summary(
                _content(current),
                _content(data),
                question,
                data.get("status", Question.Status.ACTIVE),
            )
            item.update(old=current, new=data, metadata=metadata)
            if kind == ENTRY_CONFLICT:
                item["summary"] = MSG_UPLOAD_CONFLICT
            elif kind == ENTRY_NEW_VERSION:
                item["summary"] = content_summary
            else:
                item["summary"] = "changed: " + ", ".join(m[0] for m in metadata)
        items.append(item)

    exams = {exam for exam, _, _ in questions}
    active = Question.objects.filter(
        task__domain__exam__code__in=exams, status=Question.Status.ACTIVE
    )
    loaded_ids = {d["id"] for _, _, d in questions}
    retire = [
        {"id": eid, "file": source, "stem": stem[:200]}
        for eid, source, stem in active.filter(source_file__in=list(source_names))
        .exclude(external_id__in=loaded_ids)
        .order_by("external_id")
        .values_list("external_id", "source_file", "current_version__stem")
    ]
    total = active.count()
    counts["retire"] = len(retire)
    counts["active"] = total
    share = len(retire) / total if total else 0.0
    plan = {
        "counts": counts,
        "items": items,
        "retire": retire,
        "retire_share": share,
        "retire_needs_confirmation": bool(retire) and share > RETIRE_MISSING_MAX_SHARE,
    }
    state = _state_digest(
        {
            "questions": {eid: _question_state(existing.get(eid)) for eid in sorted(loaded_ids)},
            "retire": [[r["id"], r["file"]] for r in retire],
            "active": total,
        }
    )
    return plan, state


def _upload_preview(*, files: list[UploadFile], options: ReadOptions) -> UploadPreview:
    """Validate the files as the command line would and plan their load; writes nothing
    (an uploaded blueprint is loaded inside a savepoint that is rolled back, so the
    questions of a new exam can be checked against it)."""
    sources, records, problems = _decode_files(files)
    blueprint_files: list[tuple[str, Any]] = []
    question_sources: list[tuple[str, str]] = []
    for name, text in sources:
        data = _blueprint_of(name, text, options.fmt)
        if data is not None:
            blueprint_files.append((name, data))
        else:
            question_sources.append((name, text))
    for record in records:
        record["format"] = options.fmt or record["format"]
        record["kind"] = (
            "blueprint" if any(n == record["name"] for n, _ in blueprint_files) else "questions"
        )
    blueprints: list[dict[str, Any]] = []
    codes: dict[str, str] = {}
    for name, data in blueprint_files:
        messages = blueprint_validate(data)
        for message in messages:
            problems.append({"file": name, "line": "", "question": "", "message": message})
        if not messages:
            if data["code"] in codes:
                other = codes[data["code"]]
                message = MSG_UPLOAD_DUPLICATE_EXAM.format(code=data["code"], other=other)
                problems.append({"file": name, "line": "", "question": "", "message": message})
            codes[data["code"]] = name
            blueprints.append(dict(data))
    blueprint_plans = [_blueprint_plan(data) for data in blueprints]
    plan: dict[str, Any] = {"blueprints": blueprint_plans}
    questions: list[tuple[str, str, dict]] = []
    state = ""
    with transaction.atomic():
        for data in blueprints:
            blueprint_load(data=data)
        parsed, parse_problems = parse_files(
            [], blueprint=blueprint_index(), options=options, sources=question_sources
        )
        problems.extend(_problem_row(p) for p in parse_problems)
        if not problems:
            questions = [(exam, upload_source_name(name), data) for exam, name, data in parsed]
            question_plan, state = bank_plan(
                questions=questions,
                source_names=[upload_source_name(n) for n, _ in question_sources],
            )
            plan.update(question_plan)
        transaction.set_rollback(True)
    if not problems and not questions and not blueprints:
        problems.append({"file": "", "line": "", "question": "", "message": MSG_UPLOAD_NOTHING})
    blueprint_state = {b["code"]: b["changes"] for b in blueprint_plans}
    bank_state = _state_digest({"questions": state, "blueprints": blueprint_state})
    exam_codes = sorted({e for e, _, _ in questions} | set(codes))
    counts = plan.setdefault("counts", {})
    counts["problems"] = len(problems)
    counts["blueprints"] = len(blueprints)
    return UploadPreview(
        problems=problems,
        plan=plan,
        bank_state=bank_state,
        files=records,
        exam_code=exam_codes[0] if len(exam_codes) == 1 else None,
        questions=questions,
        blueprints=blueprints,
        contents=dict(sources),
    )


def _options_data(options: ReadOptions) -> dict[str, Any]:
    return {
        "format": options.fmt or "",
        "exam": options.exam or "",
        "default_task": options.default_task or "",
    }


def _options_from(data: Mapping[str, Any]) -> ReadOptions:
    return ReadOptions(
        fmt=data.get("format") or None,
        exam=data.get("exam") or None,
        default_task=data.get("default_task") or None,
    )


def _record_preview(*, user, preview: UploadPreview, contents: dict, options: dict) -> BankUpload:
    status = BankUpload.Status.INVALID if preview.problems else BankUpload.Status.PREVIEWED
    return BankUpload.objects.create(
        uploaded_by=user,
        exam=Exam.objects.filter(code=preview.exam_code).first() if preview.exam_code else None,
        files=preview.files,
        contents=contents,
        options=options,
        status=status,
        bank_state=preview.bank_state,
        plan=preview.plan,
        problems=preview.problems,
    )


def bank_upload_preview(*, user, files: list[UploadFile], options: ReadOptions) -> BankUpload:
    """Validate uploaded question and blueprint files exactly as `load_questions` and
    `load_blueprint` would, plan what loading them would do, and record the upload.

    Returns the BankUpload: status INVALID with `problems` ([{file, line, question,
    message}]), or PREVIEWED with `plan` (see bank_plan; plus "blueprints", each with its
    exam, domains, weights, task statements and changes against the loaded one) and
    `bank_state`. Nothing in the bank is written. Files are text: UTF-8, at most
    MAX_FILE_BYTES each, settings.UPLOAD_MAX_FILES files and UPLOAD_MAX_TOTAL_BYTES in all;
    YAML is read with the safe loader, so nothing in a file is ever executed."""
    preview = _upload_preview(files=files, options=options)
    return _record_preview(
        user=user, preview=preview, contents=preview.contents, options=_options_data(options)
    )


def bank_upload_record_refusal(*, user, names: list[str], message: str) -> BankUpload:
    """Record an upload the server stopped reading (too many files, too big): only the
    names that arrived and the reason are kept."""
    return BankUpload.objects.create(
        uploaded_by=user,
        files=[{"name": n, "size": None, "sha256": "", "format": format_of(n)} for n in names],
        status=BankUpload.Status.INVALID,
        plan={"counts": {"problems": 1}},
        problems=[{"file": "", "line": "", "question": "", "message": message}],
    )


def _refusal_for(status: str) -> str:
    return {
        BankUpload.Status.APPLIED: MSG_UPLOAD_ALREADY_APPLIED,
        BankUpload.Status.DISCARDED: MSG_UPLOAD_ALREADY_DISCARDED,
        BankUpload.Status.STALE: MSG_UPLOAD_WAS_STALE,
    }.get(status, MSG_UPLOAD_INVALID)


def _check_owner(upload: BankUpload, user) -> None:
    if upload.uploaded_by_id != user.pk and not user.is_superuser:
        raise UploadRefused(MSG_UPLOAD_NOT_YOURS)


def bank_upload_apply(
    *, upload: BankUpload, user, retire: bool = False, confirm_mass_retire: bool = False
) -> ApplyOutcome:
    """Carry out exactly the plan `upload`'s preview showed, in one transaction.

    The upload is claimed first (PREVIEWED → APPLIED in one conditional UPDATE, so a
    second click or a second tab applies nothing). The stored files are then planned
    again against the bank as it is; if the bank state differs from the preview's, nothing
    is loaded, the upload becomes STALE and a fresh preview of the same files is recorded
    and returned. `retire` also retires the plan's retire list; above
    RETIRE_MISSING_MAX_SHARE it needs `confirm_mass_retire`.

    Raises UploadRefused (nothing written) when the upload is not the user's, not
    PREVIEWED, or the retire confirmation is missing."""
    _check_owner(upload, user)
    with transaction.atomic():
        claimed = BankUpload.objects.filter(
            pk=upload.pk, status=BankUpload.Status.PREVIEWED
        ).update(status=BankUpload.Status.APPLIED, applied_at=timezone.now())
        if not claimed:
            status = BankUpload.objects.values_list("status", flat=True).get(pk=upload.pk)
            raise UploadRefused(_refusal_for(status))
        # Lock the rows the preview read, so no other load or admin save changes them
        # between the state check below and the writes (PostgreSQL; SQLite's IMMEDIATE
        # transaction already holds the whole database). Taken here, not in the preview's
        # savepoint: rolling a savepoint back releases the locks taken inside it.
        touched = [i["id"] for i in upload.plan.get("items", [])]
        touched += [r["id"] for r in upload.plan.get("retire", [])]
        list(Question.objects.select_for_update().filter(external_id__in=touched).values("pk"))
        files = [UploadFile(name, text.encode("utf-8")) for name, text in upload.contents.items()]
        preview = _upload_preview(files=files, options=_options_from(upload.options))
        # The state digest catches every change that could alter the plan; comparing the
        # plans themselves as well makes "exactly what was previewed" literal.
        same_plan = json.loads(json.dumps(preview.plan, default=str)) == upload.plan
        if preview.problems or preview.bank_state != upload.bank_state or not same_plan:
            return _refuse_as_stale(upload, preview)
        plan = preview.plan
        retire_ids = [r["id"] for r in plan.get("retire", [])] if retire else []
        if retire_ids and plan["retire_needs_confirmation"] and not confirm_mass_retire:
            raise UploadRefused(
                MSG_UPLOAD_CONFIRM_MASS_RETIRE.format(
                    count=len(retire_ids),
                    active=plan["counts"]["active"],
                    share=plan["retire_share"],
                    limit=RETIRE_MISSING_MAX_SHARE,
                )
            )
        try:
            with transaction.atomic():
                for data in preview.blueprints:
                    blueprint_load(data=data)
                result = _bank_upsert(preview.questions, prefer_files=False)
        except IntegrityError:
            # A question id that did not exist when the state was checked (so no row to
            # lock) was created since by another load: the bank changed after all.
            files = [UploadFile(n, t.encode("utf-8")) for n, t in upload.contents.items()]
            fresh = _upload_preview(files=files, options=_options_from(upload.options))
            return _refuse_as_stale(upload, fresh)
        if retire_ids:
            Question.objects.filter(
                external_id__in=retire_ids, status=Question.Status.ACTIVE
            ).update(status=Question.Status.RETIRED, updated_at=timezone.now())
            result.retired += len(retire_ids)
            result.retired_ids.extend(retire_ids)
        if result.created or result.new_versions:
            _refresh_statistics()
        bank_revision_bump()
        counts = {
            "created": result.created,
            "new_versions": result.new_versions,
            "metadata_updated": result.metadata_updated,
            "unchanged": result.unchanged,
            "kept_admin": result.kept_admin,
            "conflicts": len(result.conflicts),
            "retired": result.retired,
            "blueprints": len(preview.blueprints),
        }
        BankUpload.objects.filter(pk=upload.pk).update(
            counts=counts,
            options={**upload.options, "retire": bool(retire_ids)},
            # A new exam's blueprint exists only now.
            exam=Exam.objects.filter(code=preview.exam_code).first() if preview.exam_code else None,
        )
    upload.refresh_from_db()
    summary = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())
    return ApplyOutcome(upload=upload, message=MSG_UPLOAD_APPLIED.format(summary=summary))


def _refuse_as_stale(upload: BankUpload, preview: UploadPreview) -> ApplyOutcome:
    """Mark `upload` STALE (inside the caller's transaction) and record `preview`, made from
    the same files against the bank as it is now, as a fresh upload."""
    fresh = _record_preview(
        user=upload.uploaded_by,
        preview=preview,
        contents=dict(upload.contents),
        options=dict(upload.options),
    )
    BankUpload.objects.filter(pk=upload.pk).update(
        status=BankUpload.Status.STALE,
        applied_at=None,
        plan={**upload.plan, "superseded_by": fresh.pk},
    )
    upload.refresh_from_db()
    return ApplyOutcome(upload=upload, message=MSG_UPLOAD_STALE, fresh=fresh)


def bank_upload_discard(*, upload: BankUpload, user) -> BankUpload:
    """Mark a PREVIEWED upload DISCARDED (nothing is loaded). Raises UploadRefused when it
    is not the user's or no longer PREVIEWED."""
    _check_owner(upload, user)
    changed = BankUpload.objects.filter(pk=upload.pk, status=BankUpload.Status.PREVIEWED).update(
        status=BankUpload.Status.DISCARDED
    )
    if not changed:
        upload.refresh_from_db()
        raise UploadRefused(_refusal_for(upload.status))
    upload.refresh_from_db()
    return upload
