"""Hostile submissions against the sandbox, graded in one batch the documented way.

`python -m grader autograde ch00_toy --jobs 2`, run with the interpreter spelled with `..`, in a
course folder elsewhere than the install that holds its own copy of `grader/` (so the worker
imports a `grader` other than the one the editable install points to). Each submission tries
one class of attack of issue 9; its answers are right unless the attack got through, so the
expected score says whether the sandbox held. An honest and a blank submission are graded
after them. Then: nothing was written outside the sandbox, no process survived, no connection
reached the host, and a late background write did not touch the gradebook.
"""

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import sysconfig
import time
import uuid

import nbformat
import pytest
from grading_helpers import REPO, RIGHT, TOY, WRONG, answered, cell_of, env, make_course

from grader import sandbox

pytestmark = pytest.mark.skipif(
    not sandbox.isolation_status()[0], reason="the sandbox does not work on this machine"
)
TOKEN = uuid.uuid4().hex[:12]
MARK = f"ATTACK-{TOKEN}"
SECRET = f"instructor-secret-{TOKEN}"
ABSTRACT = f"grader-attack-{TOKEN}"
HOME = os.path.expanduser("~")

WRITES = """
import os, sys, sysconfig
import grader, nnlib
targets = ["{root}", "{root}/solutions/ch00_toy", "{root}/autograded", "{root}/submitted",
           "{root}/grader", sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"],
           sysconfig.get_paths()["stdlib"], os.path.dirname(grader.__file__),
           os.path.dirname(nnlib.__file__), "{home}/.ipython/profile_default/startup",
           os.path.expanduser("~/.ipython/profile_default/startup"), "{repo}"]
for t in targets:
    try:
        os.makedirs(t, exist_ok=True)
        with open(os.path.join(t, "{mark}"), "w") as f:
            f.write("written by a student")
    except OSError:
        pass
try:
    with open("{root}/gradebook.db", "ab") as f:
        f.write(b"{mark}")
except OSError:
    pass
"""
BACKGROUND = """
import subprocess, sys
later = (
    "import os, sqlite3, time; time.sleep(6); "
    "open('{root}/{mark}-late', 'w').write('x'); "
    "db = sqlite3.connect('{root}/gradebook.db'); "
    "db.execute('update grade set manual_score = 99'); db.commit()"
)
subprocess.Popen([sys.executable, "-c", later, "{mark}"], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
"""
NETWORK = """
import socket
reached = []
try:
    s = socket.create_connection(("127.0.0.1", {port}), timeout=2)
    s.sendall(b"{mark}")
    reached.append("tcp")
except OSError:
    pass
try:
    u = socket.socket(socket.AF_UNIX)
    u.settimeout(2)
    u.connect("\\0{abstract}")
    u.sendall(b"{mark}")
    reached.append("unix")
except OSError:
    pass


def square(x):
    return x + 1 if reached else x**2
"""
ENVIRON = """
import glob, os
found = "{secret}" in repr(dict(os.environ))
for path in glob.glob("/proc/*/environ"):
    try:
        found = found or b"{secret}" in open(path, "rb").read()
    except OSError:
        pass


def square(x):
    return x + 1 if found else x**2
"""
FORK_BOMB = """
import os, time
pids = []
for i in range(1000):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(3)
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
forked = len(pids)


def add(a, b):
    return a - b if forked >= 1000 else a + b
"""
SHM = """
import os
shm = 0
try:
    with open("/dev/shm/{mark}", "wb") as f:
        while shm < (200 << 20):
            f.write(b"x" * (8 << 20))
            shm += 8 << 20
except OSError:
    pass


def add(a, b):
    return a - b if shm >= (200 << 20) else a + b
"""
MEMFD = """
import os
fds, held = [], 0
while held < (1536 << 20):  # more than this test's memory limit (768 MiB), 48 MiB per memfd
    fds.append(os.memfd_create("{mark}"))
    for _ in range(6):
        os.write(fds[-1], b"x" * (8 << 20))
        held += 8 << 20


def mean(v):
    return 0
"""
FLOOD = """
import os


def fill(folder):
    total = 0
    for k in range(40):
        try:
            with open(os.path.join(folder, "{mark}-%d" % k), "wb") as f:
                for _ in range(4):
                    f.write(b"x" * (8 << 20))
                    total += 8 << 20
        except OSError:
            break
    for k in range(40):
        try:
            os.remove(os.path.join(folder, "{mark}-%d" % k))
        except OSError:
            pass
    return total


in_tmp, in_work = fill("/tmp"), fill(".")


def square(x):
    return x + 1 if in_tmp >= (1 << 30) else x**2


def add(a, b):
    return a - b if in_work >= (1 << 30) else a + b
"""
RUNTIME_FLOOD = """
import os
args = open("/proc/self/cmdline", "rb").read().split(b"\\0")
runtime = os.path.dirname(args[args.index(b"-f") + 1].decode())
for k in range(40):  # 1.25 GiB into the one host folder the kernel can write to
    try:
        with open(os.path.join(runtime, "{mark}-%d" % k), "wb") as f:
            for _ in range(4):
                f.write(b"x" * (8 << 20))
    except OSError:
        pass


def mean(v):
    return sum(v) / len(v)
"""
KILL_PARENT = """
import os, signal
for target in (os.getppid(), 1):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
"""
SHADOWED = """
import os, sys
shadowed = [n for n in ("grader", "nnlib", "numpy", "nncheck")
            if getattr(sys.modules.get(n), "__file__", "").startswith(os.getcwd())]


def square(x):
    return x + 1 if shadowed else x**2
"""


def _after(gid, code):
    def edit(nb):
        i = nb.cells.index(cell_of(nb, gid))
        nb.cells.insert(i + 1, nbformat.v4.new_code_cell(code))

    return edit


def _link(target):
    def files(folder, root):
        os.remove(os.path.join(folder, TOY + ".ipynb"))
        os.symlink(target.format(root=root), os.path.join(folder, TOY + ".ipynb"))

    return files


def _link_data(folder, root):
    os.symlink(os.path.join(root, "solutions", TOY, TOY + ".ipynb"), os.path.join(folder, "d.txt"))


def _packages(folder, root):
    for name in ("grader", "nnlib", "numpy", "nncheck"):
        os.makedirs(os.path.join(folder, name))
        with open(os.path.join(folder, name, "__init__.py"), "w") as f:
            f.write(f"open('{root}/{MARK}-shadow', 'w').write('imported')\nFAKE = True\n")
    with open(os.path.join(folder, "grader", "kernel.py"), "w") as f:
        f.write("raise SystemExit('a fake grading kernel')\n")


R, W = RIGHT, WRONG
ALL = {"test_square": 1, "test_add": 2, "test_mean": 1}
NONE = {"test_square": 0, "test_add": 0, "test_mean": 0}
REFUSED = "refused"
# student -> (answers, notebook edit, files edit, expected parts or REFUSED)
ATTACKS = {
    "writes": (R, _after("square", WRITES), None, ALL),
    "background": (R, _after("square", BACKGROUND), None, ALL),
    "network": ({**R, "square": NETWORK}, None, None, ALL),
    "environ": ({**R, "square": ENVIRON}, None, None, ALL),
    "fork_bomb": ({**R, "add": FORK_BOMB}, None, None, ALL),
    "shm": ({**R, "add": SHM}, None, None, ALL),
    "memfd": ({**R, "mean": MEMFD}, None, None, {**ALL, "test_mean": 0}),
    "flood": ({**R, "square": FLOOD, "add": "pass"}, None, None, ALL),
    "runtime_flood": ({**R, "mean": RUNTIME_FLOOD}, None, None, {**ALL, "test_mean": 0}),
    "kill_parent": (R, _after("square", KILL_PARENT), None, ALL),
    "packages": ({**R, "square": SHADOWED}, None, _packages, ALL),
    "packages_wrong": (W, None, _packages, NONE),
    "link_notebook": (R, None, _link("{root}/solutions/ch00_toy/ch00_toy.ipynb"), REFUSED),
    "link_data": (R, None, _link_data, REFUSED),
    # graded after all of the above
    "zz_honest": (R, None, None, ALL),
    "zz_blank": ({}, None, None, NONE),
}


def _fill(code, root, port):
    return (
        code.replace("{root}", root)
        .replace("{home}", HOME)
        .replace("{repo}", REPO)
        .replace("{mark}", MARK)
        .replace("{port}", str(port))
        .replace("{abstract}", ABSTRACT)
        .replace("{secret}", SECRET)
    )


def _snapshot(root):
    """Every file of the course but the grader's own outputs: path -> (size, mtime)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel.split(os.sep)[0] in ("autograded", "feedback"):
            continue
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            if rel == "." and name.startswith("gradebook.db"):
                continue
            st = os.lstat(os.path.join(dirpath, name))
            out[os.path.join(rel, name)] = (st.st_size, st.st_mtime_ns)
    return out


def _marked_paths(root):
    folders = [
        root,
        os.path.join(root, "solutions", TOY),
        os.path.join(root, "submitted"),
        os.path.join(root, "autograded"),
        os.path.join(root, "grader"),
        os.path.dirname(root),
        REPO,
        os.path.join(REPO, "grader"),
        os.path.join(REPO, "nnlib"),
        sys.prefix,
        os.path.realpath(sys.base_prefix),
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["stdlib"],
        os.path.join(HOME, ".ipython", "profile_default", "startup"),
        "/tmp",
        "/dev/shm",
    ]
    return [
        os.path.join(f, name)
        for f in folders
        if os.path.isdir(f)
        for name in os.listdir(f)
        if name.startswith(MARK)
    ]


def _survivors():
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if MARK.encode() in f.read():
                        found.append(int(pid))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory, release):
    # a course elsewhere than the install, with its own copy of grader/
    root = make_course(str(tmp_path_factory.mktemp("elsewhere") / "course"))
    shutil.copytree(
        os.path.join(REPO, "grader"),
        os.path.join(root, "grader"),
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    unix = socket.socket(socket.AF_UNIX)
    unix.bind("\0" + ABSTRACT)
    unix.listen(8)
    port = tcp.getsockname()[1]
    for student, (answers, edit, files, _) in ATTACKS.items():
        nb = answered(release, {k: _fill(v, root, port) for k, v in answers.items()})
        if edit:
            edit(nb)
        for cell in nb.cells:
            cell.source = _fill(cell.source, root, port)
        folder = os.path.join(root, "submitted", student, TOY)
        os.makedirs(folder)
        nbformat.write(nb, os.path.join(folder, TOY + ".ipynb"))
        if files:
            files(folder, root)
    before = _snapshot(root)
    # the interpreter spelled with `..`, as an instructor's script might
    python = os.path.join(os.path.dirname(sys.executable), "..", "bin", "python")
    e = env()
    e.update(NN_INSTRUCTOR_TOKEN=SECRET, GRADER_KERNEL_MEMORY_MB="768")
    e.pop("GRADER_NO_ISOLATION", None)
    e.pop("GRADER_ISOLATION", None)
    cmd = [python, "-m", "grader", "autograde", TOY, "--jobs", "2", "--json"]
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=root, env=e, capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - start
    time.sleep(7)  # the background writer would have acted by now
    connections = []
    for listener in (tcp, unix):
        listener.settimeout(0.2)
        try:
            connections.append(listener.accept())
        except OSError:
            pass
        listener.close()
    facts = {f["student"]: f for f in json.loads(done.stdout.strip().splitlines()[-1])}
    with sqlite3.connect(os.path.join(root, "gradebook.db")) as db:
        manual = db.execute("select max(manual_score) from grade").fetchone()[0]
    return {
        "root": root,
        "stdout": done.stdout,
        "stderr": done.stderr,
        "facts": facts,
        "before": before,
        "after": _snapshot(root),
        "marked": _marked_paths(root),
        "survivors": _survivors(),
        "connections": connections,
        "manual_score": manual,
        "seconds": seconds,
    }


def test_batch_ran_isolated(attacked):
    assert "isolation: each kernel runs under bubblewrap" in attacked["stdout"], attacked["stderr"]
    if "memory" in sandbox.cgroup_controllers():
        assert "memory 0.75 GiB" in attacked["stdout"]
    else:
        assert "no cgroup memory limit here" in attacked["stdout"]
    assert sorted(attacked["facts"]) == sorted(ATTACKS)


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_attack_scores(attacked, student):
    expected = ATTACKS[student][3]
    facts = attacked["facts"][student]
    if expected == REFUSED:
        assert "symbolic link" in facts["status"], facts
        assert not facts.get("score"), facts
        return
    assert facts["status"] == "ok", facts
    parts = {k: v for k, v in facts["parts"].items() if k.startswith("test_")}
    assert parts == expected, facts


def test_memfd_flood_killed_the_kernel(attacked):
    if "memory" not in sandbox.cgroup_controllers():
        pytest.skip("no cgroup memory controller on this machine: memfds are not limited")
    path = os.path.join(attacked["root"], "autograded", "memfd", TOY, TOY + ".ipynb")
    text = open(path).read()
    assert "DeadKernelError" in text or "MemoryError" in text


def test_nothing_written_outside_the_sandbox(attacked):
    assert attacked["marked"] == []
    assert attacked["after"] == attacked["before"]
    assert attacked["manual_score"] is None  # the late background write never happened


def test_no_process_survived_and_nothing_reached_the_host(attacked):
    assert attacked["survivors"] == []
    assert attacked["connections"] == []
