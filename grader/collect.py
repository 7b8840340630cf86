"""`nbgrader zip_collect` plugins of the course (the LMS route; configured in grader.config).

* `LMSExtractorPlugin` unpacks the LMS's archives in `downloaded/<a>/archive/` into
  `downloaded/<a>/extracted/` itself: only regular files (no symlinks, devices or members whose
  names leave the folder), each with its time in the archive as its modification time; a zip
  or tar a student uploaded inside the LMS archive is unpacked into its own folder, and the
  extractor remembers whose upload it was (`extracted-owners.json` next to `extracted/`).
* `LMSCollectorPlugin` reads the student id, the notebook and the submission time from each
  file's name (`LMS_FILE_REGEXP`, e.g. `jdoe_1234_ch03_losses.ipynb`), and
  - refuses ids that are empty, `.`/`..`, or hold a path separator or anything but letters,
    digits and `.-@+` (the id becomes a folder name under `submitted/`);
  - never lets a file inside one student's upload count for another student (a file named
    `bob_..._ch03_losses.ipynb` inside alice's zip is skipped with a warning; a notebook with
    no id inside alice's zip is alice's);
  - always gives a timestamp, so nbgrader resolves a duplicate (two files of one student for
    the same notebook) by keeping the newer one and reporting it, instead of stopping the
    collection. The time is, in this order: a `YYYY-MM-DD-HH-MM[-SS]` in the file name (the
    LMS's record), else the file's time in the archive (zip and tar store it), else the
    file's modification time. Zip files store local time with no time zone: it is read in
    `LMSCollectorPlugin.archive_timezone` (default UTC), like the due dates nbgrader compares
    it with. nbgrader writes it to `submitted/<id>/<a>/timestamp.txt`, where `autograde`
    finds it for late penalties.
"""

import datetime
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile

from nbgrader.plugins import ExtractorPlugin, FileNameCollectorPlugin
from traitlets import Integer, Unicode

OWNERS_FILE = "extracted-owners.json"
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.@+-]*$")
TIMESTAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)[-T_ ](\d\d)[-:](\d\d)(?:[-:](\d\d))?")
_NESTED_OWNER = re.compile(r"^([^/_]+)_")


def valid_student_id(student_id):
    """True for an id that is safe as a folder name: no `.`/`..`, separators or oddities."""
    return (
        isinstance(student_id, str)
        and student_id not in (".", "..")
        and bool(STUDENT_ID.match(student_id))
    )


def _is_archive(name):
    return name.endswith((".zip", ".tar", ".tar.gz", ".tgz"))


def _stem(name):
    for ext in (".tar.gz", ".tgz", ".zip", ".tar"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def _safe_name(name):
    """The member's path inside the archive, or None if it would leave the folder."""
    name = name.replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or name.startswith("/") or ".." in parts or any("\0" in p for p in parts):
        return None
    return os.path.join(*parts)


class LMSExtractorPlugin(ExtractorPlugin):
    """Unpack the LMS archives: regular files only, times kept, nested uploads' owners noted."""

    max_file_bytes = Integer(
        100 * 1024**2, help="Largest member unpacked (bytes); bigger ones are skipped."
    ).tag(config=True)
    max_depth = Integer(3, help="How deep archives inside archives are unpacked.").tag(config=True)

    def extract(self, archive_path, extracted_path):
        self._owners = {}
        if not os.path.isdir(archive_path) or not os.listdir(archive_path):
            self.log.warning("No files found in directory: %s", archive_path)
            return
        for root, dirs, files in os.walk(archive_path):
            dirs.sort()
            dest_dir = os.path.normpath(
                os.path.join(extracted_path, os.path.relpath(root, archive_path))
            )
            for name in sorted(files):
                src = os.path.join(root, name)
                if os.path.islink(src) or not os.path.isfile(src):
                    self.log.warning("Skipped %s: not a regular file", src)
                    continue
                os.makedirs(dest_dir, exist_ok=True)
                if _is_archive(name):
                    self._unpack(src, os.path.join(dest_dir, _stem(name)), None, 0)
                else:
                    shutil.copy2(src, os.path.join(dest_dir, name))
        with open(os.path.join(os.path.dirname(extracted_path), OWNERS_FILE), "w") as f:
            json.dump(self._owners, f, indent=1, sort_keys=True)

    def _members(self, path):
        """(name, mtime seconds or datetime, read()) of the regular files of a zip or tar."""
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    mode = info.external_attr >> 16
                    # no file type in the mode (Windows tools, zipfile.writestr): a regular file
                    if info.is_dir() or (stat.S_IFMT(mode) and not stat.S_ISREG(mode)):
                        continue
                    if info.file_size > self.max_file_bytes:
                        self.log.warning("Skipped %s in %s: too big", info.filename, path)
                        continue
                    yield (
                        info.filename,
                        datetime.datetime(*info.date_time),
                        lambda i=info: z.read(i),
                    )
        elif tarfile.is_tarfile(path):
            with tarfile.open(path) as t:
                for info in t.getmembers():
                    if not info.isfile():
                        continue
                    if info.size > self.max_file_bytes:
                        self.log.warning("Skipped %s in %s: too big", info.name, path)
                        continue
                    yield info.name, float(info.mtime), lambda i=info: t.extractfile(i).read()
        else:
            self.log.warning("Skipped %s: not a zip or tar archive", path)

    def _unpack(self, path, dest, owner, depth):
        os.makedirs(dest, exist_ok=True)
        for name, when, read in self._members(path):
            rel = _safe_name(name)
            if rel is None:
                self.log.warning("Skipped member %r of %s: its name leaves the folder", name, path)
                continue
            target = os.path.join(dest, rel)
            if os.path.lexists(target):
                self.log.warning("Skipped member %r of %s: already unpacked", name, path)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            data = read()
            if _is_archive(rel) and depth < self.max_depth:
                # a student's own upload: everything in it is that student's
                inner = owner
                if inner is None:
                    match = _NESTED_OWNER.match(os.path.basename(rel))
                    inner = match.group(1) if match else ""
                with tempfile.NamedTemporaryFile(suffix=os.path.basename(rel)) as tmp:
                    tmp.write(data)
                    tmp.flush()
                    self._unpack(tmp.name, os.path.join(dest, _stem(rel)), inner, depth + 1)
                continue
            with open(target, "wb") as f:
                f.write(data)
            seconds = when if isinstance(when, float) else _epoch(when, self.parent)
            os.utime(target, (seconds, seconds))
            if owner is not None:
                self._owners[os.path.abspath(target)] = owner


def _timezone(app):
    config = getattr(app, "config", None) or {}
    name = config.get("LMSCollectorPlugin", {}).get("archive_timezone", "UTC")
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - an unknown zone name: UTC
        return datetime.UTC


def _epoch(naive, app):
    return naive.replace(tzinfo=_timezone(app)).timestamp()


class LMSCollectorPlugin(FileNameCollectorPlugin):
    """Student id, notebook and submission time of each extracted file (see module docstring)."""

    archive_timezone = Unicode(
        "UTC", help="Time zone of the times stored in zip archives (zip stores local time)."
    ).tag(config=True)

    def _owner(self, path):
        folder = os.path.dirname(os.path.abspath(path))
        for _ in range(12):
            owners = os.path.join(folder, OWNERS_FILE)
            if os.path.isfile(owners):
                with open(owners) as f:
                    return json.load(f).get(os.path.abspath(path))
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        return None

    def collect(self, submitted_file):
        owner = self._owner(submitted_file)
        info = super().collect(submitted_file)
        if owner is not None:
            if not valid_student_id(owner):
                self.log.warning("Skipped %s: in an upload of no valid student id", submitted_file)
                return None
            name = os.path.basename(submitted_file)
            if info is None and name.endswith(".ipynb"):
                info = {"student_id": owner, "file_id": name}
            elif info is not None and info["student_id"] != owner:
                self.log.warning(
                    "Skipped %s: it is inside the upload of %s but named for student %s",
                    submitted_file,
                    owner,
                    info["student_id"],
                )
                return None
        if info is None:
            return None
        if not valid_student_id(info.get("student_id")):
            self.log.warning(
                "Skipped %s: %r is not a valid student id (letters, digits, '.-@+'; not '.' "
                "or '..')",
                submitted_file,
                info.get("student_id"),
            )
            return None
        info = dict(info)
        info["timestamp"] = self._timestamp(submitted_file, info)
        return info

    def _timestamp(self, path, info):
        given = info.get("timestamp")
        if given:
            return given
        # the part of the name between the id and the notebook: an LMS's submission time
        name = os.path.basename(path)
        middle = name[len(info["student_id"]) : len(name) - len(info["file_id"])]
        match = TIMESTAMP.search(middle)
        if match:
            parts = [int(g) if g else 0 for g in match.groups()]
            try:
                local = datetime.datetime(*parts).replace(tzinfo=_timezone(self.parent))
            except ValueError:
                local = None
            if local is not None:
                return local.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ")
        mtime = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.UTC)
        return mtime.replace(tzinfo=None).isoformat(" ")
