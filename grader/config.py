"""The robust grader's nbgrader settings, shared by nbgrader_config.py and `python -m grader`."""

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    NbGraderPreprocessor,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from traitlets import List

from grader import sandbox
from grader.execute import RestoreCells, SafeExecute


class QuietClearHiddenTests(ClearHiddenTests):
    """nbgrader's, with the option that HTML export sets for every preprocessor declared, so
    that each `generate_feedback` does not warn that `display_data_priority` is unknown."""

    display_data_priority = List(config=True)


# LMS file naming for `nbgrader zip_collect`: <student_id>_<anything>_<assignment>.ipynb,
# e.g. "jdoe_attempt-2_ch03_losses.ipynb" or Canvas' "jdoe_1234_5678_ch03_losses.ipynb";
# the student id has no "_" and assignments are named chNN_<name>.
LMS_FILE_REGEXP = r"^(?:.*/)?(?P<student_id>[^/_]+)_(?:[^/]*_)?(?P<file_id>ch\d\d_[^/]+?\.ipynb)$"


def isolation_setting():
    """The instructor's isolation: "on" (fail closed) unless the environment says otherwise.

    GRADER_ISOLATION=off|auto|on, or GRADER_NO_ISOLATION=1 (= off), chooses it on purpose;
    `python -m grader autograde --isolation off` passes --SafeExecute.isolation=off.
    """
    value = os.environ.get("GRADER_ISOLATION", "").strip().lower()
    if value in ("on", "off", "auto"):
        return value
    return "off" if os.environ.get("GRADER_NO_ISOLATION") else "on"


class CheckSubmissionFiles(NbGraderPreprocessor):
    """Refuse a submission folder holding symlinks or other non-regular files (grader.sandbox).

    Checks the folder the notebook is read from and the course's submitted/<student>/<a>/,
    so a notebook that is a link to solutions/ or a link to a file outside is never graded.
    """

    _said = False  # the isolation line is logged once per process

    def _say_isolation(self):
        if CheckSubmissionFiles._said:
            return
        CheckSubmissionFiles._said = True
        setting = self.config.get("SafeExecute", {}).get("isolation", "on")
        ok, why = sandbox.isolation_status()
        if setting == "off":
            self.log.warning("isolation: OFF on purpose: submissions run with rlimits only")
        elif ok:
            self.log.info("isolation: %s", why)
        elif setting == "on":
            self.log.error("isolation: NOT available (%s): submissions will not be graded", why)
        else:
            self.log.warning("isolation: not available (%s): running unisolated", why)

    def preprocess(self, nb, resources):
        self._say_isolation()
        info = resources.get("nbgrader", {})
        folders = [resources.get("metadata", {}).get("path") or ""]
        coursedir = CourseDirectory(config=self.config)
        if info.get("student") and info.get("assignment"):
            folders.append(
                os.path.join(coursedir.root, "submitted", info["student"], info["assignment"])
            )
        for folder in dict.fromkeys(folders):
            if folder and os.path.lexists(folder):
                sandbox.check_submission_files(folder)
        return nb, resources


def configure(c):
    """Apply the grader's settings to an nbgrader config object `c`."""
    c.Autograde.sanitize_preprocessors = [
        CheckSubmissionFiles,
        ClearOutput,
        RestoreCells,
        DeduplicateIds,
        OverwriteKernelspec,
        OverwriteCells,
        CheckCellMetadata,
    ]
    c.Autograde.autograde_preprocessors = [
        SafeExecute,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    c.OverwriteCells.add_missing_cells = True
    c.Execute.timeout = 60  # seconds per cell
    c.Execute.error_on_timeout = {
        "ename": "CellTimeoutError",
        "evalue": "the cell ran past its time limit",
        "traceback": ["CellTimeoutError: the cell ran past its time limit"],
    }
    c.SafeExecute.total_timeout = 600  # seconds per notebook
    # fail closed: no grading without the sandbox unless asked for (the student command sets
    # "auto" for a student's own check, which may run unisolated and says so)
    c.SafeExecute.isolation = isolation_setting()
    c.LimitOutput.max_lines = 300
    # feedback shows neither the hidden tests (nbgrader leaves them in by default) ...
    c.GenerateFeedback.preprocessors = [GetGrades, QuietClearHiddenTests, CSSHTMLHeaderPreprocessor]
    # ... nor tracebacks through them (SafeExecute keeps only "Error: message" in test cells)
    # the LMS route: safe unpacking, validated ids, no cross-student files, submission times
    # (see grader/collect.py)
    c.ZipCollectApp.extractor_plugin = "grader.collect.LMSExtractorPlugin"
    c.ZipCollectApp.collector_plugin = "grader.collect.LMSCollectorPlugin"
    c.LMSCollectorPlugin.named_regexp = LMS_FILE_REGEXP
    return c
