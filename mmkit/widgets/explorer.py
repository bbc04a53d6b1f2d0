"""The base of every explorer: controls on the left, a live figure and a status line on the right.

Each explorer is three layers (see DESIGN.md, Widgets):
  compute  - pure tensors in, tensors out (mmkit.scratch, mmkit.toy_problems, ...);
  viz      - draws once on matplotlib Axes, then updates its artists in place (mmkit.viz);
  front end - a function in mmkit.widgets returning an Explorer.
The figure is sent to the browser as a PNG in an ``Image`` widget, which needs no extra
JupyterLab extension, and the explorer also carries a static PNG of its current state, so
a notebook rendered without a kernel (GitHub, nbviewer) still shows the plot.
"""

import base64
import html
from collections.abc import Callable

import ipywidgets as widgets

from mmkit import viz
from mmkit.i18n import language, tr, translate_figure

SLIDER_STYLE = {"description_width": "initial"}


def check_labelled_samples(data, vocab, sample, *, texts: str, max_samples: int = 16) -> int:
    """The checks an explorer of a few captioned samples makes before computing anything:
    data holds 'image', 'text' (token ids) and 'label' for at most ``max_samples`` samples,
    ``vocab`` is the Vocabulary of the ``texts`` (e.g. "captions") and ``sample`` one of them.
    Returns the number of samples."""
    from mmkit.checks import check_int
    from mmkit.preprocess.text import Vocabulary

    if not isinstance(data, dict) or not all(k in data for k in ("image", "text", "label")):
        raise TypeError("data must be a dict with 'image', 'text' (token ids) and 'label'")
    if not isinstance(vocab, Vocabulary):
        raise TypeError(f"vocab must be the Vocabulary of the {texts}, got {type(vocab).__name__}")
    count = len(data["label"])
    if count > max_samples:
        raise ValueError(f"data holds {count} samples; pass at most {max_samples}")
    check_int(sample, "sample")
    if sample >= count:
        raise ValueError(f"sample must be in [0, {count - 1}], got {sample}")
    return count


def _translate_labels(control) -> None:
    """A control's label, and the labels of (label, value) options, in Chinese; the values
    the draw function receives stay as they are. Plain string options are data (a prompt,
    a caption) and keep their words."""
    control.description = tr(control.description)
    options = getattr(control, "options", None)
    if options and all(isinstance(o, tuple) and len(o) == 2 for o in options):
        value = control.value
        control.options = [(tr(str(label)), v) for label, v in options]
        control.value = value  # setting options picks the first one


class Explorer(widgets.HBox):
    """Controls on the left; the live figure and a one-line status on the right.

    ``draw(**values)`` updates the plots for the controls' current values and returns the
    status text. Tests drive an explorer exactly as a learner does: set
    ``explorer.controls[name].value`` and look at ``explorer.plots`` or ``explorer.image``.
    """

    #: A refresh that fails shows the error in the status line, where the learner looks.
    #: The tests and the benchmark set this to True, so that such an error fails them too.
    raise_errors = False

    def __init__(
        self, controls: dict, figure, plots: dict, draw: Callable[..., str], extras=(),
        expected_errors: tuple = (),
    ):
        """expected_errors: exception types that are a state to show, not a bug (e.g. a
        corrupt feedback file the learner must fix): shown in red, never raised."""
        self.controls = controls
        self.expected_errors = tuple(expected_errors)
        self.error = None  # the exception of the last refresh, or None
        if language() == "zh":  # mmkit.set_language("zh"): labels in Chinese
            for control in controls.values():
                _translate_labels(control)
        self.figure = figure
        self.plots = plots
        self._draw = draw
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.status = widgets.HTML()
        panel = widgets.VBox(list(controls.values()), layout=widgets.Layout(min_width="260px"))
        super().__init__([panel, widgets.VBox([self.image, self.status, *extras])])
        self.add_class("mmkit-explorer")
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def refresh(self) -> None:
        """Recompute and redraw for the current control values."""
        self.error = None
        try:
            message = html.escape(self._draw(**self.values()))
            if language() == "zh":  # titles and labels a draw just set are English
                translate_figure(self.figure)
        except Exception as error:  # show it where the learner is looking, not in a log
            self.error = error
            message = f"<span style='color:#b00'>Error: {html.escape(str(error))}</span>"
        self.status.value = message
        self.image.value = viz.figure_to_png(self.figure)
        if self.error is not None and self.raise_errors \
                and not isinstance(self.error, self.expected_errors):
            raise self.error

    def _on_change(self, change) -> None:
        self.refresh()

    def _repr_mimebundle_(self, **kwargs):
        # JupyterLab prefers the live widget; a viewer without a kernel falls back to the PNG.
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle
