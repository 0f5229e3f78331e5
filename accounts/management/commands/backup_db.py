"""A consistent copy of the database while the site runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = (
        "SQLite: write a consistent online copy of the database to PATH with SQLite's backup "
        "API (safe while the site runs; restore by stopping the site and putting the copy in "
        "place). PostgreSQL: use pg_dump / pg_restore (see the README's Deploy section)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="file to write the copy to (must not exist)")

    def handle(self, *args, path: Path, **options):
        if connection.vendor != "sqlite":
            raise CommandError(
                "backup_db copies SQLite databases; for PostgreSQL use "
                "pg_dump --format=custom (see the README's Deploy section)."
            )
        name = connection.settings_dict["NAME"]
        if path.exists():
            raise CommandError(f"{path} exists already: choose a new file.")
        path.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(name, uri=str(name).startswith("file:"))
        target = sqlite3.connect(path)
        try:
            # Pages are copied in one step under a read transaction: a consistent snapshot
            # even while other connections write (WAL mode).
            source.backup(target)
        finally:
            target.close()
            source.close()
        self.stdout.write(f"Backed up the database to {path}.")
