from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from questions.services import BlueprintError, blueprint_load_file


class Command(BaseCommand):
    help = "Create or update exam blueprints from YAML files (see fixtures/blueprint/)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, help="blueprint files")

    def handle(self, *args, paths: list[Path], **options):
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            try:
                exam = blueprint_load_file(path=path)
            except BlueprintError as exc:
                for problem in exc.problems:
                    self.stderr.write(problem)
                raise CommandError(
                    f"{len(exc.problems)} problem(s) in {path}; nothing was loaded."
                ) from exc
            self.stdout.write(
                f"Loaded blueprint {exam.code}: {exam.question_count} questions, {exam.minutes} minutes."
            )
