from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from accounts.permissions import instructors_group


class Command(BaseCommand):
    help = "Let an existing user manage the question bank in the admin (staff + Instructors group)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"no user named {username!r}") from None
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.groups.add(instructors_group())
        self.stdout.write(f"{username} is now an instructor: they can manage questions at /admin/.")
