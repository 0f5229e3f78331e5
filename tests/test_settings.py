"""The settings module, read in a fresh interpreter with a given environment."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

PROBE = """
import django, json
from django.conf import settings
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    mode = cursor.execute("PRAGMA journal_mode").fetchone()[0] if connection.vendor == "sqlite" else None
print(json.dumps({"debug": settings.DEBUG, "hosts": settings.ALLOWED_HOSTS, "engine": settings.DATABASES["default"]["ENGINE"],
                  "options": settings.DATABASES["default"].get("OPTIONS", {}), "journal": mode}))
"""


def run(env: dict[str, str], code: str = PROBE) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"}
    }
    clean["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_a_secret_key_is_required_when_debug_is_off(tmp_path):
    result = run(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "SECRET_KEY_FILE": str(tmp_path / "no-such-key"),
        }
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_the_installation_key_file_is_read_when_secret_key_is_unset(tmp_path):
    """scripts/run keeps its generated key in var/secret_key; manage.py finds it there."""
    key = tmp_path / "secret_key"
    key.write_text("k" * 50 + "\n")
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "SECRET_KEY_FILE": str(key)}
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == "k" * 50, result.stderr


def test_a_bad_boolean_is_a_clear_error(tmp_path):
    result = run({"DEBUG": "maybe", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"})
    assert "DEBUG must be true or false, not 'maybe'" in result.stderr


def test_sqlite_runs_in_wal_mode_with_immediate_transactions(tmp_path):
    result = run(
        {
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "ALLOWED_HOSTS": "a.example,b.example",
        }
    )
    assert result.returncode == 0, result.stderr
    import json

    seen = json.loads(result.stdout)
    assert seen["debug"] is False and seen["hosts"] == ["a.example", "b.example"]
    assert seen["journal"] == "wal"
    assert seen["options"]["transaction_mode"] == "IMMEDIATE" and seen["options"]["timeout"] == 20


def test_database_url_selects_postgresql():
    code = "import django; from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    result = run(
        {"SECRET_KEY": "x" * 50, "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/mlsprep"}, code
    )
    assert result.stdout.strip() == "django.db.backends.postgresql"
