"""The course's own assignments: solutions score full marks, untouched exercises score zero.

Parametrized over whichever solutions/<a>/<a>.ipynb exist (and exercises/<a>/<a>.ipynb for the
zero check); all are graded in one parallel batch by `python -m grader autograde`.
"""

import json
import os
import shutil

import pytest
from conftest import PYTHON, REPO, run

SOLUTIONS = os.path.join(REPO, "solutions")
ASSIGNMENTS = sorted(
    a
    for a in (os.listdir(SOLUTIONS) if os.path.isdir(SOLUTIONS) else [])
    if os.path.isfile(os.path.join(SOLUTIONS, a, a + ".ipynb"))
)
PARAMS = ASSIGNMENTS or [pytest.param(None, marks=pytest.mark.skip("no solutions/<a>/<a>.ipynb"))]


def exercise(a):
    return os.path.join(REPO, "exercises", a, a + ".ipynb")


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("real"))
    shutil.copy(os.path.join(REPO, "nbgrader_config.py"), root)
    for a in ASSIGNMENTS:
        shutil.copytree(os.path.join(SOLUTIONS, a), os.path.join(root, "solutions", a))
        for student, path in (
            ("solution", os.path.join(SOLUTIONS, a, a + ".ipynb")),
            ("exercise", exercise(a)),
        ):
            if os.path.isfile(path):
                os.makedirs(os.path.join(root, "submitted", student, a))
                shutil.copy(path, os.path.join(root, "submitted", student, a, a + ".ipynb"))
    done = run(
        [PYTHON, "-m", "grader", "autograde", *ASSIGNMENTS, "--jobs", "2", "--json"],
        root,
        check=False,
        timeout=1800,
    )
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    return {(f["assignment"], f["student"]): f for f in facts}


@pytest.mark.parametrize("a", PARAMS)
def test_solution_scores_full_marks(graded, a):
    f = graded[(a, "solution")]
    assert f["status"] == "ok", f
    assert f["max_score"] > 0
    assert f["score"] == f["max_score"], f["parts"]


@pytest.mark.parametrize("a", PARAMS)
def test_untouched_exercise_scores_zero(graded, a):
    if not os.path.isfile(exercise(a)):
        pytest.skip(f"no exercises/{a}/{a}.ipynb")
    f = graded[(a, "exercise")]
    assert f["status"] == "ok", f
    assert f["parts"] and all(score == 0 for score in f["parts"].values()), f["parts"]
