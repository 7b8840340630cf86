"""Verdicts that student code cannot reach (issue 9): blank answers with cheats score as blank.

What the student's kernel runs of a test cell is only `expect(actual)` (nncheck's rewrite): it
records the student's answers as plain data; the expected values come from a reference run of
the source notebook and are compared in the grader process. Each cheat below is handed in with
blank answers (the student version's `raise NotImplementedError()`) or wrong ones, and must
score what a blank submission scores; an honest and a blank submission graded in the same batch,
after them, still score full and zero. Graded the documented way: `python -m grader autograde`.
"""

import json
import os
import shutil

import nbformat
import pytest
from grading_helpers import PYTHON, REPO, RIGHT, TOY, answered, exercise, make_course, nbgrader, run

REAL = "ch03_losses"
MIME = "application/x-nncheck+json"

SETTRACE = (
    "import linecache, sys\n\n\n"
    "def skip(frame, event, arg):\n"
    "    if event == 'line':\n"
    "        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)\n"
    "        if 'expect(' in line or 'square(' in line or 'add(' in line or 'mean(' in line:\n"
    "            try:\n"
    "                frame.f_lineno = frame.f_lineno + 1\n"
    "            except ValueError:\n"
    "                pass\n"
    "    return skip\n\n\n"
    "sys.settrace(skip)\n"
)
# the old grader's completion token, and today's records: published by the student's own code,
# with the values the visible tests show, while `expect` itself is silenced
FORGE = (
    "import nncheck\nfrom IPython.display import display\n\n"
    "nncheck.expect = lambda *args, **kwargs: None\n"
    "expect = nncheck.expect\n\n\n"
    "def fake(*values):\n"
    "    for v in values:\n"
    f"        display({{'{MIME}': {{'actual': v}}}}, raw=True)\n"
    "    display({'application/x-grader-token': 'forged'}, raw=True)\n\n\n"
    "def square(x):\n"
    "    fake({'t': 'int', 'v': 9}, {'t': 'int', 'v': 9})\n"
    "    return 9\n\n\n"
    "def add(a, b):\n"
    "    fake({'t': 'array', 'kind': 'f', 'shape': [2], 'v': [2.0, 2.0]})\n"
    "    return 2\n\n\n"
    "def mean(v):\n"
    "    fake({'t': 'int', 'v': 2}, {'t': 'int', 'v': 2})\n"
    "    return 2\n"
)
SUBCLASS = (
    "import numpy as np\n\n\n"
    "class Yes(np.ndarray):\n"
    "    def __eq__(self, other):\n        return np.ones(np.shape(other), bool)\n\n"
    "    def __array_ufunc__(self, *args, **kwargs):\n        return True\n\n\n"
    "def square(x):\n    return np.zeros(1).view(Yes)\n\n\n"
    "add = mean = square\n"
)
OVERRIDES = (
    "class Anything:\n"
    "    def __array_ufunc__(self, *args, **kwargs):\n        return True\n\n"
    "    def __array_function__(self, *args, **kwargs):\n        return True\n\n"
    "    def __eq__(self, other):\n        return True\n\n"
    "    def __float__(self):\n        return 9.0\n\n\n"
    "def square(x):\n    return Anything()\n\n\n"
    "add = mean = square\n"
)
ALWAYS_EQUAL = (
    "class Equal(float):\n"
    "    def __eq__(self, other):\n        return True\n\n"
    "    __le__ = __ge__ = __lt__ = __gt__ = __eq__\n\n\n"
    "def square(x):\n    return Equal(0)\n\n\n"
    "add = mean = square\n"
)
FAKE_KERNEL = (
    "from ipykernel.ipkernel import IPythonKernel\n"
    "from ipykernel.kernelapp import IPKernelApp\n\n\n"
    "class Kernel(IPythonKernel):\n"
    "    async def do_execute(self, code, *args, **kwargs):\n"
    "        return {'status': 'ok', 'execution_count': 1, 'payload': [],\n"
    "                'user_expressions': {}}\n\n\n"
    "IPKernelApp.launch_instance(kernel_class=Kernel)\n"
)
FAKE_NNCHECK = "MIME = 'x'\n\n\ndef expect(*args, **kwargs):\n    pass\n"
BLANK = {"test_square": 0, "test_add": 0, "test_mean": 0}
FULL = {"test_square": 1, "test_add": 2, "test_mean": 1}


# student -> (answers for the toy, extra files {relative path: text}, expected parts)
CHEATS = {
    "settrace": ({"square": SETTRACE}, {}, BLANK),
    "forged_records": ({"square": FORGE}, {}, BLANK),
    "ndarray_subclass": ({"square": SUBCLASS}, {}, BLANK),
    "array_overrides": ({"square": OVERRIDES}, {}, BLANK),
    "always_equal": ({"square": ALWAYS_EQUAL}, {}, BLANK),
    "grader_package": (
        {},
        {"grader/__init__.py": "", "grader/kernel.py": FAKE_KERNEL, "grader/__main__.py": ""},
        BLANK,
    ),
    "nncheck_package": ({}, {"nncheck/__init__.py": FAKE_NNCHECK}, BLANK),
}
# graded after the cheats (student ids sort after them)
LAST = {"zz_honest": (RIGHT, {}, FULL), "zz_blank": ({}, {}, BLANK)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = make_course(str(tmp_path_factory.mktemp("verdicts")))
    shutil.copytree(os.path.join(REPO, "solutions", REAL), os.path.join(course, "solutions", REAL))
    nbgrader(["generate_assignment", TOY, "--no-db"], course)
    release = nbformat.read(os.path.join(course, "exercises", TOY, TOY + ".ipynb"), 4)
    for student, (answers, files, _) in {**CHEATS, **LAST}.items():
        dest = os.path.join(course, "submitted", student, TOY)
        os.makedirs(dest)
        nbformat.write(answered(release, answers), os.path.join(dest, TOY + ".ipynb"))
        for rel, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
            with open(os.path.join(dest, rel), "w") as f:
                f.write(text)
    # the real assignment: a cheat (objects that equal anything, a fake nncheck), honest, blank
    real = nbformat.read(exercise(REAL), 4)
    for cell in real.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = (
                "class Anything(float):\n    def __eq__(self, other):\n        return True\n\n\n"
                "def binary_cross_entropy(*args):\n    return Anything(1)\n\n\n"
                "binary_cross_entropy_gradient = mse = mae = binary_cross_entropy\n"
                "sparse_categorical_cross_entropy = binary_cross_entropy\n"
            )
            break
    for student, path in (("cheat", None), ("zz_honest", None), ("zz_blank", exercise(REAL))):
        dest = os.path.join(course, "submitted", student, REAL)
        os.makedirs(dest)
        if student == "cheat":
            nbformat.write(real, os.path.join(dest, REAL + ".ipynb"))
            os.makedirs(os.path.join(dest, "nncheck"))
            with open(os.path.join(dest, "nncheck", "__init__.py"), "w") as f:
                f.write(FAKE_NNCHECK)
        else:
            src = path or os.path.join(REPO, "solutions", REAL, REAL + ".ipynb")
            shutil.copy(src, os.path.join(dest, REAL + ".ipynb"))
    cmd = [PYTHON, "-m", "grader", "autograde", TOY, REAL, "--jobs", "2", "--json"]
    done = run(cmd, course, check=False, timeout=1200)
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    return {(f["assignment"], f["student"]): f for f in facts}, done


@pytest.mark.parametrize("student", [*CHEATS, *LAST])
def test_toy_scores(graded, student):
    facts = graded[0][(TOY, student)]
    parts = {k: v for k, v in facts["parts"].items() if k.startswith("test_")}
    assert parts == {**CHEATS, **LAST}[student][2], facts


def test_real_assignment(graded):
    facts = graded[0]
    assert facts[(REAL, "cheat")]["score"] == 0, facts[(REAL, "cheat")]
    assert facts[(REAL, "zz_blank")]["score"] == 0, facts[(REAL, "zz_blank")]
    honest = facts[(REAL, "zz_honest")]
    assert honest["max_score"] > 0 and honest["score"] == honest["max_score"], honest


# ---------------------------------------------------------------- nncheck's pieces, fast


def test_plain_data_is_strict():
    import numpy as np

    from nncheck import NotPlainData, compare, encode, record_of

    class Sub(np.ndarray):
        pass

    class Overrides:
        __array_ufunc__ = None

        def __array_function__(self, *args, **kwargs):
            return True

    for value in (np.zeros(2).view(Sub), Overrides(), object(), {1: 2}, np.array(["a"])):
        with pytest.raises(NotPlainData):
            encode(value)
        assert compare(record_of(value), encode(0.0)) is not None
    assert compare(encode(np.float64(2.0)), encode(2)) is None
    assert compare(encode(np.array([1.0, np.nan])), encode(np.array([1.0, np.nan]))) is None
    assert compare(encode(np.ones(3)), encode(1.0)) == "expected shape (), got shape (3,)"
    assert compare(encode(True), encode(1)) is not None  # a boolean is not a number
    assert compare({"t": "array", "kind": "f", "shape": [9], "v": "x"}, encode([1.0])) is not None


def test_matchers():
    import numpy as np

    from nncheck import agrees_with, between, expect, finite

    expect(np.array([1, 2, 3, 4]), agrees_with([1, 2, 3, 0], at_least=0.75), "m")
    expect(np.array([0.5, 2.0]), between(0, 2), "m")
    expect(np.array([-5.0, 2.0]), between(-np.inf, 2), "m")  # bounds (not entries) may be inf
    for actual, matcher in (
        (np.array([1, 2, 3, 4]), agrees_with([1, 2, 3, 0], at_least=0.8)),
        (np.array([1, 2, 3]), agrees_with([1, 2, 3, 0], at_least=0.5)),
        (np.array([0.5, np.nan]), finite()),
        (np.array([0.5, 3.0]), between(0, 2)),
    ):
        with pytest.raises(AssertionError, match="^m$"):
            expect(actual, matcher, "m")


def test_rewrite_keeps_only_the_actual():
    from nncheck.rewrite import TestCellError, for_grading, visible_part

    source = (
        "x = np.arange(3)\n"
        "expected = np.cumsum(x) * 7\n"
        "expect(f(x), expected, 'secret message', rtol=1e-3)\n"
        "### BEGIN HIDDEN TESTS\n"
        "expect(f(-x), np.array([1, 2]), 'hidden message')  # HIDDEN-MARK\n"
        "### END HIDDEN TESTS\n"
    )
    code = for_grading(source)
    assert code == "x = np.arange(3)\nexpect(f(x))\nexpect(f(-x))\n"
    assert "HIDDEN" not in for_grading(visible_part(source)) and "-x" not in visible_part(source)
    with pytest.raises(TestCellError):
        for_grading("assert f(1) == 2\nexpect(f(1), 2, 'm')\n")
