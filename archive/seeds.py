"""Seeds: the bundled seed article that ``archive serve --seed`` imports into an empty archive.

The repository keeps it in ``seeds/`` (the text byte for byte, its metadata in
a TOML sidecar); the package installs the same folder as ``archive/_seeds``,
so that a non-editable install finds it too.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .errors import ArchiveError

__all__ = ["seed_folder"]


def seed_folder() -> Path:
    """Return the folder of the bundled seed articles."""
    installed = Path(str(files("archive"))) / "_seeds"
    checkout = Path(__file__).resolve().parent.parent / "seeds"
    for folder in (installed, checkout):
        if folder.is_dir() and any(folder.glob("*.txt")):
            return folder
    raise ArchiveError("the bundled seed articles are missing from this installation")
