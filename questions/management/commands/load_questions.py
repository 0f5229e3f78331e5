from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from questions.services import BankLoadError, bank_load


class Command(BaseCommand):
    help = (
        "Validate question files (files or folders) and load them: all of them, or nothing. "
        "Every problem in every file is reported at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, help="question files or folders of them")
        parser.add_argument("--check", action="store_true", help="validate only; write nothing")
        parser.add_argument(
            "--retire-missing",
            action="store_true",
            help="mark questions whose id is no longer in the files as retired",
        )

    def handle(self, *args, paths: list[Path], check: bool, retire_missing: bool, **options):
        try:
            result = bank_load(paths=paths, dry_run=check, retire_missing=retire_missing)
        except BankLoadError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(exc.problems)} problem(s) found; nothing was loaded."
            ) from exc
        summary = (
            f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}"
        )
        if retire_missing:
            summary += f", retired {result.retired}"
        if check:
            self.stdout.write(f"All questions are valid (a load would have: {summary}).")
        else:
            self.stdout.write(f"Loaded questions: {summary}.")
