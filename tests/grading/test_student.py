"""The student command: `python -m grader NOTEBOOK` / `nn-grade NOTEBOOK`."""

import os

import nbformat
from grading_helpers import FIXTURES, PYTHON, RIGHT, WRONG, answered, run


def test_student_command_report(tmp_path, release):
    nb = answered(release, {**RIGHT, "add": WRONG["add"]})
    path = tmp_path / "my copy.ipynb"  # not the expected name: found by its cells' grade ids
    nbformat.write(nb, path)
    cmd = [PYTHON, "-m", "grader", str(path), "--solutions", os.path.join(FIXTURES, "solutions")]
    out = run(cmd, tmp_path).stdout
    assert "as assignment ch00_toy" in out
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert "test_square 1 / 1 passed" in lines
    assert "test_add 0 / 2 FAILED" in lines
    assert "AssertionError: add of ones should be twos" in lines  # the assertion's message
    assert "test_mean 1 / 1 passed" in lines
    assert "Total: 2 / 4" in lines
    assert any(line.startswith("isolation:") for line in lines)
    assert "download your notebook" in out and "ch00_toy.ipynb" in out
    # never the hidden tests' code
    assert "HIDDEN" not in out and "np.arange(3)" not in out and "allclose(add" not in out


def test_nn_grade_script():
    script = os.path.join(os.path.dirname(PYTHON), "nn-grade")
    assert os.path.exists(script), "run: .venv/bin/pip install -e ."
    assert "python -m grader NOTEBOOK" in run([script, "--help"], ".").stdout
