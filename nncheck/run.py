"""Run cells of code in a fresh IPython kernel (jupyter_client) and collect what they report."""

import os
import queue
import sys
import time

from nncheck import MIME


def _kernel_manager(cwd, env):
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import KernelManager

    spec = KernelSpec(
        argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name="nncheck",
        language="python",
        env={
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            **(env or {}),
        },
    )
    km = KernelManager()
    km.kernel_name = "nncheck"
    km._kernel_spec = spec  # after kernel_name, whose change resets it
    return km


class Result:
    """What one cell did: the records it published, its errors, and whether it finished."""

    def __init__(self):
        self.records = []
        self.errors = []  # (ename, evalue)
        self.stopped = None  # why it did not run to its end (timeout, dead kernel), else None

    def __repr__(self):
        return f"Result(records={len(self.records)}, errors={self.errors}, stopped={self.stopped})"


def _wait(kc, km, msg_id, result, deadline):
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            msg = kc.get_iopub_msg(timeout=min(left, 1.0))
        except queue.Empty:
            if not km.is_alive():
                result.stopped = "the kernel died (os._exit, a crash, or too much memory)"
                return True
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "display_data" and MIME in content.get("data", {}):
            result.records.append(content["data"][MIME])
        elif kind == "error":
            result.errors.append((content.get("ename", "Error"), content.get("evalue", "")))
        elif kind == "status" and content.get("execution_state") == "idle":
            return True


def run_cells(codes, cwd, env=None, timeout=60):
    """Run each code in order in one fresh kernel started in `cwd`; a list of Result."""
    km = _kernel_manager(cwd, env)
    km.start_kernel(cwd=cwd, stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))  # noqa: SIM115
    kc = km.client()
    kc.start_channels()
    results = []
    stopped = None
    try:
        kc.wait_for_ready(timeout=60)
        for code in codes:
            result = Result()
            results.append(result)
            if stopped:
                result.stopped = stopped
                continue
            if not code.strip():
                continue
            msg_id = kc.execute(code, allow_stdin=False)
            if not _wait(kc, km, msg_id, result, time.monotonic() + timeout):
                result.stopped = f"the cell ran past its time limit ({timeout} s)"
                km.interrupt_kernel()
                if not _wait(kc, km, msg_id, Result(), time.monotonic() + 5):
                    stopped = "a cell before it did not stop after its time limit"
            if result.stopped and not km.is_alive():
                stopped = "the kernel died in a cell before"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return results
