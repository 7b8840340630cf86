"""The instructor's batch grader on hostile submissions, graded in one parallel run."""

import json
import os
import subprocess

import nbformat
import pytest
from grading_helpers import BATCH, PYTHON, RIGHT, TOY, answered, env, make_course, nbgrader, run


def test_batch_grades_everyone(batch):
    facts = batch["facts"]
    every = batch["course_facts"]
    assert sorted(facts) == sorted(BATCH)
    bad = {k: f["status"] for k, f in every.items() if f["status"] != "ok"}
    assert not bad, bad
    assert batch["returncode"] == 0
    # a file that is not a notebook: graded as an empty one, and the summary says so
    notes = facts["not_a_notebook"]["notes"]
    assert any("is not a readable notebook" in n for n in notes), notes
    assert "is not a readable notebook" in batch["stdout"]


@pytest.mark.parametrize("student", sorted(BATCH))
def test_score(batch, student):
    expected = BATCH[student][2]
    facts = batch["facts"][student]
    parts = {k: v for k, v in facts["parts"].items() if k.startswith("test_")}
    assert parts == expected, facts
    assert facts["score"] == sum(expected.values())
    assert facts["max_score"] == 4  # points come from the source, not the submission


def test_output_memory_bounded(batch):
    facts = batch["facts"]["big_output"]
    # 10 MB printed and 100 MB displayed while the cell runs: the grader keeps little of it
    assert facts["worker_max_rss_mb"] < 250, facts
    nb = nbformat.read(
        os.path.join(batch["course"], "autograded", "big_output", TOY, TOY + ".ipynb"), as_version=4
    )
    assert len(nbformat.writes(nb)) < 1_000_000


def test_isolation_kept_course_files_safe(batch):
    course = batch["course"]
    path = os.path.join(course, "submitted", "solution", TOY, TOY + ".ipynb")
    with open(path, "rb") as f:
        assert f.read() == batch["solution_bytes"]
    nb = nbformat.read(os.path.join(course, "autograded", "snoop", TOY, TOY + ".ipynb"), 4)
    text = nbformat.writes(nb)
    if "isolation: each kernel runs under bubblewrap" in batch["stdout"]:
        assert "leaks: []" in text


def test_feedback_hides_hidden_tests(batch):
    course = batch["course"]
    nbgrader(["generate_feedback", TOY], course)
    for student in ("solution", "edited_test", "untouched", "hidden_test_fails"):
        path = os.path.join(course, "feedback", student, TOY, TOY + ".html")
        html = open(path).read()
        assert "HIDDEN-" not in html and "BEGIN HIDDEN TESTS" not in html
        assert "square(3) should be 9" in html  # the visible tests stay
    html = open(os.path.join(course, "feedback", "edited_test", TOY, TOY + ".html")).read()
    assert "AssertionError" in html
    html = open(os.path.join(course, "feedback", "not_a_notebook", TOY, TOY + ".html")).read()
    assert "is not a readable notebook" in html
    # a hidden test that fails inside the student's function: the message, no traceback
    html = open(os.path.join(course, "feedback", "hidden_test_fails", TOY, TOY + ".html")).read()
    assert "ValueError: shapes differ" in html
    assert "np.arange(3)" not in html


def test_export_csv(batch):
    course = batch["course"]
    nbgrader(["export", "--to", "grades.csv"], course)
    rows = open(os.path.join(course, "grades.csv")).read().splitlines()
    header = rows[0].split(",")
    toy = {}
    for row in rows[1:]:
        fields = dict(zip(header, row.split(","), strict=True))
        if fields["assignment"] == TOY:
            toy[fields["student_id"]] = float(fields["score"])
    for student, (_, _, parts) in BATCH.items():
        assert toy[student] == sum(parts.values()), student


KILLER = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
# stops its grading process (which then hangs), and ends its own kernel a minute later
FREEZER = (
    "import os, signal, threading\n"
    "threading.Timer(60, os._exit, [0]).start()\n"
    "os.kill(os.getppid(), signal.SIGSTOP)\n"
)


def test_killed_worker_and_failed_regrade(tmp_path, release):
    """A submission that kills its grading process (possible only without the sandbox), or
    runs past the batch's wall-clock limit, gets a row marked for manual grading; a re-grade
    that fails keeps the earlier result."""
    root = make_course(str(tmp_path / "course"))
    sleeper = {**RIGHT, "add": FREEZER}
    for student, answers in (
        ("honest", RIGHT),
        ("killer", {**RIGHT, "add": KILLER}),
        ("sleeper", sleeper),
    ):
        dest = os.path.join(root, "submitted", student, TOY)
        os.makedirs(dest)
        nbformat.write(answered(release, answers), os.path.join(dest, TOY + ".ipynb"))
    cmd = [PYTHON, "-m", "grader", "autograde", TOY, "--jobs", "2", "--json"]
    students = ["--student", "killer", "honest", "sleeper"]
    done = run([*cmd, "--isolation", "off", "--wall-limit", "30", *students], root, check=False)
    facts = {f["student"]: f for f in json.loads(done.stdout.strip().splitlines()[-1])}
    assert done.returncode == 1
    assert facts["honest"]["status"] == "ok" and facts["honest"]["score"] == 4
    killer = facts["killer"]
    assert killer["status"].startswith("needs manual grading: the grading process was killed")
    assert (killer["score"], killer["max_score"]) == (0, 4)
    graded = os.path.join(root, "autograded", "killer", TOY, TOY + ".ipynb")
    assert "NotGraded: not run: the grading process was killed" in open(graded).read()
    sleeper = facts["sleeper"]
    assert sleeper["status"] == (
        "needs manual grading: the grading ran past the batch's limit of 30 s and was stopped"
    )
    assert (sleeper["score"], sleeper["max_score"]) == (0, 4)
    for student, f in facts.items():
        assert f["seconds"] >= f["worker_seconds"] > 0
        log = open(os.path.join(root, "autograded", ".grader-logs", TOY, student + ".log")).read()
        assert "Autograding" in log or "not run" in log, log

    # a re-grade that fails (isolation required, but turned off): the earlier result stays
    result = os.path.join(root, "autograded", "honest", TOY, TOY + ".ipynb")
    before = open(result).read()
    e = dict(env(), GRADER_NO_ISOLATION="1")
    again = [*cmd, "--isolation", "on", "--student", "honest"]
    done = subprocess.run(again, cwd=root, env=e, capture_output=True, text=True, timeout=600)
    (facts,) = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 1 and facts["status"].startswith("failed"), facts
    assert open(result).read() == before
    assert facts["score"] == 4  # the gradebook keeps the earlier score too
