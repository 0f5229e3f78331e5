from django.urls import path

from exams import views

app_name = "exams"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("exams/full-mock/", views.start_full_mock, name="start_full_mock"),
    path("attempts/<uuid:attempt_id>/", views.attempt_detail, name="attempt"),
    path("attempts/<uuid:attempt_id>/questions/<int:position>/", views.question, name="question"),
    path(
        "attempts/<uuid:attempt_id>/questions/<int:position>/answer/", views.answer, name="answer"
    ),
    path("attempts/<uuid:attempt_id>/questions/<int:position>/flag/", views.flag, name="flag"),
    path("attempts/<uuid:attempt_id>/review/", views.review, name="review"),
    path("attempts/<uuid:attempt_id>/submit/", views.submit, name="submit"),
    path("attempts/<uuid:attempt_id>/report/", views.report, name="report"),
]
