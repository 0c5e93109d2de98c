"""Every error raised on purpose has a stable code and the parameters of its message."""

import pytest

from archive.errors import ArchiveError, ArticleNotFound, BadParameter, HomeMissing, IngestError
from archive.search import SearchRequest


@pytest.mark.parametrize("kwargs, code, params", [
    ({"page": 0}, "page_range", {"max": 10_000}),
    ({"page": "x"}, "not_whole", {"param": "page"}),
    ({"per_page": 101}, "per_page_range", {"max": 100}),
    ({"sort": "random"}, "bad_sort", {"value": "random"}),
    ({"date_from": "mars"}, "bad_date", {"param": "from", "value": "mars"}),
    ({"date_to": "2020-13"}, "bad_date", {"param": "to", "value": "2020-13"}),
    ({"tag": [f"t{i}" for i in range(21)]}, "too_many_filters", {"max": 20}),
])
def test_request_errors_have_codes(kwargs, code, params):
    with pytest.raises(BadParameter) as info:
        SearchRequest.build("x", **kwargs)
    assert (info.value.code, info.value.params) == (code, params)


def test_query_too_long_has_a_code():
    class Args(dict):
        def getlist(self, key):
            return []

    with pytest.raises(BadParameter) as info:
        SearchRequest.from_args(Args(q="x" * 1001))
    assert (info.value.code, info.value.params) == ("query_too_long", {"max": 1000})


def test_other_errors_have_codes():
    assert (ArticleNotFound("nope").code, ArticleNotFound("nope").params) == ("article_not_found", {"id": "nope"})
    assert str(ArticleNotFound("nope")) == "no article with id 'nope'"
    assert HomeMissing("/x").code == "home_missing"
    assert IngestError("f.jsonl:3", "bad").params == {"source": "f.jsonl:3", "reason": "bad"}
    assert ArchiveError("plain").code == "error" and ArchiveError("plain").params == {}


def test_effective_sort_is_by_date_without_words():
    assert SearchRequest.build("").effective_sort == "-date"
    assert SearchRequest.build("", tag="x").effective_sort == "-date"
    assert SearchRequest.build("", sort="date").effective_sort == "date"
    assert SearchRequest.build("Lyon").effective_sort == "relevance"


def test_ingest_errors_carry_the_reason_as_a_code(archive, tmp_path):
    bad = tmp_path / "lot.jsonl"
    bad.write_text('{"id": "a", "title": "A", "paragraphs": ["p"]}\n'
                   '{"id": "b", "title": "B", "date": "2025-02-30", "paragraphs": ["p"]}\n')
    empty = tmp_path / "vide.txt"
    empty.write_text("")
    report = archive.add([str(bad), str(empty), str(tmp_path / "nope.json")])
    codes = {f.source.rsplit("/", 1)[-1]: (f.code, f.discarded) for f in report.failures}
    assert codes == {"lot.jsonl:2": ("impossible_date", 0), "vide.txt": ("empty_file", 0),
                     "nope.json": ("no_file", 0)}
    assert archive.store.ids() == ["a"]  # the bad line failed alone
    failure = next(f for f in report.failures if f.code == "impossible_date")
    assert failure.params["value"] == "2025-02-30"
    assert str(failure).endswith("lot.jsonl:2: impossible date '2025-02-30' (day is out of range for month)")


def test_every_code_the_web_knows_is_a_code_the_core_raises():
    import archive.errors as errors
    from webui import messages

    classes = [getattr(errors, name) for name in errors.__all__]
    class_codes = {c.code for c in classes}
    assert {"index_damaged", "home_unavailable", "too_many_attempts", "busy", "index_missing"} <= class_codes
    # Ingest and article errors are said through their reasons (messages.failure_message).
    assert class_codes - {"error", "bad_parameter", "invalid_article", "ingest"} <= set(messages.MESSAGES)
