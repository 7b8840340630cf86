"""The sandbox itself: where bubblewrap is installed, grading kernels really run inside it."""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from grader import sandbox

needs_bwrap = pytest.mark.skipif(
    not shutil.which("bwrap") or bool(os.environ.get("GRADER_NO_ISOLATION")),
    reason="bubblewrap is not installed here",
)


@needs_bwrap
def test_isolation_works_where_bubblewrap_is_installed():
    # a silent fallback to unisolated grading would hide the hidden tests from nobody
    sandbox.isolation_status.cache_clear()
    ok, why = sandbox.isolation_status()
    assert ok, why


@needs_bwrap
def test_kernel_sees_its_work_dir_but_not_the_course():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(sandbox.grader.__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        runtime, work = os.path.join(tmp, "rt"), os.path.join(tmp, "work")
        os.mkdir(runtime)
        os.mkdir(work)
        probe = (
            "import os, sys\n"
            "print(os.path.isdir(sys.argv[1]), os.path.exists(sys.argv[2]), os.getcwd())\n"
        )
        cmd = sandbox.bwrap_args(runtime, work) + [
            sys.executable,
            "-c",
            probe,
            os.path.join(repo, "solutions"),
            os.path.join(repo, "nnlib", "__init__.py"),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=True)
    solutions_visible, nnlib_visible, cwd = out.stdout.split()
    assert solutions_visible == "False"
    assert nnlib_visible == "True"
    assert cwd == work
