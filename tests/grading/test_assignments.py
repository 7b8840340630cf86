"""The course's own assignments: solutions score full marks, untouched exercises score zero.

Parametrized over whichever solutions/<a>/<a>.ipynb exist (and exercises/<a>/<a>.ipynb for the
zero check); graded in the session's batch (conftest.batch), with the toy's hostile submissions.
The course's notebooks get the default limits (60 s per cell, 600 s per notebook).
"""

import os

import pytest
from grading_helpers import ASSIGNMENTS, exercise

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
