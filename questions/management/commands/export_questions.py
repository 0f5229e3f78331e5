from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from questions.formats import FORMATS
from questions.models import Exam
from questions.services import bank_export


class Command(BaseCommand):
    help = (
        "Write the active and draft questions back to question files, one per domain, in "
        "YAML (the default), GIFT, Aiken or Moodle XML."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="folder to write the files into")
        parser.add_argument("--exam", default=None, help="exam code (default: every exam)")
        parser.add_argument(
            "--format", dest="fmt", choices=FORMATS, default="yaml", help="file format"
        )

    def handle(self, *args, folder: Path, exam: str | None, fmt: str, **options):
        exams = Exam.objects.all() if exam is None else Exam.objects.filter(code=exam)
        if not exams:
            raise CommandError(f"no exam {exam!r} is loaded" if exam else "no exam is loaded")
        for e in exams:
            skipped: list[str] = []
            for path in bank_export(exam=e, folder=folder, fmt=fmt, skipped=skipped):
                self.stdout.write(f"Wrote {path}")
            for external_id in skipped:
                self.stderr.write(f"not exported: {external_id}: {fmt} cannot represent it")
