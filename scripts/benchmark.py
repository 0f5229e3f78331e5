"""Load benchmark: simulated candidates take full mock exams against gunicorn on 127.0.0.1.

Starts a fresh SQLite (or $DATABASE_URL) database with the shipped bank, serves it with
gunicorn on a free loopback port, and runs CANDIDATES threads that each start a full mock,
open every question, save an answer to each through htmx and submit, pausing THINK_MS on
average (uniformly from half to one and a half times it) before each question, as a very
fast candidate would. Candidates arrive spread over RAMP seconds, not all in one instant. Prints latency
percentiles per request kind and the workers' memory, and exits non-zero when a target is
missed. Every loop is bounded by the exam's 65 questions and by --max-seconds.

    .venv/bin/python scripts/benchmark.py [--candidates 20] [--think-ms 1000] [--ramp 10] [--max-seconds 300]

With --target URL (default: $BASE_URL, as scripts/cluster sets it) it drives a site that is
already running (nginx in front of several app nodes) on the database in $DATABASE_URL.
Every candidate logs in before the measured window. Every failed request is counted and
reported (a candidate goes on to its next question, it is never dropped silently), and after
the run the database is read to check that every acknowledged answer, flag and submission
is stored. Exit status is non-zero on any error, any lost write or a missed target.
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Targets, in milliseconds at the 95th percentile, and megabytes of resident memory per worker.
TARGETS_P95_MS = {"start": 800, "question": 150, "answer": 100, "flag": 100, "submit": 500}
TARGET_WORKER_RSS_MB = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RequestFailed(Exception):
    pass


class Candidate:
    def __init__(
        self,
        base: str,
        username: str,
        timings: dict,
        lock: threading.Lock,
        *,
        deadline: float,
        think_ms: float,
    ):
        self.base, self.username, self.timings, self.lock = base, username, timings, lock
        self.deadline, self.think = deadline, think_ms / 1000
        self.rng = random.Random(username)
        self.errors: list[str] = []
        self.nodes: set[str] = set()
        self.attempt = ""
        self.acknowledged = {"answers": set(), "flags": set(), "submitted": False}
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def request(
        self, kind: str | None, path: str, data: dict | list | None = None, htmx: bool = False
    ) -> tuple[str, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)
        if body is not None:
            req.add_header("X-CSRFToken", self.csrf())
            req.add_header("Referer", self.base + "/")
        if htmx:
            req.add_header("HX-Request", "true")
        started = time.perf_counter()
        try:
            with self.opener.open(req, timeout=30) as response:
                text = response.read().decode()
                url = response.geturl()
                self.nodes.add(response.headers.get("X-Served-By", ""))
        except (OSError, ValueError) as exc:  # HTTPError, timeouts, refused connections
            self.errors.append(f"{kind or 'setup'} {path}: {exc}")
            raise RequestFailed(path) from exc
        if kind:
            with self.lock:
                self.timings[kind].append((time.perf_counter() - started) * 1000)
        return text, url

    def log_in(self) -> None:
        page, _ = self.request(None, "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        self.request(
            None,
            "/accounts/login/",
            {
                "username": self.username,
                "password": "bench-passphrase-42",
                "csrfmiddlewaretoken": token,
            },
        )

    def run(self, arrive_after: float) -> None:
        try:
            self.take_mock(arrive_after)
        except Exception as exc:  # any surprise is counted and reported, never silent
            self.errors.append(f"candidate {self.username} stopped: {exc!r}")

    def take_mock(self, arrive_after: float) -> None:
        time.sleep(arrive_after)
        if not any(c.name == "sessionid" for c in self.jar):
            self.errors.append(f"candidate {self.username} is not logged in")
            return
        try:
            _page, url = self.request("start", "/exams/full-mock/", {"begin": "1"})
        except RequestFailed:
            return
        self.attempt = re.search(r"/attempts/([0-9a-f-]+)/", url).group(1)
        for position in range(1, 66):
            if time.monotonic() > self.deadline:
                return
            time.sleep(self.rng.uniform(0.5, 1.5) * self.think)
            try:
                self.question(position)
            except RequestFailed:
                continue
        try:
            self.request("submit", f"/attempts/{self.attempt}/submit/", {"confirm": "yes"})
            self.acknowledged["submitted"] = True
        except RequestFailed:
            pass

    def question(self, position: int) -> None:
        base = f"/attempts/{self.attempt}/questions/{position}"
        page, _ = self.request("question", f"{base}/")
        choices = re.findall(r'name="choice" value="(\d+)"', page)
        revision = re.search(r'name="revision" value="(\d+)"', page).group(1)
        picks = int(m.group(1)) if (m := re.search(r"<strong>Choose (\d+)\.</strong>", page)) else 1
        self.request(
            "answer",
            f"{base}/answer/",
            {"choice": choices[:picks], "revision": revision},
            htmx=True,
        )
        self.acknowledged["answers"].add(position)
        if position % 10 == 0:
            self.request("flag", f"{base}/flag/", {"flagged": "1"}, htmx=True)
            self.acknowledged["flags"].add(position)


VERIFY = """
import json
from exams.models import Attempt
out = {}
for attempt in Attempt.objects.filter(user__username__startswith="bench").prefetch_related("items"):
    out[str(attempt.pk)] = {
        "status": attempt.status,
        "answered": [i.position for i in attempt.items.all() if i.selected],
        "flagged": [i.position for i in attempt.items.all() if i.flagged],
    }
print(json.dumps(out))
"""


def verify(candidates: list[Candidate], env: dict, python: str) -> list[str]:
    """Every acknowledged answer, flag and submission, read back from the database."""
    result = subprocess.run(
        [python, "manage.py", "shell", "-c", VERIFY],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    stored = json.loads(result.stdout.strip().splitlines()[-1])
    lost = []
    for c in candidates:
        if not c.attempt:
            continue
        row = stored.get(c.attempt)
        if row is None:
            lost.append(f"{c.username}: attempt {c.attempt} missing")
            continue
        for position in sorted(c.acknowledged["answers"] - set(row["answered"])):
            lost.append(f"{c.username}: answer {position} acknowledged but not stored")
        for position in sorted(c.acknowledged["flags"] - set(row["flagged"])):
            lost.append(f"{c.username}: flag {position} acknowledged but not stored")
        if c.acknowledged["submitted"] and row["status"] != "submitted":
            lost.append(f"{c.username}: submission acknowledged but status is {row['status']}")
    return lost


def parent_of(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--think-ms", type=float, default=1000)
    parser.add_argument(
        "--ramp", type=float, default=10, help="seconds over which candidates arrive"
    )
    parser.add_argument("--max-seconds", type=float, default=300)
    parser.add_argument(
        "--no-targets",
        action="store_true",
        help="report timings without failing on them (errors and lost writes still fail)",
    )
    parser.add_argument(
        "--target",
        default=os.environ.get("BASE_URL", ""),
        help="a running site (default $BASE_URL); its database is $DATABASE_URL",
    )
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, DEBUG="false", ALLOWED_HOSTS="127.0.0.1,localhost")
        env.setdefault("SECRET_KEY", "benchmark-only-secret")
        env.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")

        def manage(*argv: str) -> None:
            subprocess.run(
                [python, "manage.py", *argv],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )

        if not args.target:
            manage("migrate", "--noinput")
            manage("createcachetable")
            manage("load_blueprint", "fixtures/blueprint/mls-c01.yaml")
            manage("load_questions", "fixtures/questions")
            manage("collectstatic", "--noinput")
        users = [f"bench{i}" for i in range(args.candidates)]
        # One password hash for everyone: hashing is deliberately slow.
        script = (
            "from django.contrib.auth.hashers import make_password\n"
            "from django.contrib.auth.models import User\n"
            "hashed = make_password('bench-passphrase-42')\n"
            f"User.objects.bulk_create([User(username=n, password=hashed) for n in {users!r}],"
            " ignore_conflicts=True)\n"
        )
        subprocess.run([python, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True)
        port = free_port()
        server = (
            None
            if args.target
            else subprocess.Popen(
                [
                    python,
                    "-m",
                    "gunicorn",
                    "config.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        try:
            base = args.target.rstrip("/") or f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/accounts/login/", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            timings: dict[str, list[float]] = defaultdict(list)
            lock = threading.Lock()
            deadline = time.monotonic() + args.max_seconds
            candidates = [
                Candidate(base, u, timings, lock, deadline=deadline, think_ms=args.think_ms)
                for u in users
            ]
            # Everyone logs in before the measured window opens.
            for c in candidates:
                with contextlib.suppress(RequestFailed):
                    c.log_in()
            deadline = time.monotonic() + args.max_seconds
            for c in candidates:
                c.deadline = deadline
            threads = [
                threading.Thread(target=c.run, args=(i * args.ramp / max(len(users), 1),))
                for i, c in enumerate(candidates)
            ]
            began = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - began
            # gunicorn workers: processes of "gunicorn config.wsgi" whose parent is one too.
            gunicorns = {
                int(p)
                for p in subprocess.run(
                    ["pgrep", "-f", "gunicorn config.wsgi"], capture_output=True, text=True
                ).stdout.split()
            }
            workers = [pid for pid in sorted(gunicorns) if parent_of(pid) in gunicorns]
            memory = [rss_mb(pid) for pid in workers]
            lost = verify(candidates, env, python)
        finally:
            if server:
                server.terminate()
                server.wait(timeout=10)

    failed = False
    total = sum(len(v) for v in timings.values())
    print(
        f"{args.candidates} candidates, {total} requests in {elapsed:.1f} s ({total / elapsed:.0f} requests/s)"
    )
    print(f"{'kind':<10}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'target':>9}")
    for kind, target in TARGETS_P95_MS.items():
        values = sorted(timings.get(kind, []))
        if not values:
            print(f"{kind:<10}{0:>7}  (no requests)")
            failed = True
            continue
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        mark = "ok" if p95 <= target else "MISSED"
        failed |= p95 > target and not args.no_targets
        print(
            f"{kind:<10}{len(values):>7}{statistics.median(values):>9.1f}{p95:>9.1f}{values[-1]:>9.1f}{target:>7} {mark}"
        )
    errors = [e for c in candidates for e in c.errors]
    print(f"errors: {len(errors)}")
    for line in errors[:20]:
        print(f"  {line}")
    print(f"acknowledged writes missing from the database: {len(lost)}")
    for line in lost[:20]:
        print(f"  {line}")
    spread = sum(1 for c in candidates if len(c.nodes - {""}) > 1)
    if any(c.nodes - {""} for c in candidates):
        nodes = sorted(set().union(*(c.nodes for c in candidates)) - {""})
        print(f"app nodes seen: {', '.join(nodes)}; candidates served by more than one: {spread}")
    failed |= bool(errors) or bool(lost)
    worst = max(memory, default=0.0)
    failed |= worst > TARGET_WORKER_RSS_MB and not args.no_targets
    print(
        f"worker memory: {', '.join(f'{m:.0f} MB' for m in memory)} (target {TARGET_WORKER_RSS_MB} MB) {'ok' if worst <= TARGET_WORKER_RSS_MB else 'MISSED'}"
    )
    return 1 if failed else 0


def item_analysis_main(argv: list[str]) -> int:
    """--item-analysis: time the instructors' item analysis on a generated history.

    Builds a scratch SQLite database with the shipped blueprint and bank, CANDIDATES
    candidates x MOCKS submitted full mocks each (bulk inserts; answers drawn from a
    one-parameter logistic model so facility and discrimination look like real data), then
    times the list page, the list filtered to the worklist, the CSV and one version's page
    through Django's test client in this process, with the queries each one ran.

        .venv/bin/python scripts/benchmark.py --item-analysis [--candidates 1000] [--mocks 10]
    """
    parser = argparse.ArgumentParser(prog="benchmark.py --item-analysis")
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--mocks", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-targets", action="store_true")
    parser.add_argument(
        "--database",
        help="keep the generated history in this SQLite file, and reuse it when it exists",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.database).resolve() if args.database else Path(tmp) / "items.sqlite3"
        reuse = path.exists()
        os.environ.update(
            DATABASE_URL=f"sqlite:///{path}",
            DEBUG="false",
            SECRET_KEY="benchmark-only-secret",
            ALLOWED_HOSTS="testserver",
        )
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.db import connection
        from django.db.models import Count
        from django.test import Client, override_settings
        from django.test.utils import CaptureQueriesContext
        from django.urls import reverse

        from exams import item_analysis
        from exams.models import Attempt, AttemptItem

        call_command("migrate", verbosity=0)
        if not reuse:
            call_command(
                "load_blueprint", str(ROOT / "fixtures/blueprint/mls-c01.yaml"), verbosity=0
            )
            call_command("load_questions", str(ROOT / "fixtures/questions"), verbosity=0)
            began = time.perf_counter()
            _item_history(args.candidates, args.mocks)
            print(f"history built in {time.perf_counter() - began:.1f} s")
        print(
            f"history: {Attempt.objects.count()} submitted full mocks, "
            f"{AttemptItem.objects.count()} responses"
        )
        staff, _ = User.objects.get_or_create(username="bench-instructor", is_staff=True)
        client = Client()
        client.force_login(staff)
        busiest = (
            AttemptItem.objects.values("version_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()["version_id"]
        )
        pages = {
            "list": reverse("instructor:items"),
            "list, worklist only": reverse("instructor:items") + "?look=on&sort=-discrimination",
            "csv": reverse("instructor:items_csv"),
            "one version": reverse("instructor:item", args=[busiest]),
        }
        failed = False
        # Plain static storage: the page is timed, not the static manifest.
        static = "django.contrib.staticfiles.storage.StaticFilesStorage"
        storages = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
        storages["staticfiles"] = {"BACKEND": static}
        print(
            f"{'page':<22}{'cold ms':>9}{'queries':>8}{'warm p50':>10}{'warm max':>10}"
            f"{'queries':>8}{'slowest query ms':>18}"
        )
        with override_settings(STORAGES=storages):
            for name, url in pages.items():
                # Cold: the grouped responses are read from the database; warm: sorting,
                # paging or exporting again while no new submission has arrived.
                item_analysis.response_rows_forget()
                times, counts, slowest = [], [], 0.0
                for _ in range(args.repeat + 1):
                    with CaptureQueriesContext(connection) as queries:
                        start = time.perf_counter()
                        response = client.get(url)
                        times.append((time.perf_counter() - start) * 1000)
                    counts.append(len(queries))
                    slowest = max(
                        [slowest, *(float(q["time"]) * 1000 for q in queries.captured_queries)]
                    )
                    if response.status_code != 200:
                        print(f"{name}: HTTP {response.status_code}")
                        failed = True
                cold, warm = times[0], statistics.median(times[1:])
                ok = cold <= ITEM_ANALYSIS_COLD_MS and warm <= ITEM_ANALYSIS_WARM_MS
                failed |= not ok and not args.no_targets
                print(
                    f"{name:<22}{cold:>9.0f}{counts[0]:>8}{warm:>10.0f}{max(times[1:]):>10.0f}"
                    f"{counts[-1]:>8}{slowest:>18.0f}  {'ok' if ok else 'MISSED'}"
                )
        print(
            f"targets: cold {ITEM_ANALYSIS_COLD_MS} ms, warm p50 {ITEM_ANALYSIS_WARM_MS} ms "
            f"(SQLite, one process)"
        )
    return 1 if failed else 0


# The item analysis pages on 1,000 candidates x 10 mocks (650,000 responses) on SQLite:
# the first view after a submission reads every response; later ones reuse them.
ITEM_ANALYSIS_COLD_MS = 5000
ITEM_ANALYSIS_WARM_MS = 500


def _item_history(candidates: int, mocks: int):
    """Submitted full mocks drawn from the 1PL model P(right) = 1 / (1 + e^-(ability -
    difficulty)): abilities ~ N(0.8, 1), difficulties ~ N(0, 1); a wrong answer picks a
    distractor with fixed, uneven odds; 10% of responses record no time, 8% are flagged."""
    import math

    from django.contrib.auth.models import User
    from django.db import transaction
    from django.utils import timezone

    from exams.models import Attempt, AttemptItem
    from questions.models import Choice, Exam, Question

    rng = random.Random(2026)
    exam = Exam.objects.get()
    bank = list(Question.objects.filter(status="active").values_list("id", "current_version_id"))
    choices: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for version_id, choice_id, right in Choice.objects.values_list(
        "version_id", "id", "is_correct"
    ).order_by("version_id", "position"):
        choices[version_id].append((choice_id, right))
    difficulty = {v: rng.gauss(0, 1) for _, v in bank}
    now = timezone.now()
    made = 0
    for first in range(0, candidates, 100):
        with transaction.atomic():
            users = User.objects.bulk_create(
                User(username=f"item-bench-{i}") for i in range(first, min(first + 100, candidates))
            )
            attempts, items = [], []
            for user in users:
                ability = rng.gauss(0.8, 1)
                for m in range(mocks):
                    drawn = rng.sample(bank, exam.question_count)
                    attempt = Attempt(
                        user=user,
                        exam=exam,
                        mode="full",
                        status="submitted",
                        question_count=exam.question_count,
                        pass_mark_percent=exam.pass_mark_percent,
                        started_at=now - timezone.timedelta(days=m + 1),
                        deadline=now - timezone.timedelta(days=m + 1) + timezone.timedelta(hours=3),
                        submitted_at=now - timezone.timedelta(days=m + 1),
                        correct_count=0,
                    )
                    for position, (question_id, version_id) in enumerate(drawn, start=1):
                        options = choices[version_id]
                        keys = [c for c, right in options if right]
                        wrong = [c for c, right in options if not right]
                        p = 1 / (1 + math.exp(-(ability - difficulty[version_id])))
                        if rng.random() < p:
                            picked, right = keys, True
                        else:
                            weights = [2**-i for i in range(len(wrong))]
                            picked = rng.choices(wrong, weights)[: len(keys)]
                            if len(keys) > 1:
                                picked = [*picked, keys[0]]
                            right = False
                        attempt.correct_count += right
                        items.append(
                            AttemptItem(
                                attempt=attempt,
                                question_id=question_id,
                                version_id=version_id,
                                position=position,
                                choice_order=[c for c, _ in options],
                                selected=picked,
                                is_correct=right,
                                flagged=rng.random() < 0.08,
                                time_spent_seconds=0
                                if rng.random() < 0.1
                                else rng.randint(15, 240),
                            )
                        )
                    attempts.append(attempt)
            Attempt.objects.bulk_create(attempts, batch_size=1000)
            AttemptItem.objects.bulk_create(items, batch_size=2000)
            made += len(items)
    return made


# --- cohort results at scale (--cohort) ----------------------------------------------------

COHORT_CANDIDATES = 1000
COHORT_MOCKS = 10
# Targets in milliseconds (median of the timed runs), measured in-process (no HTTP server).
TARGETS_COHORT_MS = {"cohort page": 2500, "cohort csv": 2500, "candidate page": 150}


def cohort_generate(*, candidates: int, mocks: int, seed: int = 7) -> int:
    """Bulk-create `candidates` users with `mocks` submitted full mocks each (items,
    answers and results as the engine stores them) and one study group holding them all.
    Returns the number of attempt items written. Needs Django set up."""
    import random as _random
    import uuid
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth.models import User
    from django.utils import timezone

    from accounts.models import GroupMembership, StudyGroup
    from exams.models import Attempt, AttemptItem
    from exams.scoring import ItemOutcome, allocate_quotas, score_items
    from questions.models import Choice, Exam, Question

    rng = _random.Random(seed)
    exam = Exam.objects.get()
    domains = list(exam.domains.order_by("number"))
    quotas = allocate_quotas(exam.question_count, {d.number: d.weight_percent for d in domains})
    bank: dict[int, list[tuple]] = {d.number: [] for d in domains}
    keys: dict[int, set[int]] = {}
    order: dict[int, list[int]] = {}
    for cid, vid, correct in Choice.objects.values_list("id", "version_id", "is_correct"):
        order.setdefault(vid, []).append(cid)
        if correct:
            keys.setdefault(vid, set()).add(cid)
    for q in Question.objects.filter(status=Question.Status.ACTIVE).values(
        "id",
        "current_version_id",
        "task__domain__number",
        "task__domain__name",
        "task__code",
        "task__name",
    ):
        bank[q["task__domain__number"]].append(q)
    now = timezone.now()
    hashed = "!"  # unusable password: nobody logs in as these candidates
    users = User.objects.bulk_create(
        User(username=f"cand{n:04d}", password=hashed) for n in range(candidates)
    )
    group = StudyGroup.objects.create(name="Benchmark", exam=exam, join_code="BENCHMARK1")
    GroupMembership.objects.bulk_create(GroupMembership(group=group, user=u) for u in users)
    written = 0
    for user in users:
        ability = rng.uniform(0.4, 0.95)
        attempts, items = [], []
        for m in range(mocks):
            started = now - timedelta(days=2 * (mocks - m), minutes=rng.randint(0, 600))
            attempt = Attempt(
                id=uuid.uuid4(),
                user=user,
                exam=exam,
                mode=Attempt.Mode.FULL,
                status=Attempt.Status.SUBMITTED,
                question_count=exam.question_count,
                pass_mark_percent=exam.pass_mark_percent,
                started_at=started,
                deadline=started + timedelta(minutes=exam.minutes),
                submitted_at=started + timedelta(minutes=rng.randint(60, 170)),
            )
            outcomes = []
            drawn = [q for n, k in quotas.items() for q in rng.sample(bank[n], k)]
            for pos, q in enumerate(drawn, start=1):
                vid = q["current_version_id"]
                right = rng.random() < ability
                wrong = [c for c in order[vid] if c not in keys[vid]]
                selected = sorted(keys[vid]) if right else [rng.choice(wrong)]
                outcomes.append(
                    ItemOutcome(
                        q["task__domain__number"],
                        q["task__domain__name"],
                        q["task__code"],
                        q["task__name"],
                        selected=frozenset(selected),
                        correct=frozenset(keys[vid]),
                    )
                )
                items.append(
                    AttemptItem(
                        attempt=attempt,
                        question_id=q["id"],
                        version_id=vid,
                        position=pos,
                        choice_order=order[vid],
                        selected=selected,
                        answered_at=started,
                        is_correct=right,
                    )
                )
            result = score_items(outcomes, pass_mark_percent=exam.pass_mark_percent)
            result["time_used_seconds"] = int((attempt.submitted_at - started).total_seconds())
            attempt.result = result
            attempt.correct_count = result["correct"]
            attempt.score_percent = Decimal(str(result["percent"]))
            attempt.passed = result["passed"]
            attempts.append(attempt)
        Attempt.objects.bulk_create(attempts)
        AttemptItem.objects.bulk_create(items, batch_size=2000)
        written += len(items)
    return written


def cohort_main(argv: list[str]) -> int:
    """`benchmark.py --cohort [--candidates N] [--mocks M] [--runs R] [--no-targets]`: a
    scratch SQLite database (or $DATABASE_URL) with the shipped bank, N candidates with M
    submitted full mocks each (bulk_create), then the cohort page, its CSV and one
    candidate's page timed in-process as a staff user; prints median and worst time and
    the query count of each, and exits non-zero on a missed target."""
    parser = argparse.ArgumentParser(description="Cohort results at scale")
    parser.add_argument("--cohort", action="store_true")
    parser.add_argument("--candidates", type=int, default=COHORT_CANDIDATES)
    parser.add_argument("--mocks", type=int, default=COHORT_MOCKS)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-targets", action="store_true")
    parser.add_argument(
        "--keep",
        metavar="PATH",
        help="SQLite file to build once and reuse on later runs (default: a scratch file)",
    )
    args = parser.parse_args(argv)
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, DEBUG="false", ALLOWED_HOSTS="testserver", SECURE="false")
        env.setdefault("SECRET_KEY", "benchmark-only-secret")
        path = Path(args.keep).resolve() if args.keep else Path(tmp) / "cohort.sqlite3"
        reuse = path.exists()
        env.setdefault("DATABASE_URL", f"sqlite:///{path}")
        for argv_ in (
            ()
            if reuse
            else (
                ["migrate", "--noinput"],
                ["createcachetable"],
                ["load_blueprint", "fixtures/blueprint/mls-c01.yaml"],
                ["load_questions", "fixtures/questions"],
                ["collectstatic", "--noinput"],
            )
        ):
            subprocess.run(
                [python, "manage.py", *argv_],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.contrib.auth.models import User
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        began = time.perf_counter()
        if not reuse:
            written = cohort_generate(candidates=args.candidates, mocks=args.mocks)
            print(
                f"generated {args.candidates} candidates x {args.mocks} full mocks "
                f"({written} items) in {time.perf_counter() - began:.1f} s"
            )
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        client = Client()
        staff, _ = User.objects.get_or_create(username="bench-staff", is_staff=True)
        client.force_login(staff)
        someone = User.objects.get(username="cand0000")
        pages = {
            "cohort page": "/instructor/cohort/",
            "cohort csv": "/instructor/cohort.csv",
            "candidate page": f"/instructor/cohort/{someone.pk}/",
        }
        failed = False
        for name, url in pages.items():
            times, queries = [], 0
            for _ in range(args.runs):
                with CaptureQueriesContext(connection) as ctx:
                    t0 = time.perf_counter()
                    response = client.get(url)
                    times.append((time.perf_counter() - t0) * 1000)
                queries = len(ctx.captured_queries)
                slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]))
                if response.status_code != 200:
                    print(f"{name}: HTTP {response.status_code}")
                    failed = True
            if name == "cohort csv":
                rows = response.content.decode().count("\n") - 1
                print(f"  csv rows: {rows}")
            median, target = statistics.median(times), TARGETS_COHORT_MS[name]
            ok = median <= target
            failed |= not ok and not args.no_targets
            print(
                f"{name}: median {median:.0f} ms, worst {max(times):.0f} ms over {args.runs} runs,"
                f" {queries} queries (target {target} ms) {'ok' if ok else 'MISSED'}"
            )
            print(f"  slowest query {float(slowest['time']) * 1000:.0f} ms: {slowest['sql'][:160]}")
        return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--item-analysis"]:
        sys.exit(item_analysis_main(sys.argv[2:]))
    if "--cohort" in sys.argv[1:]:
        sys.exit(cohort_main(sys.argv[1:]))
    sys.exit(main())
