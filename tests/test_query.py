import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from archive.query import MAX_CLAUSES, And, Not, Or, Phrase, Prefix, Word, parse_date_bound, parse_query


def test_words_are_anded_and_operators_read():
    q = parse_query("retraites OR pensions -grève")
    assert isinstance(q.root, And)
    first, second = q.root.children
    assert first == Or((Word("retraites", ("retrait",)), Word("pensions", ("pension",))))
    assert second == Not(Word("grève", ("grev",), accent="grève"))
    assert parse_query("(retraites pensions) OR grève").root == Or((
        And((Word("retraites", ("retrait",)), Word("pensions", ("pension",)))), second.child))
    assert parse_query("retraites OU pensions").root == first
    assert parse_query("retraites SAUF grève").root.children[1] == second


def test_field_aliases():
    assert parse_query("titre:Macron").root == parse_query("title:Macron").root
    assert parse_query("auteur:Dupont").root == Word("Dupont", ("dupont",), "author")
    assert parse_query("tag:fait-divers").root == Phrase("fait-divers", ("fait", "divers"), "tag")
    assert parse_query("inconnu:mot").root == And((Word("inconnu", ("inconnu",)), Word("mot", ("mot",))))


def test_quoted_word_and_prefix():
    assert parse_query('"investir"').root == Word("investir", ("investir",), "exact")
    assert parse_query("invest*").root == Prefix("invest*", "invest")


def test_stop_words_alone_are_searched_word_for_word():
    q = parse_query("le la les")
    assert q.root == And((Word("le", ("le",), "exact"), Word("la", ("la",), "exact"),
                          Word("les", ("les",), "exact")))
    assert q.stop_words_only
    assert [(r.text, r.role, r.terms) for r in q.interpretations] == [
        ("le", "stopword", ["le"]), ("la", "stopword", ["la"]), ("les", "stopword", ["les"])]
    beside = parse_query("le budget")
    assert beside.root == Word("budget", ("budget",)) and not beside.stop_words_only
    assert [(r.role, r.terms) for r in beside.interpretations] == [("stopword", []), ("word", ["budget"])]
    assert parse_query("").root is None


def test_date_bounds():
    assert parse_date_bound("2020", end=False) == dt.date(2020, 1, 1)
    assert parse_date_bound("2020-02", end=True) == dt.date(2020, 2, 29)
    assert parse_date_bound("2020-12", end=True) == dt.date(2020, 12, 31)
    q = parse_query("date:[2019-03 TO 2020-06] x")
    assert (q.date_from, q.date_to) == (dt.date(2019, 3, 1), dt.date(2020, 6, 30))


def test_too_many_clauses_are_cut():
    q = parse_query(" ".join(f"mot{i}" for i in range(500)))
    assert len(q.root.children) == MAX_CLAUSES == 128


unicode_text = st.text(alphabet=st.characters(exclude_categories=[]), max_size=400)


@settings(max_examples=300, deadline=None)
@given(unicode_text)
def test_parser_never_raises(text):
    parse_query(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(['"', "(", ")", "OR", "NOT", "-", "titre:", "date:", "x", "é", "*",
                                 "\u202e", "\x00", "\ud800", "[", "]", ".."]), max_size=60))
def test_operator_soup_never_raises(parts):
    parse_query(" ".join(parts))
    parse_query("".join(parts))


def test_huge_word_is_fine():
    assert parse_query("x" * 100_000).root is not None
