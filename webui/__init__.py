"""The web UI: a Flask app over :mod:`archive`, in French (default) and English.

``create_app(config)`` builds the app; one blueprint per concern: ``pages``
(search page, reading view, CSV export), ``api`` (JSON), ``add`` (adding
articles from the browser, only when ``ARCHIVE_ADMIN_TOKEN`` is set) and
``research`` (trends, concordance, exports, the Atom feed, citing). Views
build one :class:`archive.SearchRequest` from the URL (:mod:`.state`), ask the
app's engine (:mod:`.extension`, kept in ``app.extensions``), and render:
:mod:`.views` computes what templates show, templates only loop and link.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

from . import add, api, extension, i18n, pages, research, security, state, uploads

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the web app for the archive home in ``config['ARCHIVE_HOME']`` (default: $ARCHIVE_HOME).

    With ``config['ARCHIVE_WARM']`` the app is warmed before it is returned (:func:`.extension.warm`).
    """
    app = Flask(__name__)
    app.config.update(
        ARCHIVE_HOME=os.environ.get("ARCHIVE_HOME") or os.getcwd(),
        ARCHIVE_ADMIN_TOKEN=os.environ.get("ARCHIVE_ADMIN_TOKEN") or None,
        #: The archive's address for its readers (``https://archive.example``): citations and
        #: permalinks name it, never the host this server listens on.
        ARCHIVE_PUBLIC_URL=os.environ.get("ARCHIVE_PUBLIC_URL") or None,
        SECRET_KEY=os.environ.get("ARCHIVE_SECRET_KEY") or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        # The session holds the CSRF token: never sent by another site's forms or read by scripts.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        #: Failed admin-token attempts allowed per client address and minute (then 429).
        MAX_TOKEN_FAILURES=10,
        JSON_SORT_KEYS=False,
    )
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    i18n.init_app(app)
    security.init_app(app)
    state.init_app(app)
    extension.init_app(app)
    uploads.clean_stale_uploads()  # (those of a server killed mid-upload)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(add.bp)
    app.register_blueprint(research.bp)
    if app.config.get("ARCHIVE_WARM"):  # (archive serve: ready before the first reader)
        extension.warm(app)
    return app
