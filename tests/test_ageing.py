"""Content ages: with the clock a year or five years ahead, every tool still works on the bundled
content (a policy expiring on schedule is news, not bad input)."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BUNDLED, PROJECT

EXE = Path(sys.executable).parent / "policykb"


def _run(args, clock: dt.date, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {"POLICYKB_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    cmd = ["faketime", f"{clock.isoformat()} 12:00:00", str(EXE), *args]
    return subprocess.run(cmd, cwd=PROJECT, capture_output=True, text=True, env=env, input="稳岗返还\n", timeout=300)


@pytest.mark.skipif(not shutil.which("faketime"), reason="faketime is installed by scripts/install-browser")
@pytest.mark.parametrize("years", [1, 5])
def test_tools_work_with_the_clock_ahead(years, tmp_path):
    clock = dt.date.today().replace(month=6, day=1) + dt.timedelta(days=365 * years)
    r = _run(["validate", "--content", str(BUNDLED)], clock, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 个错误" in r.stdout
    r = _run(["build", "--content", str(BUNDLED), "--out", str(tmp_path / "site")], clock, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    r = _run(["match", "--content", str(BUNDLED), "--json", "--top", "3", "-"], clock, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    line = json.loads(r.stdout.splitlines()[0])
    assert line["results"], line
