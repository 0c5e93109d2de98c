"""Articles sent by the browser or an API client, stored through :meth:`Archive.add`.

Both the ``/add`` form and ``POST /api/articles`` go through the same ingest
code as the command line: uploads are written to a private temporary folder
under sanitised names (:func:`werkzeug.utils.secure_filename`) and read from
there, recognised by their content (a saved page, a feed, a WARC archive, a
Europresse export); failures name each upload as the client sent it, never
the server's temporary folder. The form's ``url`` field (``http(s)://`` only)
is fetched by the archive like ``archive add https://…``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from flask import request
from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from archive import SUFFIXES, AddReport, IngestError

from .extension import archive as home

__all__ = ["ingest_request", "clean_stale_uploads"]

#: Temporary folders of uploads are named after their process, so that those of a killed one are known.
_PREFIX = "archive-upload-"


def clean_stale_uploads() -> int:
    """Delete the upload folders that processes no longer running left behind (SIGKILLed); return how many."""
    removed = 0
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*-*"):
        try:
            pid = int(folder.name[len(_PREFIX):].split("-", 1)[0])
        except ValueError:
            continue
        try:
            os.kill(pid, 0)
            continue  # alive (or someone else's): kept
        except ProcessLookupError:
            pass
        except OSError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def ingest_request() -> AddReport:
    """Store the articles of the current request (JSON body, uploads or a pasted text)."""
    archive = home()
    with tempfile.TemporaryDirectory(prefix=f"{_PREFIX}{os.getpid()}-") as tmp:
        folder = Path(tmp)
        paths: list[str] = []
        # Temporary path -> the name the client knows it by.
        names: dict[str, str] = {}
        overrides: dict[str, Any] = {}
        if request.is_json:
            (folder / "article.json").write_bytes(request.get_data())
            paths.append(str(folder / "article.json"))
            names[paths[-1]] = "request body"
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
            names[paths[-1]] = _client_name(upload.filename)
        text = request.form.get("text", "").strip()
        if text:
            (folder / "pasted.txt").write_text(text, encoding="utf-8")
            paths.append(str(folder / "pasted.txt"))
            names[paths[-1]] = "pasted text"
            overrides = {"title": request.form.get("title") or None,
                         "date": request.form.get("date") or None,
                         "source": request.form.get("source") or None,
                         "tags": [t.strip() for t in request.form.get("tags", "").split(",") if t.strip()],
                         "authors": [a.strip() for a in request.form.get("author", "").split(",")
                                     if a.strip()]}
        # An address is fetched by the archive and remembered by it (it lasts, unlike an upload).
        url = request.form.get("url", "").strip()
        if url and not url.lower().startswith(("http://", "https://")):
            return AddReport(failures=[IngestError(url, _("not a web address (give https://…)"))])
        if not paths and not url:
            return AddReport(failures=[IngestError("request", _("nothing to add: paste a text or choose a file"))])
        # Temporary paths mean nothing later: these sources are named, never remembered.
        report = (archive.add(paths, overrides=overrides if text and len(paths) == 1 else None, origin="web")
                  if paths else AddReport())
        if url:
            fetched = archive.add([url])
            report.outcomes += fetched.outcomes
            report.failures += fetched.failures
            report.notes += fetched.notes
        return _without_paths(report, names, folder)


def _client_name(filename: str) -> str:
    """Return the last part of an upload's name as the client sent it (for messages only)."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload"


def _without_paths(report: AddReport, names: dict[str, str], folder: Path) -> AddReport:
    """Return the report with temporary paths replaced by the names the client sent."""
    failures = []
    for failure in report.failures:
        source, reason = failure.source, failure.reason
        # Longest first, so that a path never matches inside a longer one.
        for path, name in sorted(names.items(), key=lambda kv: -len(kv[0])):
            source = source.replace(path, name)
            reason = reason.replace(path, name)
        # The code, its parameters and the rolled-back count go along: the page translates them.
        params = {k: v for k, v in failure.params.items() if k not in ("source", "reason")}
        renamed = IngestError(source.replace(str(folder), "upload"), reason.replace(str(folder), "upload"),
                              code=failure.code, **params)
        renamed.discarded = failure.discarded
        failures.append(renamed)
    return AddReport(outcomes=report.outcomes, failures=failures, notes=report.notes, paragraphs=report.paragraphs,
                     undated=report.undated)
