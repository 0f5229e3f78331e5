"""The instructors' area (/instructor/): item analysis and worklist, problem reports,
cohort results and study groups, bank uploads. Every view here 404s for non-instructors."""

from django.urls import path

from exams import (
    cohort_views,  # registers the "rowid" converter
    instructor_views,
)
from questions import exam_views
from questions import views as question_views

app_name = "instructor"

urlpatterns = [
    path("", instructor_views.home, name="home"),
    # Exams, and bank and blueprint uploads.
    path("exams/", exam_views.exam_list, name="exams"),
    path("uploads/", question_views.upload_list, name="uploads"),
    path("uploads/new/", question_views.upload_new, name="upload_new"),
    path("uploads/<int:upload_id>/", question_views.upload_detail, name="upload_detail"),
    path("uploads/<int:upload_id>/apply/", question_views.upload_apply, name="upload_apply"),
    path("uploads/<int:upload_id>/discard/", question_views.upload_discard, name="upload_discard"),
    # Item analysis and the worklist of questions that need a look.
    path("items/", instructor_views.items, name="items"),
    path("items.csv", instructor_views.items_csv, name="items_csv"),
    path("items/<int:version_id>/", instructor_views.item, name="item"),
    # Problem reports, cohort results and study groups.
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
