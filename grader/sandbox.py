"""How a grading kernel is started: under bubblewrap when it works here, always under rlimits.

The kernel command is ``prlimit <limits> -- [bwrap <isolation> --] python -m grader.kernel``.
Under bubblewrap the kernel sees only: the system's /usr (read-only), a few files of /etc,
the Python installation and the virtual environment (read-only), the course's ``nnlib`` and
``grader`` packages (read-only), a private /tmp, its own runtime folder (connection file and
ipc sockets) and a copy of the submission's folder as its working directory. It has no network,
runs as uid 65534 in its own user, pid, ipc and uts namespaces, and dies with the grader.
So it cannot read `solutions/`, `source/`, the gradebook or other students' submissions, and it
cannot write anywhere that outlives it except its working copy (which the grader throws away).
"""

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import grader

# resource limits of a grading kernel (prlimit names); memory and CPU time are per kernel
LIMITS = {
    "as": 3 * 1024**3,  # address space, bytes
    "fsize": 64 * 1024**2,  # largest file it may write, bytes
    "nofile": 256,  # open files
    "nproc": 512,  # processes/threads of the user
    "core": 0,  # no core dumps
}
# CPU seconds for a whole notebook (the wall-clock limits are in grader.execute)
CPU_SECONDS = 600

ISOLATED = "each kernel runs under bubblewrap (no network, sees no course files) and rlimits"
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "localtime", "mime.types")


def _python_paths():
    """Folders the kernel's Python needs: the venv, the real installation, the course packages."""
    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths()[key])
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(grader.__file__)))
    for name in ("grader", "nnlib", "nncheck"):
        path = os.path.join(package_root, name)
        if os.path.isdir(path):
            paths.add(path)
    paths = sorted(os.path.realpath(p) for p in paths if os.path.isdir(p))
    # drop folders inside another bound folder
    return [p for p in paths if not any(p != q and p.startswith(q + os.sep) for q in paths)]


def bwrap_args(runtime_dir, work_dir):
    """bubblewrap options for a kernel with this runtime dir and working folder."""
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session"]
    # /proc, /dev and a private /tmp first: a later bind inside /tmp (a course cloned under
    # /tmp, a runtime dir) then lands on top of the tmpfs instead of being hidden by it
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    args += ["--ro-bind", "/usr", "/usr"]
    for name in ("lib", "lib64", "bin", "sbin"):
        path = "/" + name
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in _ETC_FILES:
        path = os.path.join("/etc", name)
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    for path in _python_paths():
        args += ["--ro-bind", path, path]
    args += ["--bind", runtime_dir, runtime_dir, "--bind", work_dir, work_dir]
    args += ["--chdir", work_dir, "--uid", "65534", "--gid", "65534"]
    args += ["--setenv", "HOME", "/tmp", "--setenv", "MPLCONFIGDIR", "/tmp"]
    args += ["--unsetenv", "JPY_PARENT_PID", "--"]
    return args


def prlimit_args(cpu_seconds=CPU_SECONDS):
    if not shutil.which("prlimit"):
        return []
    args = ["prlimit"] + [f"--{name}={value}" for name, value in LIMITS.items()]
    return args + [f"--cpu={cpu_seconds}", "--"]


@functools.cache
def isolation_status():
    """(True, "...") if bubblewrap can run a Python here, else (False, why not)."""
    if os.environ.get("GRADER_NO_ISOLATION"):
        return False, "isolation turned off (GRADER_NO_ISOLATION is set)"
    if not sys.platform.startswith("linux"):
        return False, "bubblewrap isolation needs Linux"
    if not shutil.which("bwrap"):
        return False, "bubblewrap (bwrap) is not installed"
    if os.environ.get("GRADER_ISOLATION_CHECKED") == "1":  # a batch worker: checked already
        return True, ISOLATED
    with tempfile.TemporaryDirectory() as tmp:
        runtime, work = os.path.join(tmp, "rt"), os.path.join(tmp, "work")
        os.mkdir(runtime)
        os.mkdir(work)
        cmd = bwrap_args(runtime, work) + [sys.executable, "-c", "import grader, nnlib"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as error:
            return False, f"bubblewrap does not work here ({error})"
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return False, f"bubblewrap does not work here ({why})"
    return True, ISOLATED


def kernel_argv(runtime_dir, work_dir, isolate):
    """The kernelspec argv of a grading kernel ({connection_file} is filled in by jupyter)."""
    python = [sys.executable, "-m", "grader.kernel", "-f", "{connection_file}"]
    sandbox = bwrap_args(runtime_dir, work_dir) if isolate else []
    return prlimit_args() + sandbox + python
