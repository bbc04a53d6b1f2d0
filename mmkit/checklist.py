"""A lesson's checklist: every piece built live, what it was checked against, how close.

Each lesson builds its pieces in front of the learner and checks each one against an
independent reference (a library, an analytic result, a property). A Checklist prints
each check on one line as it happens (``mmkit.report.difference``) and gathers them into
the table that closes the lesson::

    checks = Checklist()
    checks.difference("softmax", "torch.softmax", softmax(z), torch.softmax(z, -1),
                      tolerance=1e-6, built="def softmax_stable(")
    ...
    checks.table()   # piece | built live in cell | checked against | max |difference| | bar

``built`` is a bit of code from the cell that builds the piece; the table finds that cell
in the notebook's history and gives the number Jupyter shows beside it ([N]). A check
measured another way (``add``: a count of disagreements, an error in pixels) says what it
measured in the table too, so a count never reads as a difference.
"""

from typing import NamedTuple

from mmkit.report import difference, result

DIFFERENCE = "max |difference|"


class Check(NamedTuple):
    piece: str
    reference: str
    gap: float
    tolerance: float
    built: str | None
    what: str = DIFFERENCE  # what gap measures
    fmt: str = ".1e"  # how gap is printed

    def shown(self) -> str:
        """The measured value as the table shows it: "3.6e-15", or "clips that differ: 0"."""
        value = format(self.gap, self.fmt)
        return value if self.what == DIFFERENCE else f"{self.what}: {value}"


def _history() -> list[str]:
    """The sources of the cells run so far, In[n] for the cell Jupyter numbers [n]."""
    try:
        from IPython import get_ipython
    except ImportError:  # IPython is not there: no notebook, no cell numbers
        return []
    shell = get_ipython()
    return list(shell.user_ns.get("In", [])) if shell is not None else []


def cell_number(code: str, history: list[str] | None = None) -> int | None:
    """The [N] of the first cell run whose source contains ``code``; None if none does."""
    history = _history() if history is None else history
    return next((n for n, source in enumerate(history) if n and code in source), None)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: a | would split the cell, and <pad> would be
    read as an HTML tag and vanish."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


class Checklist:
    """Checks of live pieces against their references, printed one by one and tabled."""

    def __init__(self):
        self.checks: list[Check] = []

    def difference(self, piece: str, reference: str, ours, theirs, *, tolerance: float,
                   built: str | None = None) -> float:
        """Print ``piece vs reference: max |difference| ... (bar ≤ tolerance) ✓`` and keep it.

        ours, theirs: tensors, arrays or numbers of the same shape. Returns the difference.
        """
        if not isinstance(piece, str) or not piece or not isinstance(reference, str) or not reference:
            raise TypeError("piece and reference must be non-empty strings, e.g. 'softmax', "
                            f"'torch.softmax'; got {piece!r} and {reference!r}")
        gap = difference(f"{piece} vs {reference}", ours, theirs, tolerance=tolerance)
        self.checks.append(Check(piece, reference, gap, float(tolerance), built))
        return gap

    def add(self, piece: str, reference: str, gap, *, tolerance: float, built: str | None = None,
            what: str = DIFFERENCE, fmt: str = ".1e") -> float:
        """Keep a check whose gap was measured another way: the worst of several
        differences, or a count of disagreements (what="captions that differ", fmt=".0f")."""
        if not isinstance(piece, str) or not piece or not isinstance(reference, str) or not reference:
            raise TypeError("piece and reference must be non-empty strings, e.g. 'softmax', "
                            f"'torch.softmax'; got {piece!r} and {reference!r}")
        if not isinstance(what, str) or not what:
            raise TypeError(f"what must be a non-empty string, e.g. 'captions that differ'; got {what!r}")
        result(f"{piece} vs {reference}: {what}", gap, at_most=tolerance, fmt=fmt)
        gap = float(gap)
        self.checks.append(Check(piece, reference, gap, float(tolerance), built, what, fmt))
        return gap

    def rows(self, history: list[str] | None = None) -> list[tuple]:
        """(piece, cell number or None, reference, gap, tolerance) per check, in order."""
        history = _history() if history is None else history
        return [(c.piece, cell_number(c.built, history) if c.built else None, c.reference,
                 c.gap, c.tolerance) for c in self.checks]

    def markdown(self, history: list[str] | None = None) -> str:
        lines = ["| piece | built live in cell | checked against | max \\|difference\\| (or what was measured) | bar |",
                 "|---|---|---|---|---|"]
        for check, (piece, cell, reference, gap, tolerance) in zip(self.checks, self.rows(history),
                                                                    strict=True):
            where = f"[{cell}]" if cell is not None else "—"
            ok = "✓" if gap <= tolerance else "✗"
            piece, reference, shown = (_cell(text) for text in (piece, reference, check.shown()))
            lines.append(f"| {piece} | {where} | {reference} | {shown} | ≤ {tolerance:g} {ok} |")
        return "\n".join(lines)

    def table(self):
        """The checklist as a Markdown table (displayed by Jupyter)."""
        from IPython.display import Markdown

        return Markdown(self.markdown())
