"""Helpers of the grading tests: the toy assignment `ch00_toy`, its hostile submissions
(BATCH) and the course's assignments graded with them (see conftest.py for the fixtures).

The toy assignment (fixtures/solutions/ch00_toy) has three parts: `square` (test_square,
1 point), `add` (test_add, 2 points) and `mean` (test_mean, 1 point); its tests check with
`nncheck.expect`. Its hidden tests carry markers `HIDDEN-...`.
"""

import copy
import os
import shutil
import subprocess
import sys

import nbformat

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
TOY = "ch00_toy"
PYTHON = sys.executable
# the toy's limits (its source's metadata "grader"): seconds per cell, per notebook, and to
# answer after an interrupt; the course's assignments get the defaults (60 s, 600 s, 10 s)
CELL_TIMEOUT, TOTAL_TIMEOUT, GRACE = 5, 20, 3

RIGHT = {
    "square": "def square(x):\n    return x**2\n",
    "add": "def add(a, b):\n    return a + b\n",
    "mean": "def mean(v):\n    return sum(v) / len(v)\n",
}
WRONG = {
    "square": "def square(x):\n    return x + 1\n",
    "add": "def add(a, b):\n    return a - b\n",
    "mean": "def mean(v):\n    return 0\n",
}


def env():
    e = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    e.pop("NBGRADER_DB_URL", None)
    if not _sandbox_works():
        # instructor grading fails closed; where bubblewrap is missing, grade unisolated on
        # purpose (tests/grading/test_sandbox.py fails if bwrap is installed but broken)
        e.setdefault("GRADER_ISOLATION", "auto")
    e["PATH"] = os.path.dirname(PYTHON) + os.pathsep + e.get("PATH", "")
    return e


def _sandbox_works():
    from grader import sandbox

    return sandbox.isolation_status()[0]


def run(cmd, cwd, check=True, timeout=600):
    done = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"{cmd} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


# `nbgrader ARGS`, minus ~3 s of CPU spent importing rfc3987_syntax, which nbgrader never uses
NBGRADER = (
    "import sys; sys.modules['rfc3987_syntax'] = None; "
    "from nbgrader.apps.nbgraderapp import main; sys.exit(main())"
)


def nbgrader(args, cwd, check=True):
    return run([PYTHON, "-c", NBGRADER, *args], cwd, check=check)


def make_course(path, assignments_from=FIXTURES):
    """A course folder: the project's nbgrader_config.py and a copy of the source notebooks."""
    source = os.path.join(assignments_from, "solutions", TOY, TOY + ".ipynb")
    limits = nbformat.read(source, as_version=4).metadata["grader"]
    assert limits == {
        "timeout": CELL_TIMEOUT,
        "total_timeout": TOTAL_TIMEOUT,
        "interrupt_grace": GRACE,
    }
    os.makedirs(path, exist_ok=True)
    shutil.copy(os.path.join(REPO, "nbgrader_config.py"), path)
    shutil.copytree(os.path.join(assignments_from, "solutions"), os.path.join(path, "solutions"))
    return path


def cell_of(nb, gid):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def answered(release, answers, extra=None):
    """The released notebook with these answers ({grade_id: code}); extra(nb) edits it more."""
    nb = copy.deepcopy(release)
    for gid, code in answers.items():
        cell_of(nb, gid).source = code
    if extra:
        extra(nb)
    return nb


def insert_after(nb, gid, *sources):
    i = nb.cells.index(cell_of(nb, gid))
    for k, source in enumerate(sources):
        nb.cells.insert(i + 1 + k, nbformat.v4.new_code_cell(source))


# ---------------------------------------------------------------- the hostile batch
# student id -> (answers, extra edit, expected {part: score}); the course root is COURSE.

TRANSFORMER = (
    "ip = get_ipython()\n"
    "ip.input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
    "ip.input_transformers_post.append(lambda lines: ['pass\\n'])\n"
)
AST_TRANSFORMER = (
    "import ast\n"
    "class NoAsserts(ast.NodeTransformer):\n"
    "    def visit_Assert(self, node):\n"
    "        return ast.Pass()\n"
    "get_ipython().ast_transformers.append(NoAsserts())\n"
)
HIJACK = (
    "async def fake(*args, **kwargs):\n"
    "    return {'status': 'ok', 'execution_count': 1, 'payload': [], 'user_expressions': {}}\n"
    "get_ipython().kernel.do_execute = fake\n"
)
PATCH_CODE = (
    "import ast, numpy\n"
    "numpy.allclose._implementation.__code__ = (lambda *a, **k: True).__code__\n"
    "ast.parse = lambda *a, **k: ast.Module(body=[], type_ignores=[])\n"
)
STUBBORN_LOOP = (
    "def mean(v):\n    return sum(v) / len(v)\n\n\n"
    "while True:\n    try:\n        while True:\n            pass\n"
    "    except KeyboardInterrupt:\n        pass\n"
)
BIG_OUTPUT = (
    "def square(x):\n    return x**2\n\n\n"
    "for i in range(100_000):\n    print('x' * 100)\n"
    "for i in range(500):\n    display({'text/plain': 'y' * 200_000}, raw=True)\n"
)
SNOOP = (
    "import os\n\n\n"
    "def square(x):\n    return x + 1\n\n\n"
    "leaks = []\n"
    "for path in ['{root}/solutions/ch00_toy/ch00_toy.ipynb', '{root}/gradebook.db',\n"
    "             '{root}/submitted/solution/ch00_toy/ch00_toy.ipynb']:\n"
    "    try:\n"
    "        text = open(path).read()\n"
    "        leaks.append(path)\n"
    "        if 'BEGIN SOLUTION' in text:\n"
    "            exec('def square(x):\\n    return x**2')\n"
    "    except OSError:\n"
    "        pass\n"
    "for path in ['{root}/gradebook.db', '{root}/submitted/solution/ch00_toy/ch00_toy.ipynb']:\n"
    "    try:\n"
    "        open(path, 'w').write('overwritten by a student')\n"
    "        leaks.append('wrote ' + path)\n"
    "    except OSError:\n"
    "        pass\n"
    "try:\n"
    "    leaks.append(os.listdir('{root}'))\n"
    "except OSError:\n"
    "    pass\n"
    "print('leaks:', leaks)\n"
)


def _delete(gid):
    def edit(nb):
        nb.cells.remove(cell_of(nb, gid))

    return edit


def _edit_test(nb):
    cell_of(nb, "test_add").source = "pass  # tests? what tests?"


def _unlock_points(nb):
    meta = cell_of(nb, "test_square").metadata.nbgrader
    meta.update(points=100, locked=False)
    cell_of(nb, "test_square").source = "assert True"


def _duplicate(nb):
    cell = cell_of(nb, "test_square")
    twin = copy.deepcopy(cell)
    twin["id"] = "twin"
    nb.cells.insert(nb.cells.index(cell) + 1, twin)


def _rename(nb):
    cell_of(nb, "add").metadata.nbgrader["grade_id"] = "add_mine"
    cell_of(nb, "test_mean").metadata.nbgrader["grade_id"] = "test_mean_renamed"


def _added(nb):
    i = nb.cells.index(cell_of(nb, "square"))
    nb.cells.insert(i, nbformat.v4.new_code_cell("def times(x, y):\n    return x * y"))
    nb.cells.insert(i, nbformat.v4.new_markdown_cell("My notes: square is x times x."))
    insert_after(nb, "test_mean", "print('all done', mean([5]))")


def _slow(nb):
    insert_after(nb, "test_square", *["import time\ntime.sleep(3)"] * 8)


def _with(cell_gid, *sources):
    return lambda nb: insert_after(nb, cell_gid, *sources)


R, W = RIGHT, WRONG
ALL = {"test_square": 1, "test_add": 2, "test_mean": 1}
NONE = {"test_square": 0, "test_add": 0, "test_mean": 0}
BATCH = {
    # full marks / nothing
    "solution": (R, None, ALL),
    "untouched": ({}, None, NONE),
    # a file that is not a notebook at all: graded as an empty one
    "not_a_notebook": (None, None, NONE),
    # 1 infinite loops: per-cell timeout; a loop that ignores the interrupt; total time limit
    "loop": (
        {**R, "add": "def add(a, b):\n    while True:\n        pass\n"},
        None,
        {**ALL, "test_add": 0},
    ),
    "stubborn_loop": ({**R, "mean": STUBBORN_LOOP}, None, {**ALL, "test_mean": 0}),
    "slow": (R, _slow, {**ALL, "test_add": 0, "test_mean": 0}),
    # 2 an exception in a solution
    "exception": (
        {**R, "add": "def add(a, b):\n    raise ValueError('not done')\n"},
        None,
        {**ALL, "test_add": 0},
    ),
    "hidden_test_fails": (
        {
            **R,
            "add": "def add(a, b):\n    if np.shape(a) != np.shape(b):\n"
            "        raise ValueError('shapes differ')\n    return a + b\n",
        },
        None,
        {**ALL, "test_add": 0},
    ),
    # 3 the kernel dies
    "exit": (
        {**R, "add": R["add"] + "\nimport os\nos._exit(3)\n"},
        None,
        {**NONE, "test_square": 1},
    ),
    "segfault": (
        {**R, "mean": R["mean"] + "\nimport ctypes\nctypes.string_at(0)\n"},
        None,
        {**ALL, "test_mean": 0},
    ),
    # 4-8 cells deleted, edited, unlocked with more points, duplicated, renamed
    "deleted_test": (R, _delete("test_add"), ALL),
    "edited_test": ({**R, "add": W["add"]}, _edit_test, {**ALL, "test_add": 0}),
    "unlocked_points": ({**R, "square": W["square"]}, _unlock_points, {**ALL, "test_square": 0}),
    "duplicated_test": (R, _duplicate, ALL),
    "renamed_ids": (R, _rename, ALL),
    # 9 cells added by the student
    "added_cells": (
        {**R, "square": "def square(x):\n    return times(x, x)\n"},
        _added,
        ALL,
    ),
    # 10 enormous output, and a memory hog (address-space limit)
    "big_output": ({**R, "square": BIG_OUTPUT}, None, ALL),
    "memory_hog": (
        {
            **R,
            "add": "import numpy as np\n\n\ndef add(a, b):\n    np.ones((60_000, 60_000))\n"
            "    return a + b\n",
        },
        None,
        {**ALL, "test_add": 0},
    ),
    # 11 code that changes how later cells run
    "transformer": (W, _with("mean", TRANSFORMER), NONE),
    "ast_transformer": (W, _with("square", AST_TRANSFORMER), NONE),
    "monkeypatch": (
        {**R, "add": W["add"] + "\nimport numpy\nnumpy.allclose = lambda *a, **k: True\n"},
        None,
        {**ALL, "test_add": 0},
    ),
    "redefined_helper": (
        {**R, "mean": W["mean"] + "\n\ndef check_close(*args):\n    pass\n"},
        None,
        {**ALL, "test_mean": 0},
    ),
    "hijack": (W, _with("square", HIJACK), NONE),
    "patch_when_called": (
        {
            **R,
            "add": "import numpy as np\n\n\ndef add(a, b):\n"
            "    np.allclose = lambda *args, **kwargs: True\n    return a - b\n",
        },
        None,
        {**ALL, "test_add": 0},
    ),
    "patch_code": ({**R, "add": W["add"]}, _with("add", PATCH_CODE), {**ALL, "test_add": 0}),
    # 12 reading the solutions / gradebook / other students, writing them
    "snoop": ({**R, "square": SNOOP}, None, {**ALL, "test_square": 0}),
}


SOLUTIONS = os.path.join(REPO, "solutions")
# the course's own assignments: graded in the same batch, as students "course_solution"
# (the source notebook) and "course_exercise" (the untouched student version)
ASSIGNMENTS = sorted(
    a
    for a in (os.listdir(SOLUTIONS) if os.path.isdir(SOLUTIONS) else [])
    if os.path.isfile(os.path.join(SOLUTIONS, a, a + ".ipynb"))
)


def exercise(a):
    return os.path.join(REPO, "exercises", a, a + ".ipynb")
