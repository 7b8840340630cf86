"""The robust grader's nbgrader settings, shared by nbgrader_config.py and `python -m grader`."""

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from traitlets import List

from grader.execute import RestoreCells, SafeExecute


class QuietClearHiddenTests(ClearHiddenTests):
    """nbgrader's, with the option that HTML export sets for every preprocessor declared, so
    that each `generate_feedback` does not warn that `display_data_priority` is unknown."""

    display_data_priority = List(config=True)


# LMS file naming for `nbgrader zip_collect`: <student_id>_<anything>_<assignment>.ipynb,
# e.g. "jdoe_attempt-2_ch03_losses.ipynb" or Canvas' "jdoe_1234_5678_ch03_losses.ipynb";
# the student id has no "_" and assignments are named chNN_<name>.
LMS_FILE_REGEXP = r"^(?:.*/)?(?P<student_id>[^/_]+)_(?:[^/]*_)?(?P<file_id>ch\d\d_[^/]+?\.ipynb)$"


def configure(c):
    """Apply the grader's settings to an nbgrader config object `c`."""
    c.Autograde.sanitize_preprocessors = [
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
    c.LimitOutput.max_lines = 300
    # feedback shows neither the hidden tests (nbgrader leaves them in by default) ...
    c.GenerateFeedback.preprocessors = [GetGrades, QuietClearHiddenTests, CSSHTMLHeaderPreprocessor]
    # ... nor tracebacks through them (SafeExecute keeps only "Error: message" in test cells)
    c.ZipCollectApp.collector_plugin = "nbgrader.plugins.FileNameCollectorPlugin"
    c.FileNameCollectorPlugin.named_regexp = LMS_FILE_REGEXP
    return c
