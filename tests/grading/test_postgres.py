"""A real PostgreSQL gradebook: the instructor's flow on it, and two graders sharing it.

The module starts one private PostgreSQL cluster (Debian's `postgresql` package, installed by
`scripts/setup.sh dev`): `initdb` into a temporary folder and `pg_ctl start` on a free local
port, as the `postgres` user when the tests run as root. Each test gets its own database in
it. The cluster is stopped and its folder removed when the module ends, also after a failure.
"""

import csv
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import zipfile

import nbformat
import pytest
from grading_helpers import NBGRADER, PYTHON, RIGHT, TOY, WRONG, answered, env, make_course

from grader.grade import shard_of

# LMS uploads of the toy assignment (4 points: square 1, add 2, mean 1), and the scores
SUBMISSIONS = {
    "alice": (RIGHT, 4),
    "bob": ({**RIGHT, "add": WRONG["add"]}, 2),
    "carol": ({}, 0),
    "dave": ({"square": RIGHT["square"]}, 1),
    "erin": ({**RIGHT, "mean": WRONG["mean"]}, 3),
    "frank": ({"add": RIGHT["add"], "mean": RIGHT["mean"]}, 3),
    "grace": (None, 0),  # a file that is not a notebook
}


def _pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=os.path.getmtime)
    return os.path.dirname(found[-1]) if found else None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd):
    """Run a PostgreSQL server command; as root, as the `postgres` user (initdb refuses root)."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def postgres():
    """(bin folder, port) of a private PostgreSQL cluster, for this module's tests."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (scripts/setup.sh dev installs `postgresql`)")
    folder = tempfile.mkdtemp(prefix="grader-pg-")
    os.chmod(folder, 0o755)
    data, port = os.path.join(folder, "data"), _free_port()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    started = False
    try:
        done = _as_postgres(
            [f"{bindir}/initdb", "-D", data, "-U", "nbgrader", "--auth=trust", "-E", "UTF8"]
        )
        assert done.returncode == 0, done.stderr
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = os.path.join(folder, "server.log")
        done = _as_postgres(
            [f"{bindir}/pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start"]
        )
        started = done.returncode == 0
        assert started, done.stdout + done.stderr + open(log).read()
        yield bindir, port
    finally:
        if started:
            _as_postgres([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"])
        shutil.rmtree(folder, ignore_errors=True)


def _database(postgres, name):
    """A new database in the cluster; its URL as the guide spells it (psycopg 3)."""
    bindir, port = postgres
    done = subprocess.run(
        [f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "nbgrader", name],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return f"postgresql://nbgrader@127.0.0.1:{port}/{name}"


def _run(cmd, cwd, db_url, check=True):
    e = dict(env(), NBGRADER_DB_URL=db_url)
    done = subprocess.run(cmd, cwd=cwd, env=e, capture_output=True, text=True, timeout=900)
    if check and done.returncode != 0:
        raise AssertionError(f"{cmd} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def _nbgrader(args, cwd, db_url):
    return _run([PYTHON, "-c", NBGRADER, *args], cwd, db_url)


def _course(tmp_path, db_url):
    """The toy course with the assignment generated into the PostgreSQL gradebook."""
    root = make_course(str(tmp_path / "course"))
    _nbgrader(["generate_assignment", TOY], root, db_url)
    return root


def _lms_archive(root):
    """The LMS download: every student's upload, named <student>_<n>_<assignment>.ipynb."""
    release = nbformat.read(os.path.join(root, "exercises", TOY, TOY + ".ipynb"), as_version=4)
    archive = os.path.join(root, "downloaded", TOY, "archive")
    os.makedirs(archive)
    with zipfile.ZipFile(os.path.join(archive, "submissions.zip"), "w") as z:
        for k, (student, (answers, _)) in enumerate(SUBMISSIONS.items()):
            name = f"{student}_{1000 + k}_{TOY}.ipynb"
            if answers is None:
                z.writestr(name, "%PDF-1.4 not a notebook")
            else:
                z.writestr(name, nbformat.writes(answered(release, answers)))


def _csv_scores(root, db_url):
    _nbgrader(["export", "--to", "grades.csv"], root, db_url)
    with open(os.path.join(root, "grades.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    assert all(r["assignment"] == TOY and float(r["max_score"]) == 4 for r in rows), rows
    return {r["student_id"]: float(r["score"]) for r in rows}


EXPECTED = {student: float(score) for student, (_, score) in SUBMISSIONS.items()}


def test_instructor_flow_on_postgresql(postgres, tmp_path):
    db_url = _database(postgres, "flow")
    root = _course(tmp_path, db_url)
    _lms_archive(root)
    _nbgrader(["zip_collect", TOY], root, db_url)
    assert sorted(os.listdir(os.path.join(root, "submitted"))) == sorted(SUBMISSIONS)
    cmd = [PYTHON, "-m", "grader", "autograde", TOY, "--jobs", "2", "--json"]
    done = _run(cmd, root, db_url)
    facts = {f["student"]: f for f in json.loads(done.stdout.strip().splitlines()[-1])}
    assert {s: f["status"] for s, f in facts.items()} == dict.fromkeys(SUBMISSIONS, "ok")
    assert any("not a readable notebook" in n for n in facts["grace"]["notes"])
    feedback = _nbgrader(["generate_feedback", TOY], root, db_url)
    assert "display_data_priority" not in feedback.stderr
    html = open(os.path.join(root, "feedback", "grace", TOY, TOY + ".html")).read()
    assert "not a readable notebook" in html
    assert _csv_scores(root, db_url) == EXPECTED


def test_two_graders_share_one_gradebook(postgres, tmp_path):
    db_url = _database(postgres, "shared")
    root = _course(tmp_path, db_url)
    release = nbformat.read(os.path.join(root, "exercises", TOY, TOY + ".ipynb"), as_version=4)
    for student, (answers, _) in SUBMISSIONS.items():
        dest = os.path.join(root, "submitted", student, TOY)
        os.makedirs(dest)
        with open(os.path.join(dest, TOY + ".ipynb"), "w") as f:
            f.write("not json" if answers is None else nbformat.writes(answered(release, answers)))
    halves = [{s for s in SUBMISSIONS if shard_of(s, 2) == k} for k in (1, 2)]
    assert all(halves), halves  # both graders have work
    e = dict(env(), NBGRADER_DB_URL=db_url)
    graders = [
        subprocess.Popen(
            [
                PYTHON,
                "-m",
                "grader",
                "autograde",
                TOY,
                "--jobs",
                "1",
                "--shard",
                f"{k}/2",
                "--json",
            ],
            cwd=root,
            env=e,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in (1, 2)
    ]
    outputs = [g.communicate(timeout=900) for g in graders]
    for g, (out, err) in zip(graders, outputs, strict=True):
        assert g.returncode == 0, out + err
    graded = [
        {f["student"] for f in json.loads(out.strip().splitlines()[-1])} for out, _ in outputs
    ]
    assert graded == halves
    assert _csv_scores(root, db_url) == EXPECTED


def test_failed_registration_keeps_student_files(tmp_path):
    """A wrong database URL or a missing driver: a clear error, and exercises/ stays as it was."""
    root = make_course(str(tmp_path / "course"))
    exercises = os.path.join(root, "exercises", TOY)
    os.makedirs(exercises)
    with open(os.path.join(exercises, TOY + ".ipynb"), "w") as f:
        f.write("the committed student version")
    for db_url in (
        f"postgresql://nbgrader:secret@127.0.0.1:{_free_port()}/none",  # no server there
        "postgresql+nosuchdriver://nbgrader:secret@127.0.0.1/none",  # no such driver
    ):
        done = _run([PYTHON, "-m", "grader", "register", TOY], root, db_url, check=False)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "cannot open the gradebook" in done.stderr, done.stderr
        assert "secret" not in done.stderr, done.stderr
        with open(os.path.join(exercises, TOY + ".ipynb")) as f:
            assert f.read() == "the committed student version"
