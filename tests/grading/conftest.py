"""Fixtures of the grading tests: a throwaway course with the toy assignment `ch00_toy`,
and one parallel batch grading its hostile submissions and the course's own assignments."""

import json
import os
import shutil

import nbformat
import pytest
from grading_helpers import (
    ASSIGNMENTS,
    BATCH,
    PYTHON,
    SOLUTIONS,
    TOY,
    answered,
    exercise,
    make_course,
    nbgrader,
    run,
)

# nbval must never execute the hostile fixture notebooks
collect_ignore_glob = ["fixtures/*"]


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """The toy course, released with nbgrader generate_assignment."""
    root = make_course(str(tmp_path_factory.mktemp("course")))
    nbgrader(["generate_assignment", TOY], root)
    return root


@pytest.fixture(scope="session")
def release(course):
    return nbformat.read(os.path.join(course, "exercises", TOY, TOY + ".ipynb"), as_version=4)


@pytest.fixture(scope="session")
def batch(course, release):
    """Every submission of BATCH, and the course's assignments, graded in one parallel run."""
    for student, (answers, extra, _) in BATCH.items():
        if answers is None:
            dest = os.path.join(course, "submitted", student, TOY)
            os.makedirs(dest)
            with open(os.path.join(dest, TOY + ".ipynb"), "wb") as f:
                f.write(b"%PDF-1.4 this is not a notebook")
            continue
        nb = answered(release, answers, extra)
        for cell in nb.cells:
            cell.source = cell.source.replace("{root}", course)
        dest = os.path.join(course, "submitted", student, TOY)
        os.makedirs(dest)
        nbformat.write(nb, os.path.join(dest, TOY + ".ipynb"))
    for a in ASSIGNMENTS:
        shutil.copytree(os.path.join(SOLUTIONS, a), os.path.join(course, "solutions", a))
        for student, path in (
            ("course_solution", os.path.join(SOLUTIONS, a, a + ".ipynb")),
            ("course_exercise", exercise(a)),
        ):
            if os.path.isfile(path):
                os.makedirs(os.path.join(course, "submitted", student, a))
                shutil.copy(path, os.path.join(course, "submitted", student, a, a + ".ipynb"))
    with open(os.path.join(course, "submitted", "solution", TOY, TOY + ".ipynb"), "rb") as f:
        solution_bytes = f.read()
    cmd = [PYTHON, "-m", "grader", "autograde", TOY, *ASSIGNMENTS, "--jobs", "2", "--json"]
    done = run(cmd, course, check=False, timeout=1800)
    every = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "facts": {f["student"]: f for f in every if f["assignment"] == TOY},
        "course_facts": {(f["assignment"], f["student"]): f for f in every},
        "stdout": done.stdout,
        "returncode": done.returncode,
        "course": course,
        "solution_bytes": solution_bytes,
    }
