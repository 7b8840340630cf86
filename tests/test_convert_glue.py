"""scripts/convert_glue.py: chapters from myst-nb glue to {eval} inline expressions."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "convert_glue.py"


def _notebook(tmp_path, cells, name="ch.ipynb"):
    nb = {
        "cells": [
            {
                "cell_type": kind,
                "id": f"c{i}",
                "metadata": {"tags": tags} if tags else {},
                "source": source,
                **({"outputs": [], "execution_count": None} if kind == "code" else {}),
            }
            for i, (kind, source, tags) in enumerate(
                (c + (None,)) if len(c) == 2 else c for c in cells
            )
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / name
    path.write_text(json.dumps(nb, indent=1))
    return path


SETUP = (
    "import numpy as np\n"
    "from myst_nb import glue\n"
    "\n"
    "from nnlib.widgets import explore\n"
    "\n"
    "\n"
    "def glue_number(name, value):\n"
    '    """Make a number available to the text."""\n'
    "    glue(name, float(value), display=False)\n"
)


def _run(*args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True
    )


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _source(cell):
    return "".join(cell["source"])


def test_converts_calls_text_and_set_up(tmp_path):
    path = _notebook(
        tmp_path,
        [
            ("code", SETUP),
            ("code", 'w = 0.123456\nglue_number("ch_w", w)\nglue("ch_n", 40, display=False)'),
            (
                "markdown",
                "w is {glue:text}`ch_w:.2f` or {glue:text}`ch_w:.4f`; n = {glue:text}`ch_n`.",
            ),
            ("code", 'for i in range(2):\n    glue_number(f"ch_i{i}", i / 3)'),
            ("markdown", "{glue:text}`ch_i1:.3f`"),
        ],
    )
    result = _run(path)
    assert result.returncode == 0, result.stderr
    cells = _cells(path)
    assert "myst_nb" not in _source(cells[0]) and "def glue_number" not in _source(cells[0])
    table = cells[1]
    assert table["metadata"]["tags"] == ["remove-input", "remove-output"]
    assert "TextNumbers(" in _source(table) and '"ch_w": [".2f", ".4f"]' in _source(table)
    assert 'glue_number("ch_n", 40)' in _source(cells[2])
    assert _source(cells[3]) == ("w is {eval}`ch_w_2f` or {eval}`ch_w_4f`; n = {eval}`ch_n`.")
    assert _source(cells[5]) == "{eval}`ch_i1_3f`"
    # the converted notebook runs and gives the text's variables
    namespace = {}
    for cell in cells:
        if cell["cell_type"] == "code":
            exec(_source(cell), namespace)
    assert [repr(namespace[v]) for v in ("ch_w_2f", "ch_w_4f", "ch_n", "ch_i1_3f")] == [
        "0.12",
        "0.1235",
        "40",
        "0.333",
    ]
    # idempotent
    before = path.read_text()
    assert _run(path).returncode == 0
    assert path.read_text() == before
    assert _run("--check", path).returncode == 0


def test_a_call_below_its_text_moves_up_when_it_can(tmp_path):
    path = _notebook(
        tmp_path,
        [
            ("code", SETUP + "z = 26.0"),
            ("markdown", "z is {glue:text}`ch_z:.0f`."),
            ("code", 'glue_number("ch_z", z)'),
        ],
    )
    assert _run("--check", path).returncode == 1
    assert _run(path).returncode == 0
    kinds = [(c["cell_type"], _source(c)) for c in _cells(path)]
    assert kinds[2] == ("code", 'glue_number("ch_z", z)')
    assert kinds[3] == ("markdown", "z is {eval}`ch_z_0f`.")
    assert len(kinds) == 4  # the emptied cell is gone


def test_a_call_that_cannot_move_stops_the_conversion(tmp_path):
    cells = [
        ("code", SETUP),
        ("markdown", "There are {glue:text}`ch_m:.0f` points."),
        ("code", 'm = 40\nglue_number("ch_m", m)'),
    ]
    path = _notebook(tmp_path, cells)
    before = path.read_text()
    result = _run(path)
    assert result.returncode == 2
    assert "shows ch_m before" in result.stderr and "it needs m" in result.stderr
    assert path.read_text() == before
    # --move-text moves the paragraph below the cell that computes its number
    result = _run("--move-text", path)
    assert result.returncode == 0, result.stderr
    assert "moved the text" in result.stdout
    assert [c["cell_type"] for c in _cells(path)] == ["code", "code", "code", "markdown"]


@pytest.mark.parametrize(
    ("markdown", "words"),
    [
        ("{glue:md}`x`", "only {glue:text} can be converted"),
        ("{glue:text}`other.ipynb::x`", "glues from another document"),
        ("{glue:text}`x:{>.2f`", "cannot be part of a variable name"),
        ("{glue:text}`nowhere`", "which no glue call in the notebook keeps"),
    ],
)
def test_what_cannot_be_converted_is_named(tmp_path, markdown, words):
    path = _notebook(tmp_path, [("code", SETUP + 'glue_number("x", 1.0)'), ("markdown", markdown)])
    result = _run(path)
    assert result.returncode == 2
    assert words in result.stderr


def test_a_removed_cell_that_keeps_numbers_is_hidden_instead(tmp_path):
    path = _notebook(
        tmp_path,
        [
            ("code", SETUP),
            ("code", 'glue_number("x", 2.0)', ["remove-cell"]),
            ("markdown", "{glue:text}`x:.1f`"),
        ],
    )
    assert _run(path).returncode == 0
    tags = _cells(path)[2]["metadata"]["tags"]
    assert "remove-cell" not in tags and "remove-input" in tags
