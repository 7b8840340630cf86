"""The sandbox itself: where bubblewrap is installed, grading kernels really run inside it."""

import json
import os
import shutil
import subprocess
import tempfile

import nbformat
import pytest
from grading_helpers import NBGRADER, PYTHON, RIGHT, TOY, answered, env, make_course

from grader import config, sandbox

needs_bwrap = pytest.mark.skipif(
    not shutil.which("bwrap") or bool(os.environ.get("GRADER_NO_ISOLATION")),
    reason="bubblewrap is not installed here",
)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(code, *args, work_files=None):
    """Run `code` the way a grading kernel runs; return its stdout."""
    with tempfile.TemporaryDirectory() as tmp:
        runtime, work = os.path.join(tmp, "rt"), os.path.join(tmp, "work")
        os.mkdir(runtime, 0o700)
        os.mkdir(work)
        for name, text in (work_files or {}).items():
            os.makedirs(os.path.dirname(os.path.join(work, name)), exist_ok=True)
            with open(os.path.join(work, name), "w") as f:
                f.write(text)
        cmd = sandbox.command(runtime, work, True, code=code) + list(args)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=work)
    assert done.returncode == 0, done.stderr
    return done.stdout


@needs_bwrap
def test_isolation_works_where_bubblewrap_is_installed():
    # a silent fallback to unisolated grading would hide the hidden tests from nobody
    sandbox.isolation_status.cache_clear()
    ok, why = sandbox.isolation_status()
    assert ok, why
    assert "limits:" in why


@needs_bwrap
def test_kernel_sees_its_work_dir_but_not_the_course():
    probe = (
        "import os, sys, json\n"
        "print(json.dumps([os.path.isdir(sys.argv[1]), os.getcwd(), sorted(os.listdir('.')),\n"
        "                  os.getuid(), os.environ.get('NBGRADER_DB_URL')]))\n"
    )
    os.environ["NBGRADER_DB_URL"] = "postgresql://secret@host/db"
    try:
        out = _run(probe, os.path.join(REPO, "solutions"), work_files={"data.csv": "1,2"})
    finally:
        del os.environ["NBGRADER_DB_URL"]
    solutions_visible, cwd, files, uid, db_url = json.loads(out)
    assert not solutions_visible
    assert files == ["data.csv"]
    assert db_url is None  # the instructor's environment stays out
    if os.geteuid() == 0:
        assert uid == sandbox.KERNEL_UID


@needs_bwrap
def test_grader_package_next_to_the_notebook_does_not_shadow_the_real_one():
    fake = {"grader/__init__.py": "FAKE = True\n", "numpy/__init__.py": "FAKE = True\n"}
    probe = "import grader, numpy; print(hasattr(grader, 'FAKE'), hasattr(numpy, 'FAKE'))\n"
    assert _run(probe, work_files=fake).split() == ["False", "False"]


def test_symlinks_in_a_submission_are_refused(tmp_path):
    folder = tmp_path / "submitted" / "alice" / "ch00_toy"
    folder.mkdir(parents=True)
    (folder / "ch00_toy.ipynb").write_text("{}")
    sandbox.check_submission_files(str(folder))  # regular files: fine
    (folder / "data.csv").symlink_to("/etc/passwd")
    with pytest.raises(sandbox.SubmissionError, match="data.csv .a symbolic link"):
        sandbox.check_submission_files(str(folder))


def test_instructor_grading_fails_closed(monkeypatch):
    monkeypatch.delenv("GRADER_ISOLATION", raising=False)
    monkeypatch.delenv("GRADER_NO_ISOLATION", raising=False)
    assert config.isolation_setting() == "on"
    monkeypatch.setenv("GRADER_NO_ISOLATION", "1")
    assert config.isolation_setting() == "off"
    monkeypatch.setenv("GRADER_ISOLATION", "auto")
    assert config.isolation_setting() == "auto"


def test_no_sandbox_means_no_grading(tmp_path, release):
    """Both instructor routes refuse to run a submission when the sandbox is unavailable."""
    root = make_course(str(tmp_path / "course"))
    marker = os.path.join(root, "RAN-UNISOLATED")
    nb = answered(release, {**RIGHT, "square": f"open({marker!r}, 'w')\n" + RIGHT["square"]})
    folder = os.path.join(root, "submitted", "alice", TOY)
    os.makedirs(folder)
    nbformat.write(nb, os.path.join(folder, TOY + ".ipynb"))
    e = env()
    e["GRADER_BWRAP"] = os.path.join(str(tmp_path), "no-such-bwrap")
    for key in ("GRADER_NO_ISOLATION", "GRADER_ISOLATION", "GRADER_ISOLATION_CHECKED"):
        e.pop(key, None)
    cmd = [PYTHON, "-m", "grader", "autograde", TOY, "--jobs", "1", "--json"]
    done = subprocess.run(cmd, cwd=root, env=e, capture_output=True, text=True, timeout=600)
    facts = json.loads(done.stdout.strip().splitlines()[-1])[0]
    assert done.returncode != 0
    assert "isolation required but unavailable" in facts["status"], facts
    # plain nbgrader with the course's nbgrader_config.py
    cmd = [PYTHON, "-c", NBGRADER, "autograde", TOY, "--force"]
    done = subprocess.run(cmd, cwd=root, env=e, capture_output=True, text=True, timeout=600)
    assert "isolation required but unavailable" in done.stdout + done.stderr
    assert not os.path.exists(marker)
