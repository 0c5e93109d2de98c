"""Real-browser tests: Debian's chromium driven by playwright against a live waitress server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import HUGE_ID, SEED_ID, start_server, stop_server

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") or os.environ.get("ARCHIVE_REQUIRE_CORPUS") == "1":
            pytest.fail("chromium is required for the browser tests")
        pytest.skip("chromium is not installed")


class _Server:
    def __init__(self, home: Path | None = None, app=None) -> None:
        from webui import create_app

        self.server, self.url, self.thread = start_server(app or create_app({"ARCHIVE_HOME": str(home)}))

    def close(self) -> None:
        stop_server(self.server, self.thread)


@pytest.fixture(scope="module", autouse=True)
def _cpu_load():
    """With ARCHIVE_BROWSER_LOAD=1 (CI sets it), run these tests beside a CPU-bound process.

    A busy machine is where races between a test and the page's scripts show; CI
    proves the browser tests do not depend on a quiet one.
    """
    if os.environ.get("ARCHIVE_BROWSER_LOAD") != "1":
        yield
        return
    # Busy until pytest ends, even when pytest is killed (it then cannot kill the burner).
    burner = subprocess.Popen([sys.executable, "-c",
                               "import os\nparent = os.getppid()\nwhile os.getppid() == parent: pass"])
    try:
        yield
    finally:
        burner.kill()
        burner.wait()


@pytest.fixture(scope="module")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="fr-FR")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.dialogs = []  # type: ignore[attr-defined]
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    yield pg
    context.close()
    assert errors == []


@pytest.fixture
def seed_server(seeded):
    server = _Server(seeded.home)
    yield server
    server.close()


@pytest.fixture
def sample_server(sample_home):
    server = _Server(sample_home)
    yield server
    server.close()


def shot(page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def test_type_investir_and_see_investissements_marked(page, seed_server):
    page.goto(seed_server.url + "/")
    page.fill("#q", "investir")
    page.press("#q", "Enter")
    page.wait_for_url("**/?q=investir")
    marks = page.locator(".hit mark").all_inner_texts()
    assert "investissements" in marks
    shot(page, "search-fr")
    page.click("a[lang=en]")
    assert "March 5, 2025" in page.inner_text(".hit .meta")
    shot(page, "search-en")


def test_open_result_lands_on_paragraph_with_marks(page, seed_server):
    page.goto(seed_server.url + "/?q=investir")
    page.click(".hit .para-link")
    # A click returns once the new page is committed, before its deferred script has run:
    # a key pressed then is lost (the flaky `mark.current` timeout on a loaded machine).
    # wait_for_url waits for the load event, which follows the deferred scripts.
    page.wait_for_url("**#p4")
    assert page.evaluate("location.hash") == "#p4"
    assert page.locator("#p4 mark").count() == 3
    page.keyboard.press("n")
    assert page.locator("mark.current").inner_text() == "investissements"
    shot(page, "article-fr")
    page.click("a[lang=en]")
    assert "March 5, 2025" in page.inner_text(".reading .meta")
    shot(page, "article-en")


def test_a_key_pressed_before_the_page_script_ran_is_lost_and_waiting_for_load_keeps_it(page, seed_server):
    page.goto(seed_server.url + "/?q=investir")
    held: list = []
    page.route("**/static/app.js", lambda route: held.append(route))  # the script arrives only when released
    page.click(".hit .para-link")
    page.wait_for_url("**#p4", wait_until="commit")
    assert page.locator("#p4 mark").count() == 3 and held
    page.keyboard.press("n")  # what the flaky test did: the handler is not there yet
    assert page.locator("mark.current").count() == 0
    held[0].continue_()
    page.wait_for_load_state("load")
    page.keyboard.press("n")
    assert page.locator("mark.current").inner_text() == "investissements"


def test_hostile_query_runs_nothing(page, seed_server):
    payload = '<img src=x onerror="window.pwned=1;alert(1)">'
    page.goto(seed_server.url + "/")
    page.fill("#q", payload)
    page.press("#q", "Enter")
    page.wait_for_load_state()
    assert page.evaluate("window.pwned === undefined")
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.input_value("#q") == payload


def test_tag_facet_click_changes_url_totals_and_counts(page, sample_server):
    page.goto(sample_server.url + "/?q=France")
    before_total = page.inner_text("#totals")
    before_authors = page.locator(".facet").nth(1).inner_text()
    tag = page.locator(".facet:has(h2:text('Rubriques')) li a").first
    tag_name = tag.locator(".value").inner_text()
    tag.click()
    page.wait_for_url(f"**tag={tag_name}*")
    assert page.inner_text("#totals") != before_total
    assert page.locator(".facet:has(h2:text('Rubriques')) a[aria-current=true]").count() == 1
    assert page.locator(".facet").nth(1).inner_text() != before_authors
    shot(page, "facet-fr")


PAYLOADS = [
    '<img src=x onerror="window.pwned=1;alert(1)">',
    "<script>window.pwned=2;alert(2)</script>",
    '"><svg onload="window.pwned=3;alert(3)">',
    "javascript:window.pwned=4",
    "<iframe srcdoc=\"<script>parent.pwned=5</script>\"></iframe>",
    "{{7*7}}<b onmouseover=window.pwned=6>x</b>",
]


@pytest.fixture
def hostile_server(tmp_path):
    from archive.home import Archive
    from archive.model import Article

    arch = Archive(tmp_path / "hostile")
    arch.add_articles([Article.from_record({
        "id": f"h{i}", "title": f"Hostile {p}", "author": p, "source": p, "tags": [p, "piège"],
        "url": p if p.startswith("javascript:") else "https://example.org/",
        "paragraphs": [f"Un paragraphe hostile {p} sur Lyon.", p, f"Intertitre {i}"]})
        for i, p in enumerate(PAYLOADS)])
    server = _Server(arch.home)
    yield server
    server.close()


def test_hostile_articles_are_shown_as_text_everywhere(page, hostile_server):
    import urllib.parse

    urls = ["/?q=hostile", "/?q=hostile&lang=en", "/?q=hostil",  # suggestion path
            "/?q=hostile&tag=" + urllib.parse.quote(PAYLOADS[2]) + "&author=" + urllib.parse.quote(PAYLOADS[1]),
            "/?q=" + urllib.parse.quote(PAYLOADS[0])]
    urls += [f"/article/h{i}?q=hostile" for i in range(len(PAYLOADS))]
    for url in urls:
        page.goto(hostile_server.url + url)
        page.wait_for_load_state()
        page.mouse.move(200, 300)
        assert page.evaluate("window.pwned === undefined"), url
        assert page.locator("script:not([src])").count() == 0, url
        assert page.locator("main img, main iframe, main svg:not(.histogram svg) rect[onload]").count() == 0, url
    assert page.dialogs == []  # type: ignore[attr-defined]
    page.goto(hostile_server.url + "/article/h0?q=hostile")
    assert PAYLOADS[0] in page.inner_text("h1")
    page.goto(hostile_server.url + "/article/h3")
    assert page.locator('a[href^="javascript:"]').count() == 0


# -- the daily reader: screenshots, accessibility, keyboard, narrow screens ------------------

WIDTHS = {"desktop": 1280, "phone": 375}


def axe_serious(page) -> list[str]:
    """Run axe-core on the page; return its serious and critical violations as readable lines."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in found if v["impact"] in ("serious", "critical")]


@pytest.fixture
def admin_server(admin_app):
    server = _Server(app=admin_app)
    yield server
    server.close()


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("device", list(WIDTHS))
def test_pages_look_right_and_pass_axe(browser, admin_server, lang, device):
    context = browser.new_context(viewport={"width": WIDTHS[device], "height": 900}, locale=f"{lang}-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    url = admin_server.url
    seen: dict[str, list[str]] = {}

    page.goto(f"{url}/?q=investir&lang={lang}")
    assert page.locator(".facet").count() >= 3 and page.locator(".histogram a").count() == 1
    shot(page, f"search-{lang}-{device}")
    seen["search"] = axe_serious(page)

    page.goto(f"{url}/?q=introuvablezzz&lang={lang}")
    assert page.locator(".empty").count() == 1
    assert page.locator(".sort").count() == 0  # nothing to sort or export
    shot(page, f"zero-{lang}-{device}")
    seen["zero"] = axe_serious(page)

    page.goto(f"{url}/?q=investir&lang={lang}")
    page.click(".hit .para-link")
    page.wait_for_url("**#p4")
    bar = page.locator(".reading-bar").bounding_box()
    assert bar is not None and bar["y"] == 0  # the title bar stays in view on landing
    assert "Lei Jun" in page.inner_text(".reading-bar")
    shot(page, f"article-{lang}-{device}", full_page=False)  # what the reader sees on landing
    seen["article"] = axe_serious(page)

    page.goto(f"{url}/add?lang={lang}")
    page.fill("textarea[name=text]", "Un texte collé sur Rennes.\n\nSecond paragraphe.")
    page.fill("input[name=title]", "Collé")
    page.fill("input[name=token]", "faux")
    page.click("form.add button[type=submit]")
    page.wait_for_load_state()
    assert page.input_value("textarea[name=text]") == "Un texte collé sur Rennes.\n\nSecond paragraphe."
    assert page.input_value("input[name=title]") == "Collé"
    shot(page, f"add-wrong-token-{lang}-{device}")
    seen["add"] = axe_serious(page)

    page.goto(f"{url}/article/nope?lang={lang}")
    shot(page, f"error-{lang}-{device}")
    seen["error"] = axe_serious(page)

    context.close()
    assert errors == []
    assert seen == {name: [] for name in seen}


def test_keyboard_only_search_facet_histogram_and_matches(page, seed_server):
    page.goto(seed_server.url + "/")
    assert page.evaluate("document.activeElement.id") == "q"  # the search box has the focus
    page.keyboard.type("investir")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=investir")

    def tab_to(selector: str) -> None:
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reaches {selector}")

    tab_to(".facet a[href*='tag=chine']")
    page.keyboard.press("Enter")
    page.wait_for_url("**tag=chine*")
    assert page.locator(".facet a[aria-current=true]").count() == 1
    tab_to(".histogram a")
    page.keyboard.press("Enter")
    page.wait_for_url("**from=2025*")
    tab_to(".hit .para-link")
    page.keyboard.press("Enter")
    page.wait_for_url("**#p4")
    page.keyboard.press("n")
    assert page.evaluate("document.activeElement.id") == "m1"
    page.keyboard.press("n")
    assert page.evaluate("document.activeElement.id") == "m2"
    page.keyboard.press("p")
    assert page.evaluate("document.activeElement.id") == "m1"


def test_n_continues_from_the_landing_paragraph(page, seed_server):
    page.goto(f"{seed_server.url}/article/{SEED_ID}?q=Xiaomi#p4")
    before = page.locator("mark[id]").evaluate_all(
        "(ms) => ms.filter(m => m.compareDocumentPosition(document.getElementById('p4')) & 4).length")
    assert before >= 1  # there are matches above the landing paragraph
    page.keyboard.press("n")
    assert page.evaluate("document.activeElement.closest('.block').id") == "p4"
    assert page.evaluate("document.activeElement.id") == f"m{before + 1}"
    page.keyboard.press("p")
    assert page.evaluate("document.activeElement.id") == f"m{before}"


def test_phone_filters_toggle_and_pager(browser, sample_server):
    context = browser.new_context(viewport={"width": 375, "height": 800}, locale="fr-FR")
    page = context.new_page()
    page.goto(sample_server.url + "/?q=France")
    toggle = page.locator("#filters-toggle")
    assert toggle.is_visible() and toggle.inner_text().startswith("Filtres")
    assert toggle.get_attribute("aria-controls") == "facets"
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not page.locator("#facets").is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    facets = page.locator("#facets").bounding_box()
    results = page.locator(".results").bounding_box()
    assert facets is not None and results is not None and facets["y"] < results["y"]  # above the results
    shot(page, "phone-filters-open-fr", full_page=False)
    # The pager sits on its own lines, clear of what follows.
    pager = page.locator("nav.pages").bounding_box()
    assert pager is not None and pager["y"] + pager["height"] <= results["y"] + results["height"]
    page.locator("nav.pages").scroll_into_view_if_needed()
    shot(page, "phone-pager-fr", full_page=False)
    page.fill(".goto input[name=page]", "3")
    page.press(".goto input[name=page]", "Enter")
    page.wait_for_url("**page=3*")
    assert "Page 3 sur" in page.inner_text("nav.pages")
    context.close()


def test_wide_screen_has_no_filters_button(page, seed_server):
    page.goto(seed_server.url + "/?q=investir")
    assert not page.locator("#filters-toggle").is_visible()
    assert page.locator("#facets").is_visible()


def test_facets_page_passes_axe_on_the_corpus(page, sample_server):
    page.goto(sample_server.url + "/?q=France&tag=politique")
    assert page.locator(".facet").count() == 4
    assert axe_serious(page) == []
    page.goto(sample_server.url + "/?q=France&from=abc&to=2019")
    assert page.get_attribute("#date-from", "aria-invalid") == "true"
    assert page.locator(".hit").count() == 20  # the rest of the search still ran
    shot(page, "date-error-fr", full_page=False)
    assert axe_serious(page) == []
def _both_sizes(page, url: str, name: str) -> None:
    """Screenshot a page at 1280 and 375 pixels wide, in French and English."""
    for lang in ("fr", "en"):
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(url + ("&" if "?" in url else "?") + f"lang={lang}")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, lang, width)
            shot(page, f"{name}-{lang}-{width}")


def test_trends_page_draws_lines_that_link_to_searches(page, sample_server):
    page.goto(sample_server.url + "/tendances?q=France&q=gouvernement&by=month&measure=count")
    assert page.locator(".trend-chart.wide .series").count() == 2
    assert page.locator(".legend li").count() == 2
    first = page.locator(".trend-chart.wide .series").first.locator("a").first
    href = first.get_attribute("href")
    assert "q=France" in href and "from=" in href and "to=" in href
    _both_sizes(page, sample_server.url + "/tendances?q=France&q=gouvernement&q=sant%C3%A9&q=police", "trends")


def test_concordance_lines_open_the_paragraph(page, sample_server):
    page.goto(sample_server.url + "/concordance?q=gouvernement")
    assert page.locator("table.kwic tbody tr").count() == 50
    matches = page.locator("table.kwic a.match").all_inner_texts()
    assert all(m.lower().startswith("gouvern") for m in matches)
    page.locator("table.kwic a.match").first.click()
    page.wait_for_url("**/article/**#p*")
    assert page.locator(".reading :target mark").count() >= 1
    _both_sizes(page, sample_server.url + "/concordance?q=gouvernement", "concordance")


def test_timeline_drills_down_and_drags_a_range(page, sample_server):
    page.goto(sample_server.url + "/?q=France")
    years = page.locator(".timeline a[data-from]")
    n = years.count()
    first_year = int(years.first.get_attribute("data-from")[:4])
    shown = [int(years.nth(i).get_attribute("data-from")[:4]) for i in range(n)]
    assert shown == list(range(first_year, first_year + n))
    years.last.click()
    page.wait_for_url("**from=*")
    assert page.locator(".timeline").get_attribute("data-level") == "month"
    assert page.locator(".timeline a[data-from]").count() == 12
    a, b = (page.locator(".timeline a[data-from]").nth(i).bounding_box() for i in (0, 2))
    page.mouse.move(a["x"] + 4, a["y"] + a["height"] - 4)
    page.mouse.down()
    page.mouse.move(b["x"] + 4, b["y"] + b["height"] - 4, steps=4)
    page.mouse.up()
    page.wait_for_url("**to=*-03-31*")
    assert "-01-01" in page.url
    shot(page, "timeline-fr")


@pytest.fixture
def huge_server(huge_home):
    server = _Server(huge_home)
    yield server
    server.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_a_huge_article_reads_a_window_at_a_time(browser, huge_server, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{huge_server.url}/?q=ornithorynque")
    page.click(".hit .para-link")  # the best paragraph, deep in the article
    page.wait_for_load_state()
    anchor = page.url.rsplit("#", 1)[1]
    assert page.locator(f"#{anchor}").count() == 1 and "at=" in page.url
    page.goto(f"{huge_server.url}/article/{HUGE_ID}?q=ornithorynque")
    assert page.locator(".reading .block").count() == 200
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"article-window-{width}", full_page=False)
    assert axe_serious(page) == []
    page.locator("nav.windows a[rel=next]").click()
    page.wait_for_url("**at=1001*")
    assert page.locator("#p1001").count() == 1 and page.locator("#p1000").count() == 0
    page.locator("p.windows").scroll_into_view_if_needed()
    shot(page, f"article-window-end-{width}", full_page=False)
    context.close()
    assert errors == []


# -- phones: no page scrolls sideways at 375 px -----------------------------------------------

LONG_WORD = "Anticonstitutionnellement" * 4


@pytest.fixture
def phone_server(seeded, wire_records):
    from archive.model import Article

    seeded.add_articles([Article.from_record(r) for r in wire_records] + [Article.from_record({
        "id": "url-" + "tres-longue" * 8, "title": f"Un titre avec {LONG_WORD} dedans", "date": "2020-07-04",
        "source": "Le Monde", "url": "https://www.example.org/" + "x" * 160 + ".html",
        "paragraphs": [f"Le gouvernement et {LONG_WORD} sur Lyon.", "Adama Traoré, encore."]})])
    server = _Server(seeded.home, ARCHIVE_ADMIN_TOKEN="s3cret",
                     ARCHIVE_PUBLIC_URL="https://archive.example.org/presse-francaise/archives-en-ligne")
    yield server
    server.close()


PHONE_PAGES = ["/?q=investir", "/", "/?q=Traor%C3%A9", "/?q=Traor%C3%A9&copies=show", "/?q=introuvablezzz",
               "/?q=Traor%C3%A9&from=abc&to=05/12/2099",
               f"/article/{'url-' + 'tres-longue' * 8}?q=gouvernement", "/article/afp-traore?q=Traor%C3%A9#p2",
               "/tendances?q=Traor%C3%A9&q=investir&q=gouvernement&q=Lyon&by=day",
               "/tendances?q=Traor%C3%A9&by=month&measure=count", "/tendances",
               "/concordance?q=Traor%C3%A9", "/concordance", "/add", "/article/nope", "/?page=abc"]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_page_scrolls_sideways_on_a_phone(browser, phone_server, lang):
    context = browser.new_context(viewport={"width": 375, "height": 800}, locale=f"{lang}-FR")
    page = context.new_page()
    wide: dict[str, int] = {}
    for path in PHONE_PAGES:
        page.goto(phone_server.url + path + ("&" if "?" in path else "?") + f"lang={lang}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 375:
            wide[path] = width
    page.goto(phone_server.url + "/add")
    page.fill("textarea[name=text]", "Un texte collé sur Rennes.\n\nSecond paragraphe.")
    page.fill("input[name=token]", "s3cret")
    page.click("form.add button[type=submit]")
    page.wait_for_load_state()
    if page.evaluate("document.documentElement.scrollWidth") > 375:
        wide["/add (report)"] = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert wide == {}


def test_the_trend_chart_fits_a_phone_with_legible_labels(browser, phone_server):
    context = browser.new_context(viewport={"width": 375, "height": 800}, locale="fr-FR")
    page = context.new_page()
    page.goto(phone_server.url + "/tendances?q=Traor%C3%A9&q=gouvernement&by=day&measure=count")
    chart = page.locator(".trend-chart.phone")
    assert chart.is_visible() and not page.locator(".trend-chart.wide").is_visible()
    box = chart.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    # Every point (the peak too) is on the screen, none behind a sideways scroll.
    markers = chart.locator(".marker").evaluate_all("(ms) => ms.map(m => m.getBoundingClientRect().right)")
    assert markers and max(markers) <= 375
    sizes = chart.locator("text.axis").evaluate_all(
        "(ts) => ts.map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)")
    assert sizes and min(sizes) >= 11
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.locator(".trend-chart.wide").is_visible() and not chart.is_visible()
    shot(page, "trends-phone-chart", full_page=False)
    context.close()
