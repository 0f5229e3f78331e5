"""Every existing question becomes version 1 of itself; its choices move to that version."""

from django.db import migrations


def forwards(apps, schema_editor):
    Question = apps.get_model("questions", "Question")
    QuestionVersion = apps.get_model("questions", "QuestionVersion")
    Choice = apps.get_model("questions", "Choice")
    for question in Question.objects.all().iterator():
        version = QuestionVersion.objects.create(
            question=question,
            number=1,
            type=question.type,
            select_count=question.select_count,
            stem=question.stem,
            explanation=question.explanation,
            references=[],
            source="file",
            change_summary="first version",
        )
        question.current_version = version
        question.save(update_fields=["current_version"])
        Choice.objects.filter(question=question).update(version=version)


class Migration(migrations.Migration):
    dependencies = [("questions", "0002_versions_schema")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
