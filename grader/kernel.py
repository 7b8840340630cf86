"""The IPython kernel the grader executes notebooks in: `python -m grader.kernel -f CONN`.

It is a normal IPython kernel with two additions, installed before any student code runs:

* Trusted cells. A cell whose code starts with `TRUSTED_HEADER` (the grader sends the
  instructor's cells and the test cells that way) is compiled and run directly in the user's
  namespace, bypassing IPython's input and AST transformers and `run_cell` hooks. Before it runs,
  the kernel puts back what student code may have changed: the attributes of `builtins`, `numpy`
  (and its submodules `linalg`, `random`, `testing`), `math` and `nnlib` (modules and their
  classes) as they were at start-up, and the modules, functions and classes that earlier trusted
  cells bound to names (helpers such as `import numpy as np` or `def check_close(...)`).
  A trusted cell that runs to its end publishes a token, an HMAC of its code under a secret
  that the kernel read from a file (and deleted) at start-up; the grader only counts a test
  cell as passed when the token is there and correct.
* Bounded output: each cell may write at most `GRADER_MAX_OUTPUT` bytes to stdout/stderr
  (the grader also caps what it stores, on its side).
"""

import ast
import builtins
import hashlib
import hmac
import importlib
import os
import sys
import traceback
import types

from ipykernel.ipkernel import IPythonKernel
from ipykernel.kernelapp import IPKernelApp

TRUSTED_HEADER = "#%grader-trusted\n"
TOKEN_MIME = "application/x-grader-token"
PROTECTED_MODULES = (
    "builtins",
    "math",
    "numpy",
    "numpy.linalg",
    "numpy.random",
    "numpy.testing",
    "nnlib",
)
_MISSING = object()


def token_for(secret, code):
    """The token a trusted cell with this code publishes when it ran to its end."""
    return hmac.new(secret, code.encode(), hashlib.sha256).hexdigest()


def _snapshot(names):
    """Copies of the namespaces of the protected modules and of the classes they define."""
    saved = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except Exception:  # a module that is not installed is not protected
            continue
        saved.append((name, module, vars(module), dict(vars(module))))
        for value in list(vars(module).values()):
            if isinstance(value, type) and getattr(value, "__module__", "").startswith("nnlib"):
                saved.append((None, value, None, dict(vars(value))))
        if name == "nnlib":
            for sub_name, sub in list(sys.modules.items()):
                if sub_name.startswith("nnlib.") and isinstance(sub, types.ModuleType):
                    saved.append((sub_name, sub, vars(sub), dict(vars(sub))))
                    for value in list(vars(sub).values()):
                        if isinstance(value, type) and value.__module__.startswith("nnlib"):
                            saved.append((None, value, None, dict(vars(value))))
    return saved


def _restore(saved):
    for name, obj, namespace, copy in saved:
        if name is not None:
            sys.modules[name] = obj
        for key, value in copy.items():
            current = namespace.get(key, _MISSING) if namespace is not None else vars(obj).get(key)
            if current is not value:
                if namespace is not None:
                    namespace[key] = value
                else:
                    try:
                        setattr(obj, key, value)
                    except (AttributeError, TypeError):
                        pass


def _bound_names(tree):
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                names.append((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.Assign):
            names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _make_kernel_class(secret, max_output):
    saved = _snapshot(PROTECTED_MODULES)
    trusted_names = {}
    streams = {}

    class GradingKernel(IPythonKernel):
        async def do_execute(self, code, silent, *args, **kwargs):
            _reset_output_budget()
            if not code.startswith(TRUSTED_HEADER):
                return await super().do_execute(code, silent, *args, **kwargs)
            return self._run_trusted(code[len(TRUSTED_HEADER) :])

        def _run_trusted(self, code):
            shell = self.shell
            _restore(saved)
            for name, stream in streams.items():
                setattr(sys, name, stream)
            shell.user_ns.update(trusted_names)
            shell.execution_count += 1
            count = shell.execution_count
            try:
                tree = ast.parse(code, "<grading cell>")
                exec(compile(tree, "<grading cell>", "exec"), shell.user_ns)  # noqa: S102
            except BaseException as error:  # noqa: BLE001 - every failure is reported
                sys.stdout.flush()
                sys.stderr.flush()
                content = {
                    "ename": type(error).__name__,
                    "evalue": str(error),
                    "traceback": traceback.format_exception_only(type(error), error),
                }
                self.session.send(
                    self.iopub_socket,
                    "error",
                    content,
                    parent=self.get_parent("shell"),
                    ident=self._topic("error"),
                )
                return {"status": "error", "execution_count": count, **content}
            sys.stdout.flush()
            sys.stderr.flush()
            for name in _bound_names(tree):
                value = shell.user_ns.get(name)
                if isinstance(value, types.ModuleType | types.FunctionType | type):
                    trusted_names[name] = value
            self.session.send(
                self.iopub_socket,
                "display_data",
                {"data": {TOKEN_MIME: token_for(secret, code)}, "metadata": {}, "transient": {}},
                parent=self.get_parent("shell"),
                ident=self._topic("display_data"),
            )
            return {
                "status": "ok",
                "execution_count": count,
                "payload": [],
                "user_expressions": {},
            }

    budget = {"left": max_output}

    def _reset_output_budget():
        budget["left"] = max_output

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
            streams[name] = stream

    return GradingKernel, install_streams


class GradingKernelApp(IPKernelApp):
    def init_io(self):
        super().init_io()
        self._install_streams()


def main():
    secret_file = os.environ.pop("GRADER_SECRET_FILE", "")
    secret = b""
    if secret_file:
        with open(secret_file, "rb") as f:
            secret = f.read()
        os.remove(secret_file)
    max_output = int(os.environ.pop("GRADER_MAX_OUTPUT", "200000"))
    kernel_class, install_streams = _make_kernel_class(secret, max_output)
    GradingKernelApp._install_streams = staticmethod(install_streams)
    GradingKernelApp.launch_instance(kernel_class=kernel_class)


if __name__ == "__main__":
    builtins.__dict__.pop("__grader__", None)
    main()
