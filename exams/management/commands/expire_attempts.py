from django.core.management.base import BaseCommand

from exams.services import attempts_expire_due


class Command(BaseCommand):
    help = (
        "Submit (timed out) every attempt whose deadline and answer grace have passed, for "
        "all users. Idempotent: run it from cron or a scheduler every few minutes."
    )

    def handle(self, *args, **options):
        closed = attempts_expire_due(user_id=None)
        self.stdout.write(f"Closed {closed} overdue attempt(s).")
