"""The instructors' area (/instructor/): item analysis and worklist, problem reports,
cohort results and study groups, bank uploads. Every view here 404s for non-instructors."""

from django.urls import path  # each area appends its routes below

app_name = "instructor"

urlpatterns: list = []

from questions import blueprint_views  # noqa: E402

urlpatterns += [
    path("blueprint/", blueprint_views.blueprint_upload, name="blueprint_upload"),
]
