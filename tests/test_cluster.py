"""The production layout on real parts: nginx in front of two gunicorn app nodes on one
PostgreSQL, driven by the load benchmark (run in the PostgreSQL pass of the test command)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import ROOT


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres")
    or shutil.which("nginx", path="/usr/sbin:/usr/bin") is None,
    reason="runs in the PostgreSQL pass, with nginx installed",
)
def test_candidates_spread_over_two_nodes_lose_nothing():
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    result = subprocess.run(
        [
            "scripts/cluster",
            "--nodes",
            "2",
            "--",
            ".venv/bin/python",
            "scripts/benchmark.py",
            "--candidates",
            "8",
            "--think-ms",
            "10",
            "--ramp",
            "1",
            "--no-targets",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-3000:]
    assert "errors: 0" in out
    assert "acknowledged writes missing from the database: 0" in out
    assert "app nodes seen: node1, node2; candidates served by more than one: 8" in out
