"""The student's self-check: `python -m nncheck NOTEBOOK` (also `python -m grader NOTEBOOK`).

It needs only the student release: the notebook and its `<assignment>.checks.json` (the
visible checks, written by scripts/generate_exercises.sh); never the solutions.
"""

import json
import os

import nbformat
from grading_helpers import FIXTURES, PYTHON, RIGHT, TOY, WRONG, answered, run

from nncheck.reference import build


def _student_folder(tmp_path, nb):
    source = os.path.join(FIXTURES, "solutions", TOY, TOY + ".ipynb")
    with open(tmp_path / f"{TOY}.checks.json", "w") as f:
        json.dump(build(source, visible=True), f)
    path = tmp_path / "my copy.ipynb"  # not the expected name: the folder's one checks file
    nbformat.write(nb, path)
    return path


def test_self_check_report(tmp_path, release):
    path = _student_folder(tmp_path, answered(release, {**RIGHT, "add": WRONG["add"]}))
    checks = (tmp_path / f"{TOY}.checks.json").read_text()
    # no hidden test in what students get
    assert "HIDDEN" not in checks and "square(-4)" not in checks
    for cmd in (["-m", "nncheck"], ["-m", "grader"]):
        out = run([PYTHON, *cmd, str(path)], tmp_path).stdout
        assert "(assignment ch00_toy) with its visible tests" in out
        lines = [" ".join(line.split()) for line in out.splitlines()]
        assert "test_square 1 / 1 passed" in lines
        assert "test_add 0 / 2 FAILED" in lines
        assert "AssertionError: add of ones should be twos (wrong value)" in lines
        assert "test_mean 1 / 1 passed" in lines
        assert any(line.startswith("Visible tests: 2 / 4") for line in lines)
        assert "Hidden tests are run by the instructor" in out
        assert "no sandbox" in out
        assert "HIDDEN" not in out and "np.arange(3)" not in out


def test_self_check_full_and_blank(tmp_path, release):
    path = _student_folder(tmp_path, answered(release, RIGHT))
    report = json.loads(run([PYTHON, "-m", "nncheck", str(path), "--json"], tmp_path).stdout)
    assert report["score"] == report["max_score"] == 4, report
    nbformat.write(release, path)
    report = json.loads(run([PYTHON, "-m", "nncheck", str(path), "--json"], tmp_path).stdout)
    assert report["score"] == 0 and report["max_score"] == 4, report


def test_self_check_from_a_cell(tmp_path, release):
    """`%run -m nncheck NB` runs it with the kernel's own interpreter (IPython's %run)."""
    path = _student_folder(tmp_path, answered(release, RIGHT))
    ipython = os.path.join(os.path.dirname(PYTHON), "ipython")
    out = run([ipython, "-c", f"%run -m nncheck '{path.name}'"], tmp_path).stdout
    assert "Visible tests: 4 / 4" in out, out


def test_nn_grade_script():
    script = os.path.join(os.path.dirname(PYTHON), "nn-grade")
    assert os.path.exists(script), "run: .venv/bin/pip install -e ."
    assert "python -m grader NOTEBOOK" in run([script, "--help"], ".").stdout
