"""Sphinx settings for the lessons as a static book (`make book` copies this file to
_build/book/src/<lang>/conf.py). Nothing here may reach the network, at build time or when a
reader opens a page: no CDN script, style or font; MathJax is bundled.

The book is built twice from this file: in English into html/ and in Chinese into html/zh/
(classroom/book.py passes `-D language=zh_CN -D html_title=...`). Each page gets, at its
top, a link to the same page in the other language (`language_switch` below)."""

import gettext
import html

project = "mmkit"
author = "the mmkit authors"
html_title = "mmkit: multimodal deep learning, piece by piece"  # book.py sets it per language
language = "en"  # book.py builds the Chinese site with -D language=zh_CN

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


# The language switch: furo shows `announcement` (HTML) at the top of every page. It is one
# string for the whole site, so it is set here per page, as a relative link to the same
# page in the other site (html/zh/ holds the Chinese one), which works from file:// too.
html_theme_options = {"announcement": "set per page by language_switch"}

SWITCH = {
    "en": ("This page in Chinese:", "zh-CN", "中文"),
    "zh": ("本页的英文版：", "en", "English"),
}


def language_switch(app, pagename, templatename, context, doctree):
    """The relative link from this page to its twin in the other language."""
    up = "../" * pagename.count("/")  # from this page's folder up to its site's root
    if app.config.language.startswith("zh"):
        words, lang, label = SWITCH["zh"]
        href = f"{up}../{pagename}{app.builder.out_suffix}"
    else:
        words, lang, label = SWITCH["en"]
        href = f"{up}zh/{pagename}{app.builder.out_suffix}"
    context["theme_announcement"] = (
        f'{words} <a class="language-switch" href="{html.escape(href)}" hreflang="{lang}" '
        f'lang="{lang}">{label}</a>')


# Furo's own words that Sphinx's Chinese catalog lacks (the rest, such as 搜索 and 目录,
# it has): without these a Chinese page would still say "Next" and "Back to top".
FURO_ZH = {
    "Skip to content": "跳到正文",
    "Back to top": "回到顶部",
    "Next": "下一页",
    "Previous": "上一页",
    "Home": "首页",
    "On this page": "本页内容",
    "Made with ": "本站工具：",
    '<a href="https://www.sphinx-doc.org/">Sphinx</a> and ':
        '<a href="https://www.sphinx-doc.org/">Sphinx</a> 和 ',
    "Please activate JavaScript to enable the search functionality.": "请启用 JavaScript 以使用搜索功能。",
}


class FuroChinese(gettext.NullTranslations):
    """The last fallback of Sphinx's translator, asked only for what its catalogs lack."""

    def gettext(self, message):
        return FURO_ZH.get(message, message)


def setup(app):
    app.connect("html-page-context", language_switch)
    if app.config.language.startswith("zh"):
        app.translator.add_fallback(FuroChinese())
