"""mmkit: build every piece of a multimodal model, and check it against the libraries.

Importing mmkit is light on purpose: it loads torch and nothing heavier. Submodules such as
``mmkit.scratch`` or ``mmkit.widgets`` are imported the first time you touch them, and the
heavy libraries (librosa, captum, torchvision) only inside the functions that need them.
"""

import importlib

from mmkit.core import get_device, seed_everything, set_threads, thread_policy
from mmkit.files import data_path
from mmkit.i18n import language_from_environment, set_language

__version__ = "0.1.0"
__all__ = ["data_path", "get_device", "seed_everything", "set_language", "set_threads",
           "thread_policy", "__version__"]

set_threads()  # once: as many threads as this process may really use (see mmkit.core)
language_from_environment()  # MMKIT_LANGUAGE=zh: the explorers in Chinese (see mmkit.i18n)

_SUBMODULES = {
    "align",
    "checks",
    "core",
    "data",
    "demo_models",
    "encoders",
    "exercises",
    "explain",
    "files",
    "glossary",
    "i18n",
    "fusion",
    "metrics",
    "models",
    "preprocess",
    "profile",
    "report",
    "scratch",
    "train",
    "viz",
    "widgets",
}


def __getattr__(name):
    # PEP 562: `mmkit.widgets` works without an explicit import, but costs nothing until used.
    if name in _SUBMODULES:
        return importlib.import_module(f"mmkit.{name}")
    raise AttributeError(f"module 'mmkit' has no attribute {name!r}")
