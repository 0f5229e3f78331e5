"""Every command README.md shows in a shell code block works as written, on a fresh copy of
the project after `scripts/run`, as a new user would type it: no SECRET_KEY or DEBUG in the
environment, a fresh `var/`, the commands run in order from the project folder.

The commands are read from the README's Markdown (with markdown-it-py), so a command added
to the README is run here without touching this file; each one needs an expected effect
below, which the test checks after exit status 0 and a clean output."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from tests.conftest import ROOT

SHELL_FENCES = {"sh", "bash", "shell", "console"}

# README commands run elsewhere, never here, with the reason.
SKIPPED = {
    "scripts/run": "run once by the scratch_install fixture itself: the setup every command "
    "below starts from (its start message and /healthz are checked there)",
    "scripts/test": "the command that runs this very test suite",
    "scripts/cluster": "needs PostgreSQL and nginx; tests/test_cluster.py runs it in the "
    "PostgreSQL pass of scripts/test",
    ".venv/bin/python scripts/benchmark.py": "a load run of several minutes with speed "
    "targets, which live in the benchmark and never in tests; tests/test_cluster.py runs it "
    "small through scripts/cluster",
}

# What a user's environment has; nothing of the test run's own settings leaks in.
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")
SETUP_TIMEOUT = 600  # seconds for scripts/run to migrate, load the bank and answer /healthz
COMMAND_TIMEOUT = 300


def readme_commands(readme: Path = ROOT / "README.md") -> list[str]:
    """Every line of every shell code block of the README, in order (comments and blank
    lines left out; a trailing backslash continues a line)."""
    commands = []
    for token in MarkdownIt("commonmark").parse(readme.read_text(encoding="utf-8")):
        if token.type != "fence" or token.info.strip().split(" ")[0] not in SHELL_FENCES:
            continue
        for line in token.content.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def skip_reason(command: str) -> str | None:
    return next(
        (
            why
            for prefix, why in SKIPPED.items()
            if command == prefix or command.startswith(prefix + " ")
        ),
        None,
    )


pytestmark = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="a fresh clone runs on SQLite whatever pass this is: the SQLite pass runs it once",
)

COMMANDS = readme_commands()
RUN = [c for c in COMMANDS if skip_reason(c) is None]


def test_the_readme_shows_the_instructor_commands_in_shell_blocks():
    """A guard against the list going empty: the instructor commands are all there."""
    shown = {_subcommand(c) for c in RUN}
    assert {
        "createsuperuser",
        "make_instructor",
        "load_blueprint",
        "load_questions",
        "export_questions",
    } <= shown


def test_every_skipped_readme_command_is_in_the_readme():
    """The skip list names real README commands only (a stale entry would hide nothing)."""
    for prefix in SKIPPED:
        assert any(c == prefix or c.startswith(prefix + " ") for c in COMMANDS), prefix


def _subcommand(command: str) -> str | None:
    """`load_questions` for `.venv/bin/python manage.py load_questions …`, else None."""
    words = shlex.split(command)
    for n, word in enumerate(words[:-1]):
        if word == "manage.py" or word.endswith("/manage.py"):
            return words[n + 1]
    return None


def _args(command: str) -> list[str]:
    words = shlex.split(command)
    return words[words.index(_subcommand(command)) + 1 :]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _user_env() -> dict[str, str]:
    return {k: os.environ[k] for k in PASSED_ENV if k in os.environ}


class Install:
    """A scratch copy of the project after scripts/run: its folder, start output and port."""

    def __init__(self, folder: Path, start_output: str, port: int):
        self.folder = folder
        self.start_output = start_output
        self.port = port

    def sql(self, query: str, *params) -> list[tuple]:
        with sqlite3.connect(self.folder / "var" / "db.sqlite3") as db:
            return db.execute(query, params).fetchall()

    def run(self, command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.folder,
            env=_user_env(),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )


def _copy_project(target: Path) -> None:
    """The project's files as a clone has them (tracked and new, not ignored), with the
    shared .venv linked in instead of installed again."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if name == ".venv" or not source.is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    (target / ".venv").symlink_to((ROOT / ".venv").resolve())
    # scripts/setup-python would pip-install this copy (editable) into the shared .venv and
    # re-point it here; the .venv already holds everything, so the copy's step is a no-op.
    setup = target / "scripts" / "setup-python"
    setup.write_text("#!/usr/bin/env bash\n# Shared .venv: nothing to install.\n")
    setup.chmod(0o755)


@pytest.fixture(scope="module")
def scratch_install(tmp_path_factory) -> Install:
    """Copy the project, run scripts/run on a free port until /healthz answers, stop it."""
    folder = tmp_path_factory.mktemp("fresh-clone")
    _copy_project(folder)
    assert not (folder / "var" / "db.sqlite3").exists()
    port = _free_port()
    log = folder.parent / "scripts-run.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            ["scripts/run"],
            cwd=folder,
            env=_user_env() | {"BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SETUP_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"scripts/run exited with {server.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"/healthz never answered:\n{log.read_text()}")
            time.sleep(1)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    return Install(folder, log.read_text(), port)


def test_scripts_run_names_the_address_it_really_serves_on(scratch_install):
    output = scratch_install.start_output
    assert f"mlsprep is starting on http://127.0.0.1:{scratch_install.port}" in output
    addresses = set(re.findall(r"https?://[\w.]+:\d+", output))
    assert addresses == {f"http://127.0.0.1:{scratch_install.port}"}, addresses
    assert "Traceback" not in output
    assert (scratch_install.folder / "var" / "secret_key").stat().st_mode & 0o077 == 0


# ---- what each README command must have done (keyed by manage.py subcommand) -------------


def _snapshot(install: Install) -> tuple:
    return (
        install.sql("select count(*) from questions_question"),
        install.sql("select count(*) from questions_questionversion"),
        install.sql("select count(*) from questions_exam"),
    )


def _file_ids(paths: list[Path]) -> set[str]:
    ids = set()
    for path in paths:
        files = sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
        for f in files:
            ids |= {q["id"] for q in yaml.safe_load(f.read_text())["questions"]}
    return ids


def _before_make_instructor(install: Install, command: str) -> None:
    """The README's instructor is an account that signed up: make it first."""
    username = _args(command)[0]
    made = install.run(
        ".venv/bin/python manage.py shell -c "
        + shlex.quote(
            "from django.contrib.auth.models import User; "
            f"User.objects.filter(username={username!r}).exists() or "
            f"User.objects.create_user({username!r}, password='a-long-passphrase-1')"
        )
    )
    assert made.returncode == 0, made.stderr


def _createsuperuser_done(install: Install, command: str, output: str, before) -> None:
    args = _args(command)
    username = args[args.index("--username") + 1]
    rows = install.sql("select is_superuser, password from auth_user where username=?", username)
    assert rows and rows[0][0] == 1
    assert not rows[0][1].startswith("!"), "the superuser has no usable password"


def _make_instructor_done(install: Install, command: str, output: str, before) -> None:
    username = _args(command)[0]
    rows = install.sql(
        "select u.is_staff from auth_user u join auth_user_groups ug on ug.user_id = u.id "
        "join auth_group g on g.id = ug.group_id where u.username=? and g.name='Instructors'",
        username,
    )
    assert rows == [(1,)]


def _load_blueprint_done(install: Install, command: str, output: str, before) -> None:
    for name in _args(command):
        data = yaml.safe_load((install.folder / name).read_text())
        rows = install.sql(
            "select question_count, minutes, pass_mark_percent from questions_exam where code=?",
            data["code"],
        )
        assert rows == [(data["question_count"], data["minutes"], data["pass_mark_percent"])]


def _load_questions_done(install: Install, command: str, output: str, before) -> None:
    args = _args(command)
    paths = [install.folder / a for a in args if not a.startswith("-")]
    if "--check" in args:
        assert _snapshot(install) == before, "--check wrote to the database"
        assert "a load would give" in output
        # Checking what export_questions wrote (under var/) must find nothing to change.
        if any(p.is_relative_to(install.folder / "var") for p in paths):
            assert "created 0, new versions 0, metadata updated 0" in output
        return
    loaded = {r[0] for r in install.sql("select external_id from questions_question")}
    ids = _file_ids(paths)
    assert ids and ids <= loaded
    assert "Loaded questions:" in output


def _export_questions_done(install: Install, command: str, output: str, before) -> None:
    args = _args(command)
    folder = install.folder / args[0]
    exam = args[args.index("--exam") + 1] if "--exam" in args else None
    active = {
        r[0]
        for r in install.sql(
            "select q.external_id from questions_question q "
            "join questions_taskstatement t on t.id = q.task_id "
            "join questions_domain d on d.id = t.domain_id "
            "join questions_exam e on e.id = d.exam_id "
            "where q.status = 'active' and (? is null or e.code = ?)",
            exam,
            exam,
        )
    }
    assert active and _file_ids([folder]) == active


def _expire_attempts_done(install: Install, command: str, output: str, before) -> None:
    assert re.search(r"Closed \d+ overdue attempt\(s\)\.", output)


BEFORE: dict[str, Callable[[Install, str], None]] = {"make_instructor": _before_make_instructor}
EFFECTS: dict[str, Callable] = {
    "createsuperuser": _createsuperuser_done,
    "make_instructor": _make_instructor_done,
    "load_blueprint": _load_blueprint_done,
    "load_questions": _load_questions_done,
    "export_questions": _export_questions_done,
    "expire_attempts": _expire_attempts_done,
}


def _test_id(command: str) -> str:
    """`load_questions --check var/export` for a README line (no variables, no interpreter)."""
    words = [w for w in shlex.split(command) if not re.match(r"^[A-Z_]+=", w)]
    if _subcommand(command):
        words = words[words.index(_subcommand(command)) :]
    return " ".join(words)


@pytest.mark.parametrize("command", RUN, ids=[_test_id(c) for c in RUN])
def test_the_readme_command_works_as_written_after_scripts_run(scratch_install, command):
    subcommand = _subcommand(command)
    assert subcommand in EFFECTS, f"add the expected effect of this README command: {command}"
    if subcommand in BEFORE:
        BEFORE[subcommand](scratch_install, command)
    before = _snapshot(scratch_install)
    result = scratch_install.run(command)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output, output
    EFFECTS[subcommand](scratch_install, command, output, before)
