"""The benchmark's floor view: only there when asked for, and as small as it says."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from config import views as config_views
from tests.factories import UserFactory


@pytest.mark.django_db
def test_a_site_without_the_benchmark_setting_has_no_floor_page(client):
    client.force_login(UserFactory())
    assert client.get("/benchmark/floor/").status_code == 404


@pytest.mark.django_db
def test_the_floor_is_one_indexed_select_and_one_update(settings, django_assert_num_queries):
    settings.BENCHMARK_FLOOR = True
    request = RequestFactory().get("/benchmark/floor/")
    request.user = UserFactory()
    with django_assert_num_queries(2) as captured:
        response = config_views.benchmark_floor(request)
    assert response.status_code == 200
    kinds = [q["sql"].split()[0] for q in captured.captured_queries]
    assert kinds == ["SELECT", "UPDATE"]
