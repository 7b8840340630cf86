"""The IPython kernel the grader executes notebooks in: `python -m grader.kernel -f CONN`.

It is a normal IPython kernel with two additions, installed before any student code runs:

* Trusted cells. A cell whose code starts with `TRUSTED_HEADER` (the grader sends the
  instructor's cells, tests included, that way) is compiled and run directly in the user's
  namespace, bypassing IPython's input and AST transformers and `run_cell` hooks. Before it runs,
  the kernel puts back what student code may have changed since start-up: the bindings of the
  protected modules (builtins, math, operator, functools, ast, hmac, hashlib, traceback, types,
  every loaded numpy and nnlib module) and their `sys.modules` entries, the code and defaults of
  their functions (numpy's dispatchers' implementations too), the attributes of nnlib's classes,
  `sys.path` without the working folder, `__builtins__`, and the modules, functions and classes
  that earlier trusted cells bound to names (`np`, helpers such as `check_close`). If running
  the cell changes any of those (a student function that patches numpy when the test calls
  it), the cell fails with GradingError.
  A trusted cell that runs to its end publishes a token, an HMAC of its code under a secret
  that the kernel read from a file (and deleted) at start-up; the grader counts a test cell as
  passed only with the right token, so replacing the kernel's `do_execute` does not help.
  Not defended: code that digs the secret out of this process's memory (gc, ctypes, frames);
  the outputs of such a submission look odd, and instructors can review them.
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
# modules whose bindings (and functions' code) trusted cells get back as they were at start-up:
# what tests call, and what the trusted path itself uses
PROTECTED_MODULES = (
    "builtins",
    "math",
    "operator",
    "functools",
    "ast",
    "hmac",
    "hashlib",
    "traceback",
    "types",
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


class Snapshot:
    """Bindings of the protected modules (all loaded numpy/nnlib submodules too), the
    attributes of nnlib's classes, the code of their functions, sys.modules and sys.path."""

    def __init__(self, names):
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # a module that is not installed is not protected
                pass
        self.modules = {
            name: module
            for name, module in sys.modules.items()
            if isinstance(module, types.ModuleType)
            and (name in names or name.split(".")[0] in ("numpy", "nnlib"))
        }
        self.namespaces = [(m, vars(m), dict(vars(m))) for m in self.modules.values()]
        self.classes = []
        self.functions = []
        for _, namespace, _ in self.namespaces:
            for value in list(namespace.values()):
                self._add_function(value)
                if isinstance(value, type) and value.__module__.startswith("nnlib"):
                    self.classes.append((value, dict(vars(value))))
                    for member in list(vars(value).values()):
                        self._add_function(member)
        self.sys_modules = dict(self.modules)
        # the course's and Python's own modules, never files in the working folder
        self.path = [p for p in sys.path if p not in ("", os.getcwd())]

    def _add_function(self, value):
        for f in (value, getattr(value, "_implementation", None)):
            if isinstance(f, types.FunctionType):
                self.functions.append((f, f.__code__, f.__defaults__, f.__kwdefaults__))

    def changes(self):
        """Names of the protected things that differ from the snapshot."""
        changed = []
        for module, namespace, copy in self.namespaces:
            for key, value in copy.items():
                if namespace.get(key, _MISSING) is not value:
                    changed.append(f"{module.__name__}.{key}")
        for cls, copy in self.classes:
            for key, value in copy.items():
                if vars(cls).get(key, _MISSING) is not value:
                    changed.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
        for f, code, defaults, kwdefaults in self.functions:
            if f.__code__ is not code or f.__defaults__ is not defaults:
                changed.append(f"{f.__module__}.{f.__qualname__} (its code)")
            elif f.__kwdefaults__ is not kwdefaults:
                changed.append(f"{f.__module__}.{f.__qualname__} (its defaults)")
        for name, module in self.sys_modules.items():
            if sys.modules.get(name, _MISSING) is not module:
                changed.append(f"sys.modules[{name!r}]")
        return changed

    def restore(self):
        for name, module in self.sys_modules.items():
            sys.modules[name] = module
        for _, namespace, copy in self.namespaces:
            for key, value in copy.items():
                if namespace.get(key, _MISSING) is not value:
                    namespace[key] = value
        for cls, copy in self.classes:
            for key, value in copy.items():
                if vars(cls).get(key, _MISSING) is not value:
                    try:
                        setattr(cls, key, value)
                    except (AttributeError, TypeError):
                        pass
        for f, code, defaults, kwdefaults in self.functions:
            if f.__code__ is not code:
                f.__code__ = code
            if f.__defaults__ is not defaults:
                f.__defaults__ = defaults
            if f.__kwdefaults__ is not kwdefaults:
                f.__kwdefaults__ = kwdefaults


class GradingError(Exception):
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
    saved = Snapshot(PROTECTED_MODULES)
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
            saved.restore()
            for name, stream in streams.items():
                setattr(sys, name, stream)
            student_path = list(sys.path)
            sys.path[:] = saved.path
            user_ns = shell.user_ns
            user_ns.update(trusted_names)
            user_ns["__builtins__"] = builtins
            shell.execution_count += 1
            count = shell.execution_count
            try:
                tree = ast.parse(code, "<grading cell>")
                exec(compile(tree, "<grading cell>", "exec"), user_ns)  # noqa: S102
                changed = saved.changes()
                if changed:
                    raise GradingError(
                        "the code this test ran changed the grading environment: "
                        + ", ".join(changed[:5])
                    )
            except BaseException as error:  # noqa: BLE001 - every failure is reported
                saved.restore()
                sys.path[:] = student_path
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
            sys.path[:] = student_path
            sys.stdout.flush()
            sys.stderr.flush()
            for name in _bound_names(tree):
                value = user_ns.get(name)
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
