from __future__ import annotations

import csv
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.decorators import login_required_page
from accounts.services import profile_choose_exam
from exams import selectors, services
from exams.charts import progress_chart
from exams.forms import DomainDrillForm, DrillForm, MissedPracticeForm
from exams.models import Attempt, AttemptItem
from exams.scoring import weakest_domain
from questions.models import Exam

MSG_ABANDONED_DONE = "The {mode} was abandoned: it stays in your history and counts nowhere."
MSG_NO_EXAM = "No exam blueprint is loaded yet: run manage.py load_blueprint."
MSG_UNKNOWN_EXAM = (
    "That exam is not offered here (it may have been removed): choose one from the list."
)
MSG_EXAM_CHOSEN = "Your pages are now about {name}."
ONE_CLICK_DRILL_QUESTIONS = 10
HISTORY_PAGE_SIZE = 25
REVIEW_FILTERS = {"all": "All questions", "flagged": "Flagged", "unanswered": "Unanswered"}
REPORT_FILTERS = {
    "all": "All",
    "flagged": "Flagged",
    "incorrect": "Incorrect",
    "unanswered": "Unanswered",
}


def _get_attempt_for_user(request: HttpRequest, attempt_id: UUID) -> Attempt:
    """The user's own attempt (404 for anyone else's), finalised if its time ran out."""
    attempt = get_object_or_404(
        Attempt.objects.select_related("exam"), pk=attempt_id, user=request.user
    )
    if attempt.is_in_progress and attempt.is_past_deadline(
        timezone.now() - services.answer_grace()
    ):
        attempt = services.attempt_submit(attempt=attempt)
    return attempt


# What a save, flag or strike needs of the item's version: never the stem, explanation
# or references (the response is a status fragment, not the question).
VERSION_FOR_WRITES = ("version__id", "version__type", "version__select_count")


MOVES = {"next": 1, "previous": -1}  # an answer form's moves, as position steps


def _get_item_for_user(request: HttpRequest, attempt_id: UUID, position: int) -> AttemptItem:
    """The user's item with its attempt and the version fields a write needs (one query);
    404 for another user's attempt or a position it does not have."""
    item_fields = [f.attname for f in AttemptItem._meta.concrete_fields]
    attempt_fields = [f"attempt__{f.attname}" for f in Attempt._meta.concrete_fields]
    return get_object_or_404(
        AttemptItem.objects.select_related("attempt", "version").only(
            *item_fields, *attempt_fields, *VERSION_FOR_WRITES
        ),
        attempt_id=attempt_id,
        attempt__user=request.user,
        position=position,
    )


def _items_for_move(
    request: HttpRequest, attempt_id: UUID, position: int, target: int
) -> tuple[AttemptItem, AttemptItem | None]:
    """The user's item at `position` and the one at `target` (None when the attempt has no
    such position), each with its attempt and whole version, in one query: an answer
    carrying a move to the next or previous question needs both. 404 as
    _get_item_for_user."""
    items = {
        i.position: i
        for i in AttemptItem.objects.select_related("attempt", "version").filter(
            attempt_id=attempt_id, attempt__user=request.user, position__in=[position, target]
        )
    }
    if position not in items:
        raise Http404
    return items[position], items.get(target)


def _cell(item: AttemptItem) -> dict:
    """One navigator entry, as selectors.navigator() gives them."""
    return {"position": item.position, "answered": item.is_answered, "flagged": item.flagged}


def _attempt_closed(
    request: HttpRequest, attempt: Attempt, exc: services.AttemptClosed
) -> HttpResponse:
    """An answer or flag that came too late: say so (htmx) or show the report."""
    if request.htmx:
        context = {"message": exc.message, "attempt": attempt}
        return render(request, "exams/_answer_closed.html", context, status=409)
    messages.error(request, exc.message)
    return redirect("exams:report", attempt_id=attempt.pk)


def _no_exam(request: HttpRequest) -> HttpResponse:
    messages.error(request, MSG_NO_EXAM)
    return redirect("exams:dashboard")


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required_page()
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    in_progress = services.attempts_submit_overdue(
        attempts=selectors.in_progress_attempts(request.user), now=now
    )
    # Read after the overdue attempts were submitted: each exam's count of submitted
    # attempts is the history stamp of the standing below.
    exam, exams = selectors.exam_choices(request.user)
    exams_by_id = {e.pk: e for e in exams}
    for attempt in in_progress:
        attempt.exam = exams_by_id[attempt.exam_id]
        attempt.time_left = attempt.seconds_left(now)
    context = {"exam": exam, "exams": exams, "in_progress": in_progress}
    if exam is not None:
        standing = selectors.candidate_standing(user=request.user, exam=exam)
        context.update(
            {
                "last_full": standing.last_full,
                "readiness_mocks": standing.readiness_mocks,
                "domains": standing.domains,
                "missed_total": standing.missed_total,
                "pass_mark": exam.pass_mark_percent,
                "estimate": standing.estimate,
            }
        )
    return render(request, "exams/dashboard.html", context)


def _posted_exam(value: str) -> Exam | None:
    """The exam a form posted by id; None for a forged, stale or malformed id."""
    try:
        return Exam.objects.filter(pk=int(value)).first()
    except ValueError:
        return None


@login_required_page()
@require_POST
def choose_exam(request: HttpRequest) -> HttpResponse:
    """The dashboard's exam chooser: remember the posted exam for this candidate."""
    exam = _posted_exam(request.POST.get("exam", ""))
    if exam is None:
        messages.error(request, MSG_UNKNOWN_EXAM)
    else:
        profile_choose_exam(user=request.user, exam=exam)
        messages.success(request, MSG_EXAM_CHOSEN.format(name=exam.name))
    return redirect("exams:dashboard")


@login_required_page()
@require_http_methods(["GET", "POST"])
def start_full_mock(request: HttpRequest) -> HttpResponse:
    """GET: the instructions (the clock has not started); POST (Begin): start the clock.
    A mock already running is resumed, skipping the instructions."""
    exam = selectors.chosen_exam(request.user)
    if exam is None:
        return _no_exam(request)
    if request.method == "GET":
        # (A start expires overdue attempts itself, in attempt_start_full_mock.)
        services.attempts_expire_due(user_id=request.user.pk)
        running = selectors.running_full_mock(request.user)
        if running is not None:
            return redirect("exams:attempt", attempt_id=running.pk)
        return render(request, "exams/instructions.html", _instructions(exam, mode="full"))
    try:
        attempt = services.attempt_start_full_mock(user=request.user, exam=exam)
    except services.AttemptInProgress as exc:
        messages.info(request, exc.message)
        attempt = exc.attempt
    except services.ExamError as exc:
        messages.error(request, exc.message)
        return redirect("exams:dashboard")
    return redirect("exams:attempt", attempt_id=attempt.pk)


def _instructions(
    exam, *, mode: str, count: int | None = None, minutes: float | None = None
) -> dict:
    return {
        "exam": exam,
        "mode": mode,
        "count": count or exam.question_count,
        "minutes": minutes if minutes is not None else exam.minutes,
        "domains": list(exam.domains.order_by("number")),
        "grace": settings.ANSWER_GRACE_SECONDS,
    }


@login_required_page()
@require_http_methods(["GET", "POST"])
def abandon(request: HttpRequest, attempt_id: UUID) -> HttpResponse:
    """GET: a confirmation naming what is lost; POST: abandon the attempt."""
    attempt = _get_attempt_for_user(request, attempt_id)
    if not attempt.is_in_progress:
        messages.info(
            request, services.MSG_ABANDONED if attempt.is_abandoned else services.MSG_SUBMITTED
        )
        return redirect("exams:history")
    if request.method == "POST":
        services.attempt_abandon(attempt=attempt)
        messages.info(request, MSG_ABANDONED_DONE.format(mode=attempt.get_mode_display().lower()))
        return redirect("exams:dashboard")
    nav = selectors.navigator(attempt)
    context = {
        "attempt": attempt,
        "answered_count": sum(1 for n in nav if n["answered"]),
        "flagged_count": sum(1 for n in nav if n["flagged"]),
    }
    return render(request, "exams/confirm_abandon.html", context)


@login_required_page()
@require_GET
def clock(request: HttpRequest, attempt_id: UUID) -> JsonResponse:
    """The server's clock for a page that re-reads it (on load, wake, focus, every minute):
    milliseconds left (null when untimed) and whether the attempt is still open."""
    attempt = _get_attempt_for_user(request, attempt_id)
    return JsonResponse(_clock_state(attempt))


def _with_clock(response: HttpResponse, attempt: Attempt) -> HttpResponse:
    """Every answer and flag response carries the server's time left (X-Ms-Left), so
    the page's clock is re-read whenever the candidate acts."""
    left = _clock_state(attempt)["ms_left"]
    if left is not None:
        response["X-Ms-Left"] = str(left)
    return response


def _clock_state(attempt: Attempt) -> dict:
    now = timezone.now()
    left = None
    if attempt.deadline is not None:
        left = max(0, int((attempt.deadline - now).total_seconds() * 1000))
    return {
        "ms_left": left,
        "open": attempt.is_in_progress,
        "report_url": reverse("exams:report", kwargs={"attempt_id": attempt.pk}),
    }


@login_required_page()
@require_GET
def attempt_detail(request: HttpRequest, attempt_id: UUID) -> HttpResponse:
    attempt = _get_attempt_for_user(request, attempt_id)
    if not attempt.is_in_progress:
        return redirect("exams:report", attempt_id=attempt.pk)
    return redirect("exams:question", attempt_id=attempt.pk, position=attempt.current_position)


def _total_seconds(attempt: Attempt) -> int | None:
    return (
        int((attempt.deadline - attempt.started_at).total_seconds()) if attempt.deadline else None
    )


WALKS = ("flagged", "unanswered", "all")
WALK_LABELS = {
    "flagged": "flagged questions",
    "unanswered": "unanswered questions",
    "all": "all questions",
}


def _walk(request: HttpRequest) -> str:
    value = request.GET.get("walk") or request.POST.get("walk") or ""
    return value if value in WALKS else ""


def _walk_neighbours(
    nav: list[dict], position: int, walk: str
) -> tuple[int | None, int | None, list[int]]:
    """(previous, next, positions) of a review walk: the exam interface's "review flagged",
    "review unanswered" and "review all" step through only those questions, in order."""
    if walk == "flagged":
        positions = [n["position"] for n in nav if n["flagged"]]
    elif walk == "unanswered":
        positions = [n["position"] for n in nav if not n["answered"] or n["position"] == position]
    else:
        positions = [n["position"] for n in nav]
    previous = max((p for p in positions if p < position), default=None)
    following = min((p for p in positions if p > position), default=None)
    return previous, following, positions


def _question_context(attempt: Attempt, item: AttemptItem, walk: str = "") -> dict:
    now = timezone.now()
    nav = selectors.navigator(attempt)
    previous = item.position - 1 if item.position > 1 else None
    following = item.position + 1 if item.position < attempt.question_count else None
    walk_positions: list[int] = []
    if walk:
        previous, following, walk_positions = _walk_neighbours(nav, item.position, walk)
    return {
        "attempt": attempt,
        "item": item,
        "question": item.version,
        "choices": selectors.item_choices(item),
        "selected": set(item.selected),
        "navigator": nav,
        "answered_count": sum(1 for n in nav if n["answered"]),
        "flagged_count": sum(1 for n in nav if n["flagged"]),
        "seconds_left": attempt.seconds_left(now),
        "total_seconds": _total_seconds(attempt),
        "grace_seconds": settings.ANSWER_GRACE_SECONDS,
        "previous": previous,
        "next": following,
        "walk": walk,
        "walk_label": WALK_LABELS.get(walk, ""),
        "walk_index": walk_positions.index(item.position) + 1
        if item.position in walk_positions
        else None,
        "walk_total": len(walk_positions),
        "struck": set(item.struck),
    }


def _item_with_attempt(request: HttpRequest, attempt_id: UUID, position: int):
    """The user's item at `position` with its attempt (and the attempt's exam, named in the
    page header) and version, in one query (None when the attempt has no such item or is
    not the user's)."""
    return (
        AttemptItem.objects.select_related("attempt__exam", "version")
        .filter(attempt_id=attempt_id, attempt__user=request.user, position=position)
        .first()
    )


@login_required_page()
@require_GET
def question(request: HttpRequest, attempt_id: UUID, position: int) -> HttpResponse:
    """One question of a running attempt. An htmx request (a move from the navigator or
    the Previous/Next links) gets only what changes: the question, its choices, the
    navigator's cells and the time left; the full page works without JavaScript."""
    item = _item_with_attempt(request, attempt_id, position)
    if item is None:
        # Not a position of this attempt: 404 for someone else's or a missing attempt,
        # the report for one that has ended.
        attempt = _get_attempt_for_user(request, attempt_id)
        if not attempt.is_in_progress:
            return redirect("exams:report", attempt_id=attempt.pk)
        raise Http404
    attempt = item.attempt
    if attempt.is_in_progress and attempt.is_past_deadline(
        timezone.now() - services.answer_grace()
    ):
        attempt = services.attempt_submit(attempt=attempt)
    if not attempt.is_in_progress:
        return _redirect(request, reverse("exams:report", kwargs={"attempt_id": attempt.pk}))
    return _show_question(request, attempt, item, _walk(request))


def _wants_move_fragment(request: HttpRequest) -> bool:
    """An htmx move between questions (navigator link, Previous/Next) swaps the question
    panel only; a history restore, like a plain request, needs the whole page."""
    return bool(
        request.htmx
        and request.htmx.target == "question-panel"
        and not request.htmx.history_restore_request
    )


def _show_question(
    request: HttpRequest, attempt: Attempt, item: AttemptItem, walk: str
) -> HttpResponse:
    """Arrive at `item` (remembering the position and the time per question) and render
    it: the whole page, or for an htmx move only what changes."""
    services.attempt_goto(attempt=attempt, position=item.position)
    context = _question_context(attempt, item, walk)
    if item.revealed:
        # Immediate feedback was asked for and this answer is locked: show the key.
        context["correct_ids"] = {c.id for c in context["choices"] if c.is_correct}
    if _wants_move_fragment(request):
        response = _with_clock(render(request, "exams/_question_move.html", context), attempt)
    else:
        response = render(request, "exams/question.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _positions(values: list[str], item: AttemptItem) -> list[int]:
    """Choice ids from the posted positions (1-based, in this attempt's order). A page
    posts positions, never choice ids: ids follow the question file's order and would
    give the key away."""
    try:
        positions = [int(v) for v in values if v != ""]
    except ValueError:
        raise services.AnswerRefused(services.MSG_UNKNOWN_CHOICE) from None
    if any(not 1 <= p <= len(item.choice_order) for p in positions):
        raise services.AnswerRefused(services.MSG_UNKNOWN_CHOICE)
    return [item.choice_order[p - 1] for p in positions]


def _revision(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("revision", ""))
    except ValueError:
        # A form without its revision (an old page) is treated as stale, never as current.
        return -1


def _after_answer_target(item: AttemptItem, go: str, walk: str) -> int | None:
    """The position the form's navigation goes to: the next or previous question (of the
    review walk, when there is one) or the same one; None for the review screen."""
    attempt, position = item.attempt, item.position
    previous = position - 1 if position > 1 else None
    following = position + 1 if position < attempt.question_count else None
    if walk and go in ("next", "previous"):
        previous, following, _ = _walk_neighbours(selectors.navigator(attempt), position, walk)
    target = {"next": following, "previous": previous}.get(go, position)
    if go == "review" or (target is None and walk):
        return None
    return target or position


def _after_answer_url(item: AttemptItem, go: str, walk: str) -> str:
    """Where the form's navigation goes, as a URL (see _after_answer_target)."""
    target = _after_answer_target(item, go, walk)
    if target is None:
        return reverse("exams:review", kwargs={"attempt_id": item.attempt_id})
    url = reverse("exams:question", kwargs={"attempt_id": item.attempt_id, "position": target})
    return f"{url}?walk={walk}" if walk else url


def _back_to_question(request: HttpRequest, attempt_id: UUID, position: int) -> str:
    return reverse("exams:question", kwargs={"attempt_id": attempt_id, "position": position})


def _back_to_attempt(request: HttpRequest, attempt_id: UUID) -> str:
    return reverse("exams:attempt", kwargs={"attempt_id": attempt_id})


def _into_status(response: HttpResponse, go: str) -> HttpResponse:
    """A message answering a move (Next, Previous) goes to the status line, as a save's
    does, instead of replacing the question panel the move targeted."""
    if go:
        response["HX-Retarget"] = "#save-status"
        response["HX-Reswap"] = "innerHTML"
    return response


def _move_after_answer(
    request: HttpRequest, item: AttemptItem, go: str, fetched: AttemptItem | None = None
) -> HttpResponse:
    """htmx's Next/Previous after the (conditional) save: the target question's panel in
    the same response, its URL pushed to the history; the review screen by a redirect.
    `fetched` is the target item when it was read with `item` (_items_for_move)."""
    walk = _walk(request)
    target = _after_answer_target(item, go, walk)
    if target is None:
        return HttpResponseClientRedirect(_after_answer_url(item, go, walk))
    attempt = item.attempt
    if fetched is not None and fetched.position == target:
        to = fetched
    else:
        to = AttemptItem.objects.select_related("version").get(attempt=attempt, position=target)
    to.attempt = attempt
    response = _show_question(request, attempt, to, walk)
    response["HX-Push-Url"] = _after_answer_url(item, go, walk)
    return response


@login_required_page(return_to=_back_to_question)
@require_POST
def answer(request: HttpRequest, attempt_id: UUID, position: int) -> HttpResponse:
    """Save one answer. htmx posts on every change and gets a status fragment back; the
    same form without JavaScript posts here and is redirected to where it asked to go.

    Every save names the revision its page was drawn from, and a stale one is refused.
    Navigation (Next, Previous, Review) writes only when the posted selection differs
    from the one the page was drawn with: a page that merely moves on never overwrites."""
    go = request.POST.get("go", "")
    fetched = None
    if request.htmx and go in MOVES and not _walk(request):
        # A move to the next or previous question (outside a review walk, whose target
        # depends on the other items): read both questions at once.
        target = position + MOVES[go]
        item, fetched = _items_for_move(request, attempt_id, position, target)
    else:
        item = _get_item_for_user(request, attempt_id, position)
    was_answered = item.is_answered
    try:
        if item.revealed and request.htmx and not go:  # a click on a locked answer
            raise services.AnswerRefused(services.MSG_LOCKED)
        choice_ids = _positions(request.POST.getlist("choice"), item)
        drawn = _positions(request.POST.get("drawn", "").split(","), item)
        # An htmx save (a click on a choice) always writes; a move (Next, Previous,
        # Review, with or without htmx) writes only what differs from the drawn page.
        changed = (request.htmx and not go) or set(choice_ids) != set(drawn)
        if changed and not item.revealed:  # a locked answer's form still navigates
            services.attempt_answer(item=item, choice_ids=choice_ids, revision=_revision(request))
        if go == "check":
            services.attempt_reveal(item=item)
    except services.AttemptClosed as exc:
        return _into_status(_attempt_closed(request, item.attempt, exc), go)
    except services.AnswerRefused as exc:
        if request.htmx:
            # Re-render the choices from what is stored, so the screen never shows an
            # unsaved selection as if it were saved.
            context = {
                "item": item,
                "choices": selectors.item_choices(item),
                "selected": set(item.selected),
                "question": item.version,
                "message": exc.message,
            }
            response = render(request, "exams/_answer_refused.html", context, status=422)
            return _with_clock(_into_status(response, go), item.attempt)
        messages.error(request, exc.message)
        return redirect("exams:question", attempt_id=attempt_id, position=position)
    if request.htmx and go:
        return _move_after_answer(request, item, go, fetched)
    if request.htmx:
        context = {"item": item, "cell": _cell(item), "attempt": item.attempt}
        if was_answered != item.is_answered:
            # The answered count changed: count once. Changing one answer for another
            # (the usual save) leaves the progress bar as it is and costs no count.
            context["answered_count"] = (
                AttemptItem.objects.filter(attempt_id=attempt_id).exclude(selected=[]).count()
            )
        return _with_clock(render(request, "exams/_answer_saved.html", context), item.attempt)
    return redirect(_after_answer_url(item, go, _walk(request)))


@login_required_page(return_to=_back_to_question)
@require_POST
def flag(request: HttpRequest, attempt_id: UUID, position: int) -> HttpResponse:
    item = _get_item_for_user(request, attempt_id, position)
    flagged = request.POST.get("flagged") == "1"
    try:
        services.attempt_flag(item=item, flagged=flagged)
    except services.AttemptClosed as exc:
        return _attempt_closed(request, item.attempt, exc)
    if request.htmx:
        context = {"item": item, "cell": _cell(item), "attempt": item.attempt, "oob": True}
        return _with_clock(render(request, "exams/_flag.html", context), item.attempt)
    return redirect("exams:question", attempt_id=attempt_id, position=position)


@login_required_page(return_to=_back_to_question)
@require_POST
def strike(request: HttpRequest, attempt_id: UUID, position: int) -> HttpResponse:
    """Strike a choice out (or restore it): `strike` is the choice's shown position, `on`
    is 1 to strike and 0 to restore. htmx gets the choices back; a plain post returns to
    the question."""
    item = _get_item_for_user(request, attempt_id, position)
    try:
        (choice_id,) = _positions([request.POST.get("strike", "")], item)
        services.attempt_strike(
            item=item, choice_id=choice_id, struck=request.POST.get("on") == "1"
        )
    except services.AttemptClosed as exc:
        return _attempt_closed(request, item.attempt, exc)
    except (services.AnswerRefused, ValueError):
        if request.htmx:
            return HttpResponse(services.MSG_UNKNOWN_CHOICE, status=400)
        messages.error(request, services.MSG_UNKNOWN_CHOICE)
    if request.htmx:
        context = {
            "item": item,
            "attempt": item.attempt,
            "question": item.version,
            "choices": selectors.item_choices(item),
            "selected": set(item.selected),
            "struck": set(item.struck),
        }
        return _with_clock(render(request, "exams/_choices.html", context), item.attempt)
    url = reverse("exams:question", kwargs={"attempt_id": attempt_id, "position": position})
    walk = _walk(request)
    return redirect(f"{url}?walk={walk}" if walk else url)


@login_required_page()
@require_GET
def review(request: HttpRequest, attempt_id: UUID) -> HttpResponse:
    attempt = _get_attempt_for_user(request, attempt_id)
    if not attempt.is_in_progress:
        return redirect("exams:report", attempt_id=attempt.pk)
    show = request.GET.get("show", "all")
    if show not in REVIEW_FILTERS:
        show = "all"
    services.attempt_leave_question(attempt=attempt)
    nav = selectors.navigator(attempt)
    rows = [
        n
        for n in nav
        if show == "all"
        or (show == "flagged" and n["flagged"])
        or (show == "unanswered" and not n["answered"])
    ]
    context = {
        "attempt": attempt,
        "rows": rows,
        "show": show,
        "filters": REVIEW_FILTERS,
        "answered_count": sum(1 for n in nav if n["answered"]),
        "unanswered_count": sum(1 for n in nav if not n["answered"]),
        "flagged_count": sum(1 for n in nav if n["flagged"]),
        "first_flagged": next((n["position"] for n in nav if n["flagged"]), None),
        "first_unanswered": next((n["position"] for n in nav if not n["answered"]), None),
        "seconds_left": attempt.seconds_left(timezone.now()),
        "total_seconds": _total_seconds(attempt),
        "grace_seconds": settings.ANSWER_GRACE_SECONDS,
    }
    template = "exams/_review_list.html" if request.htmx else "exams/review.html"
    return render(request, template, context)


@login_required_page(return_to=_back_to_attempt)
@require_http_methods(["POST"])
def submit(request: HttpRequest, attempt_id: UUID) -> HttpResponse:
    """Submit after confirmation. Without `confirm`, show the confirmation with the count
    of unanswered questions; the timer's automatic submission sends `confirm` itself."""
    attempt = _get_attempt_for_user(request, attempt_id)
    if attempt.is_in_progress and request.POST.get("confirm") != "yes":
        unanswered = attempt.items.filter(selected=[]).count()
        return render(
            request,
            "exams/confirm_submit.html",
            {"attempt": attempt, "unanswered_count": unanswered},
        )
    services.attempt_submit(attempt=attempt)
    return _redirect(request, reverse("exams:report", kwargs={"attempt_id": attempt.pk}))


@login_required_page()
@require_GET
def report(request: HttpRequest, attempt_id: UUID) -> HttpResponse:
    attempt = _get_attempt_for_user(request, attempt_id)
    if attempt.is_in_progress:
        return redirect("exams:question", attempt_id=attempt.pk, position=attempt.current_position)
    if attempt.is_abandoned:
        return render(request, "exams/abandoned.html", {"attempt": attempt})
    # The first view is the summary: the question review (65 questions with their
    # explanations) loads on demand, by htmx or by its link, or with ?print=full.
    reviewing = "show" in request.GET or request.GET.get("print") == "full" or request.htmx
    show = request.GET.get("show", "all")
    if show not in REPORT_FILTERS:
        show = "all"
    context = {
        "attempt": attempt,
        "result": attempt.result,
        "weakest": weakest_domain(attempt.result.get("domains", [])),
        "show": show,
        "filters": REPORT_FILTERS,
        "print_full": request.GET.get("print") == "full",
        "reviewing": reviewing,
    }
    if not reviewing:
        context["show"] = ""  # no filter is current until the review is open
        context["slowest"] = selectors.slowest_items(attempt)
        return render(request, "exams/report.html", context)
    items = selectors.report_items(attempt)
    sent = selectors.reports_sent(user=request.user, attempt=attempt)
    for item in items:
        item.choices_in_order = selectors.ordered_choices(item, list(item.version.choices.all()))
        item.selected_set = set(item.selected)
        item.sent_report = sent.get(item.pk)
    context["slowest"] = selectors.slowest_of(items)
    context["items"] = [
        i
        for i in items
        if show == "all"
        or (show == "flagged" and i.flagged)
        or (show == "incorrect" and not i.is_correct)
        or (show == "unanswered" and not i.selected)
    ]
    template = "exams/_report_questions.html" if request.htmx else "exams/report.html"
    return render(request, template, context)


def _repost(request: HttpRequest) -> list[tuple[str, str]]:
    """The posted fields, to carry through a confirmation page (not the CSRF token).
    `begin` is carried: a timed drill whose Begin was pressed must not loop back to its
    instructions (which would drop `abandon_open`) from "Abandon it and start this one"."""
    return [
        (k, v)
        for k, values in request.POST.lists()
        for v in values
        if k not in ("csrfmiddlewaretoken", "abandon_open")
    ]


def _start_or_confirm(request: HttpRequest, start) -> HttpResponse:
    """Run `start()` (a practice start) and open the new attempt, first abandoning the open
    practice attempt when the candidate chose "abandon it and start this one". When another
    practice attempt is open, the candidate is offered resume or abandon-and-start instead.
    ExamError from `start()` propagates, for the caller to show its way."""
    if request.POST.get("abandon_open") == "1":
        running = selectors.running_practice(request.user)
        if running is not None:
            services.attempt_abandon(attempt=running)
    try:
        started = start()
    except services.PracticeInProgress as exc:
        context = {"running": exc.attempt, "action": request.path, "repost": _repost(request)}
        return render(request, "exams/practice_in_progress.html", context, status=409)
    return _practice_started(request, started)


@login_required_page()
@require_http_methods(["GET", "POST"])
def drill(request: HttpRequest) -> HttpResponse:
    exam = selectors.chosen_exam(request.user)
    if exam is None:
        return _no_exam(request)
    initial = {"domains": request.GET.getlist("domain")}
    form = DrillForm(request.POST or None, exam=exam, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["timed"] and request.POST.get("begin") != "1":
            # A timed drill shows its instructions first: the clock starts on Begin.
            count = data["count"]
            context = _instructions(
                exam, mode="drill", count=count, minutes=services.drill_minutes(exam, count)
            )
            context |= {"action": request.path, "repost": _repost(request)}
            return render(request, "exams/instructions.html", context)
        try:
            return _start_or_confirm(
                request,
                lambda: services.attempt_start_drill(
                    user=request.user,
                    exam=exam,
                    domain_numbers=data["domains"],
                    task_codes=data["tasks"],
                    count=data["count"],
                    timed=data["timed"],
                    feedback=data["feedback"],
                ),
            )
        except services.ExamError as exc:
            form.add_error(None, exc.message)
    return render(request, "exams/drill.html", {"form": form, "exam": exam})


@login_required_page()
@require_POST
def start_domain_drill(request: HttpRequest) -> HttpResponse:
    """One click from a report: a short drill with immediate feedback on one domain of the
    report's exam (the posted `exam` id; the chosen exam when none is posted)."""
    exam = selectors.chosen_exam(request.user)
    if exam is None:
        return _no_exam(request)
    if request.POST.get("exam"):
        exam = _posted_exam(request.POST["exam"])
        if exam is None:
            messages.error(request, MSG_UNKNOWN_EXAM)
            return redirect("exams:dashboard")
    form = DomainDrillForm(request.POST, exam=exam)
    if not form.is_valid():
        messages.error(request, services.MSG_UNKNOWN_DOMAIN)
        return redirect("exams:drill")
    try:
        return _start_or_confirm(
            request,
            lambda: services.attempt_start_drill(
                user=request.user,
                exam=exam,
                domain_numbers=[form.cleaned_data["domain"]],
                count=ONE_CLICK_DRILL_QUESTIONS,
                timed=False,
                feedback=Attempt.Feedback.IMMEDIATE,
            ),
        )
    except services.ExamError as exc:
        messages.error(request, exc.message)
        return redirect("exams:drill")


@login_required_page()
@require_POST
def start_missed(request: HttpRequest) -> HttpResponse:
    exam = selectors.chosen_exam(request.user)
    if exam is None:
        return _no_exam(request)
    form = MissedPracticeForm(request.POST, exam=exam)
    if not form.is_valid():
        messages.error(request, form.error_text())
        return redirect("exams:dashboard")
    count = form.cleaned_data["count"] or ONE_CLICK_DRILL_QUESTIONS
    try:
        return _start_or_confirm(
            request,
            lambda: services.attempt_start_missed(user=request.user, exam=exam, count=count),
        )
    except services.ExamError as exc:
        messages.error(request, exc.message)
        return redirect("exams:dashboard")


def _practice_started(request: HttpRequest, started: services.PracticeStart) -> HttpResponse:
    if started.note:
        messages.info(request, started.note)
    return redirect("exams:attempt", attempt_id=started.attempt.pk)


@login_required_page()
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    """The chosen exam's attempts, newest first, with any attempt still in progress on
    another exam (labelled with its exam) so it stays reachable."""
    services.attempts_expire_due(user_id=request.user.pk)
    exam = selectors.chosen_exam(request.user)
    attempts = (
        Attempt.objects.filter(user=request.user)
        .filter(Q(exam=exam) | Q(status=Attempt.Status.IN_PROGRESS))
        .select_related("exam")
        .order_by("-started_at")
    )
    page = Paginator(attempts, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "exams/history.html", {"page": page, "exam": exam})


@login_required_page()
@require_GET
def progress(request: HttpRequest) -> HttpResponse:
    services.attempts_expire_due(user_id=request.user.pk)
    exam = selectors.chosen_exam(request.user)
    mocks = selectors.full_mock_history(user=request.user, exam=exam) if exam else []
    domains = list(exam.domains.order_by("number")) if exam else []
    chart = progress_chart(mocks, domains, pass_mark=exam.pass_mark_percent if exam else 0)
    estimate = (
        selectors.readiness_estimate(user=request.user, exam=exam, domains=domains)
        if exam
        else None
    )
    if estimate:
        for d in domains:
            d.estimate = estimate.domains.get(d.number)
    context = {
        "mocks": mocks,
        "chart": chart,
        "domains": domains,
        "exam": exam,
        "estimate": estimate,
    }
    return render(request, "exams/progress.html", context)


@login_required_page()
@require_GET
def report_csv(request: HttpRequest, attempt_id: UUID) -> HttpResponse:
    """The candidate's own item-by-item results of a finished attempt, as CSV. Letters are
    the choices as this attempt showed them (A first)."""
    attempt = _get_attempt_for_user(request, attempt_id)
    if attempt.is_in_progress:
        return redirect("exams:question", attempt_id=attempt.pk, position=attempt.current_position)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mlsprep-{attempt.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "position",
            "domain",
            "task",
            "question",
            "version",
            "your answer",
            "key",
            "result",
            "flagged",
        ]
    )
    for item in selectors.report_items(attempt):
        letters = {cid: "ABCDEF"[n] for n, cid in enumerate(item.choice_order)}
        key = {c.id for c in item.version.choices.all() if c.is_correct}
        result = "correct" if item.is_correct else ("incorrect" if item.selected else "unanswered")
        writer.writerow(
            [
                item.position,
                item.question.task.domain.number,
                item.question.task.code,
                item.question.external_id,
                item.version.number,
                "".join(sorted(letters[c] for c in item.selected if c in letters)),
                "".join(sorted(letters[c] for c in key if c in letters)),
                result,
                "yes" if item.flagged else "no",
            ]
        )
    return response
