"""Problem reports (candidates send them, instructors work the queue), cohort results and
study groups. Candidate views check ownership; instructor views are guarded by
`instructor_required` and narrowed to the candidates the instructor may see."""

from __future__ import annotations

import csv
from uuid import UUID

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import register_converter, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services as group_services
from accounts.decorators import login_required_page
from accounts.models import StudyGroup
from accounts.permissions import instructor_required, sees_every_candidate
from exams import cohort, selectors, services
from exams.models import Attempt, AttemptItem, ProblemReport
from questions.models import Exam

User = get_user_model()

MSG_REPORT_THANKS = "Thanks: an instructor will look at it."
MSG_REPORT_RESOLVED = "The report was marked resolved."
MSG_NO_EXAM = "No exam blueprint is loaded yet."
MSG_NOT_REPORTED = "This attempt is not finished, so there is no report to show yet."
MSG_GROUP_CREATED = "Group created: hand its join code to your candidates."
MSG_CODE_REGENERATED = "New join code made: the old one no longer works."
REPORTS_PAGE_SIZE = 50
COHORT_PAGE_SIZE = 100  # rows of the cohort table per page (the CSV has every row)
CANDIDATE_ATTEMPTS_SHOWN = 200
SORTS = {
    "name": lambda r: r.username.lower(),
    "attempts": lambda r: r.attempts,
    "last": lambda r: r.last_full,
    "best": lambda r: r.best_full,
    "readiness": lambda r: r.readiness.overall.percent if r.readiness.overall else None,
    "activity": lambda r: r.last_activity,
}


class RowIdConverter:
    """A row id in a URL: 1 to 9 digits, so an absurd number is a plain 404 instead of an
    integer the database cannot hold."""

    regex = "[0-9]{1,9}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


# Registered here, where both URL modules that use it import it from.
register_converter(RowIdConverter, "rowid")


def _small_int(raw: str) -> int | None:
    """A query-string number: 1 to 9 ASCII digits, else None."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None


# --- candidates report a problem ------------------------------------------------------------


def _back_to_item(item: AttemptItem) -> str:
    """Where a report about `item` returns: the question in the attempt's report once
    submitted, else the question page (immediate feedback)."""
    attempt_id = item.attempt_id
    if item.attempt.status == Attempt.Status.SUBMITTED:
        return f"{reverse('exams:report', kwargs={'attempt_id': attempt_id})}#rq-{item.position}"
    return reverse("exams:question", kwargs={"attempt_id": attempt_id, "position": item.position})


@login_required_page()
@require_http_methods(["GET", "POST"])
def report_problem(request: HttpRequest, attempt_id: UUID, position: int) -> HttpResponse:
    """GET: the report form on its own page (the immediate-feedback link, and pages without
    JavaScript). POST: store the report; htmx gets the form's place back with thanks or the
    reason, a plain post goes back to the question with a message. Another user's item is
    404; an item whose answer is not revealed yet is refused without showing anything."""
    item = get_object_or_404(
        AttemptItem.objects.select_related("attempt"),
        attempt_id=attempt_id,
        attempt__user=request.user,
        position=position,
    )
    context = {"item": item, "attempt": item.attempt, "kinds": ProblemReport.Kind.choices}
    if request.method == "GET":
        revealed = item.attempt.status == Attempt.Status.SUBMITTED or item.revealed
        context |= {"refused": None if revealed else services.MSG_REPORT_NOT_REVEALED}
        item.sent_report = ProblemReport.objects.filter(user=request.user, item=item).first()
        context["back"] = _back_to_item(item)
        return render(request, "exams/report_problem.html", context)
    try:
        services.problem_report_create(
            user=request.user,
            item=item,
            kind=request.POST.get("kind", ""),
            comment=request.POST.get("comment", ""),
            now=timezone.now(),
        )
    except services.ReportRefused as exc:
        context |= {
            "report_message": exc.message,
            "report_failed": True,
            "retry": exc.fixable,
            "standalone": True,  # the form again, wherever it was sent from
            # What was typed comes back with the form, so a correction loses nothing.
            "posted_kind": request.POST.get("kind", ""),
            "posted_comment": request.POST.get("comment", ""),
        }
        if request.htmx:
            return render(request, "exams/_report_problem.html", context)
        if exc.fixable:
            context |= {"back": _back_to_item(item), "refused": None}
            return render(request, "exams/report_problem.html", context, status=422)
        messages.error(request, exc.message)
        return redirect(_back_to_item(item))
    if request.htmx:
        context |= {"report_message": MSG_REPORT_THANKS}
        return render(request, "exams/_report_problem.html", context)
    messages.success(request, MSG_REPORT_THANKS)
    return redirect(_back_to_item(item))


# --- shared parsing for instructor pages ----------------------------------------------------


def _exam(request: HttpRequest) -> Exam | None:
    """`?exam=<code>` (404 for a code no exam has), else the viewer's chosen exam."""
    code = request.GET.get("exam")
    if code:
        return get_object_or_404(Exam, code=code)
    return selectors.chosen_exam(request.user)


def _group(request: HttpRequest) -> StudyGroup | None:
    """`?group=<id>` among the groups the viewer may see (404 for any other), or None."""
    raw = request.GET.get("group", "")
    if not raw:
        return None
    group_id = _small_int(raw)
    if group_id is None:
        raise Http404
    return get_object_or_404(cohort.groups_run_by(request.user), pk=group_id)


def _without(request: HttpRequest, *names: str) -> str:
    """The page's query string without `names` (to append new values of them)."""
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


def _visible_candidate(request: HttpRequest, user_id: int):
    if not cohort.may_see_candidate(request.user, user_id):
        raise Http404
    return get_object_or_404(User, pk=user_id)


# --- problem-report queue -------------------------------------------------------------------


def _letters(item: AttemptItem, ids) -> str:
    shown = {cid: "ABCDEFGH"[n] for n, cid in enumerate(item.choice_order[:8])}
    return "".join(sorted(shown[c] for c in ids if c in shown)) or "—"


@instructor_required
@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    """The queue of problem reports: open ones by default; filters for status, exam,
    domain, kind and group. Each entry shows the candidate's answer against the key, in
    the letters the candidate saw."""
    status = request.GET.get("status", ProblemReport.Status.OPEN)
    if status not in ProblemReport.Status.values and status != "all":
        status = ProblemReport.Status.OPEN
    kind = request.GET.get("kind", "")
    kind = kind if kind in ProblemReport.Kind.values else ""
    domain_raw = request.GET.get("domain", "")
    domain = _small_int(domain_raw)
    exam = _exam(request)
    group = _group(request)
    reporters = None
    if group is not None or not sees_every_candidate(request.user):
        reporters = cohort.visible_candidates(request.user, exam=exam, group=group)
    queue = cohort.report_queue(
        status=None if status == "all" else status,
        exam=exam,
        domain=domain,
        kind=kind,
        reporters=reporters,
    )
    page = Paginator(queue, REPORTS_PAGE_SIZE).get_page(request.GET.get("page"))
    for report in page.object_list:
        key = [c.id for c in report.version.choices.all() if c.is_correct]
        report.selected_letters = _letters(report.item, report.item.selected)
        report.key_letters = _letters(report.item, key)
    context = {
        "page": page,
        "exam": exam,
        "group": group,
        "groups": list(cohort.groups_run_by(request.user)),
        "exams": list(Exam.objects.order_by("code")),
        "domains": list(exam.domains.order_by("number")) if exam else [],
        "status": status,
        "kind": kind,
        "domain": domain,
        "kinds": ProblemReport.Kind.choices,
        "statuses": [*ProblemReport.Status.choices, ("all", "All")],
        "query": _without(request, "page"),
    }
    return render(request, "instructor/reports.html", context)


@instructor_required
@require_POST
def report_resolve(request: HttpRequest, report_id: int) -> HttpResponse:
    """Resolve a report with a note. Only a report the viewer may see (staff: any; others:
    their groups' candidates'); anything else is 404."""
    report = get_object_or_404(
        ProblemReport.objects.select_related(
            "user", "question__task__domain", "version", "item", "resolved_by"
        ),
        pk=report_id,
    )
    if not cohort.may_see_candidate(request.user, report.user_id):
        raise Http404
    back = request.POST.get("next", "")
    if not back.startswith("/instructor/reports/"):
        back = reverse("instructor:reports")
    try:
        services.problem_report_resolve(
            report=report, by=request.user, note=request.POST.get("note", ""), now=timezone.now()
        )
    except services.ReportRefused as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, MSG_REPORT_RESOLVED)
    return redirect(back)


# --- cohort ---------------------------------------------------------------------------------


def _cohort(request: HttpRequest):
    exam = _exam(request)
    if exam is None:
        return None, None, [], []
    group = _group(request)
    domains = list(exam.domains.order_by("number"))
    users = cohort.visible_candidates(request.user, exam=exam, group=group)
    rows = cohort.cohort_rows(users, exam=exam, domains=domains)
    sort = request.GET.get("sort", "name")
    descending = sort.startswith("-")
    key = SORTS.get(sort.lstrip("-"))
    if key is not None:
        present = [r for r in rows if key(r) is not None]
        # Candidates without a value (no full mock yet) stay at the end either way.
        rows = sorted(present, key=key, reverse=descending) + [r for r in rows if key(r) is None]
    return exam, group, domains, rows


@instructor_required
@require_GET
def cohort_table(request: HttpRequest) -> HttpResponse:
    """One exam's candidates: last and best full-mock score, readiness by domain, attempts
    and last activity; sortable (over every candidate, then paged), narrowed to a group,
    downloadable as CSV."""
    exam, group, domains, rows = _cohort(request)
    if exam is None:
        messages.error(request, MSG_NO_EXAM)
        return redirect("exams:dashboard")
    page = Paginator(rows, COHORT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "exam": exam,
        "group": group,
        "groups": list(cohort.groups_run_by(request.user)),
        "exams": list(Exam.objects.order_by("code")),
        "domains": domains,
        "page": page,
        "page_query": _without(request, "page"),
        "sort": request.GET.get("sort", "name"),
        "base_query": _without(request, "sort", "page"),
        "csv_query": request.GET.urlencode(),
    }
    return render(request, "instructor/cohort.html", context)


CSV_HEADER = [
    "candidate",
    "attempts",
    "full mocks",
    "last full mock %",
    "best full mock %",
    "readiness",
    "readiness %",
]


def _cell(text: str) -> str:
    """A text cell that a spreadsheet will not run as a formula: a leading =, +, - or @
    (all possible in a username) gets an apostrophe, as OWASP advises for CSV exports."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


@instructor_required
@require_GET
def cohort_csv(request: HttpRequest) -> HttpResponse:
    """The cohort table as CSV (the csv module): one row per candidate, the same columns
    as the page plus one per domain (readiness percent), last activity in ISO 8601 UTC."""
    exam, group, domains, rows = _cohort(request)
    if exam is None:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"mlsprep-cohort-{exam.code}{f'-group-{group.pk}' if group else ''}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(
        [*CSV_HEADER, *(f"domain {d.number} %" for d in domains), "last activity (UTC)"]
    )
    for r in rows:
        overall = r.readiness.overall
        writer.writerow(
            [
                _cell(r.username),
                r.attempts,
                r.full_mocks,
                _pct(r.last_full),
                _pct(r.best_full),
                r.readiness.verdict,
                _pct(overall.percent if overall else None),
                *(_pct(p) for p in r.domains),
                r.last_activity.isoformat() if r.last_activity else "",
            ]
        )
    return response


@instructor_required
@require_GET
def candidate(request: HttpRequest, user_id: int) -> HttpResponse:
    """One candidate's history (every attempt, newest first), readiness on the exam and
    problem reports: read-only. 404 for a candidate outside the viewer's groups."""
    person = _visible_candidate(request, user_id)
    exam = _exam(request)
    attempts = list(
        Attempt.objects.filter(user=person)
        .select_related("exam")
        .order_by("-started_at")[:CANDIDATE_ATTEMPTS_SHOWN]
    )
    domains = list(exam.domains.order_by("number")) if exam else []
    estimate = None
    if exam is not None:
        counts = selectors.readiness_counts(user=person, exam=exam)
        weights = {d.number: d.weight_percent for d in domains}
        estimate = cohort.candidate_readiness(counts, weights, pass_mark=exam.pass_mark_percent)
        for d in domains:
            d.estimate = estimate.domains.get(d.number)
    reports_sent = list(
        ProblemReport.objects.filter(user=person).select_related("question", "version", "item")
    )
    context = {
        "person": person,
        "exam": exam,
        "attempts": attempts,
        "domains": domains,
        "estimate": estimate,
        "reports": reports_sent,
        "shown_limit": CANDIDATE_ATTEMPTS_SHOWN,
    }
    return render(request, "instructor/candidate.html", context)


@instructor_required
@require_GET
def candidate_attempt(request: HttpRequest, user_id: int, attempt_id: UUID) -> HttpResponse:
    """An instructor's read-only view of a candidate's finished attempt: the score, the
    domain breakdown and the question review the candidate sees, with no action that
    answers, drills or reports. The attempt must belong to that candidate."""
    person = _visible_candidate(request, user_id)
    attempt = get_object_or_404(Attempt.objects.select_related("exam"), pk=attempt_id, user=person)
    context = {"person": person, "attempt": attempt, "result": attempt.result, "read_only": True}
    if attempt.status != Attempt.Status.SUBMITTED:
        context["items"] = []
        context["not_reported"] = MSG_NOT_REPORTED
        return render(request, "instructor/attempt_report.html", context)
    show = request.GET.get("show", "all")
    show = show if show in REPORT_FILTERS else "all"
    items = selectors.report_items(attempt)
    for item in items:
        item.choices_in_order = selectors.ordered_choices(item, list(item.version.choices.all()))
        item.selected_set = set(item.selected)
    context |= {
        "items": [
            i
            for i in items
            if show == "all"
            or (show == "flagged" and i.flagged)
            or (show == "incorrect" and not i.is_correct)
            or (show == "unanswered" and not i.selected)
        ],
        "show": show,
        "filters": REPORT_FILTERS,
    }
    template = "exams/_report_questions.html" if request.htmx else "instructor/attempt_report.html"
    return render(request, template, context)


REPORT_FILTERS = {
    "all": "All",
    "flagged": "Flagged",
    "incorrect": "Incorrect",
    "unanswered": "Unanswered",
}


# --- study groups ---------------------------------------------------------------------------


@instructor_required
@require_http_methods(["GET", "POST"])
def groups(request: HttpRequest) -> HttpResponse:
    """The groups the viewer runs (staff: all), and a form to create one for an exam."""
    exams = list(Exam.objects.order_by("code"))
    error = None
    if request.method == "POST":
        exam = next((e for e in exams if e.code == request.POST.get("exam")), None)
        if exam is None:
            error = "Choose the exam this group prepares for."
        else:
            try:
                group = group_services.study_group_create(
                    name=request.POST.get("name", ""), exam=exam, instructor=request.user
                )
            except group_services.GroupError as exc:
                error = exc.message
            else:
                messages.success(request, MSG_GROUP_CREATED)
                return redirect("instructor:group", group_id=group.pk)
    rows = cohort.groups_run_by(request.user).annotate(member_count=Count("memberships"))
    context = {"groups": list(rows), "exams": exams, "error": error, "posted": request.POST}
    return render(request, "instructor/groups.html", context, status=422 if error else 200)


def _get_group_for_user(request: HttpRequest, group_id: int) -> StudyGroup:
    return get_object_or_404(cohort.groups_run_by(request.user), pk=group_id)


@instructor_required
@require_GET
def group(request: HttpRequest, group_id: int) -> HttpResponse:
    """A group's join code, instructors and members (with when they joined)."""
    study_group = _get_group_for_user(request, group_id)
    memberships = list(study_group.memberships.select_related("user").order_by("user__username"))
    context = {
        "group": study_group,
        "memberships": memberships,
        "instructors": list(study_group.instructors.order_by("username")),
    }
    return render(request, "instructor/group.html", context)


@instructor_required
@require_POST
def group_regenerate(request: HttpRequest, group_id: int) -> HttpResponse:
    """Replace the group's join code (the old one stops working; members stay)."""
    study_group = _get_group_for_user(request, group_id)
    group_services.study_group_regenerate_code(group=study_group)
    messages.success(request, MSG_CODE_REGENERATED)
    return redirect("instructor:group", group_id=study_group.pk)
