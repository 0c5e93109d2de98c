"""Adding articles from the browser: a form (paste or upload) behind the admin token.

Both this form and ``POST /api/articles`` go through :meth:`Archive.add`, the
same ingest code as the command line: uploads are written to a private
temporary folder under their own (sanitised) name and read from there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _

from archive.errors import IngestError
from archive.home import AddReport
from archive.ingest import SUFFIXES

from .params import engine
from .security import check_csrf, check_token

__all__ = ["bp", "ingest_request"]

bp = Blueprint("add", __name__)


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
            # Only the name's stem and a known suffix survive: the client's path never
            # reaches the filesystem.
            suffix = Path(upload.filename).suffix.lower()
            name = _safe_stem(Path(upload.filename).stem) + (suffix if suffix in SUFFIXES else ".bin")
            target = folder / str(i) / name
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
        # Temporary paths mean nothing later: these sources are named, never remembered.
        if text and len(paths) == 1:
            return archive.add(paths, overrides=overrides, origin="web")
        return archive.add(paths, origin="web")


def _safe_stem(stem: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem).strip(".-")
    return cleaned[:80] or "upload"


@bp.route("/add", methods=["GET", "POST"])
def form() -> Any:
    """Show the add form, and add what it posts (token and CSRF checked)."""
    if not current_app.config.get("ARCHIVE_ADMIN_TOKEN"):
        abort(404)
    report = None
    error = None
    status = 200
    if request.method == "POST":
        if not check_csrf(request.form.get("csrf")):
            error, status = _("The form expired; please submit it again."), 400
        elif not check_token(request.form.get("token")):
            error, status = _("Wrong admin token: nothing was added."), 403
        else:
            report = ingest_request()
            status = 200 if not report.failures else 400
    return render_template("add.html", report=report, error=error), status

