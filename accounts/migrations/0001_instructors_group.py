from django.contrib.auth.management import create_permissions
from django.db import migrations

INSTRUCTORS = "Instructors"
# Instructors manage the question bank; the blueprint they may only look at.
BANK_MODELS = ["question", "choice", "tag"]
BLUEPRINT_MODELS = ["exam", "domain", "taskstatement"]


def create_group(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=INSTRUCTORS)
    codenames = [f"{action}_{model}" for model in BANK_MODELS for action in ("add", "change", "delete", "view")]
    codenames += [f"view_{model}" for model in BLUEPRINT_MODELS]
    group.permissions.set(Permission.objects.filter(content_type__app_label="questions", codename__in=codenames))


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=INSTRUCTORS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("questions", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
