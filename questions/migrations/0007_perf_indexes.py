from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("questions", "0006_draft_status_and_uploads"),
    ]

    operations = [
        # Replaced by the covering index below.
        migrations.RemoveIndex(model_name="question", name="question_status_task_idx"),
        # Serves the draw (services.draw_questions: a random sample of a domain's active
        # questions with a current version), the pool sizes (services.pool_sizes) and the
        # dashboard's bank sizes (selectors.bank_size_by_domain), all from the index alone.
        migrations.AddIndex(
            model_name="question",
            index=models.Index(
                fields=["status", "task", "current_version"],
                name="question_status_task_ver_idx",
            ),
        ),
    ]
