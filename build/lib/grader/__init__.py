"""The course's robust grader: `python -m grader NOTEBOOK` (students) and
`python -m grader autograde ASSIGNMENT` (instructors). See grader/README.md."""

__version__ = "0.1.0"
