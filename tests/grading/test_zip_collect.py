"""The no-hub route: students upload to an LMS; `nbgrader zip_collect` sorts the archive."""

import os
import shutil
import zipfile

import nbformat
from grading_helpers import RIGHT, TOY, answered, make_course, nbgrader

# LMS file names: <student_id>_<anything>_<assignment>.ipynb (see grader.config)
FILES = {
    "alice_attempt1_ch00_toy.ipynb": "alice",
    "bob_1234_5678_ch00_toy.ipynb": "bob",
    "carol_ch00_toy.ipynb": "carol",
    "late/dave_2026-01-30-15-00_ch00_toy.ipynb": "dave",
}


def test_zip_collect(tmp_path, course, release):
    root = make_course(str(tmp_path / "course"))
    shutil.copytree(os.path.join(course, "exercises"), os.path.join(root, "exercises"))
    archive = os.path.join(root, "downloaded", TOY, "archive")
    os.makedirs(archive)
    contents = {}
    with zipfile.ZipFile(os.path.join(archive, "submissions.zip"), "w") as z:
        for k, (name, student) in enumerate(FILES.items()):
            nb = answered(release, RIGHT)
            nb.cells[0].source += f"\n\n{student} {k}"
            contents[student] = nbformat.writes(nb)
            z.writestr(name, contents[student])
        z.writestr("erin_notes.txt", "not a notebook")
    nbgrader(["zip_collect", TOY], root)
    for student, text in contents.items():
        path = os.path.join(root, "submitted", student, TOY, TOY + ".ipynb")
        assert open(path).read() == text, student
    assert sorted(os.listdir(os.path.join(root, "submitted"))) == sorted(contents)
