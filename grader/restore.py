"""Rebuild a submitted notebook around the instructor's source before nbgrader sees it.

`restore(submitted, source)` returns a new notebook in which

* every instructor cell of the source that nbgrader knows by its ``grade_id`` (tests with their
  hidden part, read-only instructions, setup cells) is the SOURCE's cell, in the source's order,
  whatever the student did to it: edited, unlocked, points changed, deleted or duplicated;
* every answer cell (``solution: true``) holds the student's answer with that ``grade_id``;
  an answer cell whose ``grade_id`` was changed is matched back, in order, to the source's
  answer cells that are missing (so a renamed id costs nothing); an answer cell that is missing
  altogether is put back empty (its tests then fail);
* cells the student added (no nbgrader metadata) are kept, after the instructor cell they
  followed in the submission; copies of nbgrader cells (duplicates, or ids the source does
  not have) lose their nbgrader metadata, and copies of test or read-only cells are dropped.

So the notebook nbgrader executes never has a duplicated or unknown ``grade_id``, and the
points always come from the source (nbgrader's OverwriteCells then also copies the points and
checksums from the gradebook).
"""

import copy
import uuid

import nbformat

MISSING_ANSWER = "# (this answer cell was missing from the submission)\n"


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _grade_id(cell):
    return _meta(cell).get("grade_id")


def _is_answer(cell):
    return bool(_meta(cell).get("solution"))


def _plain(cell):
    cell = copy.deepcopy(cell)
    cell.metadata.pop("nbgrader", None)
    return cell


def restore(submitted, source):
    """The notebook to grade: `submitted` rebuilt around `source` (see the module docstring)."""
    graded = [c for c in source.cells if _grade_id(c)]
    source_ids = [_grade_id(c) for c in graded]
    answers = {_grade_id(c) for c in graded if _is_answer(c)}

    # 1. walk the submission: anchor the cells with a known id (first copy only),
    #    remember the cells that follow each anchor, collect renamed answer cells
    groups = {None: []}  # anchor id (None: before the first anchor) -> following cells
    found = {}
    strays = []  # answer cells with an unknown or duplicated id
    current = None
    for cell in submitted.cells:
        gid = _grade_id(cell)
        if gid is None:
            groups[current].append(copy.deepcopy(cell))
        elif gid in source_ids and gid not in found:
            found[gid] = cell
            current = gid
            groups[gid] = []
        elif _is_answer(cell):
            stray = _plain(cell)
            strays.append(stray)
            groups[current].append(stray)
        # else: a copy of a test or read-only cell, or one the source does not have: dropped

    # 2. match answer cells with a changed id back to the missing answer cells, in order
    missing = [gid for gid in source_ids if gid in answers and gid not in found]
    for gid in missing:
        wanted = next(c for c in graded if _grade_id(c) == gid).cell_type
        match = next((s for s in strays if s.cell_type == wanted), None)
        if match is not None:
            strays.remove(match)
            for group in groups.values():
                if any(c is match for c in group):
                    group[:] = [c for c in group if c is not match]
            found[gid] = match

    # 3. rebuild in the source's order
    cells = list(groups[None])
    for src in graded:
        gid = _grade_id(src)
        cell = copy.deepcopy(src)
        if gid in answers:
            if gid in found:
                cell.source = found[gid].source
                if cell.cell_type == "code":
                    cell.outputs = []
                    cell.execution_count = None
            else:
                cell.source = MISSING_ANSWER if cell.cell_type == "code" else ""
        cells.append(cell)
        cells.extend(groups.get(gid, []))

    seen = set()
    for cell in cells:
        if cell.get("id") in seen or "id" not in cell:
            cell["id"] = uuid.uuid4().hex[:12]
        seen.add(cell["id"])
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None

    nb = copy.deepcopy(submitted)
    nb.cells = cells
    nb.metadata = copy.deepcopy(source.metadata)
    nb.nbformat, nb.nbformat_minor = 4, max(5, source.get("nbformat_minor", 5))
    return nb


def read(path):
    """Read a notebook (any nbformat 4 version), upgraded to the current minor version."""
    return nbformat.read(path, as_version=4)
