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
import urllib.error
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


class Probe:
    """One signed-in candidate timing single requests, sequentially, without following
    redirects: each request's own time, status, size and query count (X-Queries, which the
    server adds when BENCHMARK_FLOOR is on)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str, username: str):
        self.base, self.username = base, username
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect()
        )
        self.samples: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
        self.errors: list[str] = []

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def call(
        self,
        kind: str | None,
        path: str,
        data: dict | None = None,
        htmx: bool = False,
        htmx_target: str = "",
    ) -> tuple[int, str, dict]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)
        if body is not None:
            req.add_header("X-CSRFToken", self.csrf())
            req.add_header("Referer", self.base + "/")
        if htmx:
            req.add_header("HX-Request", "true")
        if htmx_target:
            req.add_header("HX-Target", htmx_target)
        started = time.perf_counter()
        try:
            response = self.opener.open(req, timeout=30)
        except urllib.error.HTTPError as exc:  # redirects land here too (not followed)
            response = exc
        except OSError as exc:
            self.errors.append(f"{kind or 'setup'} {path}: {exc}")
            raise RequestFailed(path) from exc
        with response:
            content = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        status = response.status if hasattr(response, "status") else response.code
        headers = dict(response.headers.items())
        if status >= 400:
            self.errors.append(f"{kind or 'setup'} {path}: HTTP {status}")
            raise RequestFailed(path)
        if kind:
            queries = int(headers.get("X-Queries", "-1"))
            self.samples[kind].append((elapsed, len(content), queries))
        return status, content.decode(), headers

    def log_in(self) -> None:
        _, page, _ = self.call(None, "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, _, _ = self.call(
            None,
            "/accounts/login/",
            {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        if status != 302:
            raise RequestFailed(f"log-in of {self.username} refused")

    def start(self, kind: str | None = "start") -> str:
        _, _, headers = self.call(kind, "/exams/full-mock/", {"begin": "1"})
        return re.search(r"/attempts/([0-9a-f-]+)/", headers.get("Location", "")).group(1)


PASSWORD = "bench-passphrase-42"


def _form_state(page: str) -> dict:
    """The answer form's revision, drawn positions and choice count from a page or panel."""
    return {
        "revision": re.search(r'name="revision" value="(\d+)"', page).group(1),
        "drawn": re.search(r'name="drawn" value="([^"]*)"', page).group(1),
        "choices": len(re.findall(r'name="choice" value="(\d+)"', page)),
    }


def _another_choice(state: dict) -> str:
    """A choice position other than the stored answer's, so the save really writes."""
    drawn = set(state["drawn"].split(","))
    return "1" if "1" not in drawn else "2"


def floor_rounds(probe: Probe, rounds: int, *, plain_next: bool = False) -> str:
    """Interleaved rounds of the floor and the exam loop's requests; returns the attempt.

    Per round, in a rotating order: the floor; the question page of a new position (the
    whole page, as a first visit or a reload shows it); an answer save (htmx, a click on a
    choice); an answer-and-next (one htmx post carrying a changed choice and Next: the
    save and the move to the next question's panel in one request; with `plain_next`, the
    form without JavaScript: its post and the page it redirects to); the dashboard as a
    candidate sees it again (its standing memoised) and first after a submission."""
    attempt = probe.start(kind=None)
    base = f"/attempts/{attempt}/questions"
    probe.call(None, f"{base}/1/")
    position = 1

    def question() -> None:
        nonlocal position
        position = position % 60 + 1
        probe.call("question", f"{base}/{position}/")

    def answer() -> None:
        _, page, _ = probe.call(None, f"{base}/{position}/", htmx=True, htmx_target="x")
        state = _form_state(page)
        pick = _another_choice(state)
        probe.call(
            "answer",
            f"{base}/{position}/answer/",
            {"choice": pick, "revision": state["revision"]},
            htmx=True,
        )

    def answer_and_next() -> None:
        nonlocal position
        _, page, _ = probe.call(None, f"{base}/{position}/")
        state = _form_state(page)
        pick = _another_choice(state)
        data = {"choice": pick, "revision": state["revision"], "drawn": state["drawn"]}
        if not plain_next:
            probe.call(
                "answer-and-next",
                f"{base}/{position}/answer/",
                {**data, "go": "next"},
                htmx=True,
                htmx_target="question-panel",
            )
        else:
            # The form without JavaScript: the post, then the page it redirects to.
            started = time.perf_counter()
            _, _, headers = probe.call(
                "plain-post", f"{base}/{position}/answer/", {**data, "go": "next"}
            )
            _, page, _ = probe.call("plain-get", urllib.parse.urlsplit(headers["Location"]).path)
            elapsed = (time.perf_counter() - started) * 1000
            post, get = probe.samples["plain-post"].pop(), probe.samples["plain-get"].pop()
            probe.samples["answer-and-next"].append((elapsed, get[1], post[2] + get[2]))
        position += 1

    def dashboard_first() -> None:
        # The dashboard's first view after the history changed (its memoised standing
        # recomputed): a short untimed drill is started and submitted, then the page shown.
        drill = {"domains": ["3"], "count": "5", "feedback": "end", "begin": "1"}
        _, _, headers = probe.call(None, "/exams/drill/", drill)
        started = re.search(r"/attempts/([0-9a-f-]+)/", headers.get("Location", "")).group(1)
        probe.call(None, f"/attempts/{started}/submit/", {"confirm": "yes"})
        probe.call("dashboard-first", "/")

    steps = [
        lambda: probe.call("floor", "/benchmark/floor/"),
        question,
        answer,
        answer_and_next,
        lambda: probe.call("dashboard", "/"),
        dashboard_first,
    ]
    for r in range(rounds):
        for n in range(len(steps)):
            try:
                steps[(r + n) % len(steps)]()
            except RequestFailed:
                continue
    return attempt


def report_sizes(probe: Probe, attempt: str) -> dict[str, int]:
    """Submit the attempt and measure the report: its first view and the full review."""
    probe.call(None, f"/attempts/{attempt}/submit/", {"confirm": "yes"})
    _, first, _ = probe.call("report", f"/attempts/{attempt}/report/")
    _, full, _ = probe.call(None, f"/attempts/{attempt}/report/?show=all")
    return {"first": len(first.encode()), "full": len(full.encode())}


def medians(samples: dict[str, list[tuple[float, int, int]]]) -> dict[str, tuple]:
    return {
        kind: (
            statistics.median(v[0] for v in values),
            int(statistics.median(v[1] for v in values)),
            sorted({v[2] for v in values}),
            len(values),
        )
        for kind, values in samples.items()
        if values
    }


# Targets of the floor mode: a request kind's median time over the floor's median.
FLOOR_TARGETS = {"answer": 2.5, "answer-and-next": 3.0, "dashboard": 2.0}
REPORT_FIRST_VIEW_TARGET_BYTES = 60_000
SCALE_TARGET = 1.3  # exam start and dashboard, big bank over shipped bank


def print_floor(stats: dict[str, tuple], sizes: dict[str, int] | None) -> bool:
    floor = stats["floor"][0]
    print(f"{'kind':<17}{'n':>5}{'median ms':>11}{'/ floor':>9}{'bytes':>8}  queries  target")
    ok = True
    for kind in (
        "floor",
        "question",
        "answer",
        "answer-and-next",
        "dashboard",
        "dashboard-first",
        "start",
    ):
        if kind not in stats:
            continue
        ms, size, queries, n = stats[kind]
        ratio = ms / floor
        target = FLOOR_TARGETS.get(kind)
        mark = ""
        if target:
            mark = f"<= {target}x {'ok' if ratio <= target else 'MISSED'}"
            ok &= ratio <= target
        q = ",".join(str(x) for x in queries)
        print(f"{kind:<17}{n:>5}{ms:>11.2f}{ratio:>8.2f}x{size:>8}  {q:<7}  {mark}")
    if sizes:
        good = sizes["first"] <= REPORT_FIRST_VIEW_TARGET_BYTES
        ok &= good
        print(
            f"report first view: {sizes['first']} bytes (target <= "
            f"{REPORT_FIRST_VIEW_TARGET_BYTES}) {'ok' if good else 'MISSED'}; "
            f"with the whole review: {sizes['full']} bytes"
        )
    return ok


def scale_round(probe: Probe) -> None:
    """One round of the scale mode: the floor, a full mock's start, one answer and the
    submission (so the history grows by one each round), then the dashboard twice: first
    after the submission (its standing computed) and again (memoised)."""
    try:
        probe.call("floor", "/benchmark/floor/")
        attempt = probe.start()
        base = f"/attempts/{attempt}/questions/1"
        _, page, _ = probe.call(None, f"{base}/", htmx=True, htmx_target="x")
        state = _form_state(page)
        probe.call(
            None, f"{base}/answer/", {"choice": "1", "revision": state["revision"]}, htmx=True
        )
        probe.call(None, f"/attempts/{attempt}/submit/", {"confirm": "yes"})
        probe.call("dashboard-first", "/")
        probe.call("dashboard", "/")
    except RequestFailed:
        pass


class Site:
    """A scratch database with the shipped bank (and optionally a generated bank and a
    history), served by `instances` gunicorn instances on loopback ports."""

    def __init__(self, tmp: str, name: str, *, python: str, extra_env: dict | None = None):
        self.python = python
        self.env = dict(os.environ, DEBUG="false", ALLOWED_HOSTS="127.0.0.1,localhost")
        self.env.setdefault("SECRET_KEY", "benchmark-only-secret")
        self.env.setdefault("DATABASE_URL", f"sqlite:///{tmp}/{name}.sqlite3")
        self.env.update(extra_env or {})
        self.servers: list[subprocess.Popen] = []
        self.bases: list[str] = []

    def manage(self, *argv: str) -> str:
        return subprocess.run(
            [self.python, "manage.py", *argv],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def prepare(self, *, bank: int = 0) -> None:
        self.manage("migrate", "--noinput")
        self.manage("createcachetable")
        self.manage("load_blueprint", "fixtures/blueprint/mls-c01.yaml")
        self.manage("load_questions", "fixtures/questions")
        self.manage("collectstatic", "--noinput")
        if bank:
            self.manage(
                "shell",
                "-c",
                f"from scripts.benchmark_data import add_generated_questions\n"
                f"add_generated_questions({bank})",
            )

    def add_users(self, users: list[str], *, history: int = 0) -> None:
        # One password hash for everyone: hashing is deliberately slow.
        script = (
            "from django.contrib.auth.hashers import make_password\n"
            "from django.contrib.auth.models import User\n"
            f"hashed = make_password({PASSWORD!r})\n"
            f"User.objects.bulk_create([User(username=n, password=hashed) for n in {users!r}],"
            " ignore_conflicts=True)\n"
        )
        if history:
            script += (
                "from scripts.benchmark_data import PROBE_MODEL, add_submitted_mocks\n"
                f"add_submitted_mocks(User.objects.filter(username__in={users!r})"
                f".order_by('username'), mocks={history}, seed=2, model=PROBE_MODEL)\n"
            )
        self.manage("shell", "-c", script)

    def active_questions(self) -> int:
        out = self.manage(
            "shell",
            "-c",
            "from questions.models import Question\n"
            "print(Question.objects.filter(status='active').count())",
        )
        return int(out.strip().splitlines()[-1])

    def serve(self, instances: int, *, workers: int = 2, threads: int = 4) -> list[str]:
        for _ in range(instances):
            port = free_port()
            self.servers.append(
                subprocess.Popen(
                    [
                        self.python,
                        "-m",
                        "gunicorn",
                        "config.wsgi",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        str(workers),
                        "--threads",
                        str(threads),
                    ],
                    cwd=ROOT,
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            self.bases.append(f"http://127.0.0.1:{port}")
        for base in self.bases:
            wait_until_up(base)
        return self.bases

    def stop(self) -> None:
        for server in self.servers:
            server.terminate()
        for server in self.servers:
            server.wait(timeout=10)
        self.servers.clear()


def wait_until_up(base: str) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/accounts/login/", timeout=1)
            return
        except OSError:
            time.sleep(0.1)


def _database_name() -> str:
    """The database the scratch sites use: PostgreSQL when $DATABASE_URL names one."""
    return "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"


def run_floor(args, python: str) -> int:
    """--floor: interleaved single-candidate rounds against the floor view, on the shipped
    bank; prints each kind's median time over the floor's, sizes and queries per request."""
    with tempfile.TemporaryDirectory() as tmp:
        site = Site(tmp, "floor", python=python, extra_env={"BENCHMARK_FLOOR": "true"})
        site.prepare()
        site.add_users(["probe0"])
        try:
            # One sync worker, as the comparison with other apps is run: every request
            # meets the same process (and its memoised dashboards).
            (base,) = site.serve(1, workers=1, threads=1)
            probe = Probe(base, "probe0")
            probe.log_in()
            # Warm-up: templates compiled, connections opened, caches filled.
            floor_rounds(probe, 3, plain_next=args.plain_next)
            probe.samples.clear()
            attempt = floor_rounds(probe, args.rounds, plain_next=args.plain_next)
            sizes = report_sizes(probe, attempt)
        finally:
            site.stop()
    print(
        f"floor mode: {args.rounds} interleaved rounds, one candidate, {_database_name()}, "
        "gunicorn with one sync worker"
    )
    ok = print_floor(medians(probe.samples), sizes)
    print(f"errors: {len(probe.errors)}")
    for line in probe.errors[:20]:
        print(f"  {line}")
    return 0 if (ok or args.no_targets) and not probe.errors else 1


def run_scale(args, python: str) -> int:
    """--scale: exam start and the dashboard (after a submission and again) on the shipped
    bank and on a generated bank of --bank questions, each with --history submitted mocks
    for the candidate; prints the big bank's medians over the shipped bank's. Both sites
    are served at once and the rounds alternate between them, so a slower spell of the
    machine weighs on both alike."""
    results = {}
    errors: list[str] = []
    with contextlib.ExitStack() as stack:
        probes = {}
        sizes = {}
        for label, bank in (("shipped", 0), ("generated", args.bank)):
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            site = Site(tmp, label, python=python, extra_env={"BENCHMARK_FLOOR": "true"})
            site.prepare(bank=bank)
            site.add_users(["probe0"], history=args.history)
            sizes[label] = site.active_questions()
            stack.callback(site.stop)
            (base,) = site.serve(1, workers=1, threads=1)
            probes[label] = Probe(base, "probe0")
            probes[label].log_in()
        for probe in probes.values():
            for _ in range(3):  # warm-up
                scale_round(probe)
            probe.samples.clear()
        order = list(probes.values())
        for _ in range(args.rounds):
            for probe in order:
                scale_round(probe)
            order.reverse()
        for label, probe in probes.items():
            results[label] = (sizes[label], medians(probe.samples))
            errors += probe.errors
    print(
        f"scale mode: {args.rounds} interleaved rounds, {args.history} submitted mocks each, "
        f"{_database_name()}"
    )
    ok = True
    kinds = ("start", "dashboard", "dashboard-first")
    print(f"{'bank':<12}{'questions':>10}{'floor ms':>10}" + "".join(f"{k:>17}" for k in kinds))
    for label, (size, stats) in results.items():
        print(
            f"{label:<12}{size:>10}{stats['floor'][0]:>10.2f}"
            + "".join(f"{stats[k][0]:>17.2f}" for k in kinds)
            + "   queries: "
            + ", ".join(f"{k} {stats[k][2]}" for k in kinds)
        )
    for kind in kinds:
        ratio = results["generated"][1][kind][0] / results["shipped"][1][kind][0]
        good = ratio <= SCALE_TARGET
        ok &= good
        print(
            f"{kind}: generated / shipped = {ratio:.2f}x (target <= {SCALE_TARGET}x) "
            f"{'ok' if good else 'MISSED'}"
        )
    print(f"errors: {len(errors)}")
    for line in errors[:20]:
        print(f"  {line}")
    return 0 if (ok or args.no_targets) and not errors else 1


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
        help="running site(s), comma-separated (default $BASE_URL); database: $DATABASE_URL",
    )
    parser.add_argument(
        "--instances",
        type=int,
        default=1,
        help="gunicorn instances to start on the scratch database (candidates take turns)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="interleaved rounds against the floor view: ratios, sizes, queries per request",
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="exam start and dashboard on the shipped bank against a generated large bank",
    )
    parser.add_argument("--rounds", type=int, default=40, help="rounds of --floor / --scale")
    parser.add_argument(
        "--plain-next",
        action="store_true",
        help="--floor: answer-and-next as the form without JavaScript (post + redirected page)",
    )
    parser.add_argument("--bank", type=int, default=20_000, help="--scale: questions")
    parser.add_argument("--history", type=int, default=1_000, help="--scale: submitted mocks")
    args = parser.parse_args()
    python = sys.executable
    if args.floor:
        return run_floor(args, python)
    if args.scale:
        return run_scale(args, python)
    return run_load(args, python)


def run_load(args, python: str) -> int:
    """The load run: CANDIDATES threads each take a full mock (see the module docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        site = Site(tmp, "bench", python=python)
        env = site.env
        if not args.target:
            site.prepare()
        users = [f"bench{i}" for i in range(args.candidates)]
        site.add_users(users)
        try:
            if args.target:
                bases = [b.strip().rstrip("/") for b in args.target.split(",") if b.strip()]
                for base in bases:
                    wait_until_up(base)
            else:
                bases = site.serve(args.instances)
            timings: dict[str, list[float]] = defaultdict(list)
            lock = threading.Lock()
            deadline = time.monotonic() + args.max_seconds
            candidates = [
                Candidate(
                    bases[i % len(bases)],
                    u,
                    timings,
                    lock,
                    deadline=deadline,
                    think_ms=args.think_ms,
                )
                for i, u in enumerate(users)
            ]
            # Everyone logs in before the measured window opens; a failed log-in is an
            # error of the run, reported with the others.
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
            # gunicorn workers: processes of "gunicorn config.wsgi" whose parent is one of
            # the servers this run started.
            parents = {server.pid for server in site.servers}
            gunicorns = {
                int(p)
                for p in subprocess.run(
                    ["pgrep", "-f", "gunicorn config.wsgi"], capture_output=True, text=True
                ).stdout.split()
            }
            workers = [pid for pid in sorted(gunicorns) if parent_of(pid) in parents]
            memory = [rss_mb(pid) for pid in workers]
            lost = verify(candidates, env, python)
        finally:
            site.stop()

    failed = False
    total = sum(len(v) for v in timings.values())
    print(
        f"{args.candidates} candidates on {len(bases)} instance(s), {total} requests in "
        f"{elapsed:.1f} s ({total / elapsed:.0f} requests/s)"
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
        from scripts.benchmark_data import ITEM_ANALYSIS_MODEL, add_submitted_mocks

        call_command("migrate", verbosity=0)
        if not reuse:
            call_command(
                "load_blueprint", str(ROOT / "fixtures/blueprint/mls-c01.yaml"), verbosity=0
            )
            call_command("load_questions", str(ROOT / "fixtures/questions"), verbosity=0)
            began = time.perf_counter()
            candidates = User.objects.bulk_create(
                User(username=f"item-bench-{i}", password="!") for i in range(args.candidates)
            )
            add_submitted_mocks(candidates, mocks=args.mocks, seed=2026, model=ITEM_ANALYSIS_MODEL)
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


# --- cohort results at scale (--cohort) ----------------------------------------------------

COHORT_CANDIDATES = 1000
COHORT_MOCKS = 10
# Targets in milliseconds (median of the timed runs), measured in-process (no HTTP server).
TARGETS_COHORT_MS = {"cohort page": 2500, "cohort csv": 2500, "candidate page": 150}
COHORT_JOIN_CODE = "BENCHMARK1"  # the study group holding every generated candidate


def cohort_candidates(count: int) -> list:
    """Bulk-create `count` candidates (cand0000, cand0001, …; unusable passwords: nobody
    logs in as them) and one study group holding them all. Needs Django set up."""
    from django.contrib.auth.models import User

    from accounts.models import GroupMembership, StudyGroup
    from questions.models import Exam

    users = User.objects.bulk_create(
        User(username=f"cand{n:04d}", password="!") for n in range(count)
    )
    group = StudyGroup.objects.create(
        name="Benchmark", exam=Exam.objects.order_by("code").first(), join_code=COHORT_JOIN_CODE
    )
    GroupMembership.objects.bulk_create(GroupMembership(group=group, user=u) for u in users)
    return users


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

        from accounts.models import StudyGroup
        from scripts.benchmark_data import COHORT_MODEL, add_submitted_mocks, refresh_statistics

        began = time.perf_counter()
        if not reuse:
            history = add_submitted_mocks(
                cohort_candidates(args.candidates), mocks=args.mocks, seed=7, model=COHORT_MODEL
            )
            print(
                f"generated {args.candidates} candidates x {args.mocks} full mocks "
                f"({history.items} items) in {time.perf_counter() - began:.1f} s"
            )
        elif connection.vendor == "sqlite":
            refresh_statistics()
        client = Client()
        staff, _ = User.objects.get_or_create(username="bench-staff", is_staff=True)
        # An instructor sees the candidates of the groups they run: this one runs them all.
        StudyGroup.objects.get(join_code=COHORT_JOIN_CODE).instructors.add(staff)
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
