from django.urls import path

from exams import views

app_name = "exams"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("exams/choose/", views.choose_exam, name="choose_exam"),
    path("exams/full-mock/", views.start_full_mock, name="start_full_mock"),
    path("exams/drill/", views.drill, name="drill"),
    path("exams/drill/domain/", views.start_domain_drill, name="start_domain_drill"),
    path("exams/missed/", views.start_missed, name="start_missed"),
    path("history/", views.history, name="history"),
    path("progress/", views.progress, name="progress"),
    path("attempts/<uuid:attempt_id>/", views.attempt_detail, name="attempt"),
    path("attempts/<uuid:attempt_id>/questions/<int:position>/", views.question, name="question"),
    path(
        "attempts/<uuid:attempt_id>/questions/<int:position>/answer/", views.answer, name="answer"
    ),
    path("attempts/<uuid:attempt_id>/questions/<int:position>/flag/", views.flag, name="flag"),
    path(
        "attempts/<uuid:attempt_id>/questions/<int:position>/strike/", views.strike, name="strike"
    ),
    path("attempts/<uuid:attempt_id>/review/", views.review, name="review"),
    path("attempts/<uuid:attempt_id>/abandon/", views.abandon, name="abandon"),
    path("attempts/<uuid:attempt_id>/clock/", views.clock, name="clock"),
    path("attempts/<uuid:attempt_id>/submit/", views.submit, name="submit"),
    path("attempts/<uuid:attempt_id>/report/", views.report, name="report"),
    path("attempts/<uuid:attempt_id>/report.csv", views.report_csv, name="report_csv"),
]

# A candidate's problem report on a question whose answer they have seen.
from exams import cohort_views  # noqa: E402  (registers the "rowid" converter)

urlpatterns += [
    path(
        "attempts/<uuid:attempt_id>/questions/<rowid:position>/problem/",
        cohort_views.report_problem,
        name="report_problem",
    ),
]
