#!/usr/bin/env python3
"""Convert chapters from myst-nb's glue to MyST inline expressions that JupyterLab also renders.

    python scripts/convert_glue.py book/*.ipynb          # convert in place
    python scripts/convert_glue.py --check book/*.ipynb  # exit 1 if a chapter still needs it

Before: the code keeps a number with ``glue_number("ch1_w", w)`` (or myst-nb's
``glue("ch1_w", value, display=False)``) and the text shows it with
``{glue:text}`ch1_w:.2f```. Only the book build (myst-nb) understands that; JupyterLab shows
the raw markup, and the students' environment has no myst_nb to import.

After: the text says ``{eval}`ch1_w_2f``` (the name, then the format spec's letters and
digits), an inline expression that both the book build (myst-nb, ``execute_notebooks:
inline``) and jupyterlab-myst evaluate in the notebook's kernel. A hidden cell (tag
``remove-input``, ``remove-output``) after the set-up cell makes ``glue_number`` a
``nnlib.widgets.TextNumbers``, which keeps each number as the variables the text asks for
(``ch1_w_2f``: the number written as ``format(w, ".2f")``). The calls ``glue_number(...)`` in
the code stay as they are; myst-nb's ``glue(name, value, display=False)`` calls become
``glue_number(name, value)``; ``from myst_nb import glue`` and the old ``def glue_number``
go.

Both renderers evaluate the text in order, after the code cells above it: a number must be
kept (``glue_number``) in a cell ABOVE the first paragraph that shows it. Where the call
comes later, the script moves it into a hidden cell just above that paragraph if it can do so
safely (a statement on its own whose inputs are all computed above); otherwise it stops
and says which call to move.

The script is idempotent (a converted chapter is left as it is, and one with new
``{glue:text}`` uses gets them added to its table) and stops with a clear message, changing
nothing, on anything it cannot convert: other glue roles or directives, glue from another
document, a glue call whose value is displayed, a format spec it cannot put into a name, a
name used before any code can keep it, a variable name the code already uses.
"""

import argparse
import ast
import builtins
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from nnlib.widgets import TextNumbers

GLUE_TEXT = re.compile(r"\{glue:text\}`([^`]*)`")
ANY_GLUE = re.compile(r"\{glue(?::[a-z]*)?\}|glue:(?:text|md|figure|any|math)|```\{glue")
TABLE_MARK = "TextNumbers("
# Hidden, but not "remove-cell": in inline execution myst-nb runs a cell when it renders it (and
# every cell above it), so a removed cell would run only at the next shown code cell, after
# the text below it had been evaluated. A cell with its input and output removed is rendered.
HIDDEN_TAGS = ["remove-input", "remove-output"]
NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")


class ConversionError(Exception):
    pass


def variable(name, spec):
    """The variable the text evaluates for glued ``name`` shown with ``spec`` (ch1_w_2f)."""
    try:
        return TextNumbers.variable(name, spec)
    except ValueError as exc:
        raise ConversionError(str(exc)) from None


def cell_source(cell):
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def set_source(cell, text):
    lines = text.splitlines(keepends=True)
    cell["source"] = lines


def parse(text, where):
    try:
        return ast.parse(text)
    except SyntaxError:
        # IPython syntax (magics): analyse what IPython would run, line for line
        try:
            from IPython.core.inputtransformer2 import TransformerManager
        except ImportError as exc:
            raise ConversionError(f"{where}: cannot parse the cell (and no IPython)") from exc
        try:
            return ast.parse(TransformerManager().transform_cell(text))
        except SyntaxError as exc:
            raise ConversionError(f"{where}: cannot parse the cell: {exc}") from exc


def is_glue_call(node):
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("glue", "glue_number")
    )


def bound_names(tree):
    """Every name a piece of code binds (assignments, defs, imports, loop targets, args)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def top_level_bound(tree):
    """Names a cell's top-level code binds (what later cells see): not inside defs,
    lambdas or comprehensions."""
    names = set()

    def visit(node):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            return
        if isinstance(node, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp):
            return
        if isinstance(node, ast.GeneratorExp):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        for child in ast.iter_child_nodes(node):
            visit(child)

    for stmt in tree.body:
        visit(stmt)
    return names


def loaded_names(node):
    inner = bound_names(node)  # comprehension variables, lambda args
    return {
        n.id
        for n in ast.walk(node)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in inner
    }


class Chapter:
    def __init__(self, path):
        self.path = Path(path)
        self.raw = self.path.read_text()
        self.nb = json.loads(self.raw)
        self.cells = self.nb["cells"]
        self.problems = []
        self.late = []
        self.notes = []

    def where(self, i):
        cell_id = self.cells[i].get("id", "")
        return f"{self.path.name}, cell {i}" + (f" ({cell_id})" if cell_id else "")

    # ---------------------------------------------------------------- reading

    def prose_uses(self):
        """[(cell index, name, spec)] of every {glue:text} in the markdown, in order."""
        uses = []
        for i, cell in enumerate(self.cells):
            text = cell_source(cell)
            if cell["cell_type"] != "markdown":
                if cell["cell_type"] == "raw" and "{glue" in text:
                    self.problems.append(f"{self.where(i)}: glue in a raw cell")
                continue
            for m in GLUE_TEXT.finditer(text):
                content = m[1]
                if "::" in content:
                    self.problems.append(
                        f"{self.where(i)}: {m[0]} glues from another document; "
                        "only this notebook's own numbers can be converted"
                    )
                    continue
                # as myst-nb reads it: the format spec follows the last colon
                name, spec = content.rsplit(":", 1) if ":" in content else (content, "")
                uses.append((i, name.strip(), spec.strip()))
            rest = GLUE_TEXT.sub("", text)
            for m in ANY_GLUE.finditer(rest):
                self.problems.append(
                    f"{self.where(i)}: {m[0]!r}: only {{glue:text}} can be converted"
                )
        return uses

    def table_cell(self):
        for i, cell in enumerate(self.cells):
            if cell["cell_type"] == "code" and TABLE_MARK in cell_source(cell):
                return i
        return None

    def existing_table(self, i):
        """The formats table of an already converted chapter: {name: [spec, ...]}."""
        tree = parse(cell_source(self.cells[i]), self.where(i))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "TextNumbers"
                and len(node.args) == 2
            ):
                return ast.literal_eval(node.args[1])
        raise ConversionError(f"{self.where(i)}: cannot read the TextNumbers table")

    def glue_calls(self, code_trees):
        """[(cell index, statement node, call node)] of every glue/glue_number call (not
        the one inside the old ``def glue_number``)."""
        calls = []
        for i, cell in enumerate(self.cells):
            if cell["cell_type"] != "code" or "glue" not in cell_source(cell):
                continue
            tree = code_trees[i]
            nodes = []
            for stmt in tree.body:
                if not (isinstance(stmt, ast.FunctionDef) and stmt.name == "glue_number"):
                    nodes.extend(ast.walk(stmt))
            statements = [n for n in nodes if isinstance(n, ast.Expr) and is_glue_call(n.value)]
            calls.extend((i, stmt, stmt.value) for stmt in statements)
            kept = {id(stmt.value) for stmt in statements}
            for node in nodes:
                if is_glue_call(node) and id(node) not in kept:
                    self.problems.append(
                        f"{self.where(i)}, line {node.lineno}: a glue call inside an "
                        "expression; only glue calls that are statements can be converted"
                    )
        return calls

    # ---------------------------------------------------------------- converting

    def convert(self, move_text=False):
        """Convert the notebook in memory; True if it changed. With ``move_text``, a paragraph
        that shows a number before any code can keep it moves below the cell that keeps it
        (with the paragraphs between): a change of reading order, printed, for the authors to
        look at."""
        self.notes = []
        for _ in range(len(self.cells)):
            self.problems, self.late = [], []
            try:
                return self._convert()
            except ConversionError:
                if not (move_text and self.late and len(self.late) == len(self.problems)):
                    raise
                use_at, keeper = self.late[0]
                between = self.cells[use_at:keeper]
                if any(c["cell_type"] != "markdown" for c in between):
                    raise
                self.notes.append(
                    f"{self.path.name}: moved the text of cells {use_at}..{keeper - 1} "
                    f"({between[0].get('id', '')}) below code cell {keeper} "
                    f"({self.cells[keeper].get('id', '')}), which computes a number it shows"
                )
                self.cells[use_at : keeper + 1] = [self.cells[keeper], *between]
        raise ConversionError(f"{self.path.name}: too many paragraphs to move")

    def _convert(self):
        uses = self.prose_uses()
        table_at = self.table_cell()
        if not uses and not self.problems:
            if table_at is None and any(
                "myst_nb" in cell_source(c) for c in self.cells if c["cell_type"] == "code"
            ):
                self.problems.append(f"{self.path.name}: imports myst_nb but shows no glue")
            else:
                return False  # nothing to do (converted already, or never glued)
        code_trees = {
            i: parse(cell_source(c), self.where(i))
            for i, c in enumerate(self.cells)
            if c["cell_type"] == "code"
        }
        calls = self.glue_calls(code_trees)
        table = self.existing_table(table_at) if table_at is not None else {}

        # which call keeps each name (static names; computed names are matched at run time)
        static = {}
        dynamic = []
        for i, stmt, call in calls:
            if len(call.args) < 2 and not any(k.arg == "value" for k in call.keywords):
                self.problems.append(f"{self.where(i)}, line {call.lineno}: glue without a value")
                continue
            display = [k for k in call.keywords if k.arg == "display"]
            if call.func.id == "glue" and not (
                display
                and isinstance(display[0].value, ast.Constant)
                and not display[0].value.value
            ):
                self.problems.append(
                    f"{self.where(i)}, line {call.lineno}: glue(...) without display=False shows "
                    "its value in the cell; convert it by hand (print it, then glue_number)"
                )
            first = call.args[0] if call.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                static.setdefault(first.value, (i, stmt, call))
            else:
                dynamic.append((i, stmt, call))

        # formats per name, in order of first use
        for _, name, spec in uses:
            specs = table.setdefault(name, [])
            if spec not in specs:
                specs.append(spec)
            try:
                variable(name, spec)
            except ConversionError as exc:
                self.problems.append(f"{self.path.name}: {{glue:text}}`{name}:{spec}`: {exc}")

        # the variables must not be names the code uses for something else
        code_names = set()
        for tree in code_trees.values():
            code_names |= bound_names(tree) | loaded_names(tree)
        code_names -= {"glue", "glue_number"}
        seen = {}
        for name, specs in table.items():
            for spec in specs:
                try:
                    var = variable(name, spec)
                except ConversionError:
                    continue
                if var in code_names and table_at is None:
                    self.problems.append(
                        f"{self.path.name}: the text's variable {var} (for {name}:{spec}) is "
                        "already a name in the code; rename the glued name"
                    )
                if seen.setdefault(var, (name, spec)) != (name, spec):
                    self.problems.append(
                        f"{self.path.name}: {name}:{spec} and {seen[var][0]}:{seen[var][1]} "
                        f"would both be the variable {var}"
                    )

        # every name shown must be kept by a call above its first use
        first_use = {}
        for i, name, _ in uses:
            first_use.setdefault(name, i)
        moves = []  # (statement cell, statement, target markdown cell)
        for name, use_at in first_use.items():
            if name in static:
                i, stmt, call = static[name]
                if i < use_at:
                    continue
                why = self.cannot_move(i, stmt, use_at, code_trees)
                if why:
                    self.late.append((use_at, i))
                    self.problems.append(
                        f"{self.where(use_at)}: shows {name} before {self.where(i)} keeps it "
                        f"(line {stmt.lineno}), and the call cannot move up: {why}. Move the "
                        "glue_number call (with what it needs) above that paragraph"
                    )
                else:
                    moves.append((i, stmt, use_at))
                continue
            candidates = [(i, s, c) for i, s, c in dynamic if self.may_make(c.args[0], name)]
            if not candidates:
                if table_at is None:
                    self.problems.append(
                        f"{self.where(use_at)}: shows {name}, which no glue call in the notebook "
                        "keeps"
                    )
                continue
            if all(i > use_at for i, _, _ in candidates):
                self.late.append((use_at, min(i for i, _, _ in candidates)))
                self.problems.append(
                    f"{self.where(use_at)}: shows {name} before the computed-name glue call in "
                    f"{self.where(candidates[0][0])} (line {candidates[0][1].lineno}) keeps it; "
                    "move that call above the paragraph"
                )

        if self.problems:
            raise ConversionError("\n".join(self.problems))

        self.rewrite(calls, moves, uses, table, table_at, code_trees)
        return True

    def may_make(self, expr, name):
        """Whether a computed glue name (an f-string or any expression) can give ``name``."""
        if isinstance(expr, ast.JoinedStr):
            pattern = "".join(
                re.escape(v.value) if isinstance(v, ast.Constant) else ".+?" for v in expr.values
            )
            return re.fullmatch(pattern, name) is not None
        return True

    def cannot_move(self, i, stmt, use_at, code_trees):
        """Why the glue statement ``stmt`` of cell ``i`` cannot run above cell ``use_at``."""
        if stmt not in code_trees[i].body:
            return "it is inside a loop, a function or a block"
        above = [j for j in code_trees if j < use_at]
        if not above:
            return "no code runs above that paragraph"
        known = set(dir(builtins))
        for j in above:
            known |= top_level_bound(code_trees[j])
        needed = loaded_names(stmt) - {"glue", "glue_number"}
        missing = sorted(needed - known)
        if missing:
            return f"it needs {', '.join(missing)}, computed only below the paragraph"
        rebound = set()
        for j in code_trees:
            if use_at < j < i:
                rebound |= top_level_bound(code_trees[j])
        for earlier in code_trees[i].body:
            if earlier is stmt:
                break
            rebound |= bound_names(earlier)
        changed = sorted(needed & rebound)
        if changed:
            return f"{', '.join(changed)} change between the paragraph and the call"
        return None

    def rewrite(self, calls, moves, uses, table, table_at, code_trees):
        # 1. glue(name, value, display=False) -> glue_number(name, value); moved calls out
        moved = {id(stmt) for _, stmt, _ in moves}
        hoisted = {}  # markdown cell index -> [statement text]
        edits = {}  # cell index -> [(start line, end line, replacement lines)]
        for i, stmt, call in calls:
            text = cell_source(self.cells[i])
            lines = text.splitlines(keepends=True)
            indent = re.match(r"\s*", lines[stmt.lineno - 1])[0]
            args = [ast.get_source_segment(text, a) for a in call.args[:2]]
            args += [
                f"{k.arg}={ast.get_source_segment(text, k.value)}"
                for k in call.keywords
                if k.arg in ("name", "value")
            ]
            new = f"glue_number({', '.join(args)})"
            if id(stmt) in moved:
                use_at = next(u for s_i, s, u in moves if s is stmt)
                hoisted.setdefault(use_at, []).append(new)
                edits.setdefault(i, []).append((stmt.lineno, stmt.end_lineno, []))
            elif call.func.id == "glue":
                edits.setdefault(i, []).append((stmt.lineno, stmt.end_lineno, [indent + new]))
        # 2. the set-up cell: no myst_nb import, no def glue_number
        setup = None
        for i, tree in code_trees.items():
            for stmt in tree.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module == "myst_nb":
                    if [a.name for a in stmt.names] != ["glue"]:
                        raise ConversionError(
                            f"{self.where(i)}: imports {[a.name for a in stmt.names]} from "
                            "myst_nb; only glue can be converted"
                        )
                    edits.setdefault(i, []).append((stmt.lineno, stmt.end_lineno, []))
                    setup = i if setup is None else setup
                elif isinstance(stmt, ast.FunctionDef) and stmt.name == "glue_number":
                    start = min([stmt.lineno] + [d.lineno for d in stmt.decorator_list])
                    edits.setdefault(i, []).append((start, stmt.end_lineno, []))
                    setup = i if setup is None else setup
                elif isinstance(stmt, ast.Import) and any(
                    a.name.split(".")[0] == "myst_nb" for a in stmt.names
                ):
                    raise ConversionError(f"{self.where(i)}: imports myst_nb; cannot convert")
        for i, cell_edits in edits.items():
            lines = cell_source(self.cells[i]).splitlines(keepends=True)
            for start, end, replacement in sorted(cell_edits, reverse=True):
                lines[start - 1 : end] = [r + "\n" for r in replacement]
            text = re.sub(r"\n{3,}", "\n\n\n", "".join(lines)).strip("\n")
            set_source(self.cells[i], text)
        # 3. the text: {glue:text}`name:spec` -> {eval}`variable`
        for cell in self.cells:
            if cell["cell_type"] == "markdown" and "{glue:text}" in cell_source(cell):

                def replace(m):
                    content = m[1]
                    name, spec = content.rsplit(":", 1) if ":" in content else (content, "")
                    return "{eval}`" + variable(name.strip(), spec.strip()) + "`"

                set_source(cell, GLUE_TEXT.sub(replace, cell_source(cell)))
        # 4. new cells: the moved calls above their paragraphs, the table after the set-up
        for use_at in sorted(hoisted, reverse=True):
            self.cells.insert(use_at, new_code_cell("\n".join(hoisted[use_at]), self.ids()))
        empty = [
            i
            for i, c in enumerate(self.cells)
            if c["cell_type"] == "code" and not cell_source(c).strip()
        ]
        for i in reversed(empty):
            del self.cells[i]
        # cells that keep numbers run in order with the text: hidden, not removed
        for cell in self.cells:
            tags = cell.get("metadata", {}).get("tags", [])
            if cell["cell_type"] == "code" and "glue_number(" in cell_source(cell):
                if "remove-cell" in tags or "remove_cell" in tags:
                    kept = [t for t in tags if t not in ("remove-cell", "remove_cell")]
                    cell["metadata"]["tags"] = kept + [t for t in HIDDEN_TAGS if t not in kept]
                    self.notes.append(
                        f"{self.path.name}: cell {cell.get('id', '')} keeps numbers: its tag "
                        "remove-cell became remove-input, remove-output (it must run in order)"
                    )
        # what the book hides, JupyterLab shows folded (collapsed input)
        for cell in self.cells:
            tags = cell.get("metadata", {}).get("tags", [])
            if cell["cell_type"] == "code" and {"hide-input", "remove-input"} & set(tags):
                cell["metadata"].setdefault("jupyter", {})["source_hidden"] = True
        table_text = table_source(table)
        if table_at is not None:
            at = self.table_cell()
            set_source(self.cells[at], table_text)
        else:
            if setup is None:
                setup = next(i for i, c in enumerate(self.cells) if c["cell_type"] == "code")
            else:
                setup = self.find_setup_after_edits(setup)
            self.cells.insert(setup + 1, new_code_cell(table_text, self.ids()))

    def find_setup_after_edits(self, old_index):
        # cells were inserted above the set-up cell only if a paragraph above it shows a
        # number, which cannot_move refuses (no code above); so the index is unchanged
        return old_index

    def ids(self):
        return {c.get("id") for c in self.cells}

    def write(self):
        text = json.dumps(self.nb, indent=1, ensure_ascii=False) + "\n"
        self.path.write_text(text)


def new_code_cell(source, taken):
    stem = "glue"
    n = 0
    while f"{stem}-{n}" in taken:
        n += 1
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "id": f"{stem}-{n}",
        "metadata": {"jupyter": {"source_hidden": True}, "tags": list(HIDDEN_TAGS)},
        "outputs": [],
        "source": [],
    }
    set_source(cell, source)
    return cell


def table_source(table):
    entries = "".join(
        f"        {json.dumps(name, ensure_ascii=False)}: {json.dumps(specs)},\n"
        for name, specs in table.items()
    )
    return (
        "from nnlib.widgets import TextNumbers\n"
        "\n"
        "# The numbers the text shows, {eval}`variable`: glue_number(name, value) keeps each one\n"
        "# as the variables below, written with these format specs (name_2f for .2f).\n"
        "glue_number = TextNumbers(\n"
        "    globals(),\n"
        "    {\n" + entries + "    },\n"
        ")"
    )


def ruff_format(paths):
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists() and not shutil.which("ruff"):
        print("convert_glue: ruff not found; run `ruff format` on the chapters", file=sys.stderr)
        return
    # the imports left after removing myst_nb's, sorted and spaced as ruff wants them
    subprocess.run([ruff, "check", "--fix", "--quiet", "--select", "I", *map(str, paths)])
    subprocess.run([ruff, "format", "--quiet", *map(str, paths)], check=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a notebook needs it"
    )
    parser.add_argument(
        "--move-text",
        action="store_true",
        help="where a paragraph shows a number before any code can keep it, move the "
        "paragraph below the cell that computes it (changes the reading order; printed)",
    )
    args = parser.parse_args(argv)
    failed = []
    changed = []
    for path in args.notebooks:
        chapter = Chapter(path)
        try:
            if chapter.convert(move_text=args.move_text):
                changed.append(chapter)
            for note in chapter.notes:
                print(note)
        except ConversionError as exc:
            failed.append(f"{path}:\n{exc}")
    if failed:
        print("convert_glue: cannot convert (nothing was written):", file=sys.stderr)
        print("\n".join(failed), file=sys.stderr)
        return 2
    if args.check:
        for chapter in changed:
            print(f"{chapter.path}: needs converting")
        return 1 if changed else 0
    for chapter in changed:
        chapter.write()
        print(f"converted {chapter.path}")
    if changed:
        ruff_format([c.path for c in changed])
    return 0


if __name__ == "__main__":
    sys.exit(main())
