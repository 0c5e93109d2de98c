"""Refresh docs/search-page.png: the search page on the seed article alone (no corpus text in the repo).

Run: ``.venv/bin/python docs/screenshot.py`` (needs /usr/bin/chromium).
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from waitress.server import create_server

from archive import Archive
from archive.seeds import seed_folder
from webui import create_app

OUT = Path(__file__).resolve().parent / "search-page.png"


def main() -> None:
    """Serve a seed-only archive on a free port and photograph its search page at 1280 px."""
    with tempfile.TemporaryDirectory(prefix="archive-shot-") as tmp:
        Archive(tmp).add([str(seed_folder())])
        app = create_app({"ARCHIVE_HOME": tmp})
        server = create_server(app, host="127.0.0.1", port=0, threads=2)
        threading.Thread(target=server.run, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
                page.goto(f"http://127.0.0.1:{server.effective_port}/?q=investir")
                page.locator("#q").blur()
                page.screenshot(path=str(OUT))
                browser.close()
        finally:
            server.close()
            app.extensions["archive"].close()


if __name__ == "__main__":
    main()
