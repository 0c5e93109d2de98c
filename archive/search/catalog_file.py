"""The catalog's arrays kept beside the store (``catalog.npz``), so that opening an archive skips its SQL scans.

A side file, not part of the index or the store: written after a catalog is built from the store,
read at the next opening when it belongs to the same store generation, rebuilt when missing,
unreadable or stale. A home that cannot be written to still opens (the catalog is built each time).
"""

from __future__ import annotations

import json
import os
import threading
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FORMAT", "NAME", "load", "save"]

NAME = "catalog.npz"
#: Bumped whenever what the file holds changes: an older file is then rebuilt, never misread.
FORMAT = 1


def _text(value: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(value, ensure_ascii=False).encode(), dtype=np.uint8)


def save(path: Path, key: tuple[int, int], arrays: dict[str, np.ndarray], texts: dict[str, Any]) -> bool:
    """Write the catalog's arrays and texts (lists of strings) under ``key``; tell whether it was written."""
    # One temporary file per writer (process and thread): two openings may save at once.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        with open(tmp, "wb") as out:
            parts: dict[str, Any] = {"key": np.array([FORMAT, *key], dtype=np.int64), **arrays,
                                     **{f"text:{name}": _text(value) for name, value in texts.items()}}
            np.savez(out, **parts)
        tmp.replace(path)  # atomic: a reader sees the old file or the new one, whole
        return True
    except OSError:  # a read-only home: the catalog is simply built again next time
        tmp.unlink(missing_ok=True)
        return False


def load(path: Path, key: tuple[int, int]) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """Return the arrays and texts saved under ``key``, None when the file is missing, unreadable or stale."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if data["key"].tolist() != [FORMAT, *key]:
                return None
            arrays = {n: data[n] for n in data.files if n != "key" and not n.startswith("text:")}
            texts = {n[5:]: json.loads(data[n].tobytes()) for n in data.files if n.startswith("text:")}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
        return None
    return arrays, texts
