"""Articles sent by the browser or an API client, stored through :meth:`Archive.add`.

Both the ``/add`` form and ``POST /api/articles`` go through the same ingest
code as the command line: uploads are written to a private temporary folder
under sanitised names (:func:`werkzeug.utils.secure_filename`) and read from
there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import request
from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from archive import SUFFIXES, AddReport, IngestError

from .extension import engine

__all__ = ["ingest_request"]


def ingest_request() -> AddReport:
    """Store the articles of the current request (JSON body, uploads or a pasted text)."""
    archive = engine().archive
    with tempfile.TemporaryDirectory(prefix="archive-upload-") as tmp:
        folder = Path(tmp)
        paths: list[str] = []
        overrides: dict[str, Any] = {}
        if request.is_json:
            data = request.get_data()
            (folder / "article.json").write_bytes(data)
            paths.append(str(folder / "article.json"))
        for i, upload in enumerate(request.files.getlist("file")):
            if not upload.filename:
                continue
            # Only a sanitised name and a known suffix survive: the client's path never
            # reaches the filesystem.
            name = Path(secure_filename(upload.filename) or "upload")
            suffix = name.suffix.lower()
            target = folder / str(i) / ((name.stem or "upload")[:80] + (suffix if suffix in SUFFIXES else ".bin"))
            target.parent.mkdir()
            upload.save(target)
            paths.append(str(target))
        text = request.form.get("text", "").strip()
        if text:
            (folder / "pasted.txt").write_text(text, encoding="utf-8")
            paths.append(str(folder / "pasted.txt"))
            overrides = {"title": request.form.get("title") or None,
                         "date": request.form.get("date") or None,
                         "source": request.form.get("source") or None,
                         "tags": [t.strip() for t in request.form.get("tags", "").split(",") if t.strip()],
                         "authors": [a.strip() for a in request.form.get("author", "").split(",")
                                     if a.strip()]}
        if not paths:
            return AddReport(failures=[IngestError("request", _("nothing to add: paste a text or choose a file"))])
        if text and len(paths) == 1:
            return archive.add(paths, overrides=overrides)
        return archive.add(paths)
