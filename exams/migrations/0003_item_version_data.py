"""Every existing attempt item pins the version it was shown: its question's version 1."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forwards(apps, schema_editor):
    AttemptItem = apps.get_model("exams", "AttemptItem")
    Question = apps.get_model("questions", "Question")
    AttemptItem.objects.update(
        version_id=Subquery(
            Question.objects.filter(pk=OuterRef("question_id")).values("current_version_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [("exams", "0002_item_version_revision"), ("questions", "0003_versions_data")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
