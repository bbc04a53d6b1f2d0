"""Classroom tooling around the lessons (not part of the mmkit package).

    python -m classroom.assignments _build/course   nbgrader assignments (`make assignments`)
    python -m classroom.book _build/book            the lessons as a static site (`make book`)

exercises.py holds the convention both read: which cells of a lesson are an exercise, which
its solution.
"""
