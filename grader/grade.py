"""The instructor's batch: nbgrader's own applications, run in long-lived worker processes.

`autograde` grades every submission of an assignment in a real course with `jobs` workers
(`python -m grader _worker`), each grading one submission after another with nbgrader's
AutogradeApp and the settings of grader.config (restore cells, sandboxed execution, verdicts
outside the kernel); `register` puts an assignment in the gradebook. The student's self-check
is nncheck's (`python -m nncheck`).
"""

import contextlib
import io
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib

import nbformat

from grader import restore, sandbox


class GradingError(Exception):
    pass


@contextlib.contextmanager
def _cwd(path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_app(app_class, argv, config=None, cwd=None, quiet=True, after_init=None):
    """Run an nbgrader application in this process; raise GradingError if it fails.

    quiet: keep only errors, in the exception's message; else log at INFO to stderr.
    after_init(app): called between the app's initialize and start (to adjust its config)."""
    log = io.StringIO()
    with _cwd(cwd or os.getcwd()):
        app = app_class(config=config) if config is not None else app_class()
        app.log_level = "ERROR" if quiet else "INFO"
        try:
            with contextlib.redirect_stderr(log) if quiet else contextlib.nullcontext():
                app.initialize(argv)
                if after_init is not None:
                    after_init(app)
                app.start()
        except SystemExit as error:
            if error.code not in (0, None):
                raise GradingError(f"{app_class.__name__} failed:\n{log.getvalue()}") from None
        except Exception as error:
            raise GradingError(f"{app_class.__name__} failed: {error}\n{log.getvalue()}") from None
        finally:
            app.clear_instance()
    return log.getvalue()


# ------------------------------------------------------------------ the instructor's batch
#
# The parent (`autograde`) keeps `jobs` long-lived worker processes (`python -m grader _worker`).
# Each worker imports nbgrader once and then grades one submission after another, each with
# nbgrader's AutogradeApp and its own fresh sandboxed kernel (grader.execute.SafeExecute). A
# worker that dies or hangs is killed and replaced; its student is then recorded in the
# gradebook with every cell marked "not run" and the reason, for manual grading.

NOT_RUN_NOTE = "needs manual grading"


def _reference(root, assignment):
    """Run the source notebooks once (every check's expected value), cached for the workers."""
    from nncheck.reference import load_or_build

    folder = os.path.join(root, _course(root).source_directory, assignment)
    for name in sorted(os.listdir(folder)):
        if name.endswith(".ipynb"):
            try:
                load_or_build(os.path.join(folder, name))
            except Exception as error:  # noqa: BLE001 - ReferenceError, a test cell nncheck refuses
                raise GradingError(
                    f"the reference run of {name} failed: {type(error).__name__}: {error}"
                ) from None


def _course(root):
    """The course's settings (db_url, course_id, folders) from its nbgrader_config.py."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    c = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
    return CourseDirectory(config=c)


def safe_url(db_url):
    """The database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL at all
        return "(unparsable database URL)"


def gradebook(root):
    """nbgrader's Gradebook of the course; GradingError (without the password) if it won't open."""
    from nbgrader.api import Gradebook

    course = _course(root)
    try:
        return Gradebook(course.db_url, course.course_id)
    except Exception as error:  # noqa: BLE001 - a missing driver, a refused connection, ...
        hint = ""
        if isinstance(error, ModuleNotFoundError) and "psycopg" in str(error):
            hint = (
                " (install the driver: pip install 'psycopg[binary]' for postgresql://, or "
                "psycopg2-binary and spell the URL postgresql+psycopg2://; see docs/instructors.md)"
            )
        raise GradingError(
            f"cannot open the gradebook {safe_url(course.db_url)}: "
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}{hint}"
        ) from None


def _registered(root, assignment):
    from nbgrader.api import MissingEntry

    with gradebook(root) as gb:
        try:
            return len(gb.find_assignment(assignment).notebooks) > 0
        except MissingEntry:
            return False


def register(root, assignment):
    """Put an assignment's graded cells and points in the gradebook, unless they are there.

    nbgrader's `generate_assignment --force` deletes the release folder before it writes the new
    one, so when it fails (a wrong database URL, a missing driver) `exercises/<a>` is gone. Here
    it writes into a temporary folder: `exercises/` is never touched. Returns True if it
    registered the assignment, False if it was registered already (by another grader too).
    """
    from nbgrader.apps import GenerateAssignmentApp

    root = os.path.abspath(root)
    if _registered(root, assignment):
        return False
    with tempfile.TemporaryDirectory(prefix="grader-register-") as tmp:
        try:
            run_app(
                GenerateAssignmentApp,
                [assignment, "--force", f"--CourseDirectory.release_directory={tmp}"],
                cwd=root,
            )
        except GradingError:
            if _registered(root, assignment):  # another grader registered it meanwhile
                return False
            raise
    return True


def _not_run_preprocessor(reason):
    """An nbgrader preprocessor that runs nothing: every code cell fails with `reason`."""
    from nbgrader.preprocessors import NbGraderPreprocessor

    class NotRun(NbGraderPreprocessor):
        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type == "code" and cell.source.strip():
                evalue = f"not run: {reason} ({NOT_RUN_NOTE})"
                cell.outputs = [
                    nbformat.v4.new_output(
                        "error",
                        ename="NotGraded",
                        evalue=evalue,
                        traceback=[f"NotGraded: {evalue}"],
                    )
                ]
            return cell, resources

    return NotRun


def _without_execution(reason):
    """A hook for run_app: replace the executing preprocessor of autograde by NotRun."""
    from nbgrader.preprocessors import Execute

    def hook(app):
        pps = app.config.Autograde.autograde_preprocessors
        not_run = _not_run_preprocessor(reason)
        app.config.Autograde.autograde_preprocessors = [
            not_run if isinstance(p, type) and issubclass(p, Execute) else p for p in pps
        ]

    return hook


def _note_cell(text):
    return nbformat.v4.new_markdown_cell(f"**Note from the grader:** {text}")


def grade_submission(root, assignment, student, extra_argv=(), not_run=None):
    """Grade one student's submission into the course gradebook; return notes for the summary.

    The submission is copied to a staging folder and rebuilt around the source there (the
    student's folder is never modified). A previous `autograded/` result is kept if this
    grading fails. With `not_run` (a reason), nothing is executed: every cell is marked not run.
    """
    from nbgrader.apps import AutogradeApp

    course = _course(root)
    src = os.path.join(root, "submitted", student, assignment)
    source_dir = os.path.join(root, course.source_directory, assignment)
    dest = os.path.join(root, course.autograded_directory, student, assignment)
    notes = []
    try:  # symlinks (to solutions/, out of the folder) and devices: refused before any read
        sandbox.check_submission_files(src)
    except sandbox.SubmissionError as error:
        raise GradingError(str(error)) from None
    with tempfile.TemporaryDirectory(prefix="grader-staging-") as staging:
        staged = os.path.join(staging, student, assignment)
        shutil.copytree(
            src, staged, symlinks=True, ignore=shutil.ignore_patterns(".ipynb_checkpoints")
        )
        sources = sorted(f for f in os.listdir(source_dir) if f.endswith(".ipynb"))
        submitted = sorted(f for f in os.listdir(staged) if f.endswith(".ipynb"))
        if len(sources) == 1 and sources[0] not in submitted and len(submitted) == 1:
            notes.append(f"{submitted[0]} graded as {sources[0]}")
            os.rename(os.path.join(staged, submitted[0]), os.path.join(staged, sources[0]))
        for name in sources:
            path = os.path.join(staged, name)
            if not os.path.exists(path):
                notes.append(f"no {name} in the submission")
                continue
            note = None
            try:
                nb = restore.read(path)
            except Exception as error:  # noqa: BLE001 - not JSON, not a notebook, ...
                why = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
                note = (
                    f"the submitted file {name} is not a readable notebook "
                    f"({type(error).__name__}: {why}); it was graded as an empty notebook"
                )
                notes.append(note)
                nb = nbformat.v4.new_notebook()
            if not_run:
                nb.cells.insert(0, _note_cell(f"not graded automatically: {not_run}."))
            if note:
                nb.cells.insert(0, _note_cell(note + "."))
            source = restore.read(os.path.join(source_dir, name))
            os.unlink(path)  # a new file: never written through whatever was there
            nbformat.write(restore.restore(nb, source), path)
        argv = [
            assignment,
            "--student",
            student,
            "--force",
            f"--CourseDirectory.submitted_directory={staging}",
            *extra_argv,
        ]
        hook = _without_execution(not_run) if not_run else None
        with _keep_previous(dest):
            run_app(AutogradeApp, argv, cwd=root, quiet=False, after_init=hook)
    return notes


@contextlib.contextmanager
def _keep_previous(dest):
    """Move an earlier result at `dest` aside; put it back if the block fails, else drop it.

    A leftover from a grader that was killed half-way is put back first."""
    parent, name = os.path.dirname(dest), os.path.basename(dest)
    os.makedirs(parent, exist_ok=True)
    leftovers = sorted(f for f in os.listdir(parent) if f.startswith(f".{name}.previous-"))
    for leftover in leftovers:
        kept = os.path.join(parent, leftover)
        if not os.path.exists(dest):
            os.rename(kept, dest)
        else:
            shutil.rmtree(kept, ignore_errors=True)
    backup = None
    if os.path.exists(dest):
        backup = tempfile.mkdtemp(prefix=f".{name}.previous-", dir=parent)
        os.rmdir(backup)
        os.rename(dest, backup)
    try:
        yield
    except BaseException:
        if backup:
            shutil.rmtree(dest, ignore_errors=True)
            os.rename(backup, dest)
        raise
    if backup:
        shutil.rmtree(backup, ignore_errors=True)


def _log_tail(path, lines=12):
    try:
        with open(path, errors="replace") as f:
            text = f.read()[-20000:]
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def run_job(root, job):
    """Grade one job (a dict: assignment, student, log, extra, not_run) in this worker."""
    start = time.monotonic()
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(2)
    log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)  # the grading log (nbgrader's INFO messages) goes to the student's log
    os.dup2(log, 2)
    os.close(log)
    status, notes = "ok", []
    try:
        notes = grade_submission(
            root, job["assignment"], job["student"], job.get("extra", ()), job.get("not_run")
        )
        if job.get("not_run"):
            status = f"{NOT_RUN_NOTE}: {job['not_run']}"
    except Exception as error:  # noqa: BLE001 - reported in the summary, the worker goes on
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        status = f"failed: {type(error).__name__}: {message}\n{_log_tail(job['log'])}"
        print(traceback.format_exc(), file=sys.stderr)
    finally:
        print(f"[grader] {job['student']}: {status.splitlines()[0]}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.dup2(saved, 2)
        os.close(saved)
    return {
        "student": job["student"],
        "assignment": job["assignment"],
        "status": status,
        "notes": notes,
        "worker_seconds": round(time.monotonic() - start, 2),
        "worker_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def share_database_engines():
    """Make nbgrader's Gradebooks in this process share one SQLAlchemy engine per URL.

    nbgrader opens a new Gradebook (a new engine) for every step of every submission, and each
    new engine compiles every SQL statement again: in a long-lived worker that is most of the
    gradebook's time. An engine is meant to be shared; a Gradebook's close() only empties its
    connection pool, which the next one refills."""
    import nbgrader.api

    engines = {}
    create = nbgrader.api.create_engine

    def create_engine(url, **kwargs):
        key = (str(url), tuple(sorted(kwargs.items())))
        if key not in engines:
            engines[key] = create(url, **kwargs)
        return engines[key]

    nbgrader.api.create_engine = create_engine


def no_idle_wait_for_ready():
    """In this process, a new kernel is ready as soon as it answers, not 0.2 s later.

    jupyter_client's `wait_for_ready` ends by waiting until no IOPub message has come for
    0.2 s, once per kernel, so per submission; nbclient ignores IOPub messages that belong to
    no cell anyway. This version is jupyter_client's (8.x) with that last wait cut to draining
    what has arrived. Nothing else changes: the kernel, its sandbox and the cells are the same.
    """
    from queue import Empty

    from jupyter_client.asynchronous.client import AsyncKernelClient
    from jupyter_core.utils import ensure_async

    async def wait_for_ready(self, timeout=None):
        deadline = time.time() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                msg = await ensure_async(self.shell_channel.get_msg(timeout=1))
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:  # IOPub is connected once a message comes through it
                        await ensure_async(self.iopub_channel.get_msg(timeout=0.2))
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.time() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        while True:  # drain IOPub without waiting for more
            try:
                await ensure_async(self.iopub_channel.get_msg(timeout=0))
            except Empty:
                break

    AsyncKernelClient.wait_for_ready = wait_for_ready


def serve(root):
    """`python -m grader _worker --root DIR`: grade the jobs read from stdin, one JSON line
    each, and answer each with one JSON line on stdout. Ends when stdin closes."""
    from nbgrader.apps import AutogradeApp  # noqa: F401 - the imports, paid once, before "ready"

    import grader.config  # noqa: F401

    share_database_engines()
    no_idle_wait_for_ready()
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever else prints must not mix with the answers
    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    for line in sys.stdin:
        if line.strip():
            answers.write(json.dumps(run_job(root, json.loads(line))) + "\n")
            answers.flush()
    return 0


WORKER_ADDRESS_SPACE = 6 * 1024**3  # bytes, for a grading worker itself (not its kernels)
JOBS_PER_WORKER = 100  # a worker is replaced after this many submissions
WORKER_START_LIMIT = 300  # seconds a new worker may take to import everything


def _limit_worker():
    resource.setrlimit(resource.RLIMIT_AS, (WORKER_ADDRESS_SPACE, WORKER_ADDRESS_SPACE))


def _signal_name(code):
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


class Worker:
    """One long-lived `python -m grader _worker` process, started when first needed."""

    def __init__(self, root, env, log_path):
        self.root, self.env, self.log_path = root, env, log_path
        self.proc = None
        self.starting = False
        self.done = 0
        self.why = ""

    def spawn(self):
        """Start the process; it reports when ready (see start)."""
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "grader", "_worker", "--root", self.root],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=self.env,
                start_new_session=True,
                preexec_fn=_limit_worker,  # noqa: PLW1509
            )
        self.done = 0
        self.buffer = b""
        self.starting = True

    def start(self):
        """Spawn the process unless it was, and wait until it has imported everything."""
        if self.proc is None:
            self.spawn()
        self.starting = False
        return self._answer(WORKER_START_LIMIT, "starting")

    def kill(self):
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc.stdin.close()
            self.proc.stdout.close()
            self.proc = None
        self.starting = False

    def stop(self):
        if self.proc is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            self.kill()

    def ask(self, job, timeout):
        """The worker's answer to `job`, or None if it died or ran past `timeout` (see .why)."""
        if self.proc is not None and self.done >= JOBS_PER_WORKER:
            self.stop()
        if self.proc is not None and not self.starting and self.proc.poll() is not None:
            self.kill()  # it ended since its last answer
        if self.proc is None or self.starting:
            if self.start() is None:
                return None
        self.done += 1
        try:
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            self.proc.stdin.flush()
        except OSError:
            pass  # it died: reading tells how
        return self._answer(timeout, "grading this")

    def _answer(self, timeout, doing):
        """The worker's next JSON line, or None if it dies or is silent for `timeout` s."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                self.why = (
                    f"the grading ran past the batch's limit of {timeout} s and was stopped"
                    if doing == "grading this"
                    else f"the grading process did not start within {timeout} s"
                )
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    code = self.proc.wait()
                    how = _signal_name(code) if code < 0 else f"exit status {code}"
                    self.kill()
                    self.why = f"the grading process was killed ({how}) while {doing}"
                    return None
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            self.kill()
            self.why = f"the grading process gave an answer that is not JSON while {doing}"
            return None


def shard_of(student, shards):
    """Which of `shards` shards (1..shards) a student belongs to: fixed by the id alone."""
    return zlib.crc32(student.encode()) % shards + 1


def autograde(
    root,
    assignments,
    jobs=2,
    students=None,
    shard=None,
    extra_argv=(),
    wall_limit=900,
    log=print,
):
    """Grade every submitted/<student>/<assignment>/ with `jobs` long-lived workers.

    `assignments` is one name or a list; `students` limits the batch to these ids; `shard`
    (k, n) to the students of shard k of n (see shard_of), so that n graders can share one
    gradebook. Returns one dict of facts per submission, in order.
    """
    root = os.path.abspath(root)
    if isinstance(assignments, str):
        assignments = [assignments]
    submitted = os.path.join(root, "submitted")
    everyone = sorted(os.listdir(submitted)) if os.path.isdir(submitted) else []
    unknown = sorted(set(students or ()) - set(everyone))
    if unknown:
        raise GradingError(f"no folder submitted/<student> for: {', '.join(unknown)}")
    todo = [
        (a, s)
        for a in assignments
        for s in everyone
        if os.path.isdir(os.path.join(submitted, s, a))
        and (not students or s in students)
        and (not shard or shard_of(s, shard[1]) == shard[0])
    ]
    if not todo:
        where = f" in shard {shard[0]}/{shard[1]}" if shard else ""
        raise GradingError(
            f"no submissions{where} in {submitted}/<student>/{'|'.join(assignments)}/"
        )

    logs = os.path.join(root, "autograded", ".grader-logs")  # ignored by git
    os.makedirs(logs, exist_ok=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    # nbformat validates notebooks with the compiled validator (same schema), not jsonschema's
    env.setdefault("NBFORMAT_VALIDATOR", "fastjsonschema")
    if sandbox.isolation_status()[0]:
        env["GRADER_ISOLATION_CHECKED"] = "1"
    # the workers import nbgrader while the assignments are registered and their references run
    workers = [
        Worker(root, env, os.path.join(logs, f"worker-{k}.log"))
        for k in range(max(1, min(jobs, len(todo))))
    ]
    for worker in workers:
        worker.spawn()
    try:
        for a in sorted({a for a, _ in todo}):
            if register(root, a):
                log(f"{a}: registered in the gradebook")
            _reference(root, a)
    except BaseException:
        for worker in workers:
            worker.kill()
        raise
    queue = list(enumerate(todo))
    lock = threading.Lock()
    facts = [None] * len(todo)

    def grade(worker, job):
        answer = worker.ask(job, wall_limit)
        if answer is None:  # killed or hung: record it, every cell "not run", with the reason
            why = worker.why
            answer = worker.ask({**job, "not_run": why}, wall_limit)
            if answer is None:
                answer = {"status": f"failed: {why}; then: {worker.why}", "notes": []}
        return answer

    def run(worker):
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    i, (assignment, student) = queue.pop(0)
                os.makedirs(os.path.join(logs, assignment), exist_ok=True)
                job = {
                    "assignment": assignment,
                    "student": student,
                    "extra": list(extra_argv),
                    "log": os.path.join(logs, assignment, student + ".log"),
                }
                start = time.monotonic()
                try:
                    answer = grade(worker, job)
                except Exception as error:  # noqa: BLE001 - the batch goes on, the row says why
                    worker.kill()
                    answer = {"status": f"failed: {type(error).__name__}: {error}", "notes": []}
                answer.update(student=student, assignment=assignment, seconds=_seconds(start))
                facts[i] = answer
                notes = "".join(f"; {n}" for n in answer.get("notes", []))
                status = answer["status"].splitlines()[0]
                log(f"{assignment} {student}: {status[:200]}{notes} ({answer['seconds']} s)")
        finally:
            worker.stop()

    threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    scores = _scores(root, todo)
    for f in facts:
        f.update(scores.get((f["assignment"], f["student"]), {}))
    return facts


def _seconds(start):
    return round(time.monotonic() - start, 2)


def _scores(root, todo):
    from nbgrader.api import MissingEntry

    out = {}
    with gradebook(root) as gb:
        for a, s in todo:
            try:
                sub = gb.find_submission(a, s)
            except MissingEntry:
                continue
            parts = {
                g.name: g.score
                for nb in sub.notebooks
                for g in nb.grades
                if g.auto_score is not None
            }
            out[(a, s)] = {"score": sub.score, "max_score": sub.max_score, "parts": parts}
    return out
