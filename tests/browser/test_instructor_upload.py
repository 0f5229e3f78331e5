"""An instructor loads questions in the browser, and a candidate meets them in a drill."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from accounts.permissions import INSTRUCTORS_GROUP
from questions.formats.common import MSG_FRACTIONS_MULTIPLE
from questions.models import Question
from tests.browser.conftest import log_in, serious_violations
from tests.conftest import ROOT, fill_bank
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

STEM = "A team needs records from many producers kept in order per device. Which service fits?"
# A GIFT file as Moodle users write them; the mistake: two answers marked right ("=") in a
# question meant to have one key.
FILE_WITH_A_MISTAKE = f"""\
$CATEGORY: $course$/top/mls-c01/1/1.1

::de-ordered-stream-001::{STEM} {{
\t=Kinesis Data Streams with the device id as partition key#One key's records stay in order.
\t=One S3 bucket per device
\t~An SQS standard queue
\t####A partition key keeps one device's records in order within a shard.
}}
"""


def upload(page: Page, name: str, text: str, screenshot=None) -> None:
    page.get_by_role("link", name="Upload files").first.click()
    page.get_by_label("Question or blueprint files").set_input_files(
        {"name": name, "mimeType": "text/plain", "buffer": text.encode()}
    )
    expect(page.get_by_label("Format")).to_have_value("")  # by file name: .gift is GIFT
    if screenshot:
        screenshot("upload-form")
    page.get_by_role("button", name="Preview").click()


def test_an_instructor_fixes_a_file_applies_it_and_a_candidate_meets_the_question(
    live_server, page: Page, exam, alice, screenshot
):
    fill_bank(exam, per_domain={1: 0, 2: 6, 3: 6, 4: 6})  # domain 1 holds no question yet
    ines = UserFactory(username="ines")
    ines.groups.add(Group.objects.get_or_create(name=INSTRUCTORS_GROUP)[0])
    # The fix: only the first choice is the key.
    fixed = FILE_WITH_A_MISTAKE.replace("=One S3 bucket", "~One S3 bucket")
    assert fixed != FILE_WITH_A_MISTAKE

    log_in(page, live_server.url, "ines")
    page.goto(live_server.url + "/instructor/uploads/")
    upload(page, "ordered-streams.gift", FILE_WITH_A_MISTAKE, screenshot)

    expect(page.get_by_role("heading", name="Problems in the files")).to_be_visible()
    message = MSG_FRACTIONS_MULTIPLE.format(fractions="100%, 100%, 0%")
    problem = page.get_by_role("row", name=message)
    expect(problem).to_contain_text("ordered-streams.gift")
    expect(problem).to_contain_text("de-ordered-stream-001")
    expect(problem.get_by_role("cell").nth(1)).to_have_text("3")
    assert serious_violations(page) == []
    screenshot("upload-problems")

    upload(page, "ordered-streams.gift", fixed)
    expect(
        page.get_by_role("heading", name="Preview: what loading these files would change")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="de-ordered-stream-001: new question")).to_be_visible()
    expect(page.get_by_text(STEM)).to_be_visible()
    assert not Question.objects.filter(external_id="de-ordered-stream-001").exists()
    assert serious_violations(page) == []
    screenshot("upload-preview")

    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Applied: created 1")).to_be_visible()
    expect(page.get_by_role("heading", name="What was loaded")).to_be_visible()
    page.get_by_role("link", name="All uploads").click()
    expect(page.get_by_role("cell", name="Applied")).to_be_visible()
    expect(page.get_by_role("cell", name="Refused: problems in the files")).to_be_visible()
    screenshot("upload-list")

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server.url, "alice")
    page.get_by_role("link", name="Set up a drill").click()
    page.get_by_label("1. Data Engineering").check()
    page.get_by_label("Number of questions").fill("5")
    page.get_by_label("Timed at the real exam's pace").uncheck()
    page.get_by_role("button", name="Start drill").click()
    expect(page.get_by_role("heading", name="Question 1 of 1")).to_be_visible()
    expect(page.get_by_text(STEM)).to_be_visible()
    expect(
        page.get_by_text("Kinesis Data Streams with the device id as partition key")
    ).to_be_visible()


BLUEPRINT = (ROOT / "tests" / "questions" / "samples" / "dva-c02-blueprint.yaml").read_text()
DVA_QUESTIONS = """\
exam: dva-c02
questions:
  - id: dva-retry-001
    domain: 1
    task: "1.1"
    type: single
    difficulty: 2
    stem: A client calls a throttled API. What should it do between retries?
    choices:
      - text: Wait longer after each failure, with jitter
        correct: true
      - text: Retry at once in a tight loop
    explanation: Backoff with jitter spreads retries out so the service can recover.
"""


def test_an_instructor_loads_another_exams_blueprint_and_its_questions(
    live_server, page: Page, exam, screenshot
):
    ines = UserFactory(username="ines")
    ines.groups.add(Group.objects.get_or_create(name=INSTRUCTORS_GROUP)[0])
    log_in(page, live_server.url, "ines")
    page.goto(live_server.url + "/instructor/uploads/new/")
    page.get_by_label("Question or blueprint files").set_input_files(
        [
            {"name": "dva-c02.yaml", "mimeType": "text/plain", "buffer": BLUEPRINT.encode()},
            {"name": "dva-1.yaml", "mimeType": "text/plain", "buffer": DVA_QUESTIONS.encode()},
        ]
    )
    page.get_by_role("button", name="Preview").click()
    expect(
        page.get_by_role("heading", name="Blueprint: Developer Associate (dva-c02)")
    ).to_be_visible()
    expect(page.get_by_role("rowheader", name="1. Development with AWS services")).to_be_visible()
    expect(page.get_by_text("new exam dva-c02")).to_be_visible()
    expect(page.get_by_role("heading", name="dva-retry-001: new question")).to_be_visible()
    screenshot("upload-blueprint-preview")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Applied: created 1")).to_be_visible()
    assert Question.objects.get(external_id="dva-retry-001").task.domain.exam.code == "dva-c02"


def test_a_changed_question_is_previewed_beside_the_version_in_the_bank(
    live_server, page: Page, exam, screenshot
):
    ines = UserFactory(username="ines")
    ines.groups.add(Group.objects.get_or_create(name=INSTRUCTORS_GROUP)[0])
    fixed = FILE_WITH_A_MISTAKE.replace("=One S3 bucket", "~One S3 bucket")
    log_in(page, live_server.url, "ines")
    page.goto(live_server.url + "/instructor/uploads/")
    upload(page, "ordered-streams.gift", fixed)
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Applied: created 1")).to_be_visible()

    upload(page, "ordered-streams.gift", fixed.replace("Which service fits?", "Which fits best?"))
    expect(page.get_by_role("heading", name="de-ordered-stream-001: new version")).to_be_visible()
    expect(page.get_by_text("changed: stem")).to_be_visible()
    expect(page.get_by_role("heading", name="Now in the bank")).to_be_visible()
    expect(page.get_by_role("heading", name="In the file")).to_be_visible()
    assert serious_violations(page) == []
    screenshot("upload-new-version")
