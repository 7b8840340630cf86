"""The course's own assignments: solutions score full marks, untouched exercises score zero,
under the instructor's grader (all tests) and the student's self-check (visible tests).

Parametrized over whichever solutions/<a>/<a>.ipynb exist (and exercises/<a>/<a>.ipynb for the
zero check); graded in the session's batch (conftest.batch), with the toy's hostile submissions.
The course's notebooks get the default limits (60 s per cell, 600 s per notebook).
"""

import json
import os
import shutil

import pytest
from grading_helpers import ASSIGNMENTS, PYTHON, REPO, exercise, run

PARAMS = ASSIGNMENTS or [pytest.param(None, marks=pytest.mark.skip("no solutions/<a>/<a>.ipynb"))]


@pytest.mark.parametrize("a", PARAMS)
def test_solution_scores_full_marks(batch, a):
    f = batch["course_facts"][(a, "course_solution")]
    assert f["status"] == "ok", f
    assert f["max_score"] > 0
    assert f["score"] == f["max_score"], f["parts"]


@pytest.mark.parametrize("a", PARAMS)
def test_untouched_exercise_scores_zero(batch, a):
    if not os.path.isfile(exercise(a)):
        pytest.skip(f"no exercises/{a}/{a}.ipynb")
    f = batch["course_facts"][(a, "course_exercise")]
    assert f["status"] == "ok", f
    assert f["parts"] and all(score == 0 for score in f["parts"].values()), f["parts"]


@pytest.mark.parametrize("a", PARAMS)
def test_self_check_full_and_zero(tmp_path, a):
    """`python -m nncheck` in a folder holding only the student's notebook and its checks."""
    checks = os.path.join(REPO, "exercises", a, a + ".checks.json")
    if not os.path.isfile(checks):
        pytest.skip(f"no exercises/{a}/{a}.checks.json")
    shutil.copy(checks, tmp_path)
    for notebook, full in (
        (os.path.join(REPO, "solutions", a, a + ".ipynb"), True),
        (exercise(a), False),
    ):
        shutil.copy(notebook, tmp_path / f"{a}.ipynb")
        cmd = [PYTHON, "-m", "nncheck", f"{a}.ipynb", "--json"]
        report = json.loads(run(cmd, tmp_path).stdout)
        assert report["max_score"] > 0
        assert report["score"] == (report["max_score"] if full else 0), report
