"""The web app's small defences: redirects, the bearer token and its limit, cookies, CSV cells."""

from __future__ import annotations

import pytest

from archive.csvfile import neutral as neutral
from webui.security import FailureLimiter


@pytest.mark.parametrize("path, location", [
    ("/article//x", "/article/x"), ("/article//x?q=a%20b", "/article/x?q=a%20b"),
])
def test_canonical_redirects_do_not_reflect_the_host(client, path, location):
    r = client.get(path, headers={"Host": "evil.example"})
    assert r.status_code == 308
    assert r.headers["Location"] == location


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "  bEaReR "])
def test_bearer_is_case_insensitive(admin_app, scheme):
    article = {"id": f"b-{scheme.strip().lower()}-{len(scheme)}", "title": "T", "paragraphs": ["Metz."]}
    r = admin_app.test_client().post("/api/articles", json=article,
                                     headers={"Authorization": f"{scheme} s3cret"})
    assert r.status_code == 201


def test_wrong_tokens_are_limited_per_client(admin_app):
    now = [1000.0]
    admin_app.extensions["token_failures"].clock = lambda: now[0]
    client = admin_app.test_client()
    article = {"id": "lim", "title": "T", "paragraphs": ["Metz."]}

    def post(token: str, addr: str = "10.0.0.1") -> int:
        return client.post("/api/articles", json=article, headers={"Authorization": f"Bearer {token}"},
                           environ_base={"REMOTE_ADDR": addr}).status_code

    assert [post(f"guess{i}") for i in range(10)] == [403] * 10
    r = client.post("/api/articles", json=article, headers={"Authorization": "Bearer s3cret"},
                    environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert r.status_code == 429  # even the right token, until the minute has passed
    assert r.get_json() == {"ok": False, "status": 429, "code": "too_many_attempts",
                            "error": "too many wrong admin tokens from this address; try again in a minute"}
    assert post("s3cret", "10.0.0.2") == 201  # another client is not affected
    now[0] += 60.0
    assert post("s3cret") == 201


def test_failure_limiter_forgets_old_failures_and_clients():
    now = [0.0]
    limiter = FailureLimiter(2, window=60.0, clock=lambda: now[0], clients=2)
    limiter.fail("a")
    limiter.fail("a")
    assert limiter.blocked("a")
    now[0] = 59.9
    assert limiter.blocked("a")
    now[0] = 60.0
    assert not limiter.blocked("a")
    limiter.fail("b")
    limiter.fail("b")
    assert limiter.blocked("b")
    limiter.fail("c")
    limiter.fail("d")  # a third client: the one that failed longest ago, b, is forgotten
    assert not limiter.blocked("b")
    limiter.fail("c")
    assert limiter.blocked("c") and not limiter.blocked("d")


def test_cookies_are_samesite_lax_and_httponly(admin_app):
    client = admin_app.test_client()
    r = client.get("/add?lang=en")
    cookies = sorted(h for h in r.headers.getlist("Set-Cookie"))
    assert len(cookies) == 2
    lang, session = cookies
    assert lang.startswith("lang=en;") and "HttpOnly" in lang and "SameSite=Lax" in lang
    assert session.startswith("session=") and "HttpOnly" in session and "SameSite=Lax" in session


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("\uff1d1+1", "'\uff1d1+1"), ("\uff0bx", "'\uff0bx"), ("\uff0dx", "'\uff0dx"),
    ("\uff20x", "'\uff20x"), ("@x", "'@x"), ("x=1", "x=1"), ("", ""),
])
def test_csv_cells_neutralise_formula_signs(value, cell):
    assert neutral(value) == cell
