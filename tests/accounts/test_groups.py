"""Study groups: instructors create them and hand out codes; candidates join with a code."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import GroupMembership, StudyGroup
from tests.factories import UserFactory
from tests.instructors import make_group

JOIN = reverse("accounts:join_group")
GROUPS = reverse("instructor:groups")


@pytest.fixture
def morning(exam, carol):
    return make_group("Morning", exam=exam, instructor=carol, code="MORNING234")


class TestCreate:
    def test_an_instructor_creates_a_group_and_runs_it(self, client, carol, exam):
        client.force_login(carol)
        response = client.post(GROUPS, {"name": " Spring cohort ", "exam": exam.code})
        group = StudyGroup.objects.get()
        assert response.url == reverse("instructor:group", args=[group.pk])
        assert (group.name, group.exam, list(group.instructors.all())) == (
            "Spring cohort",
            exam,
            [carol],
        )
        assert len(group.join_code) == services.JOIN_CODE_LENGTH
        assert set(group.join_code) <= set(services.JOIN_CODE_ALPHABET)
        page = client.get(response.url).content.decode()
        assert group.join_code in page and "No members yet." in page

    def test_codes_differ_between_groups(self, carol, exam):
        codes = {
            services.study_group_create(name=f"G{n}", exam=exam, instructor=carol).join_code
            for n in range(20)
        }
        assert len(codes) == 20

    @pytest.mark.parametrize("name", ["", "   ", "x" * 121])
    def test_a_missing_or_over_long_name_is_refused(self, client, carol, exam, name):
        client.force_login(carol)
        response = client.post(GROUPS, {"name": name, "exam": exam.code})
        assert response.status_code == 422
        assert services.MSG_GROUP_NAME in response.content.decode()
        assert not StudyGroup.objects.exists()

    def test_a_forged_exam_is_refused(self, client, carol, exam):
        client.force_login(carol)
        response = client.post(GROUPS, {"name": "G", "exam": "nope"})
        assert response.status_code == 422 and not StudyGroup.objects.exists()

    def test_candidates_get_404(self, alice_client, morning):
        assert alice_client.get(GROUPS).status_code == 404
        assert alice_client.post(GROUPS, {"name": "Mine"}).status_code == 404
        assert alice_client.get(reverse("instructor:group", args=[morning.pk])).status_code == 404

    def test_instructors_see_only_their_groups(self, client, dave, morning, exam):
        make_group("Evening", exam=exam, instructor=dave, code="EVENING234")
        client.force_login(dave)
        html = client.get(GROUPS).content.decode()
        assert "Evening" in html and "Morning" not in html
        assert client.get(reverse("instructor:group", args=[morning.pk])).status_code == 404
        url = reverse("instructor:group_regenerate", args=[morning.pk])
        assert client.post(url).status_code == 404
        morning.refresh_from_db()
        assert morning.join_code == "MORNING234"

    def test_superusers_add_a_group_in_the_admin_and_get_a_code(self, client, exam, carol):
        client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
        response = client.post(
            reverse("admin:accounts_studygroup_add"),
            {
                "name": "Admin made",
                "exam": exam.pk,
                "instructors": [carol.pk],
                "memberships-TOTAL_FORMS": "0",
                "memberships-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302
        assert len(StudyGroup.objects.get(name="Admin made").join_code) == 10


class TestJoin:
    def test_a_candidate_joins_with_the_code_typed_loosely(self, alice_client, alice, morning):
        response = alice_client.post(JOIN, {"code": " morning-234 "}, follow=True)
        assert services.MSG_JOINED.format(name="Morning") in response.content.decode()
        assert GroupMembership.objects.filter(group=morning, user=alice).exists()

    def test_joining_twice_says_already_in(self, alice_client, alice, morning):
        alice_client.post(JOIN, {"code": "MORNING234"})
        response = alice_client.post(JOIN, {"code": "MORNING234"}, follow=True)
        assert services.MSG_ALREADY_MEMBER.format(name="Morning") in response.content.decode()
        assert GroupMembership.objects.count() == 1

    @pytest.mark.parametrize("code", ["WRONGCODE1", "", "x" * 500])
    def test_a_wrong_code_says_so_and_joins_nothing(self, alice_client, morning, code):
        response = alice_client.post(JOIN, {"code": code}, follow=True)
        assert services.MSG_UNKNOWN_CODE in response.content.decode()
        assert not GroupMembership.objects.exists()

    def test_a_new_code_stops_the_old_one_and_keeps_members(
        self, client, carol, alice, bob, morning
    ):
        GroupMembership.objects.create(group=morning, user=alice)
        client.force_login(carol)
        client.post(reverse("instructor:group_regenerate", args=[morning.pk]))
        morning.refresh_from_db()
        assert morning.join_code != "MORNING234"
        client.force_login(bob)
        client.post(JOIN, {"code": "MORNING234"})
        assert list(morning.members.all()) == [alice]
        client.post(JOIN, {"code": morning.join_code})
        assert set(morning.members.all()) == {alice, bob}

    def test_the_dashboard_offers_the_join_form(self, alice_client, exam):
        html = alice_client.get(reverse("exams:dashboard")).content.decode()
        assert f'action="{JOIN}"' in html and "Join code from your instructor" in html

    def test_guessing_is_rate_limited_per_user(self, alice_client, alice, morning, settings):
        settings.GROUP_JOIN_RATE = "3/h"
        for n in range(3):
            alice_client.post(JOIN, {"code": f"GUESS{n}"})
        response = alice_client.post(JOIN, {"code": "MORNING234"})
        assert response.status_code == 429
        assert "Too many join codes" in response.content.decode()
        assert not GroupMembership.objects.exists()

    def test_joining_needs_a_login_and_a_post(self, alice_client, morning):
        assert reverse("accounts:login") in Client().post(JOIN, {"code": "MORNING234"}).url
        assert alice_client.get(JOIN).status_code == 405
        assert not GroupMembership.objects.exists()

    def test_a_member_appears_in_the_group_page_and_the_cohort(
        self, client, carol, alice, morning, exam
    ):
        client.force_login(alice)
        client.post(JOIN, {"code": "MORNING234"})
        client.force_login(carol)
        assert (
            "alice" in client.get(reverse("instructor:group", args=[morning.pk])).content.decode()
        )
        cohort = client.get(reverse("instructor:cohort"), {"group": morning.pk}).content.decode()
        assert ">alice</a>" in cohort
