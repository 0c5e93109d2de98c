import datetime as dt
import json
import pickle
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.errors import InvalidArticle
from archive.model import Article, Block, clean_block, derive_title, is_heading, parse_date, parse_stored


@pytest.mark.parametrize("text, expected", [
    ("2025-03-05", dt.date(2025, 3, 5)),
    ("2025-03-05T08:30:00+01:00", dt.date(2025, 3, 5)),
    ("5 mars 2025", dt.date(2025, 3, 5)),
    ("1er janvier 2020", dt.date(2020, 1, 1)),
    ("mercredi 5 mars 2025", dt.date(2025, 3, 5)),
    ("17 août 2019", dt.date(2019, 8, 17)),
    ("05/03/2025", dt.date(2025, 3, 5)),
])
def test_parse_date_accepts_iso_and_french(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text, reason", [
    ("2025-02-30", "impossible date"),
    ("30 février 2025", "impossible date"),
    ("5 brumaire 2025", "unknown month"),
    ("hier", "unreadable date"),
])
def test_parse_date_rejects_impossible_dates(text, reason):
    with pytest.raises(InvalidArticle, match=reason):
        parse_date(text)


def test_heading_is_a_short_line_without_final_punctuation():
    assert is_heading("Xiaomi")
    assert is_heading("Une réforme contestée")
    assert not is_heading("Il a parlé.")
    assert not is_heading("« Nous continuerons »")
    assert not is_heading("2025")
    assert not is_heading(" ".join(["mot"] * 12))


def test_derive_title_cuts_the_first_sentence_on_a_word_boundary():
    long = "Le gouvernement " + "a annoncé de nouvelles mesures " * 10 + "hier."
    title = derive_title([Block(long)])
    assert title.endswith(" …")
    assert len(title) <= 122
    assert derive_title([Block("Court. Suite.")]) == "Court."
    assert derive_title([Block("Titre", heading=True), Block("Texte.")]) == "Titre"


def test_record_round_trip_keeps_typography_and_headings():
    record = {"id": "a1", "title": "L’État «\u00a0fort\u00a0»", "date": "2020-05-01",
              "source": "Le Monde", "authors": ["Anne", "Bruno"], "tags": ["politique"],
              "paragraphs": ["Intertitre", "Un cœur\u202fbattant."], "headings": [0]}
    article = Article.from_record(record)
    assert article.blocks == (Block("Intertitre", True), Block("Un cœur\u202fbattant.", False))
    again = Article.from_record(article.to_record())
    assert again == article
    assert Article.from_stored(article.to_record()) == article
    assert again.content_hash() == article.content_hash()
    assert article.to_record()["author"] == "Anne, Bruno"


def test_corpus_record_without_headings_uses_the_heuristic():
    article = Article.from_record({"id": "x", "title": "T", "paragraphs": ["Court", "Texte long."],
                                   "author": "AFP"})
    assert [b.heading for b in article.blocks] == [True, False]
    assert article.authors == ("AFP",)


@pytest.mark.parametrize("record, message", [
    ({"id": "../etc/passwd", "title": "t", "paragraphs": ["p"]}, "invalid id"),
    ({"id": "ok", "title": "t", "paragraphs": []}, "has no text"),
    ({"id": "ok", "title": "t", "paragraphs": "texte"}, "list of strings"),
    ({"id": "ok", "title": "t", "paragraphs": ["p"], "tags": [1]}, "'tags' must be a list of strings"),
    (["not", "an", "object"], "must be a JSON object"),
])
def test_invalid_records_are_rejected(record, message):
    with pytest.raises(InvalidArticle, match=message):
        Article.from_record(record)


@pytest.mark.parametrize("value, reason", [
    ("0001-00", "impossible month"), ("2020-13", "impossible month"), ("2020-02-30", "impossible day"),
    ("2021-02-29", "impossible day"), ("0000", "impossible year"), ("2020-1-x", "not a date"),
])
def test_impossible_date_bounds_are_bad_parameters(value, reason):
    from archive.errors import BadParameter
    from archive.model import check_date_bound

    with pytest.raises(BadParameter) as info:
        check_date_bound(value, "to")
    assert str(info.value).startswith(f"to: {reason}")
    assert info.value.http_status == 400 and info.value.exit_code == 2


@pytest.mark.parametrize("value", ["2020", "2020-02", "2020-2-29", " 2024-12-31 "])
def test_real_date_bounds_pass_unchanged(value):
    from archive.model import check_date_bound

    assert check_date_bound(value, "from") == value
    assert check_date_bound("", "from") is None and check_date_bound(None, "from") is None


def test_stored_json_reads_as_the_json_module_reads_it_even_where_orjson_refuses():
    article = Article.from_record({"id": "a1", "title": "L’Œuvre « intégrale » 😀", "date": "2020-01-02",
                                   "paragraphs": ["Premier\u00a0paragraphe.", "Deuxième."]})
    stored = json.dumps(article.to_record(), ensure_ascii=False)
    assert parse_stored(stored) == json.loads(stored) and parse_stored(stored.encode()) == json.loads(stored)
    assert Article.from_stored(parse_stored(stored)) == article
    lone = json.dumps({"title": "\ud800"})  # escaped: orjson refuses it, json reads it
    assert parse_stored(lone) == {"title": "\ud800"}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=" \t\r\f\v\n\u00a0ab", min_size=1), min_size=1, max_size=3))
def test_paragraph_whitespace_folds_like_one_rule(texts):
    # Runs of spaces, tabs and other control spaces become one space; lines are joined;
    # non-breaking spaces (French typography: « mot », 20 %) are kept.
    record = {"id": "blancs", "title": "Blancs", "paragraphs": [t + "x" for t in texts]}
    expected = [" ".join(line for line in (re.sub(r"[ \t\r\f\v]+", " ", raw).strip()
                                           for raw in (t + "x").split("\n")) if line) for t in texts]
    assert [b.text for b in Article.from_record(record).blocks] == expected


def test_an_article_whose_record_json_is_known_travels_without_its_blocks():
    article = Article.from_record({"id": "greve-1", "title": "Grève", "headings": [0],
                                   "paragraphs": ["Intertitre", "L’État a dit « non » aux cheminots."]})
    assert pickle.dumps(article).count(b"cheminots") == 1  # the blocks and nothing else
    article.record_json()
    sent = pickle.dumps(article)
    assert sent.count(b"cheminots") == 1  # the record JSON alone
    received = pickle.loads(sent)
    assert "blocks" not in vars(received)
    assert received == article and hash(received) == hash(article)  # read back from the record when asked
    assert received.blocks == (Block("Intertitre", True), Block("L’État a dit « non » aux cheminots.", False))
    assert pickle.loads(pickle.dumps(received)) == article
    with pytest.raises(AttributeError, match="'Article' object has no attribute 'paragraph'"):
        received.paragraph  # noqa: B018


@pytest.mark.parametrize("title", ["L’État « fort »", "B \ud800"])  # the second: orjson refuses a lone surrogate
def test_record_json_is_the_record_whatever_its_characters(title):
    article = Article.from_record({"id": "a1", "title": title, "paragraphs": ["Un cœur\u202fbattant."]})
    assert json.loads(article.record_json()) == article.to_record()


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list(" \t\r\n\f\vaé\u0301\u00a0\u202f\u2028")), max_size=24))
def test_a_cleaned_block_is_its_lines_stripped_and_joined_by_one_space(text):
    lines = [" ".join(re.split(r"[ \t\r\f\v]+", line)).strip() for line in text.split("\n")]
    expected = unicodedata.normalize("NFC", " ".join(line for line in lines if line))
    assert clean_block(text) == expected
