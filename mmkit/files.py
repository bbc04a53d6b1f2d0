"""Files and folders: where the kit's data lives, and one way to write a file safely.

``data_path`` finds the kit's ``data/`` folder from the package, never from the working
directory, so a notebook runs the same whether Jupyter was started in ``notebooks/``, in
the repository root (VS Code, papermill) or anywhere else.

``write_atomically`` is the kit's only way to write a file a learner would miss: the
bytes go to a temporary file in the same folder, are fsync'ed to the disk, and only then
take the file's name (``os.replace``). A crash or a power cut mid-write leaves the old file
whole, never half a file. Checkpoints, vocabularies, user feedback and the notebook runner
all write through it.
"""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

DATA_ENV = "MMKIT_DATA"


def data_dir() -> Path:
    """The kit's ``data/`` folder: ``$MMKIT_DATA`` if set, else ``data/`` beside the package.

    A kit installed from a wheel has no ``data/`` beside it: then the error says how to
    point at a clone's.
    """
    chosen = os.environ.get(DATA_ENV, "").strip()
    if chosen:
        folder = Path(chosen).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"{DATA_ENV}={chosen!r} is not a folder")
        return folder.resolve()
    folder = Path(__file__).resolve().parents[1] / "data"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"the kit's data folder is not at {folder} (mmkit was installed without its "
            f"repository); clone the repository and `pip install -e .` there, or set "
            f"{DATA_ENV} to the clone's data/ folder"
        )
    return folder


def data_path(*parts: str) -> Path:
    """A file or folder inside the kit's ``data/``: ``data_path("images", "chelsea.jpg")``."""
    for part in parts:
        if not isinstance(part, (str, os.PathLike)):
            raise TypeError(f"data_path takes folder and file names (str), got {part!r}")
    path = data_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist in the kit's data folder {data_dir()}")
    return path


def write_atomically(path, content: bytes | str | Callable[[BinaryIO], None]) -> Path:
    """Write ``content`` to ``path`` so that ``path`` is always either the old file or the
    whole new one.

    content: bytes; a str (written as UTF-8); or a function that writes to the binary file
    it is given (e.g. ``lambda f: torch.save(state, f)``). Returns the path written.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or Path), got {type(path).__name__}")
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the folder of path does not exist: {path.parent}")
    if path.is_dir():
        raise IsADirectoryError(f"path is a folder, not a file: {path}")
    if isinstance(content, str):
        content = content.encode("utf-8")
    if not isinstance(content, bytes) and not callable(content):
        raise TypeError(f"content must be bytes, a str or a function writing to a file, got "
                        f"{type(content).__name__}")
    # Same folder, so the final rename never crosses a disk (and is atomic).
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            if isinstance(content, bytes):
                file.write(content)
            else:
                content(file)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on the disk before the name moves
        os.replace(tmp, path)  # atomic on POSIX and Windows
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
