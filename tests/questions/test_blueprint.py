from __future__ import annotations

import copy

import pytest
import yaml

from questions.models import Domain, Exam, TaskStatement
from questions.services import (
    MSG_BLUEPRINT_WEIGHTS,
    BlueprintError,
    blueprint_load,
    blueprint_validate,
)
from tests.conftest import BLUEPRINT


@pytest.fixture
def data() -> dict:
    return yaml.safe_load(BLUEPRINT.read_text())


def test_the_shipped_blueprint_is_the_mls_c01_exam(exam):
    assert (exam.code, exam.question_count, exam.minutes, exam.pass_mark_percent) == (
        "mls-c01",
        65,
        170,
        75,
    )
    assert list(exam.domains.values_list("number", "weight_percent")) == [
        (1, 20),
        (2, 24),
        (3, 36),
        (4, 20),
    ]
    assert TaskStatement.objects.filter(domain__exam=exam).count() == 15
    assert (
        exam.domains.get(number=3).tasks.get(code="3.2").name
        == "Select the appropriate model(s) for a given ML problem"
    )


def test_loading_twice_updates_in_place(db, data):
    blueprint_load(data=data)
    data["minutes"] = 180
    blueprint_load(data=data)
    assert Exam.objects.get().minutes == 180
    assert Domain.objects.count() == 4


def test_weights_that_do_not_add_up_to_100_are_refused(db, data):
    bad = copy.deepcopy(data)
    bad["domains"][0]["weight"] = 25
    with pytest.raises(BlueprintError) as caught:
        blueprint_load(data=bad)
    assert caught.value.problems == [MSG_BLUEPRINT_WEIGHTS.format(code="mls-c01", total=105)]
    assert Exam.objects.count() == 0


def test_a_task_must_carry_its_domain_number(data):
    data["domains"][1]["tasks"][0]["code"] = "3.9"
    assert "task '3.9' must start with its domain number 2 and a dot" in blueprint_validate(data)


def test_load_blueprint_command_reports_the_problem(db, tmp_path, data, capsys):
    from django.core.management import CommandError, call_command

    data["domains"][3]["weight"] = 10
    path = tmp_path / "bp.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CommandError, match=r"1 problem\(s\) in .*; nothing was loaded"):
        call_command("load_blueprint", str(path))
    # Each problem is listed on its own line, naming the file.
    err = capsys.readouterr().err
    assert f"{path}: " + MSG_BLUEPRINT_WEIGHTS.format(code="mls-c01", total=90) in err
    assert Exam.objects.count() == 0
