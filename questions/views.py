"""The instructors' question bank pages: upload files, preview what they would change,
apply or discard, and the list of every upload. Every upload is visible to every
instructor (they share one bank); only the instructor who made one may apply or discard
it. Non-instructors get 404 (see accounts.permissions.instructor_required)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import instructor_required
from questions import services
from questions.bankfile import MAX_FILE_BYTES, ReadOptions
from questions.forms import ApplyForm, BankUploadForm
from questions.models import BankUpload
from questions.uploadhandlers import LimitedUploadHandler

UPLOADS_PAGE_SIZE = 25


def _get_upload(upload_id: int) -> BankUpload:
    """Any instructor may see any upload: the bank is shared."""
    return get_object_or_404(BankUpload.objects.select_related("uploaded_by", "exam"), pk=upload_id)


@instructor_required
@require_GET
def upload_list(request: HttpRequest) -> HttpResponse:
    """Every upload, newest first, UPLOADS_PAGE_SIZE a page: who, when, files, result, counts."""
    uploads = (
        BankUpload.objects.select_related("uploaded_by", "exam")
        .defer("contents", "plan", "problems")
        .annotate(plan_counts=F("plan__counts"))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(uploads, UPLOADS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "instructor/uploads.html", {"page": page})


@csrf_exempt
@instructor_required
@require_http_methods(["GET", "POST"])
def upload_new(request: HttpRequest) -> HttpResponse:
    """The upload form (GET); POST records the upload and shows its preview or problems."""
    # The limiting handler must be in place before anything reads the body, CSRF included
    # (Django's documented way: exempt here, protect the inner view).
    handler = LimitedUploadHandler(request)
    request.upload_handlers.insert(0, handler)
    return _upload_new(request, handler)


@csrf_protect
def _upload_new(request: HttpRequest, handler: LimitedUploadHandler) -> HttpResponse:
    if request.method != "POST":
        return _render_new(request, BankUploadForm())
    form = BankUploadForm(request.POST, request.FILES)
    if handler.refusal:
        upload = services.bank_upload_record_refusal(
            user=request.user, names=handler.names, message=handler.refusal
        )
        messages.error(request, handler.refusal)
        return redirect("instructor:upload_detail", upload_id=upload.pk)
    if not form.is_valid():
        return _render_new(request, form, status=422)
    files = [services.UploadFile(name=f.name, content=f.read()) for f in form.cleaned_data["files"]]
    exam = form.cleaned_data.get("exam")
    options = ReadOptions(
        fmt=form.cleaned_data.get("format") or None,
        exam=exam.code if exam else None,
        default_task=form.cleaned_data.get("default_task") or None,
    )
    upload = services.bank_upload_preview(user=request.user, files=files, options=options)
    return redirect("instructor:upload_detail", upload_id=upload.pk)


def _render_new(request: HttpRequest, form: BankUploadForm, status: int = 200) -> HttpResponse:
    limits = {
        "max_files": settings.UPLOAD_MAX_FILES,
        "max_total_mb": round(settings.UPLOAD_MAX_TOTAL_BYTES / 2**20, 1),
        "max_file_mb": round(MAX_FILE_BYTES / 2**20, 1),
    }
    return render(request, "instructor/upload_new.html", {"form": form, **limits}, status=status)


@instructor_required
@require_GET
def upload_detail(request: HttpRequest, upload_id: int) -> HttpResponse:
    """One upload: its problems, or its plan with Apply and Discard, or its outcome."""
    upload = _get_upload(upload_id)
    items = upload.plan.get("items", [])
    context = {
        "upload": upload,
        "counts": upload.plan.get("counts", {}),
        "items": items,
        "changed": [i for i in items if i["kind"] != services.ENTRY_UNCHANGED],
        "unchanged": [i for i in items if i["kind"] == services.ENTRY_UNCHANGED],
        "retire": upload.plan.get("retire", []),
        "blueprints": upload.plan.get("blueprints", []),
        "can_act": upload.status == BankUpload.Status.PREVIEWED
        and (upload.uploaded_by_id == request.user.pk or request.user.is_superuser),
        "form": ApplyForm(),
    }
    return render(request, "instructor/upload_detail.html", context)


@instructor_required
@require_POST
def upload_apply(request: HttpRequest, upload_id: int) -> HttpResponse:
    """Apply the previewed plan (see services.bank_upload_apply); a stale preview leads to
    the fresh one made in its place."""
    upload = _get_upload(upload_id)
    form = ApplyForm(request.POST)
    form.is_valid()  # two check boxes: anything else reads as unticked
    try:
        outcome = services.bank_upload_apply(
            upload=upload,
            user=request.user,
            retire=form.cleaned_data.get("retire", False),
            confirm_mass_retire=form.cleaned_data.get("confirm_mass_retire", False),
        )
    except services.UploadRefused as exc:
        messages.error(request, exc.message)
        return redirect("instructor:upload_detail", upload_id=upload.pk)
    if outcome.fresh is not None:
        messages.error(request, outcome.message)
        return redirect("instructor:upload_detail", upload_id=outcome.fresh.pk)
    messages.success(request, outcome.message)
    return redirect("instructor:upload_detail", upload_id=upload.pk)


@instructor_required
@require_POST
def upload_discard(request: HttpRequest, upload_id: int) -> HttpResponse:
    """Discard a previewed upload: nothing is loaded, the record stays in the list."""
    upload = _get_upload(upload_id)
    try:
        services.bank_upload_discard(upload=upload, user=request.user)
    except services.UploadRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, services.MSG_UPLOAD_DISCARDED)
    return redirect("instructor:upload_detail", upload_id=upload.pk)
