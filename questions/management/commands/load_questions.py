from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from questions.bankfile import ReadOptions
from questions.formats import FORMATS
from questions.services import BankLoadError, RetireRefused, bank_load


class Command(BaseCommand):
    help = (
        "Validate question files (files or folders) and load them: all of them, or nothing. "
        "Every problem in every file is reported at once, one line each."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, help="question files or folders of them")
        parser.add_argument(
            "--check", action="store_true", help="validate and report what a load would do"
        )
        parser.add_argument(
            "--retire-missing",
            action="store_true",
            help="retire questions loaded from files under these paths whose id is gone",
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="let --retire-missing retire more than its safety share of the bank",
        )
        parser.add_argument(
            "--prefer-files",
            action="store_true",
            help="when a question changed both in the admin and in its file, take the file's",
        )
        parser.add_argument(
            "--format",
            dest="fmt",
            choices=FORMATS,
            default=None,
            help="read every file in this format (default: from each file's extension: "
            ".yaml/.yml, .gift, .aiken, .xml)",
        )
        parser.add_argument(
            "--exam",
            default=None,
            help="exam to file GIFT, Aiken and Moodle XML questions under (default: mls-c01)",
        )
        parser.add_argument(
            "--default-task",
            default=None,
            help='task code (e.g. "3.2") for GIFT, Aiken and Moodle XML questions whose '
            "category names no task",
        )

    def handle(self, *args, paths: list[Path], check: bool, fmt: str | None, **options):
        read_options = ReadOptions(
            fmt=fmt, exam=options["exam"], default_task=options["default_task"]
        )
        try:
            result = bank_load(
                paths=paths,
                options=read_options,
                dry_run=check,
                retire_missing=options["retire_missing"],
                prefer_files=options["prefer_files"],
                allow_mass_retire=options["yes"],
            )
        except BankLoadError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(exc.problems)} problem(s) found; nothing was loaded."
            ) from exc
        except RetireRefused as exc:
            for external_id in exc.ids:
                self.stderr.write(f"would retire: {external_id}")
            raise CommandError(exc.message) from exc
        for line in result.changes:
            self.stdout.write(f"new version: {line}")
        for external_id in result.retired_ids:
            self.stdout.write(f"retired: {external_id}")
        for line in result.conflicts:
            self.stderr.write(f"conflict: {line}")
        if check:
            self.stdout.write(f"All questions are valid; a load would give: {result.summary()}.")
        else:
            self.stdout.write(f"Loaded questions: {result.summary()}.")
