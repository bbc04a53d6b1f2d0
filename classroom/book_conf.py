"""Sphinx settings for the lessons as a static book (`make book` copies this file to
_build/book/src/conf.py). Nothing here may reach the network, at build time or when a
reader opens a page: no CDN script, style or font; MathJax is bundled."""

project = "mmkit"
author = "the mmkit authors"
html_title = "mmkit: multimodal deep learning, piece by piece"
language = "en"

extensions = [
    "myst_nb",  # notebooks and Markdown pages
    # MathJax shipped with the site, instead of Sphinx's default from a CDN (it also sets
    # mathjax_path to the copy it places in _static/mathjax).
    "sphinx-mathjax-offline",
]

# The notebooks are rendered with the outputs they were committed with: never executed.
nb_execution_mode = "off"
# No ipywidgets JavaScript from a CDN; each explorer shows its static PNG instead.
nb_ipywidgets_js = {}
nb_mime_priority_overrides = [
    ("html", "application/vnd.jupyter.widget-view+json", None),
]
myst_enable_extensions = ["dollarmath", "amsmath"]

html_theme = "furo"
html_copy_source = False  # the notebooks are in the repository; no second copy here
html_show_sourcelink = False
exclude_patterns = ["**.ipynb_checkpoints"]
# The lessons' text exactly as written (no typographic quotes or dashes substituted).
smartquotes = False
# A lesson may skip a heading level (# then ###): fine in a notebook, not worth failing for.
suppress_warnings = ["myst.header"]
