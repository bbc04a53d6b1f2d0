"""nbgrader's settings for the mmkit course (`make assignments` copies this file into the
course folder it writes; nbgrader reads it from the folder it runs in)."""

c = get_config()  # noqa: F821 (nbgrader defines get_config when it loads this file)

c.CourseDirectory.course_id = "mmkit"

# What replaces a solution in the student's copy. The learner's own stub stays below it
# (`raise NotImplementedError  # your code here`, which the kit's self-checks recognise),
# so a student's copy runs top to bottom like the lesson does.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}

# A lesson runs in under a minute; one slow cell on a busy hub must not fail a submission.
c.Execute.timeout = 300

# On JupyterHub, nbgrader's exchange (release, fetch, submit, collect) lives in a folder
# every user can reach. The default is /srv/nbgrader/exchange; set it here or, for all
# users at once, in /etc/jupyter/nbgrader_config.py (see the README, "For teachers"):
# c.Exchange.root = "/srv/nbgrader/exchange"
