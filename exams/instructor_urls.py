"""The instructors' area (/instructor/): item analysis and worklist, problem reports,
cohort results and study groups, bank uploads. Every view here 404s for non-instructors."""

from django.urls import path

app_name = "instructor"

urlpatterns: list = []

# Item analysis and the worklist of questions that need a look.
from exams import instructor_views  # noqa: E402

urlpatterns += [
    path("items/", instructor_views.items, name="items"),
    path("items.csv", instructor_views.items_csv, name="items_csv"),
    path("items/<int:version_id>/", instructor_views.item, name="item"),
]
