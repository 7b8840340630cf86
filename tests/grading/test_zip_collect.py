"""The no-hub route: students upload to an LMS; `nbgrader zip_collect` sorts the archive
with the course's plugins (grader/collect.py, configured in grader/config.py)."""

import io
import os
import shutil
import stat
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
WHEN = (2026, 1, 28, 9, 30, 0)  # the zip members' time


def _member(name, when=WHEN):
    info = zipfile.ZipInfo(name, date_time=when)
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info


def _setup(tmp_path, course):
    root = make_course(str(tmp_path / "course"))
    shutil.copytree(os.path.join(course, "exercises"), os.path.join(root, "exercises"))
    archive = os.path.join(root, "downloaded", TOY, "archive")
    os.makedirs(archive)
    return root, archive


def _notebook(release, text):
    nb = answered(release, RIGHT)
    nb.cells[0].source += f"\n\n{text}"
    return nbformat.writes(nb)


def _submitted(root, student, name=TOY + ".ipynb"):
    path = os.path.join(root, "submitted", student, TOY, name)
    return open(path).read() if os.path.exists(path) else None


def test_zip_collect(tmp_path, course, release):
    root, archive = _setup(tmp_path, course)
    contents = {}
    with zipfile.ZipFile(os.path.join(archive, "submissions.zip"), "w") as z:
        for k, (name, student) in enumerate(FILES.items()):
            contents[student] = _notebook(release, f"{student} {k}")
            z.writestr(_member(name), contents[student])
        z.writestr(_member("erin_notes.txt"), "not a notebook")
    nbgrader(["zip_collect", TOY], root)
    for student, text in contents.items():
        assert _submitted(root, student) == text, student
    assert sorted(os.listdir(os.path.join(root, "submitted"))) == sorted(contents)
    # the submission time: from the LMS file name, else the member's time in the archive
    stamps = {
        s: open(os.path.join(root, "submitted", s, TOY, "timestamp.txt")).read() for s in contents
    }
    assert stamps["dave"] == "2026-01-30 15:00:00"
    assert stamps["alice"] == stamps["bob"] == "2026-01-28 09:30:00"


def test_zip_collect_hostile_archive(tmp_path, course, release):
    root, archive = _setup(tmp_path, course)
    bob, alice, carol_old, carol_new = (
        _notebook(release, w) for w in ("bob", "alice", "carol old", "carol new")
    )
    # alice uploaded a zip of her own, holding her notebook and one named like bob's
    upload = io.BytesIO()
    with zipfile.ZipFile(upload, "w") as z:
        z.writestr(_member("ch00_toy.ipynb"), alice)
        z.writestr(_member("bob_9_ch00_toy.ipynb"), _notebook(release, "forged by alice"))
    with zipfile.ZipFile(os.path.join(archive, "submissions.zip"), "w") as z:
        z.writestr(_member("bob_1_ch00_toy.ipynb"), bob)
        z.writestr(_member("alice_2_upload.zip"), upload.getvalue())
        # ids that are path tricks, and members whose names leave the folder
        z.writestr(_member("x/.._3_ch00_toy.ipynb"), _notebook(release, "dotdot"))
        z.writestr(_member("._4_ch00_toy.ipynb"), _notebook(release, "dot"))
        z.writestr(_member("../../evil_5_ch00_toy.ipynb"), _notebook(release, "escape"))
        link = _member("mallory_6_ch00_toy.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "../../../solutions/ch00_toy/ch00_toy.ipynb")
        # a duplicate: carol uploaded twice; the newer one is kept and the collection goes on
        z.writestr(_member("carol_7_ch00_toy.ipynb", (2026, 1, 27, 8, 0, 0)), carol_old)
        z.writestr(_member("late/carol_8_ch00_toy.ipynb", (2026, 1, 29, 8, 0, 0)), carol_new)
    done = nbgrader(["zip_collect", TOY], root)
    assert _submitted(root, "bob") == bob
    assert _submitted(root, "alice") == alice
    assert _submitted(root, "carol") == carol_new
    assert "Replacing previously collected submission" in done.stderr + done.stdout
    assert sorted(os.listdir(os.path.join(root, "submitted"))) == ["alice", "bob", "carol"]
    # nothing was written next to submitted/ or above the course
    expected = {"downloaded", "exercises", "gradebook.db", "nbgrader_config.py", "solutions"}
    assert set(os.listdir(root)) <= expected | {"submitted"}
    assert not os.path.exists(os.path.join(tmp_path, "evil_5_ch00_toy.ipynb"))
    assert not os.path.exists(os.path.join(root, "downloaded", "evil_5_ch00_toy.ipynb"))
    stamp = open(os.path.join(root, "submitted", "carol", TOY, "timestamp.txt")).read()
    assert stamp == "2026-01-29 08:00:00"
