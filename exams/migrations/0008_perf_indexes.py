from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0007_time_on_question_and_problem_reports"),
    ]

    operations = [
        # Serves the reads of a user's latest submitted attempts, newest first: the missed
        # pool's lookback (selectors.missed_pool), readiness counts
        # (selectors.readiness_counts) and the full mock history (selectors.full_mock_history).
        migrations.AddIndex(
            model_name="attempt",
            index=models.Index(
                fields=["user", "status", "-submitted_at"], name="attempt_user_status_sub_idx"
            ),
        ),
    ]
