"""Adding articles from the browser: a form (paste or upload) behind the admin token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _

from .messages import add_summary, failure_message, outcome_label
from .security import check_csrf, check_token
from .uploads import ingest_request

__all__ = ["bp"]

bp = Blueprint("add", __name__)


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
    # What the reader typed stays in the form after an error (never the token); once
    # stored, the form is cleared for the next article.
    failed = error is not None or (report is not None and bool(report.failures))
    kept = {k: request.form.get(k, "") for k in _KEPT} if request.method == "POST" and failed else {}
    return render_template("add.html", report=report, error=error, form=kept,
                           summary=add_summary(report.counts()) if report else None,
                           outcome_label=outcome_label, failure_message=failure_message), status


_KEPT = ("title", "date", "source", "author", "tags", "text", "url")

