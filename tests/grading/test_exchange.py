"""The JupyterHub route from the command line: nbgrader's exchange with two real Unix users.

An instructor and a student account are created for the test (and removed after it). The
instructor releases the toy assignment into a shared exchange folder, the student fetches it,
answers and submits; the instructor collects, grades with the batch grader, generates and
releases feedback; the student fetches the feedback.

The accounts cannot read this machine's default Python when it lives under /root (mode 0700),
so they run a copy of this interpreter and its standard library, which adds this environment's
site-packages (world-readable) with a .pth file: same packages, no install. Needs root.
"""

import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import nbformat
import pytest
from grading_helpers import NBGRADER, RIGHT, TOY, WRONG, answered, make_course

COURSE = "neural-networks"  # nbgrader_config.py's course id


def _python_for_users(folder):
    """A Python the test users can run, with this environment's packages; (python, env vars).

    A copy of this interpreter with its standard library (not its site-packages) in `folder`,
    whose own site-packages adds ours (world-readable) through a .pth file: same versions,
    no install. (Debian's /usr/bin/python3 would do for the student's commands, but its
    3.11.2 `re` breaks the HTML export of generate_feedback.)"""
    base = sys.base_prefix
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    copy = os.path.join(folder, "python")
    skip = ("site-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip")
    shutil.copytree(
        os.path.join(base, "lib", version),
        os.path.join(copy, "lib", version),
        ignore=lambda d, names: [n for n in names if n in skip or n.startswith("config-")],
    )
    os.makedirs(os.path.join(copy, "bin"))
    for name in os.listdir(os.path.join(base, "lib")):
        if name.startswith("libpython"):
            shutil.copy2(os.path.join(base, "lib", name), os.path.join(copy, "lib", name))
    python = os.path.join(copy, "bin", version)
    shutil.copy2(os.path.realpath(sys.executable), python)
    site_packages = os.path.join(copy, "lib", version, "site-packages")
    os.makedirs(site_packages)
    with open(os.path.join(site_packages, "course-env.pth"), "w") as f:
        f.write(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    alembic = os.path.join(copy, "bin", "alembic")  # nbgrader runs it to make a gradebook
    with open(alembic, "w") as f:
        f.write(f"#!{python}\nimport sys\nfrom alembic.config import main\nsys.exit(main())\n")
    os.chmod(alembic, 0o755)
    return python, [
        f"LD_LIBRARY_PATH={os.path.join(copy, 'lib')}",
        f"JUPYTER_PATH={os.path.join(sys.prefix, 'share', 'jupyter')}",  # nbconvert's templates
    ]


class Users:
    """Unix accounts made for one test, removed by close()."""

    def __init__(self, folder):
        self.folder, self.names = folder, []

    def add(self, role):
        name = f"nbg{role[:4]}{os.getpid() % 100000}"
        home = os.path.join(self.folder, name)
        subprocess.run(
            ["useradd", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh", name],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self.names.append(name)
        os.mkdir(home, 0o755)
        shutil.chown(home, name, name)
        return name, home

    def close(self):
        for name in self.names:
            subprocess.run(["userdel", "--force", name], capture_output=True, timeout=60)


def _as(user, home, python, args, cwd):
    """Run `python ARGS` as `user`, with a clean environment; fail the test if it fails."""
    python, extra = python
    env = [
        *extra,
        f"HOME={home}",
        f"USER={user}",
        f"PATH={os.path.dirname(python)}:/usr/bin:/bin",
        "OPENBLAS_NUM_THREADS=1",
        "PYDEVD_DISABLE_FILE_VALIDATION=1",
    ]
    cmd = ["runuser", "-u", user, "--", "env", "-i", *env, python, *args]
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args} as {user} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture
def accounts():
    if os.geteuid() != 0:
        pytest.skip("creating the test's Unix users (instructor, student) needs root")
    if not shutil.which("useradd") or not shutil.which("runuser"):
        pytest.skip("useradd/runuser are not available")
    folder = tempfile.mkdtemp(prefix="grader-exchange-")
    os.chmod(folder, 0o755)
    users = Users(folder)
    try:
        yield folder, users
    finally:
        users.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_exchange_round_trip(accounts):
    folder, users = accounts
    python = _python_for_users(folder)
    exchange = os.path.join(folder, "exchange")
    os.mkdir(exchange)
    os.chmod(exchange, 0o1777)
    teacher, teacher_home = users.add("instructor")
    student, student_home = users.add("student")
    root = make_course(os.path.join(teacher_home, "course"))
    subprocess.run(["chown", "-R", f"{teacher}:{teacher}", root], check=True)
    ex = f"--Exchange.root={exchange}"

    def instructor(*args):
        return _as(teacher, teacher_home, python, ["-c", NBGRADER, *args], root)

    def learner(*args):
        return _as(student, student_home, python, ["-c", NBGRADER, *args], student_home)

    instructor("generate_assignment", TOY)
    instructor("release_assignment", TOY, ex)
    learner("fetch_assignment", TOY, f"--course={COURSE}", ex)
    path = os.path.join(student_home, TOY, TOY + ".ipynb")
    nb = answered(nbformat.read(path, as_version=4), {**RIGHT, "add": WRONG["add"]})
    nbformat.write(nb, path)
    learner("submit", TOY, f"--course={COURSE}", ex)

    instructor("collect", TOY, ex)
    assert os.listdir(os.path.join(root, "submitted")) == [student]
    grade = ["-m", "grader", "autograde", TOY, "--jobs", "1", "--isolation", "off"]
    done = _as(teacher, teacher_home, python, grade, root)
    assert f"{student}" in done.stdout and "2 / 4" in done.stdout, done.stdout
    instructor("generate_feedback", TOY)
    instructor("release_feedback", TOY, ex)

    learner("fetch_feedback", TOY, f"--course={COURSE}", ex)
    feedback = os.path.join(student_home, TOY, "feedback")
    (stamp,) = os.listdir(feedback)
    html = open(os.path.join(feedback, stamp, TOY + ".html")).read()
    assert "square(3) should be 9" in html and "HIDDEN-" not in html
    assert pwd.getpwnam(student).pw_uid == os.stat(os.path.join(feedback, stamp)).st_uid
