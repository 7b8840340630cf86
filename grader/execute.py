"""nbgrader preprocessors of the robust grader (used by nbgrader_config.py and `python -m grader`).

* `RestoreCells` (sanitizing step): rebuild the submission around the source notebook
  (see grader.restore), so deleted, edited, unlocked, duplicated or renamed cells are repaired
  before nbgrader checks them.
* `SafeExecute` (replaces nbgrader's Execute): runs the notebook in a grading kernel
  (grader.kernel) started under bubblewrap and rlimits (grader.sandbox), with
  - a per-cell timeout (`Execute.timeout`) and a whole-notebook wall-clock limit
    (`SafeExecute.total_timeout`): cells after it are not run and count as failed; a source
    notebook's metadata `{"grader": {"timeout": s, "total_timeout": s, "interrupt_grace": s}}`
    sets these for its assignment;
  - a kernel that ignores the interrupt after a timeout, or dies (os._exit, a segfault, the
    memory limit), is stopped; the cells after it are not run and count as failed;
  - test cells sent as rewritten by nncheck (the kernel runs only `expect(actual)`, which
    records the actual values as plain data); the records are taken out of the cell's outputs
    and compared here, in the grader, with the reference run of the source notebook
    (nncheck.reference, cached on disk): a test cell passes iff it raised no error and its
    records match the reference's in number and value; otherwise it gets an error output
    "AssertionError: <the check's message>", which nbgrader's SaveAutoGrades scores as failed;
  - output capped while it arrives (`max_output_bytes` per cell, `max_total_output_bytes` per
    notebook), so a cell printing forever does not fill the grader's memory;
  - the kernel shut down after each notebook (plain `nbgrader autograde` grades many);
  - errors in test cells reduced to "ExceptionType: message" (no traceback, which would
    show the hidden tests' code in the feedback).
"""

import os
import shutil
import subprocess
import tempfile
import time

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer, Unicode

from grader import restore as restore_mod
from grader import sandbox
from nncheck import MIME
from nncheck.reference import load_or_build, verdict
from nncheck.rewrite import TestCellError, for_grading
from nncheck.run import Result


def source_path(config, resources):
    """The source notebook (solutions/<a>/<nb>.ipynb) of the notebook being graded."""
    info = resources["nbgrader"]
    coursedir = CourseDirectory(config=config)
    path = coursedir.format_path(coursedir.source_directory, ".", info["assignment"], escape=False)
    return os.path.join(path, info["notebook"] + ".ipynb")


class RestoreCells(NbGraderPreprocessor):
    """Rebuild the notebook around the assignment's source notebook (grader.restore)."""

    def preprocess(self, nb, resources):
        path = source_path(self.config, resources)
        if not os.path.exists(path):
            self.log.warning("No source notebook %s: cells not restored", path)
            return nb, resources
        return restore_mod.restore(nb, restore_mod.read(path)), resources


def _error(ename, evalue):
    return NotebookNode(
        output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]
    )


def is_test_cell(cell):
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def _size(msg):
    content = msg.get("content", {})
    size = len(content.get("text", ""))
    for value in content.get("data", {}).values():
        size += len(value) if isinstance(value, str) else len(str(value))
    size += sum(len(line) for line in content.get("traceback", []))
    return size


class SafeExecute(Execute):
    total_timeout = Integer(
        600, help="Wall-clock limit in seconds for the whole notebook; later cells are not run."
    ).tag(config=True)
    max_output_bytes = Integer(
        100_000, help="Output kept per cell (characters) while it runs; the rest is dropped."
    ).tag(config=True)
    max_total_output_bytes = Integer(
        2_000_000, help="Output kept per notebook (characters) while it runs."
    ).tag(config=True)
    isolation = Unicode(
        "auto",
        help="'auto': bubblewrap if it works here; 'on': require it; 'off': rlimits only.",
    ).tag(config=True)
    interrupt_grace = Integer(
        10, help="Seconds a kernel has to answer again after a timed-out cell is interrupted."
    ).tag(config=True)
    max_record_bytes = Integer(
        20_000_000, help="Size of the test records kept per notebook (characters)."
    ).tag(config=True)

    def _isolate(self):
        if self.isolation == "off":
            return False
        ok, why = sandbox.isolation_status()
        if self.isolation == "on" and not ok:
            raise RuntimeError(f"isolation required but unavailable: {why}")
        return ok

    def preprocess(self, nb, resources=None, km=None):
        resources = resources or {}
        # the restored notebook's metadata is the source's: an assignment may set its own limits
        self._limits = dict(nb.metadata.get("grader", {}))
        # the expected values: a trusted run of the source notebook, never in the student's kernel
        self._reference = load_or_build(source_path(self.config, resources))["tests"]
        self._record_bytes = 0
        tmp = tempfile.mkdtemp(prefix="grader-kernel-")
        try:
            runtime = os.path.join(tmp, "runtime")
            work = os.path.join(tmp, "work")
            os.mkdir(runtime, 0o700)
            src = resources.get("metadata", {}).get("path") or ""
            if src and os.path.isdir(src):
                shutil.copytree(
                    src, work, ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints")
                )
            else:
                os.mkdir(work)
            self._work = work
            isolate = self._isolate()
            spec = KernelSpec(
                argv=sandbox.kernel_argv(runtime, work, isolate),
                display_name="grading kernel",
                language="python",
                interrupt_mode="message",
                env={
                    "GRADER_MAX_OUTPUT": str(self.max_output_bytes),
                    "OPENBLAS_NUM_THREADS": "1",
                    "OMP_NUM_THREADS": "1",
                    "MPLBACKEND": "Agg",
                    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
                    "NBGRADER_EXECUTION": "autograde",
                },
            )
            km = AsyncKernelManager(
                transport="ipc",
                ip=os.path.join(runtime, "kernel"),
                connection_file=os.path.join(runtime, "kernel.json"),
                config=self.config,
            )
            km.kernel_name = "grader"
            km._kernel_spec = spec  # after kernel_name, whose change resets it
            self._deadline = None  # set when the first cell starts: kernel start-up is not counted
            self._stopped = None  # why the kernel was stopped, once it was
            self._total_output = 0
            os.environ.pop("JPY_PARENT_PID", None)
            try:
                return super().preprocess(nb, resources, km=km)
            finally:  # nbclient leaves a kernel it was given running: stop it here
                if run_sync(km.is_alive)():
                    run_sync(km.shutdown_kernel)(now=True)
                km.cleanup_resources()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    async def async_start_new_kernel(self, **kwargs):
        kwargs["cwd"] = self._work
        kwargs["stdout"] = kwargs["stderr"] = subprocess.DEVNULL  # the kernel's own chatter
        await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)  # nbclient binds the base class' one

    def _limit(self, name):
        """A limit: the source notebook's metadata `grader.<name>`, else this preprocessor's."""
        value = self._limits.get(name)
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        return value if ok else getattr(self, name)

    def _get_timeout(self, cell):
        timeout = self._limit("timeout")
        if self._deadline is None:
            return timeout
        left = max(1, int(self._deadline - time.monotonic()))
        return left if timeout is None else min(timeout, left)

    def output(self, outs, msg, display_id, cell_index):
        size = _size(msg)
        if MIME in msg["content"].get("data", {}):  # a test record: its own budget
            self._record_bytes += size
            if self._record_bytes > self.max_record_bytes:
                return None
            return super().output(outs, msg, display_id, cell_index)
        self._cell_output += size
        self._total_output += size
        if (
            self._cell_output > self.max_output_bytes
            or self._total_output > self.max_total_output_bytes
        ):
            if not self._cell_truncated:
                self._cell_truncated = True
                note = NotebookNode(
                    output_type="stream",
                    name="stderr",
                    text="[output truncated by the grader: too much output]\n",
                )
                outs.append(note)
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _not_run(self, cell, why):
        cell.outputs = [_error("CellNotRun", why)]
        return cell

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._stopped:
            return self._not_run(cell, f"not run: {self._stopped}"), resources
        if self._deadline is None:
            self._deadline = time.monotonic() + self._limit("total_timeout")
        if time.monotonic() >= self._deadline:
            why = f"the notebook's total time limit ({self._limit('total_timeout')} s) was reached"
            self._stopped = why
            return self._not_run(cell, f"not run: {why}"), resources
        self._cell_output = 0
        self._cell_truncated = False
        original = cell.source
        test = is_test_cell(cell)
        if test:
            try:
                cell.source = for_grading(original)
            except TestCellError as error:
                cell.outputs = [_error("GradingError", f"this test cell cannot be graded: {error}")]
                return cell, resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stopped = "the kernel died earlier"
            cell.outputs.append(
                _error(
                    "DeadKernelError",
                    "the kernel died while running this cell "
                    "(os._exit, a crash, or a resource limit such as memory)",
                )
            )
        except CellTimeoutError as error:
            cell.outputs.append(_error("CellTimeoutError", str(error).splitlines()[0]))
        finally:
            cell.source = original
        if not self._stopped and any(
            o.output_type == "error" and o.get("ename") == "CellTimeoutError" for o in cell.outputs
        ):
            self._check_responsive()
        records = [o for o in cell.outputs if MIME in o.get("data", {})]
        cell.outputs = [o for o in cell.outputs if MIME not in o.get("data", {})]
        if test:
            self._judge(cell, [o.data[MIME] for o in records])
        return cell, resources

    def _judge(self, cell, records):
        """Compare the cell's records with the reference; a failed check becomes an error output."""
        errors = [o for o in cell.outputs if o.output_type == "error"]
        for o in errors:  # no traceback: it would show the (hidden) test code
            o.traceback = [f"{o.ename}: {o.evalue}"]
        test = self._reference.get(cell.metadata.nbgrader["grade_id"])
        if test is None:
            cell.outputs.append(_error("GradingError", "this test is not in the reference run"))
            return
        result = Result()
        result.records = records
        result.errors = [(o.ename, o.evalue) for o in errors]
        try:
            failed = verdict(result, test)
        except Exception as error:  # noqa: BLE001 - whatever was recorded, the cell fails
            failed = ("GradingError", f"the test's records could not be judged ({error})")
        if failed and not errors:
            cell.outputs.append(_error(*failed))

    def _check_responsive(self):
        """After a timeout: the kernel must answer within interrupt_grace seconds, else stop it."""

        async def probe():
            msg_id = self.kc.execute("pass", silent=True, store_history=False)
            deadline = time.monotonic() + self._limit("interrupt_grace")
            while time.monotonic() < deadline:
                try:
                    msg = await self.kc.shell_channel.get_msg(timeout=1)
                except Exception:  # noqa: BLE001 - queue.Empty or a dead kernel
                    if not await self.kc.is_alive():
                        return False
                    continue
                if msg["parent_header"].get("msg_id") == msg_id:
                    return True
            return False

        ok = run_sync(probe)()
        if not ok:
            self._stopped = "the kernel did not stop after a cell ran past its time limit"
            run_sync(self.km.shutdown_kernel)(now=True)
