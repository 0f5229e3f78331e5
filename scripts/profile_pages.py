"""Profile the exam loop's requests in-process with cProfile, on a scratch SQLite database.

Loads the shipped blueprint and bank (plus `--extra` generated questions), signs one
candidate in, and profiles `--repeat` requests of each kind through Django's test client:
the question page (moving to a new position), the answer save (htmx), an answer and Next
(htmx, one post), the dashboard and
a full mock's start. Prints the top entries (by cumulative time, or `--sort`) for each
kind (or `--only` one).

    DEBUG=true .venv/bin/python scripts/profile_pages.py [--repeat 30] [--top 15] [--extra 0]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--extra", type=int, default=0, help="generated questions to add")
    parser.add_argument(
        "--sort", default="cumulative", help="pstats order: cumulative, tottime, ncalls…"
    )
    parser.add_argument("--only", help="profile only this kind, e.g. dashboard")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    os.environ.setdefault("SECRET_KEY", "profile-only-secret")
    os.environ["DEBUG"] = "false"
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/profile.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    # Static files are not collected in a scratch run: plain URLs, no manifest.
    settings.STORAGES["staticfiles"]["BACKEND"] = (
        "django.contrib.staticfiles.storage.StaticFilesStorage"
    )
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("load_blueprint", "fixtures/blueprint/mls-c01.yaml", verbosity=0)
    call_command("load_questions", "fixtures/questions", verbosity=0)
    if args.extra:
        from scripts.benchmark_data import add_generated_questions

        add_generated_questions(args.extra)
    from django.contrib.auth.models import User

    from exams.models import AttemptItem

    user = User.objects.create_user("profiler", password="profile-passphrase-42")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    response = client.post("/exams/full-mock/", {"begin": "1"})
    attempt_id = response.url.split("/attempts/", 1)[1].split("/", 1)[0]
    attempt_url = f"/attempts/{attempt_id}"
    client.get(f"{attempt_url}/questions/1/")

    def question(i: int) -> None:
        response = client.get(f"{attempt_url}/questions/{i % 65 + 1}/")
        assert response.status_code == 200, response.status_code

    def answer(i: int) -> None:
        position = i % 65 + 1
        item = AttemptItem.objects.get(attempt_id=attempt_id, position=position)
        client.post(
            f"{attempt_url}/questions/{position}/answer/",
            {"choice": str(1 + i % 2), "revision": item.revision},
            HTTP_HX_REQUEST="true",
        )

    def answer_and_next(i: int) -> None:
        # One htmx post: a changed choice and Next, answered by the next question's panel.
        position = i % 64 + 1
        item = AttemptItem.objects.get(attempt_id=attempt_id, position=position)
        drawn = [str(item.choice_order.index(c) + 1) for c in item.selected]
        client.post(
            f"{attempt_url}/questions/{position}/answer/",
            {
                "choice": "1" if "1" not in drawn else "2",
                "revision": item.revision,
                "drawn": ",".join(drawn),
                "go": "next",
            },
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="question-panel",
        )

    def dashboard(i: int) -> None:
        client.get("/")

    def start(i: int) -> None:
        from exams.models import Attempt

        Attempt.objects.filter(user__username="profiler", status="in_progress").update(
            status="abandoned", submitted_at=Attempt.objects.values("started_at")[:1]
        )
        client.post("/exams/full-mock/", {"begin": "1"})

    for name, fn in (
        ("question page", question),
        ("answer save", answer),
        ("answer and next", answer_and_next),
        ("dashboard", dashboard),
        ("full mock start", start),
    ):
        if args.only and args.only != name:
            continue
        fn(0)
        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(1, args.repeat + 1):
            fn(i)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(args.sort)
        stats.print_stats(args.top)
        total = stats.total_tt
        print(f"=== {name}: {args.repeat} requests, {total / args.repeat * 1000:.1f} ms each")
        lines = out.getvalue().splitlines()
        start_at = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print("\n".join(lines[start_at : start_at + args.top + 1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
