"""Instructors upload question and blueprint files in the browser: preview, apply,
refusal when the bank changed, the list of uploads, permissions and limits."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse

from accounts.permissions import INSTRUCTORS_GROUP
from questions import bankfile as bf
from questions import services
from questions.forms import MSG_NO_FILES
from questions.models import BankUpload, Exam, Question
from questions.services import UploadFile, UploadRefused, bank_upload_apply, bank_upload_preview
from questions.uploadhandlers import MSG_FILE_TOO_BIG, MSG_TOO_MANY_FILES, MSG_TOTAL_TOO_BIG
from questions.views import UPLOADS_PAGE_SIZE
from tests.conftest import BLUEPRINT as ROOT_BLUEPRINT
from tests.factories import UserFactory


def question(qid: str, *, stem: str = "Which service streams records?", task: str = "1.2") -> str:
    return textwrap.indent(
        textwrap.dedent(
            f"""\
            - id: {qid}
              domain: {task.split(".")[0]}
              task: "{task}"
              type: single
              difficulty: 2
              stem: {stem}
              choices:
                - text: Kinesis Data Streams
                  correct: true
                - text: AWS Batch
                - text: Amazon Athena
              explanation: Streams carry records in order, the others do not stream.
            """
        ),
        "  ",
    )


def bank_file(*entries: str) -> bytes:
    return ("exam: mls-c01\nquestions:\n" + "".join(entries)).encode()


# Another exam's blueprint, shared with the upload journey in the browser.
BLUEPRINT = (Path(__file__).parent / "samples" / "dva-c02-blueprint.yaml").read_text()


@pytest.fixture
def ines(db):
    """An instructor (member of the Instructors group, not staff)."""
    user = UserFactory(username="ines")
    user.groups.add(Group.objects.get_or_create(name=INSTRUCTORS_GROUP)[0])
    return user


@pytest.fixture
def ivan(db):
    user = UserFactory(username="ivan")
    user.groups.add(Group.objects.get_or_create(name=INSTRUCTORS_GROUP)[0])
    return user


@pytest.fixture
def ines_client(client, ines):
    client.force_login(ines)
    return client


def preview(user, *files: tuple[str, bytes], **options) -> BankUpload:
    return bank_upload_preview(
        user=user,
        files=[UploadFile(name, content) for name, content in files],
        options=bf.ReadOptions(**options),
    )


def applied(user, *files: tuple[str, bytes]) -> BankUpload:
    upload = preview(user, *files)
    assert upload.status == BankUpload.Status.PREVIEWED, upload.problems
    return bank_upload_apply(upload=upload, user=user).upload


# --- preview ---------------------------------------------------------------------------


def test_a_preview_lists_every_problem_with_its_file_line_and_question(exam, ines):
    bad = bank_file(
        question("de-ok-001"), question("de-bad-002").replace("difficulty: 2", "difficulty: 7")
    )
    upload = preview(ines, ("d1.yaml", bad), ("notes.yaml", b"exam: [unclosed\n"))
    assert upload.status == BankUpload.Status.INVALID
    assert {
        "file": "d1.yaml",
        "line": "15",
        "question": "de-bad-002",
        "message": bf.MSG_BAD_DIFFICULTY,
    } in upload.problems
    assert [p["file"] for p in upload.problems].count("notes.yaml") == 1
    assert not Question.objects.exists()


def test_the_problems_page_shows_the_problems_and_no_plan(exam, ines, ines_client):
    bad = bank_file(question("de-bad").replace("difficulty: 2", "difficulty: 7"))
    upload = preview(ines, ("d1.yaml", bad))
    page = ines_client.get(reverse("instructor:upload_detail", args=[upload.pk])).content.decode()
    assert "Problems in the files" in page and bf.MSG_BAD_DIFFICULTY in page
    assert "The plan" not in page and "Apply" not in page


def test_a_preview_plans_new_questions_new_versions_unchanged_and_what_could_be_retired(exam, ines):
    applied(ines, ("d1.yaml", bank_file(question("de-a"), question("de-b"), question("de-c"))))
    changed = bank_file(
        question("de-a"),
        question("de-b", stem="Which service streams events in order?"),
        question("de-d"),
    )
    upload = preview(ines, ("d1.yaml", changed))
    counts = upload.plan["counts"]
    assert (counts["new"], counts["new_version"], counts["unchanged"], counts["retire"]) == (
        1,
        1,
        1,
        1,
    )
    by_id = {item["id"]: item for item in upload.plan["items"]}
    assert by_id["de-b"]["kind"] == services.ENTRY_NEW_VERSION
    assert by_id["de-b"]["summary"] == "changed: stem"
    assert by_id["de-b"]["old"]["stem"] == "Which service streams records?"
    assert by_id["de-b"]["new"]["stem"] == "Which service streams events in order?"
    assert by_id["de-d"]["kind"] == services.ENTRY_NEW
    assert [r["id"] for r in upload.plan["retire"]] == ["de-c"]
    assert Question.objects.get(external_id="de-b").current_version.number == 1  # nothing written


def test_a_metadata_only_change_is_planned_as_such(exam, ines):
    applied(ines, ("d1.yaml", bank_file(question("de-a"))))
    upload = preview(
        ines, ("d1.yaml", bank_file(question("de-a").replace("difficulty: 2", "difficulty: 3")))
    )
    [item] = upload.plan["items"]
    assert item["kind"] == services.ENTRY_METADATA
    assert item["metadata"] == [["difficulty", 2, 3]]


def test_the_preview_page_shows_the_old_and_new_version_side_by_side(exam, ines, ines_client):
    applied(ines, ("d1.yaml", bank_file(question("de-a"))))
    upload = preview(
        ines, ("d1.yaml", bank_file(question("de-a", stem="Which service keeps order?")))
    )
    page = ines_client.get(reverse("instructor:upload_detail", args=[upload.pk])).content.decode()
    assert "Now in the bank" in page and "In the file" in page
    assert "Which service streams records?" in page and "Which service keeps order?" in page
    assert "✓ Key" in page
    assert page.count("Stem changed") == 2  # marked on both sides; the choices are the same
    assert "Choices, key or rationales changed" not in page


def test_the_preview_shows_text_as_candidates_will_see_it(exam, ines, ines_client):
    stem = "Which service keeps **order** within a `shard`?"
    upload = preview(ines, ("d1.yaml", bank_file(question("de-b", stem=stem))))
    page = ines_client.get(reverse("instructor:upload_detail", args=[upload.pk])).content.decode()
    assert "<strong>order</strong>" in page and "<code>shard</code>" in page
    assert "**order**" not in page


def test_files_that_are_not_utf8_text_get_a_clear_problem(exam, ines):
    upload = preview(
        ines, ("latin.yaml", "exam: mls-c01 # café".encode("latin-1")), ("nul.yaml", b"exam:\x00")
    )
    messages = {p["file"]: p["message"] for p in upload.problems}
    assert messages["latin.yaml"] == services.MSG_UPLOAD_NOT_UTF8.format(position=20)
    assert messages["nul.yaml"] == services.MSG_UPLOAD_BINARY
    assert upload.contents == {}


def test_an_empty_file_and_two_files_of_one_name_are_problems(exam, ines):
    upload = preview(
        ines,
        ("a.yaml", b""),
        ("b.yaml", bank_file(question("de-a"))),
        ("b.yaml", bank_file(question("de-z"))),
    )
    messages = [p["message"] for p in upload.problems]
    assert services.MSG_UPLOAD_EMPTY_FILE in messages
    assert services.MSG_UPLOAD_SAME_NAME.format(name="b.yaml") in messages


def test_a_gift_file_without_categories_goes_to_the_default_task_chosen(exam, ines):
    gift = (
        "::de-gift-001::Which service keeps one device's records in order? {\n"
        "\t=Kinesis Data Streams\n\t~Amazon SQS standard queues\n"
        "\t####Records with one partition key stay in order.\n}\n"
    )
    upload = preview(
        ines, ("streams.txt", gift.encode()), fmt="gift", exam="mls-c01", default_task="1.2"
    )
    assert upload.status == BankUpload.Status.PREVIEWED, upload.problems
    assert upload.files[0]["format"] == "gift"
    [item] = upload.plan["items"]
    assert (item["id"], item["kind"], item["new"]["task"]) == ("de-gift-001", "new", "1.2")
    bank_upload_apply(upload=upload, user=ines)
    assert Question.objects.get().source_file == "upload:streams.txt"


# --- apply -----------------------------------------------------------------------------


def test_apply_loads_the_plan_and_remembers_each_question_came_from_an_upload(exam, ines):
    upload = applied(ines, ("d1.yaml", bank_file(question("de-a"), question("de-b"))))
    assert upload.status == BankUpload.Status.APPLIED and upload.applied_at is not None
    assert upload.counts["created"] == 2
    assert set(Question.objects.values_list("source_file", flat=True)) == {"upload:d1.yaml"}


def test_apply_retires_only_when_asked(exam, ines):
    applied(ines, ("d1.yaml", bank_file(*(question(f"de-{n}") for n in range(12)))))
    upload = preview(ines, ("d1.yaml", bank_file(*(question(f"de-{n}") for n in range(11)))))
    bank_upload_apply(upload=upload, user=ines)
    assert Question.objects.get(external_id="de-11").status == Question.Status.ACTIVE

    again = preview(ines, ("d1.yaml", bank_file(*(question(f"de-{n}") for n in range(11)))))
    outcome = bank_upload_apply(upload=again, user=ines, retire=True)
    assert outcome.upload.counts["retired"] == 1
    assert Question.objects.get(external_id="de-11").status == Question.Status.RETIRED


def test_retiring_above_the_safety_limit_needs_an_explicit_confirmation(exam, ines):
    applied(ines, ("d1.yaml", bank_file(*(question(f"de-{n}") for n in range(4)))))
    upload = preview(ines, ("d1.yaml", bank_file(question("de-0"))))
    assert upload.plan["retire_needs_confirmation"]
    with pytest.raises(UploadRefused) as refused:
        bank_upload_apply(upload=upload, user=ines, retire=True)
    assert refused.value.message == services.MSG_UPLOAD_CONFIRM_MASS_RETIRE.format(
        count=3, active=4, share=0.75, limit=services.RETIRE_MISSING_MAX_SHARE
    )
    upload.refresh_from_db()
    assert upload.status == BankUpload.Status.PREVIEWED  # nothing claimed, nothing retired
    assert Question.objects.filter(status=Question.Status.ACTIVE).count() == 4
    bank_upload_apply(upload=upload, user=ines, retire=True, confirm_mass_retire=True)
    assert Question.objects.filter(status=Question.Status.ACTIVE).count() == 1


def test_apply_refuses_when_the_bank_changed_and_makes_a_fresh_preview(exam, ines, ines_client):
    applied(ines, ("d1.yaml", bank_file(question("de-a"))))
    upload = preview(ines, ("d1.yaml", bank_file(question("de-a", stem="Which one keeps order?"))))
    Question.objects.filter(external_id="de-a").update(difficulty=3)  # someone else's edit

    response = ines_client.post(reverse("instructor:upload_apply", args=[upload.pk]), follow=True)

    upload.refresh_from_db()
    assert upload.status == BankUpload.Status.STALE and upload.applied_at is None
    fresh = BankUpload.objects.latest("pk")
    assert fresh.pk != upload.pk and fresh.status == BankUpload.Status.PREVIEWED
    assert response.redirect_chain[-1][0] == reverse("instructor:upload_detail", args=[fresh.pk])
    assert services.MSG_UPLOAD_STALE in response.content.decode()
    assert fresh.plan["items"][0]["metadata"] == [["difficulty", 3, 2]]
    stale_page = ines_client.get(reverse("instructor:upload_detail", args=[upload.pk]))
    assert reverse("instructor:upload_detail", args=[fresh.pk]) in stale_page.content.decode()
    assert "Apply" not in stale_page.content.decode()
    assert Question.objects.get(external_id="de-a").current_version.number == 1


def test_a_change_to_questions_the_files_do_not_touch_does_not_stop_apply(exam, ines):
    applied(ines, ("other.yaml", bank_file(question("de-other"))))
    upload = preview(ines, ("d1.yaml", bank_file(question("de-a"))))
    Question.objects.filter(external_id="de-other").update(difficulty=3)
    assert bank_upload_apply(upload=upload, user=ines).upload.status == BankUpload.Status.APPLIED


def test_applying_twice_applies_once(exam, ines, ines_client):
    upload = preview(ines, ("d1.yaml", bank_file(question("de-a"))))
    url = reverse("instructor:upload_apply", args=[upload.pk])
    ines_client.post(url)
    response = ines_client.post(url, follow=True)
    assert services.MSG_UPLOAD_ALREADY_APPLIED in response.content.decode()
    assert Question.objects.get().versions.count() == 1


def test_a_discarded_upload_cannot_be_applied(exam, ines, ines_client):
    upload = preview(ines, ("d1.yaml", bank_file(question("de-a"))))
    ines_client.post(reverse("instructor:upload_discard", args=[upload.pk]))
    response = ines_client.post(reverse("instructor:upload_apply", args=[upload.pk]), follow=True)
    assert services.MSG_UPLOAD_ALREADY_DISCARDED in response.content.decode()
    assert not Question.objects.exists()


def test_an_invalid_upload_cannot_be_applied(exam, ines):
    upload = preview(ines, ("d1.yaml", b"exam: mls-c01\nquestions: 3\n"))
    with pytest.raises(UploadRefused) as refused:
        bank_upload_apply(upload=upload, user=ines)
    assert refused.value.message == services.MSG_UPLOAD_INVALID


def test_another_instructor_sees_an_upload_but_cannot_apply_it(exam, ines, ivan, client):
    upload = preview(ines, ("d1.yaml", bank_file(question("de-a"))))
    client.force_login(ivan)
    assert client.get(reverse("instructor:upload_detail", args=[upload.pk])).status_code == 200
    response = client.post(reverse("instructor:upload_apply", args=[upload.pk]), follow=True)
    assert services.MSG_UPLOAD_NOT_YOURS in response.content.decode()
    assert not Question.objects.exists()


# --- blueprints ------------------------------------------------------------------------


def test_a_blueprint_preview_shows_the_exam_and_what_changes(exam, ines, ines_client):
    changed = (ROOT_BLUEPRINT.read_text().replace("minutes: 170", "minutes: 180")).encode()
    upload = preview(ines, ("mls-c01.yaml", changed))
    [bp] = upload.plan["blueprints"]
    assert bp["changes"] == ["minutes: 170 → 180"]
    page = ines_client.get(reverse("instructor:upload_detail", args=[upload.pk])).content.decode()
    assert (
        "Data Engineering" in page
        and "20%" in page
        and "1.1 Create data repositories for ML" in page
    )
    assert "minutes: 170 → 180" in page
    bank_upload_apply(upload=upload, user=ines)
    assert Exam.objects.get(code="mls-c01").minutes == 180


def test_another_exams_blueprint_and_its_questions_load_in_one_upload(exam, ines):
    questions = ("exam: dva-c02\nquestions:\n" + question("dva-a", task="1.1")).encode()
    upload = preview(ines, ("dva-c02.yaml", BLUEPRINT.encode()), ("dva-questions.yaml", questions))
    assert upload.status == BankUpload.Status.PREVIEWED, upload.problems
    assert upload.plan["blueprints"][0]["changes"] == ["new exam dva-c02"]
    assert upload.plan["counts"]["new"] == 1
    assert not Exam.objects.filter(code="dva-c02").exists()  # the preview wrote nothing
    assert upload.exam is None  # not loaded yet
    assert bank_upload_apply(upload=upload, user=ines).upload.exam.code == "dva-c02"
    assert Question.objects.get(external_id="dva-a").task.domain.exam.code == "dva-c02"


def test_a_blueprint_with_wrong_weights_is_refused_as_load_blueprint_refuses_it(exam, ines):
    upload = preview(ines, ("dva.yaml", BLUEPRINT.replace("weight: 40", "weight: 30").encode()))
    assert [p["message"] for p in upload.problems] == [
        services.MSG_BLUEPRINT_WEIGHTS.format(code="dva-c02", total=90)
    ]


# --- pages, permissions, limits -----------------------------------------------------------


PAGES = ("instructor:uploads", "instructor:upload_new")


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_candidates_get_404_everywhere(exam, ines, alice_client):
    upload = preview(ines, ("d1.yaml", bank_file(question("de-a"))))
    for url in (
        reverse("instructor:uploads"),
        reverse("instructor:upload_new"),
        reverse("instructor:upload_detail", args=[upload.pk]),
    ):
        assert alice_client.get(url).status_code == 404
    for name in ("instructor:upload_apply", "instructor:upload_discard"):
        assert alice_client.post(reverse(name, args=[upload.pk])).status_code == 404
    upload.refresh_from_db()
    assert upload.status == BankUpload.Status.PREVIEWED


@pytest.mark.parametrize("name", PAGES)
def test_instructors_and_staff_may_use_the_pages(exam, ines_client, client, name):
    assert ines_client.get(reverse(name)).status_code == 200
    client.force_login(UserFactory(username="sam", is_staff=True))
    assert client.get(reverse(name)).status_code == 200


def test_a_forged_upload_id_is_404_and_get_on_apply_is_refused(exam, ines_client):
    assert ines_client.get(reverse("instructor:upload_detail", args=[999])).status_code == 404
    assert ines_client.post(reverse("instructor:upload_apply", args=[999])).status_code == 404
    assert ines_client.get(reverse("instructor:upload_apply", args=[999])).status_code == 405


def test_uploading_through_the_page_previews_the_files(exam, ines_client):
    files = [SimpleUploadedFile("d1.yaml", bank_file(question("de-a")))]
    response = ines_client.post(reverse("instructor:upload_new"), {"files": files}, follow=True)
    upload = BankUpload.objects.get()
    assert response.redirect_chain[-1][0] == reverse("instructor:upload_detail", args=[upload.pk])
    assert "Preview: what loading these files would change" in response.content.decode()
    assert upload.files[0]["name"] == "d1.yaml" and upload.files[0]["size"] > 0


def test_submitting_no_file_says_so(exam, ines_client):
    response = ines_client.post(reverse("instructor:upload_new"), {})
    assert response.status_code == 422
    assert MSG_NO_FILES in response.content.decode()


def test_too_many_files_get_a_message_not_an_error_page(exam, ines_client, settings):
    settings.UPLOAD_MAX_FILES = 2
    files = [SimpleUploadedFile(f"d{n}.yaml", bank_file(question(f"de-{n}"))) for n in range(3)]
    response = ines_client.post(reverse("instructor:upload_new"), {"files": files}, follow=True)
    assert response.status_code == 200
    assert MSG_TOO_MANY_FILES.format(limit=2) in response.content.decode()
    assert BankUpload.objects.get().status == BankUpload.Status.INVALID
    assert not Question.objects.exists()


def test_too_many_bytes_in_all_get_a_message(exam, ines_client, settings):
    settings.UPLOAD_MAX_TOTAL_BYTES = 600
    files = [SimpleUploadedFile(f"d{n}.yaml", bank_file(question(f"de-{n}"))) for n in range(2)]
    response = ines_client.post(reverse("instructor:upload_new"), {"files": files}, follow=True)
    assert MSG_TOTAL_TOO_BIG.format(limit=600) in response.content.decode()


def test_a_file_over_the_size_limit_gets_a_message(exam, ines_client, monkeypatch):
    monkeypatch.setattr("questions.uploadhandlers.MAX_FILE_BYTES", 100)
    files = [SimpleUploadedFile("big.yaml", bank_file(question("de-a")))]
    response = ines_client.post(reverse("instructor:upload_new"), {"files": files}, follow=True)
    assert MSG_FILE_TOO_BIG.format(name="big.yaml", limit=100) in response.content.decode()


def test_the_list_shows_every_upload_newest_first_in_a_fixed_number_of_queries(
    exam, ines, ivan, ines_client, django_assert_num_queries
):
    preview(ines, ("d1.yaml", bank_file(question("de-a"))))
    preview(ivan, ("bad.yaml", b"exam: [\n"))
    applied(ines, ("d2.yaml", bank_file(question("de-b"))))
    # session, user, instructors group, count, page
    with django_assert_num_queries(5):
        response = ines_client.get(reverse("instructor:uploads"))
    page = response.content.decode()
    assert page.index("d2.yaml") < page.index("bad.yaml") < page.index("d1.yaml")
    assert "1 problem" in page and "ivan" in page
    assert "created 1" in page


def test_an_upload_page_is_read_in_a_fixed_number_of_queries(
    exam, ines, ines_client, django_assert_num_queries
):
    applied(ines, ("d1.yaml", bank_file(question("de-a"))))
    upload = preview(ines, ("d1.yaml", bank_file(question("de-a", stem="Which keeps order?"))))
    # session, user, instructors group, the upload with its uploader and exam
    with django_assert_num_queries(4):
        response = ines_client.get(reverse("instructor:upload_detail", args=[upload.pk]))
    assert "Which keeps order?" in response.content.decode()


def test_an_admin_edit_the_file_does_not_touch_is_kept_and_said_so(exam, ines):
    applied(ines, ("d1.yaml", bank_file(question("de-a"))))
    Question.objects.filter(external_id="de-a").update(edited_in_admin=True)
    upload = preview(ines, ("d1.yaml", bank_file(question("de-a"))))
    [item] = upload.plan["items"]
    assert (item["kind"], item["summary"]) == (
        services.ENTRY_KEPT_ADMIN,
        services.MSG_UPLOAD_KEPT_ADMIN,
    )


def test_an_admin_edit_the_file_also_changes_is_a_conflict_and_the_admin_wins(exam, ines):
    applied(ines, ("d1.yaml", bank_file(question("de-a"))))
    Question.objects.filter(external_id="de-a").update(edited_in_admin=True)
    upload = preview(ines, ("d1.yaml", bank_file(question("de-a", stem="Which keeps order?"))))
    [item] = upload.plan["items"]
    assert (item["kind"], item["summary"]) == (
        services.ENTRY_CONFLICT,
        services.MSG_UPLOAD_CONFLICT,
    )
    assert bank_upload_apply(upload=upload, user=ines).upload.counts["conflicts"] == 1
    assert Question.objects.get().current_version.stem == "Which service streams records?"


def test_a_second_apply_from_a_page_loaded_before_the_first_is_refused(exam, ines):
    upload = preview(ines, ("d1.yaml", bank_file(question("de-a"))))
    same_page = BankUpload.objects.get(pk=upload.pk)  # another tab, still showing Apply
    bank_upload_apply(upload=upload, user=ines)
    with pytest.raises(UploadRefused) as refused:
        bank_upload_apply(upload=same_page, user=ines)
    assert refused.value.message == services.MSG_UPLOAD_ALREADY_APPLIED
    assert Question.objects.get().versions.count() == 1


def test_the_apply_form_asks_for_the_confirmation_above_the_safety_limit(exam, ines, ines_client):
    applied(ines, ("d1.yaml", bank_file(*(question(f"de-{n}") for n in range(4)))))
    upload = preview(ines, ("d1.yaml", bank_file(question("de-0"))))
    url = reverse("instructor:upload_apply", args=[upload.pk])
    page = ines_client.get(reverse("instructor:upload_detail", args=[upload.pk])).content.decode()
    assert "Also retire the 3 questions" in page and 'name="confirm_mass_retire"' in page

    response = ines_client.post(url, {"retire": "on"}, follow=True)
    assert "above the 10% safety limit" in response.content.decode()
    assert Question.objects.filter(status=Question.Status.ACTIVE).count() == 4

    ines_client.post(url, {"retire": "on", "confirm_mass_retire": "on"})
    assert Question.objects.filter(status=Question.Status.RETIRED).count() == 3


def test_nothing_in_a_file_is_executed(exam, ines, tmp_path):
    marker = tmp_path / "ran"
    hostile = f'exam: !!python/object/apply:os.system ["touch {marker}"]\nquestions: []\n'
    upload = preview(ines, ("hostile.yaml", hostile.encode()))
    assert upload.status == BankUpload.Status.INVALID
    assert "python/object/apply" in upload.problems[0]["message"]
    assert not marker.exists()


def test_each_file_is_recorded_with_its_size_digest_and_format(exam, ines):
    content = bank_file(question("de-a"))
    upload = preview(ines, ("d1.yaml", content))
    [record] = upload.files
    assert (record["name"], record["size"], record["format"], record["kind"]) == (
        "d1.yaml",
        len(content),
        "yaml",
        "questions",
    )
    assert len(record["sha256"]) == 64
    assert upload.contents == {"d1.yaml": content.decode()}
    assert upload.exam == exam


def test_the_upload_form_refuses_other_methods(exam, ines_client):
    assert ines_client.put(reverse("instructor:upload_new")).status_code == 405


def test_an_id_taken_by_another_load_during_apply_is_a_changed_bank_not_an_error(
    exam, ines, monkeypatch
):
    upload = preview(ines, ("d1.yaml", bank_file(question("de-a"), question("de-b"))))

    def taken_meanwhile(questions, **kwargs):
        Question.objects.create(external_id="de-zz", task=exam.domains.first().tasks.first())
        raise IntegrityError("UNIQUE constraint failed: questions_question.external_id")

    monkeypatch.setattr(services, "_bank_upsert", taken_meanwhile)
    outcome = bank_upload_apply(upload=upload, user=ines)
    assert outcome.message == services.MSG_UPLOAD_STALE
    assert outcome.upload.status == BankUpload.Status.STALE
    assert outcome.fresh.status == BankUpload.Status.PREVIEWED
    assert not Question.objects.exists()  # the half-done load was rolled back


def test_the_upload_form_checks_the_csrf_token(exam, ines):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ines)
    files = [SimpleUploadedFile("d1.yaml", bank_file(question("de-a")))]
    assert client.post(reverse("instructor:upload_new"), {"files": files}).status_code == 403
    assert not BankUpload.objects.exists()


def test_a_blueprint_changed_after_its_preview_is_refused_with_a_fresh_preview(exam, ines):
    text = ROOT_BLUEPRINT.read_text()
    upload = preview(ines, ("mls-c01.yaml", text.replace("minutes: 170", "minutes: 180").encode()))
    Exam.objects.filter(code="mls-c01").update(minutes=175)
    outcome = bank_upload_apply(upload=upload, user=ines)
    assert outcome.upload.status == BankUpload.Status.STALE
    assert outcome.fresh.plan["blueprints"][0]["changes"] == ["minutes: 175 → 180"]
    assert Exam.objects.get(code="mls-c01").minutes == 175


def test_the_list_is_paginated(exam, ines, ines_client):
    BankUpload.objects.bulk_create(
        BankUpload(uploaded_by=ines, status=BankUpload.Status.INVALID, files=[{"name": f"f{n}"}])
        for n in range(UPLOADS_PAGE_SIZE + 1)
    )
    first = ines_client.get(reverse("instructor:uploads")).content.decode()
    second = ines_client.get(reverse("instructor:uploads") + "?page=2").content.decode()
    assert "Page 1 of 2" in first and "Older →" in first
    assert second.count('data-label="When"') == 1


def test_a_signed_out_apply_goes_to_log_in_and_changes_nothing(exam, ines, client):
    upload = preview(ines, ("d1.yaml", bank_file(question("de-a"))))
    response = client.post(reverse("instructor:upload_apply", args=[upload.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    upload.refresh_from_db()
    assert upload.status == BankUpload.Status.PREVIEWED and not Question.objects.exists()
