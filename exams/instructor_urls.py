"""The instructors' area (/instructor/): item analysis and worklist, problem reports,
cohort results and study groups, bank uploads. Every view here 404s for non-instructors."""

from django.urls import path

app_name = "instructor"

urlpatterns: list = []

# Problem reports, cohort results and study groups.
from exams import cohort_views  # noqa: E402  (registers the "rowid" converter)

urlpatterns += [
    path("reports/", cohort_views.reports, name="reports"),
    path("reports/<rowid:report_id>/resolve/", cohort_views.report_resolve, name="report_resolve"),
    path("cohort/", cohort_views.cohort_table, name="cohort"),
    path("cohort.csv", cohort_views.cohort_csv, name="cohort_csv"),
    path("cohort/<rowid:user_id>/", cohort_views.candidate, name="candidate"),
    path(
        "cohort/<rowid:user_id>/attempts/<uuid:attempt_id>/",
        cohort_views.candidate_attempt,
        name="candidate_attempt",
    ),
    path("groups/", cohort_views.groups, name="groups"),
    path("groups/<rowid:group_id>/", cohort_views.group, name="group"),
    path("groups/<rowid:group_id>/code/", cohort_views.group_regenerate, name="group_regenerate"),
]
