"""nbgrader configuration for the course (the instructor's flow; see docs/instructors.md).

`solutions/` holds the instructor's source notebooks (with solutions and hidden tests), one
folder per assignment; `nbgrader generate_assignment` writes the student versions to
`exercises/`. The gradebook is SQLite in the course root unless NBGRADER_DB_URL names another
database (e.g. postgresql://user:password@host/nbgrader on a shared server).
"""

import os

c = get_config()  # noqa: F821 - provided by nbgrader

root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = root
c.CourseDirectory.course_id = "neural-networks"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = os.environ.get(
    "NBGRADER_DB_URL", "sqlite:///" + os.path.join(root, "gradebook.db")
)
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.Execute.timeout = 60

# The robust grader's settings (restore cells from the source, sandboxed execution with time,
# memory and output limits, trusted test cells, feedback without hidden tests, the LMS plugins
# of zip_collect): see grader/README.md. `python -m grader autograde` uses them too.
# Grading fails closed: a submission is never run outside the sandbox unless the environment
# says GRADER_ISOLATION=off (or GRADER_NO_ISOLATION=1) on purpose.
from grader.config import configure  # noqa: E402

configure(c)
c.Execute.timeout = 60
