"""The IPython kernel the grader executes notebooks in: `python -m grader.kernel -f CONN`.

A normal IPython kernel whose stdout/stderr write at most `GRADER_MAX_OUTPUT` characters per
cell (the grader also caps what it stores, on its side), so a cell printing forever does not
flood the grader. Nothing in this kernel decides a grade: test cells only record the student's
answers (nncheck), and the grader compares them outside (see grader/execute.py).
"""

import os
import sys

from ipykernel.ipkernel import IPythonKernel
from ipykernel.kernelapp import IPKernelApp


def _make_kernel_class(max_output):
    budget = {"left": max_output}

    class GradingKernel(IPythonKernel):
        async def do_execute(self, code, silent, *args, **kwargs):
            budget["left"] = max_output
            return await super().do_execute(code, silent, *args, **kwargs)

    def capped(write):
        def write_capped(text):
            left = budget["left"]
            if left <= 0:
                return len(text)
            budget["left"] = left - len(text)
            if len(text) > left:
                write(text[:left] + "\n[output truncated by the grader]\n")
                return len(text)
            return write(text)

        return write_capped

    def install_streams():
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            stream.write = capped(stream.write)

    return GradingKernel, install_streams


class GradingKernelApp(IPKernelApp):
    def init_io(self):
        super().init_io()
        self._install_streams()


def main():
    max_output = int(os.environ.pop("GRADER_MAX_OUTPUT", "200000"))
    kernel_class, install_streams = _make_kernel_class(max_output)
    GradingKernelApp._install_streams = staticmethod(install_streams)
    GradingKernelApp.launch_instance(kernel_class=kernel_class)


if __name__ == "__main__":
    main()
