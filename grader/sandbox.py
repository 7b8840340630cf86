"""How a grading kernel is started: in a bubblewrap sandbox, under limits, as an unprivileged user.

`kernel_argv(runtime_dir, work_dir, isolate)` is the kernelspec argv of a grading kernel:

    python -I -S -c LAUNCHER  <cgroups, rlimits, environment>  --
      bwrap <namespaces, read-only system and Python, sized /tmp, /dev/shm and work folder> --
      python -I -c BOOT  <trusted package folders>  -f {connection_file}

* The LAUNCHER (outside the sandbox) puts the kernel in its own cgroup (memory, counting shared
  memory, memfds and tmpfs files, and a process count), sets the rlimits, passes only the
  environment variables the kernel needs, starts bubblewrap and waits for it; when it ends, it
  kills whatever is left in the cgroup and removes the group.
* bubblewrap gives the kernel no network (its own network namespace: no TCP, no abstract unix
  socket of the host), its own pid, ipc and uts namespaces, read-only /usr, a few /etc files,
  the Python installation and the grader's packages; a private size-capped /tmp and /dev/shm;
  the kernel's runtime folder (connection file, ipc sockets) and a size-capped tmpfs working
  folder into which the submission's files are copied. It sees no course folder.
* BOOT (inside) imports grader, nnlib and nncheck from exactly the folders the grader process
  imported them from (their real paths, bound read-only), puts those first on sys.path, and,
  when the grader runs as root, changes to uid/gid 65534 for good (so the process limit holds
  and no root-owned file is writable) before the kernel starts. A `grader/`, `nnlib/` or
  `numpy/` folder handed in next to the notebook is never imported by the grading code.

`isolation_status()` runs that command once and checks that the kernel side really imports the
same packages from the same folders; if anything differs or fails, isolation is "not available"
and the instructor's grading refuses to run (see grader.config). `check_submission_files`
refuses submissions holding symlinks or anything but regular files and folders.
"""

import atexit
import functools
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid

MiB = 1024**2
# resource limits of a grading kernel (setrlimit names); memory and CPU time are per kernel
LIMITS = {
    "AS": 3 * 1024**3,  # address space, bytes
    "FSIZE": 64 * MiB,  # largest file it may write, bytes
    "NOFILE": 256,  # open files
    "NPROC": 512,  # processes/threads of the kernel's user (uid 65534 when grading as root)
    "CORE": 0,  # no core dumps
}
CPU_SECONDS = 600  # CPU seconds for a whole notebook (wall-clock limits are in grader.execute)
MEMORY = 2 * 1024**3  # cgroup memory limit: RAM, shared memory, memfds and tmpfs files together
# (an instructor may set another: GRADER_KERNEL_MEMORY_MB in the grader's environment)
PIDS = 128  # cgroup limit on the kernel's processes and threads
TMP_SIZE = 256 * MiB  # the sandbox's /tmp
SHM_SIZE = 64 * MiB  # the sandbox's /dev/shm
WORK_SIZE = 256 * MiB  # the working folder (a copy of the submission's folder)
RUNTIME_SIZE = 16 * MiB  # the runtime folder (host disk): a kernel that writes more is stopped
KERNEL_UID = 65534  # "nobody"
PACKAGES = ("grader", "nnlib", "nncheck")  # the course's packages the kernel must import as is
ENV_KEEP = (
    "NBGRADER_EXECUTION",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "MPLBACKEND",
    "PYDEVD_DISABLE_FILE_VALIDATION",
    "LANG",
    "LC_ALL",
    "TZ",
)
ENV_KEEP_PREFIXES = ("GRADER_", "NNCHECK_")
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "localtime", "mime.types")
_SUBMISSION_IN = "/run/grader-submission"  # the host's copy, read-only, copied into the tmpfs
_CGROUP_MOUNT = "/sys/fs/cgroup"


class SubmissionError(Exception):
    """A submission folder holds something the grader refuses to read (a symlink, a device)."""


# ------------------------------------------------------------------ submissions


def check_submission_files(folder):
    """Raise SubmissionError unless every entry under `folder` is a regular file or a folder.

    Symlinks are refused wherever they point (a notebook that is a link to solutions/, a link
    to a file outside the submission), as are fifos, sockets and devices. Call it on
    `submitted/<student>/<assignment>/` before copying or reading anything from it.
    """
    if os.path.islink(folder):
        raise SubmissionError(f"{folder} is a symbolic link; submit a real folder")
    bad = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if os.path.islink(path):
                bad.append(f"{os.path.relpath(path, folder)} (a symbolic link)")
            elif not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
                bad.append(f"{os.path.relpath(path, folder)} (not a regular file)")
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
    if bad:
        raise SubmissionError(
            f"submission {folder} refused: every file must be a regular file inside it, "
            f"found {', '.join(sorted(bad))}"
        )


# ------------------------------------------------------------------ what the kernel needs


def package_dirs():
    """{name: real folder} of the course packages this process imports (grader, nnlib, nncheck)."""
    out = {}
    for name in PACKAGES:
        module = sys.modules.get(name)
        if getattr(module, "__file__", None):
            folder = os.path.dirname(module.__file__)
        else:  # not imported yet: where this process would import it from
            spec = importlib.util.find_spec(name)
            if spec is None or not spec.submodule_search_locations:
                continue
            folder = spec.submodule_search_locations[0]
        out[name] = os.path.realpath(folder)
    return out


def python_command():
    """The interpreter, spelled through the real path of its environment (no `..`, no links)."""
    prefix = os.path.realpath(sys.prefix)
    candidate = os.path.join(prefix, "bin", os.path.basename(sys.executable))
    return candidate if os.path.exists(candidate) else os.path.realpath(sys.executable)


def _python_paths():
    """Folders the kernel's Python needs: the environment, the real installation, the packages."""
    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths()[key])
    paths.update(package_dirs().values())
    paths = sorted({os.path.realpath(p) for p in paths if os.path.isdir(p)})
    # drop folders inside another bound folder, and anything /usr already holds
    paths = [p for p in paths if not _inside(p, "/usr")]
    return [p for p in paths if not any(p != q and _inside(p, q) for q in paths)]


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _parents(paths, mounted):
    """`--perms 0755 --dir` for the folders above `paths` that no mount provides (top first)."""
    todo = set()
    for path in paths:
        parent = os.path.dirname(path)
        while parent != "/" and not any(_inside(parent, m) for m in mounted):
            if parent not in ("/tmp", "/dev", "/proc"):  # mounted by bwrap already
                todo.add(parent)
            parent = os.path.dirname(parent)
    args = []
    for d in sorted(todo, key=lambda p: (p.count("/"), p)):
        args += ["--perms", "0755", "--dir", d]
    return args


# ------------------------------------------------------------------ cgroups


def _cgroup_base(controller):
    """The folder under which this process may create child groups of a v1 controller, or None."""
    mount = os.path.join(_CGROUP_MOUNT, controller)
    if not os.path.isfile(os.path.join(mount, "cgroup.procs")):
        return None
    base = mount
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, names, path = line.rstrip("\n").split(":", 2)
                if controller in names.split(","):
                    own = os.path.join(mount, path.lstrip("/"))
                    if os.path.isdir(own):
                        base = own
    except OSError:
        return None
    return base if os.access(base, os.W_OK) else None


def memory_limit():
    """The kernels' cgroup memory limit in bytes (GRADER_KERNEL_MEMORY_MB overrides MEMORY)."""
    value = os.environ.get("GRADER_KERNEL_MEMORY_MB", "")
    return int(value) * MiB if value.isdigit() and int(value) > 0 else MEMORY


def _sweep(base):
    """Remove groups left by grader processes that are gone (killing what is still inside)."""
    for name in os.listdir(base):
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == "grader" and parts[1].isdigit():
            if not os.path.exists(f"/proc/{parts[1]}"):
                remove_cgroup(os.path.join(base, name))


def make_cgroups():
    """Create a memory and a pids group for one kernel; return their folders (maybe none)."""
    groups = []
    name = f"grader-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    settings = {
        "memory": [
            ("memory.limit_in_bytes", memory_limit()),
            ("memory.memsw.limit_in_bytes", memory_limit()),
        ],
        "pids": [("pids.max", PIDS)],
    }
    for controller, values in settings.items():
        base = _cgroup_base(controller)
        if base is None:
            continue
        path = os.path.join(base, name)
        try:
            _sweep(base)
            os.mkdir(path)
            for key, value in values:
                if os.path.exists(os.path.join(path, key)):
                    with open(os.path.join(path, key), "w") as f:
                        f.write(str(value))
        except OSError:
            remove_cgroup(path)
            continue
        groups.append(path)
        _CREATED.append(path)
    return groups


_CREATED = []  # this process' groups: removed at exit if the launcher could not (killed)
atexit.register(lambda: [remove_cgroup(g) for g in _CREATED if os.path.isdir(g)])


def remove_cgroup(path):
    """Kill every process left in a kernel's group, then remove the group."""
    for _ in range(50):
        try:
            with open(os.path.join(path, "cgroup.procs")) as f:
                pids = [int(p) for p in f.read().split()]
        except OSError:
            return
        for pid in pids:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        try:
            os.rmdir(path)
            return
        except OSError:
            time.sleep(0.05)


@functools.cache
def cgroup_controllers():
    """The cgroup controllers a kernel can be limited by here: subset of ("memory", "pids")."""
    groups = make_cgroups()
    names = tuple(c for c in ("memory", "pids") if any(f"/{c}/" in g for g in groups))
    for g in groups:
        remove_cgroup(g)
    return names


# ------------------------------------------------------------------ the command

# outside the sandbox, as the grader's user: cgroups, rlimits, environment, then bubblewrap
LAUNCHER = r"""
import ctypes, json, os, resource, signal, sys, time
conf = json.loads(sys.argv[1]); argv = sys.argv[3:]
ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: the grader died, so do we
if os.getppid() == 1:
    sys.exit(1)
env = {k: v for k, v in os.environ.items()
       if k in conf["keep"] or k.startswith(tuple(conf["prefixes"]))}
env.update(conf["set"])
pid = os.fork()
if pid == 0:
    try:
        for group in conf["cgroups"]:
            with open(os.path.join(group, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        for name, value in conf["rlimits"].items():
            resource.setrlimit(getattr(resource, "RLIMIT_" + name), (value, value))
        os.execve(argv[0], argv, env)
    finally:
        os._exit(127)
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(sig, lambda s, f: os.kill(pid, signal.SIGKILL))
def used(top):  # bytes and entries under the runtime folder, the one host folder it may write
    total = count = 0
    for d, dirs, files in os.walk(top):
        for name in dirs + files:
            count += 1
            try:
                total += os.lstat(os.path.join(d, name)).st_blocks * 512
            except OSError:
                pass
    return total, count
while True:
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except InterruptedError:
        continue
    if done:
        break
    size, count = used(conf["runtime"])
    if size > conf["runtime_bytes"] or count > 100:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)
for group in conf["cgroups"]:
    for _ in range(50):
        if not os.path.isdir(group):
            break
        try:
            for p in open(os.path.join(group, "cgroup.procs")).read().split():
                os.kill(int(p), signal.SIGKILL)
            os.rmdir(group)
            break
        except OSError:
            time.sleep(0.05)
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""

# inside the sandbox: the trusted packages, the working folder, the user, then the kernel
BOOT = r"""
import importlib.util, json, os, shutil, sys
conf = json.loads(sys.argv[1]); rest = sys.argv[2:]
if conf["work_in"]:
    shutil.copytree(conf["work_in"], conf["work"], symlinks=True, dirs_exist_ok=True)
if conf["uid"] is not None and os.getuid() == 0:
    for top in (conf["runtime"], conf["work"]):
        for d, dirs, files in os.walk(top):
            for name in [d] + [os.path.join(d, n) for n in dirs + files]:
                os.lchown(name, conf["uid"], conf["uid"])
    os.setgroups([])
    os.setresgid(conf["uid"], conf["uid"], conf["uid"])
    os.setresuid(conf["uid"], conf["uid"], conf["uid"])
    if 0 in os.getresuid() or 0 in os.getresgid():
        sys.exit("grader sandbox: could not leave the root user")
if conf["work"]:
    os.chdir(conf["work"])
sys.path[:0] = [p for p in conf["path"] if p not in sys.path]
for name, folder in conf["packages"].items():
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(folder, "__init__.py"), submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
import numpy
if conf["code"] is not None:
    sys.argv = ["-c"] + rest
    exec(compile(conf["code"], "<sandbox>", "exec"), {"__name__": "__main__"})
    sys.exit(0)
import runpy
sys.argv = [conf["module"]] + rest
runpy.run_module(conf["module"], run_name="__main__", alter_sys=True)
"""


def bwrap_path():
    """The bubblewrap program: GRADER_BWRAP (a path) if set, else `bwrap` on PATH; or None."""
    given = os.environ.get("GRADER_BWRAP")
    if given:
        return given if os.path.isfile(given) and os.access(given, os.X_OK) else None
    return shutil.which("bwrap")


def _as_root():
    return os.geteuid() == 0


def bwrap_args(runtime_dir, work_dir):
    """bubblewrap options for a kernel with this runtime dir and working folder."""
    args = ["bwrap", "--die-with-parent", "--new-session"]
    if _as_root():
        # no user namespace: it would map the kernel to root outside. BOOT drops to uid 65534.
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        args += ["--unshare-cgroup-try"]
        for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN"):
            args += ["--cap-add", cap]
    else:
        args += ["--unshare-all", "--uid", str(KERNEL_UID), "--gid", str(KERNEL_UID)]
    # /proc, /dev and a private /tmp first: later binds inside /tmp land on top of the tmpfs
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(SHM_SIZE), "--perms", "1777", "--tmpfs", "/dev/shm"]
    args += ["--size", str(TMP_SIZE), "--perms", "1777", "--tmpfs", "/tmp"]
    args += ["--ro-bind", "/usr", "/usr"]
    for name in ("lib", "lib64", "lib32", "libx32", "bin", "sbin"):
        path = "/" + name
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in _ETC_FILES:
        path = os.path.join("/etc", name)
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    binds = _python_paths()
    mounted = ["/usr", *binds]  # host folders: nothing is created inside them
    args += _parents([*binds, runtime_dir, work_dir, _SUBMISSION_IN], mounted)
    for path in binds:
        args += ["--ro-bind", path, path]
    args += ["--bind", runtime_dir, runtime_dir, "--ro-bind", work_dir, _SUBMISSION_IN]
    # as root, BOOT hands the working folder to uid 65534; in a user namespace it cannot chown
    work_perms = "0755" if _as_root() else "1777"
    args += ["--size", str(WORK_SIZE), "--perms", work_perms, "--tmpfs", work_dir]
    args += ["--chdir", "/"]
    return args + ["--"]


def _boot(runtime_dir, work_dir, isolated, code=None, module="grader.kernel"):
    packages = package_dirs()
    conf = {
        "packages": packages,
        "path": list(dict.fromkeys(os.path.dirname(p) for p in packages.values())),
        "work_in": _SUBMISSION_IN if isolated else None,
        "work": work_dir,
        "runtime": runtime_dir,
        "uid": KERNEL_UID if isolated else None,
        "code": code,
        "module": module,
    }
    return [python_command(), "-I", "-c", BOOT, json.dumps(conf)]


def _launcher(groups, cpu_seconds, runtime_dir):
    venv_bin = os.path.join(os.path.realpath(sys.prefix), "bin")
    conf = {
        "cgroups": groups,
        "runtime": runtime_dir,
        "runtime_bytes": RUNTIME_SIZE,
        "rlimits": {**LIMITS, "CPU": cpu_seconds},
        "keep": list(ENV_KEEP),
        "prefixes": list(ENV_KEEP_PREFIXES),
        "set": {
            "HOME": "/tmp",
            "MPLCONFIGDIR": "/tmp",
            "TMPDIR": "/tmp",
            "PATH": f"{venv_bin}:/usr/bin:/bin",
        },
    }
    return [python_command(), "-I", "-S", "-c", LAUNCHER, json.dumps(conf), "--"]


def prlimit_args(cpu_seconds=CPU_SECONDS):
    if not shutil.which("prlimit"):
        return []
    args = ["prlimit"] + [f"--{name.lower()}={value}" for name, value in LIMITS.items()]
    return args + [f"--cpu={cpu_seconds}", "--"]


def kernel_argv(runtime_dir, work_dir, isolate, module="grader.kernel", cpu_seconds=CPU_SECONDS):
    """The kernelspec argv of a grading kernel ({connection_file} is filled in by jupyter).

    With `isolate`, the kernel runs in the sandbox (and in its own cgroups, which the launcher
    removes when the kernel ends). Without it (`--isolation off`, the student's self-check), it
    runs under the rlimits only, but still imports the grader's packages from their folders.
    """
    argv = command(runtime_dir, work_dir, isolate, module=module, cpu_seconds=cpu_seconds)
    return argv + ["-f", "{connection_file}"]


def command(runtime_dir, work_dir, isolate, code=None, module="grader.kernel", cpu_seconds=None):
    """The command that runs `code` (else the kernel `module`) as a grading kernel would run.

    Arguments after it reach the code as sys.argv[1:]. Used for kernels, the self-check and
    the tests of the sandbox.
    """
    cpu_seconds = cpu_seconds or CPU_SECONDS
    boot = _boot(runtime_dir, work_dir, isolate, code=code, module=module)
    if not isolate:
        return prlimit_args(cpu_seconds) + boot
    bwrap = [bwrap_path() or "bwrap", *bwrap_args(runtime_dir, work_dir)[1:]]
    return _launcher(make_cgroups(), cpu_seconds, runtime_dir) + bwrap + boot


# ------------------------------------------------------------------ is it working here?


def limits_in_force():
    """Words for the limits every isolated kernel gets on this machine."""
    gib = 1024**3
    parts = []
    controllers = cgroup_controllers()
    if "memory" in controllers:
        memory = memory_limit() / gib
        parts.append(f"memory {memory:.3g} GiB incl. shared memory and memfds (cgroup)")
    else:
        parts.append("no cgroup memory limit here (memfds and shared memory are not counted)")
    if "pids" in controllers:
        parts.append(f"{PIDS} processes (cgroup)")
    else:
        parts.append("no cgroup process limit here")
    who = f"uid {KERNEL_UID} outside the sandbox too" if _as_root() else "the grader's own uid"
    parts.append(f"{LIMITS['NPROC']} processes of {who} (rlimit)")
    parts.append(f"address space {LIMITS['AS'] / gib:g} GiB")
    parts.append(f"/tmp {TMP_SIZE // MiB} MiB, /dev/shm {SHM_SIZE // MiB} MiB")
    parts.append(f"working folder {WORK_SIZE // MiB} MiB, files {LIMITS['FSIZE'] // MiB} MiB")
    parts.append(f"CPU {CPU_SECONDS} s")
    return "; ".join(parts)


ISOLATED = "each kernel runs under bubblewrap (no network, sees no course files)"


CHECK = """
import json, os, sys
found = {n: os.path.realpath(os.path.dirname(sys.modules[n].__file__))
         for n in ("grader", "nnlib", "nncheck", "numpy") if n in sys.modules}
print(json.dumps({"packages": found, "uid": os.getuid(), "cwd": os.getcwd()}))
"""


def _self_check():
    """Run the real kernel command with a probe; None if it imports the same packages, else why."""
    with tempfile.TemporaryDirectory(prefix="grader-check-") as tmp:
        runtime, work = os.path.join(tmp, "rt"), os.path.join(tmp, "work")
        os.mkdir(runtime, 0o700)
        os.mkdir(work, 0o700)
        argv = command(runtime, work, True, code=CHECK)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=work)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"bubblewrap does not work here ({error})"
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return f"bubblewrap does not work here ({why})"
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return f"the sandbox's self-check printed no result: {done.stdout[-200:]!r}"
    expected = package_dirs()
    for name, folder in expected.items():
        if found["packages"].get(name) != folder:
            return (
                f"the sandboxed kernel would import {name} from {found['packages'].get(name)}, "
                f"not from {folder} as the grader does"
            )
    if _as_root() and found["uid"] != KERNEL_UID:
        return f"the sandboxed kernel runs as uid {found['uid']}, not {KERNEL_UID}"
    return None


@functools.cache
def isolation_status():
    """(True, "what is in force") if the sandbox works here, else (False, why not)."""
    if os.environ.get("GRADER_NO_ISOLATION"):
        return False, "isolation turned off (GRADER_NO_ISOLATION is set)"
    if not sys.platform.startswith("linux"):
        return False, "bubblewrap isolation needs Linux"
    if not bwrap_path():
        return False, f"bubblewrap is not installed (no {os.environ.get('GRADER_BWRAP', 'bwrap')})"
    if os.environ.get("GRADER_ISOLATION_CHECKED") != "1":  # a batch worker: checked already
        why = _self_check()
        if why:
            return False, why
    return True, f"{ISOLATED}; limits: {limits_in_force()}"
