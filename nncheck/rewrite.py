"""The rewrite of a test cell for grading: the student's kernel runs only `expect(actual)`.

`for_grading(source)` parses a test cell and returns code in which every call
`expect(actual, expected, message, rtol=..., atol=...)` became `expect(actual)`: the expected
value, the message and the tolerances are not in the code the student's kernel runs (they come
from the reference run, see nncheck.reference). Comments are dropped, so the hidden-tests markers
and any note in them do not reach the kernel either. A test cell must not use `assert`: its
checks are all `expect` calls.
"""

import ast
import re

HIDDEN = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.M | re.S
)


class TestCellError(ValueError):
    pass


def visible_part(source):
    """The test cell as students get it: the hidden-tests blocks removed (as nbgrader does)."""
    return HIDDEN.sub("", source)


def _is_expect(node):
    f = node.func
    return (isinstance(f, ast.Name) and f.id == "expect") or (
        isinstance(f, ast.Attribute) and f.attr == "expect"
    )


class _Strip(ast.NodeTransformer):
    def __init__(self):
        self.count = 0

    def visit_Assert(self, node):
        raise TestCellError(
            f"line {node.lineno}: a test cell checks with expect(...), not assert "
            "(assert would run the comparison in the student's kernel)"
        )

    def visit_Call(self, node):
        self.generic_visit(node)
        if _is_expect(node):
            if not node.args or any(isinstance(a, ast.Starred) for a in node.args[:1]):
                raise TestCellError(f"line {node.lineno}: expect(actual, expected, message)")
            self.count += 1
            node.args = node.args[:1]
            node.keywords = []
        return node


def _loads(tree):
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


class _DropExpectedOnly(ast.NodeTransformer):
    """Remove `name = ...` statements whose names only the removed expected parts read."""

    def __init__(self, expected_only):
        self.expected_only = expected_only

    def _targets(self, node):
        names = []
        for target in node.targets:
            elements = target.elts if isinstance(target, ast.Tuple) else [target]
            if not all(isinstance(e, ast.Name) for e in elements):
                return None
            names += [e.id for e in elements]
        return names

    def visit_Assign(self, node):
        names = self._targets(node)
        if names and all(n in self.expected_only for n in names):
            return None
        return node

    def generic_visit(self, node):
        super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and field == "body" and block == []:
                block.append(ast.Pass())
        return node


def for_grading(source):
    """The code the grading kernel runs for this test cell (see the module docstring)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise TestCellError(f"the test cell is not valid Python: {error}") from None
    before = _loads(tree)
    strip = _Strip()
    tree = strip.visit(tree)
    if strip.count == 0:
        raise TestCellError("a test cell needs at least one expect(...) check")
    while True:  # until no more assignment feeds only the removed parts
        after = _loads(tree)
        code = ast.dump(tree)
        tree = _DropExpectedOnly(before - after).visit(tree)
        if ast.dump(tree) == code:
            break
        before = after
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"
