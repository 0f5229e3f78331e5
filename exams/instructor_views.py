"""Instructors' item analysis: the statistics of every question version with the worklist
of questions that need a look, one version's figures in detail, and the list as CSV."""

from __future__ import annotations

import csv
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from accounts.permissions import instructor_required
from exams import item_analysis, selectors
from exams.item_analysis import MODES, REASON_LABELS, ItemStats
from exams.models import Attempt
from questions.models import Exam, QuestionVersion, TaskStatement

ITEMS_PAGE_SIZE = 50
MSG_NO_EXAM = "No exam blueprint is loaded yet, so there is nothing to analyse."
MSG_UNKNOWN_EXAM = "There is no exam with the code “{code}”; showing {exam} instead."
MSG_BAD_FILTERS = "Some filters were not understood and were left out: {fields}."

# Sort keys a request may name (a leading "-" sorts descending); anything else is refused
# by the form, so no request reaches an attribute it should not.
SORTS: dict[str, tuple[str, Callable[[ItemStats], object]]] = {
    "question": ("Question", lambda s: (s.external_id, s.version_number)),
    "task": ("Task statement", lambda s: (s.domain_number, s.task_code, s.external_id)),
    "n": ("Responses", lambda s: s.n),
    "facility": ("Facility", lambda s: s.facility),
    "discrimination": ("Discrimination", lambda s: s.discrimination),
    "time": ("Mean time", lambda s: s.mean_time_seconds),
    "flagged": ("Flagged", lambda s: s.flagged_share),
    "reports": ("Open reports", lambda s: s.reports_open),
    "look": ("Reasons", lambda s: len(s.reasons)),
}
DEFAULT_SORT = "-look"
VERSION_SCOPES = {"current": "Current versions", "all": "All versions"}


class ItemFilterForm(forms.Form):
    """The list's filters and sort, read from the query string. Domain and task choices are
    the exam's own, so a forged value is refused rather than matched against anything."""

    mode = forms.ChoiceField(choices=list(MODES.items()), required=False)
    domain = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    task = forms.ChoiceField(required=False)
    versions = forms.ChoiceField(choices=list(VERSION_SCOPES.items()), required=False)
    reason = forms.ChoiceField(required=False)
    look = forms.BooleanField(required=False, label="Needs a look only")
    sort = forms.ChoiceField(required=False)

    def __init__(self, data, *, tasks: list[TaskStatement]):
        super().__init__(data)
        domains = {t.domain.number: t.domain for t in tasks}
        self.fields["domain"].choices = [("", "All domains")] + [
            (number, str(d)) for number, d in sorted(domains.items())
        ]
        self.fields["task"].choices = [("", "All task statements")] + [
            (t.code, f"{t.code} {t.name}") for t in tasks
        ]
        self.fields["reason"].choices = [("", "Any reason"), *REASON_LABELS.items()]
        self.fields["sort"].choices = [
            (f"{sign}{key}", f"{label} {'↓' if sign else '↑'}")
            for key, (label, _) in SORTS.items()
            for sign in ("", "-")
        ]

    def filters(self) -> dict:
        """The valid filters, each invalid one replaced by its default."""
        self.is_valid()
        data = {name: self.cleaned_data.get(name) for name in self.fields}
        return {
            "mode": data["mode"] or Attempt.Mode.FULL,
            "domain": data["domain"],
            "task": data["task"] or None,
            "versions": data["versions"] or "current",
            "reason": data["reason"] or None,
            "look": bool(data["look"]),
            "sort": data["sort"] or DEFAULT_SORT,
        }


def _exam_for(request: HttpRequest) -> Exam | None:
    """`?exam=<code>` when given and known, else the exam the user's pages are about."""
    code = request.GET.get("exam", "").strip()
    if code:
        exam = Exam.objects.filter(code=code).first()
        if exam is not None:
            return exam
    exam = selectors.chosen_exam(request.user)
    if code and exam is not None:
        messages.error(request, MSG_UNKNOWN_EXAM.format(code=code[:40], exam=exam.name))
    return exam


def _sorted(stats: list[ItemStats], sort: str) -> list[ItemStats]:
    """Sorted by a whitelisted key; versions without the figure (None) always come last."""
    descending = sort.startswith("-")
    key = SORTS[sort.lstrip("-")][1]
    known = [s for s in stats if key(s) is not None]
    unknown = [s for s in stats if key(s) is None]
    known.sort(key=lambda s: (s.external_id, s.version_number))  # stable tie order
    known.sort(key=key, reverse=descending)
    return known + unknown


def _listed(request: HttpRequest, exam: Exam) -> tuple[ItemFilterForm, dict, list[ItemStats]]:
    """Parse the filters, compute the statistics (constant queries), filter and sort."""
    tasks = list(
        TaskStatement.objects.filter(domain__exam=exam)
        .select_related("domain")
        .order_by("domain__number", "code")
    )
    form = ItemFilterForm(request.GET, tasks=tasks)
    chosen = form.filters()
    if form.errors:
        messages.error(request, MSG_BAD_FILTERS.format(fields=", ".join(sorted(form.errors))))
    stats = item_analysis.item_statistics(
        exam=exam,
        modes=[chosen["mode"]],
        current_only=chosen["versions"] == "current",
        domain_number=chosen["domain"],
        task_code=chosen["task"],
    )
    if chosen["look"]:
        stats = [s for s in stats if s.reasons]
    if chosen["reason"]:
        stats = [s for s in stats if any(r.code == chosen["reason"] for r in s.reasons)]
    return form, chosen, _sorted(stats, chosen["sort"])


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@instructor_required
@require_GET
def items(request: HttpRequest) -> HttpResponse:
    """The item statistics of the chosen exam with the worklist marks, sortable, filterable
    and paginated; an htmx request gets the results fragment only."""
    exam = _exam_for(request)
    if exam is None:
        return render(request, "instructor/items.html", {"exam": None, "message": MSG_NO_EXAM})
    form, chosen, stats = _listed(request, exam)
    page = Paginator(stats, ITEMS_PAGE_SIZE).get_page(request.GET.get("page"))
    base_query = _query_without(request, "page", "sort")
    sort_links = []
    for key, (label, _) in SORTS.items():
        current = chosen["sort"].lstrip("-") == key
        descending = chosen["sort"].startswith("-")
        # A second click on the sorted column reverses it; a first click sorts figures
        # high-to-low (what an instructor scans for) and names A-Z.
        first = key if key in ("question", "task") else f"-{key}"
        target = (key if descending else f"-{key}") if current else first
        sort_links.append(
            {
                "key": key,
                "label": label,
                "query": f"{base_query}&sort={target}" if base_query else f"sort={target}",
                "aria_sort": ("descending" if descending else "ascending") if current else None,
            }
        )
    context = {
        "exam": exam,
        "form": form,
        "chosen": chosen,
        "page": page,
        "page_query": _query_without(request, "page"),
        "csv_query": _query_without(request, "page"),
        "sort_links": sort_links,
        "mode_label": MODES[chosen["mode"]],
        "limits": item_analysis.thresholds(),
        "group_percent": item_analysis.GROUP_PERCENT,
    }
    template = "instructor/_items_results.html" if request.htmx else "instructor/items.html"
    return render(request, template, context)


def _reports_url(version: QuestionVersion) -> str | None:
    """Where an instructor deals with this version's problem reports, if anywhere."""
    for name, query in (
        ("instructor:reports", f"?version={version.pk}"),
        ("admin:exams_problemreport_changelist", f"?version__id__exact={version.pk}"),
    ):
        try:
            return reverse(name) + query
        except NoReverseMatch:
            continue
    return None


@instructor_required
@require_GET
def item(request: HttpRequest, version_id: int) -> HttpResponse:
    """One question version: stem and choices with keys marked, each choice's picks overall
    and in the upper and lower groups, and every figure with its count, for full mocks and
    drills side by side, with the worklist reasons in words."""
    version = get_object_or_404(
        QuestionVersion.objects.select_related("question__task__domain__exam"), pk=version_id
    )
    exam = version.question.task.domain.exam
    by_mode = {
        s.mode: s
        for s in item_analysis.item_statistics(
            exam=exam, modes=list(MODES), version_ids=[version.pk]
        )
    }
    siblings = list(
        QuestionVersion.objects.filter(question_id=version.question_id)
        .order_by("number")
        .values("id", "number")
    )
    full = by_mode[Attempt.Mode.FULL]
    drill = by_mode[Attempt.Mode.DRILL]
    rows = [
        {"choice": choice, "full": choice, "drill": drill_choice}
        for choice, drill_choice in zip(full.choices, drill.choices, strict=True)
    ]
    context = {
        "exam": exam,
        "version": version,
        "question": version.question,
        "full": full,
        "drill": drill,
        "modes": [full, drill],
        "rows": rows,
        "siblings": siblings,
        "reports_url": _reports_url(version),
        "limits": item_analysis.thresholds(),
        "group_percent": item_analysis.GROUP_PERCENT,
    }
    return render(request, "instructor/item.html", context)


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


CSV_HEADER = [
    "question",
    "version",
    "current",
    "question status",
    "domain",
    "task",
    "mode",
    "responses",
    "correct",
    "facility",
    "discrimination",
    "upper group",
    "lower group",
    "discrimination index",
    "responses with time",
    "mean time (s)",
    "flagged",
    "flagged share",
    "omitted",
    "open reports",
    "reports",
    "choice picks",
    "reason codes",
    "reasons",
]


@instructor_required
@require_GET
def items_csv(request: HttpRequest) -> HttpResponse:
    """The list with the same filters and sort, every row (no pages), as CSV. Shares are
    fractions 0-1; empty where the figure is undefined. "choice picks" is
    `A=12 (key);B=3;…` over all responses."""
    exam = _exam_for(request)
    if exam is None:
        raise Http404(MSG_NO_EXAM)
    _, chosen, stats = _listed(request, exam)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"mlsprep-items-{exam.code}-{chosen['mode']}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for s in stats:
        writer.writerow(
            [
                s.external_id,
                s.version_number,
                "yes" if s.is_current else "no",
                s.question_status,
                s.domain_number,
                s.task_code,
                s.mode,
                s.n,
                s.correct,
                _share(s.facility),
                _share(s.discrimination),
                s.upper_n,
                s.lower_n,
                _share(s.discrimination_index),
                s.time_n,
                "" if s.mean_time_seconds is None else f"{s.mean_time_seconds:.1f}",
                s.flagged,
                _share(s.flagged_share),
                s.omitted,
                s.reports_open,
                s.reports_total,
                ";".join(f"{c.letter}={c.picks}{' (key)' if c.is_key else ''}" for c in s.choices),
                " ".join(r.code for r in s.reasons),
                " ".join(r.text for r in s.reasons),
            ]
        )
    return response


@require_GET
@instructor_required
def home(request: HttpRequest) -> HttpResponse:
    """/instructor/: where each instructor page starts, with what is waiting on each."""
    return render(
        request, "instructor/home.html", {"waiting": selectors.instructor_waiting(request.user)}
    )
