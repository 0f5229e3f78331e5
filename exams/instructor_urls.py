"""The instructors' area (/instructor/): item analysis and worklist, problem reports,
cohort results and study groups, bank uploads. Every view here 404s for non-instructors."""

from django.urls import path  # noqa: F401  (each area appends its routes below)

app_name = "instructor"

urlpatterns: list = []
