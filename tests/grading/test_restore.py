"""grader.restore: the submission rebuilt around the source (no kernel needed)."""

import copy
import os

import nbformat
from grading_helpers import FIXTURES, TOY, cell_of

from grader.restore import MISSING_ANSWER, restore

SOURCE = nbformat.read(os.path.join(FIXTURES, "solutions", TOY, TOY + ".ipynb"), as_version=4)


def ids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id", c.source[:12]) for c in nb.cells]


def test_restores_order_tests_and_keeps_added_cells():
    nb = copy.deepcopy(SOURCE)
    cell_of(nb, "add").source = "def add(a, b):\n    return 'mine'"
    cell_of(nb, "test_add").source = "pass"
    cell_of(nb, "test_add").metadata.nbgrader["points"] = 50
    nb.cells.remove(cell_of(nb, "test_square"))
    nb.cells.insert(4, nbformat.v4.new_code_cell("helper = 1"))
    dup = copy.deepcopy(cell_of(nb, "test_mean"))
    nb.cells.append(dup)
    out = restore(nb, SOURCE)
    assert ids(out) == ids(SOURCE)[:4] + ["helper = 1"] + ids(SOURCE)[4:]
    assert cell_of(out, "test_add").source == cell_of(SOURCE, "test_add").source
    assert cell_of(out, "test_add").metadata.nbgrader["points"] == 2
    assert cell_of(out, "add").source == "def add(a, b):\n    return 'mine'"
    assert len({c["id"] for c in out.cells}) == len(out.cells)


def test_renamed_and_missing_answers():
    nb = copy.deepcopy(SOURCE)
    cell_of(nb, "square").metadata.nbgrader["grade_id"] = "my_square"
    cell_of(nb, "square" if False else "my_square").source = "def square(x):\n    return 'me'"
    nb.cells.remove(cell_of(nb, "mean"))
    out = restore(nb, SOURCE)
    assert ids(out) == ids(SOURCE)
    assert cell_of(out, "square").source == "def square(x):\n    return 'me'"
    assert cell_of(out, "mean").source == MISSING_ANSWER
