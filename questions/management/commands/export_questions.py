from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from questions.models import Exam
from questions.services import bank_export


class Command(BaseCommand):
    help = "Write the active question bank back to question files, one per domain."

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="folder to write the files into")
        parser.add_argument("--exam", default=None, help="exam code (default: every exam)")

    def handle(self, *args, folder: Path, exam: str | None, **options):
        exams = Exam.objects.all() if exam is None else Exam.objects.filter(code=exam)
        if not exams:
            raise CommandError(f"no exam {exam!r} is loaded" if exam else "no exam is loaded")
        for e in exams:
            for path in bank_export(exam=e, folder=folder):
                self.stdout.write(f"Wrote {path}")
