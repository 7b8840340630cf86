"""The student notebooks in exercises/ are up to date with the sources in solutions/.

`scripts/generate_exercises.sh` runs `nbgrader generate_assignment` once per assignment (a few
seconds each). To stay fast, this test applies the same nbgrader preprocessors directly, in the
same order, with the course's nbgrader_config.py, to every source notebook in one process, and
compares the result with the committed exercises/ cell by cell: cell type, source and nbgrader
metadata (ignoring the checksums, which are derived from those). It also checks what a student
must never see (solutions, hidden tests, outputs) and that every assignment has graded parts.

The visible checks `exercises/<a>/<a>.checks.json` (the self-check's reference) are fresh when
their fingerprint is the hash of what they were computed from (the source folder, nncheck's and
nnlib's code: nncheck.reference.cache_key), and they hold exactly the exercise's test cells, as
the grader runs them, without hidden tests.

If it fails after you edited solutions/ (or nnlib/), run scripts/generate_exercises.sh and commit
exercises/.
"""

import json
from pathlib import Path

import nbformat
import pytest
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    LockCells,
)
from traitlets.config.loader import PyFileConfigLoader

from nncheck.reference import cache_key
from nncheck.rewrite import for_grading, visible_part

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
ASSIGNMENTS = sorted(p.name for p in SOLUTIONS.iterdir() if (p / f"{p.name}.ipynb").is_file())
# What `nbgrader generate_assignment` applies (SaveCells and the header/footer and autotest
# steps aside: they touch the gradebook or are not used by this course).
PIPELINE = [
    LockCells,
    ClearSolutions,
    ClearOutput,
    CheckCellMetadata,
    ComputeChecksums,
    ClearHiddenTests,
    ClearMarkScheme,
    ComputeChecksums,
    CheckCellMetadata,
]
VOLATILE = {"checksum"}
FORBIDDEN = ("### BEGIN SOLUTION", "### END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()


def _student_version(source_path, config):
    nb = nbformat.read(source_path, as_version=4)
    resources = {}
    for preprocessor in PIPELINE:
        nb, resources = preprocessor(config=config).preprocess(nb, resources)
    return nb


def _summary(nb):
    cells = []
    for cell in nb.cells:
        meta = {k: v for k, v in cell.metadata.get("nbgrader", {}).items() if k not in VOLATILE}
        cells.append((cell.cell_type, cell.source, meta))
    return cells


@pytest.fixture(scope="module")
def generated():
    config = _config()
    return {a: _student_version(SOLUTIONS / a / f"{a}.ipynb", config) for a in ASSIGNMENTS}


def test_there_are_ten_assignments():
    assert len(ASSIGNMENTS) == 10, ASSIGNMENTS


def test_no_stale_exercise_folders():
    released = sorted(p.name for p in EXERCISES.iterdir() if p.is_dir())
    assert released == ASSIGNMENTS, "exercises/ and solutions/ hold different assignments"
    for a in ASSIGNMENTS:
        files = sorted(p.name for p in (EXERCISES / a).iterdir())
        assert files == [f"{a}.checks.json", f"{a}.ipynb"], files


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_visible_checks_are_fresh(assignment):
    source = SOLUTIONS / assignment / f"{assignment}.ipynb"
    path = EXERCISES / assignment / f"{assignment}.checks.json"
    assert path.is_file(), f"{path} is missing: run scripts/generate_exercises.sh"
    checks = json.loads(path.read_text())
    assert checks["visible_only"] is True
    assert checks["fingerprint"] == cache_key(str(source), True), (
        f"{path.name} is stale against solutions/ or nnlib/; run scripts/generate_exercises.sh"
    )
    nb = nbformat.read(source, as_version=4)
    tests = {
        c.metadata.nbgrader["grade_id"]: c
        for c in nb.cells
        if c.cell_type == "code"
        and c.metadata.get("nbgrader", {}).get("grade")
        and not c.metadata.nbgrader.get("solution")
    }
    assert sorted(checks["tests"]) == sorted(tests)
    for gid, cell in tests.items():
        entry = checks["tests"][gid]
        assert entry["points"] == cell.metadata.nbgrader["points"]
        assert entry["code"] == for_grading(visible_part(cell.source)), f"{gid}: stale code"
        assert entry["checks"], f"{gid}: no visible check"
        for check in entry["checks"]:  # words, never the test's code
            assert check["message"] and not check["message"].startswith("check failed")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercise_is_fresh(assignment, generated):
    path = EXERCISES / assignment / f"{assignment}.ipynb"
    assert path.is_file(), f"{path} is missing: run scripts/generate_exercises.sh"
    released = nbformat.read(path, as_version=4)
    expected = _summary(generated[assignment])
    actual = _summary(released)
    assert len(actual) == len(expected), (
        f"{path.name}: {len(actual)} cells, the source gives {len(expected)}; "
        "run scripts/generate_exercises.sh"
    )
    for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
        assert got == want, (
            f"{path.name}, cell {i} is stale against solutions/; run scripts/generate_exercises.sh"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercise_is_safe_to_release(assignment):
    path = EXERCISES / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(path, as_version=4)
    graded = []
    for i, cell in enumerate(nb.cells):
        for marker in FORBIDDEN:
            assert marker not in cell.source, f"{path.name}, cell {i} still contains {marker!r}"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}, cell {i} has outputs"
            assert cell.execution_count is None, f"{path.name}, cell {i} has an execution count"
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            assert meta.get("locked"), f"{path.name}: test cell {meta.get('grade_id')} not locked"
            assert meta.get("points", 0) > 0, f"{path.name}: {meta.get('grade_id')} has no points"
            assert "checksum" in meta, f"{path.name}: {meta.get('grade_id')} has no checksum"
            graded.append(meta["grade_id"])
    assert len(graded) >= 3, f"{path.name}: only {len(graded)} graded test cells"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate grade_id"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_has_answers_and_hidden_tests(assignment):
    nb = nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4)
    solutions = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert solutions and all("### BEGIN SOLUTION" in c.source for c in solutions)
    assert any("### BEGIN HIDDEN TESTS" in c.source for c in tests)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{assignment}: commit solutions without outputs"
            )
