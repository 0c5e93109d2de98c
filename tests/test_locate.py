"""archive.search.locate: the highlighter's spans, found from the query's anchors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.analysis import FRENCH
from archive.search import SearchRequest, engine_for
from archive.search.highlight import Marks, Spans
from archive.search.locate import Locator, anchors, restart, stem_prefixes
from archive.search.occurrences import stem_of
from tests.support import corpus_file

QUERIES = ["gouvernement", "France", "élection", "grève SNCF", '"premier ministre"', '"état d\'urgence" urgence',
           "côte", "État", "invest*", "sûr", "Notre-Dame", "aujourd'hui", '"la la"', "cœur", "œuvre", "Straße",
           "ONU", "être", "président OR ministre", '"en France"', "le", "assemblée"]


def _marks(query: str, expanded: dict[str, list[str]] | None = None) -> Marks:
    return Marks.of(SearchRequest.build(query).parsed.root, expanded=expanded)


def _both(query: str, text: str, title: bool = False) -> tuple[Spans, Spans]:
    marks = Marks.of(SearchRequest.build(query).parsed.root, title=title)
    return Locator(marks).spans(text), marks.spans(text)


def test_anchors_are_the_prefixes_marked_words_start_with():
    assert anchors(_marks("gouvernements")) == ["gouvern"]
    # évidemment → évident (…emment → …ent): words with that stem start with évident, évidemment or évidence.
    assert anchors(_marks("évidemment")) == ["evidemment", "evidence", "evident"]
    assert anchors(_marks('"état d\'urgence" invest* France')) == ["etat", "franc", "invest"]
    assert Locator(_marks("cœur")).pattern is not None
    assert Locator(_marks("")).pattern is None


def test_spans_as_the_highlighter_marks_them():
    text = "Le Gouvernement, les GOUVERNEMENTS et l’État ; gouvernance."
    spans, truth = _both("gouvernement", text)
    assert spans == truth == ((3, 15), (21, 34), (47, 58))
    assert [text[s:e] for s, e in spans] == ["Gouvernement", "GOUVERNEMENTS", "gouvernance"]
    text = "L’état d’urgence, l’urgence et l’État d’urgence sanitaire."
    spans, truth = _both('"état d\'urgence" urgence', text)
    assert [text[s:e] for s, e in spans] == ["état d’urgence", "urgence", "État d’urgence"]
    assert spans == truth
    text = "la la la, puis la la"
    spans, truth = _both('"la la"', text)
    assert spans == truth == ((0, 8), (15, 20))
    assert [text[s:e] for s, e in spans] == ["la la la", "la la"]


@pytest.mark.parametrize("text", [
    "Le cœur et le COEUR, la Straße et la strasse.",        # ligatures: œ for oe, ß for ss
    "Une e\u0301lection, l\u2019e\u0301tat.",                # decomposed accents
    "Le gouver\u00adnement a parlé.",                       # a soft hyphen inside the word
    "Selon l’O.N.U. et l'ONU, la France…",                  # an acronym with dots
    "ＦＲＡＮＣＥ, ﬁn de la France.",                          # full-width letters, a ligature
    "SUR la table, sur le mur : c’est sûr, SÛR.",
    "France" * 3 + " France",
    "",
])
def test_paragraphs_the_letter_classes_cannot_read_still_get_the_highlighters_spans(text):
    for query in QUERIES:
        spans, truth = _both(query, text)
        assert spans == truth, query


def test_a_one_word_phrase_in_a_title_is_marked():
    # A one-word phrase with a field stays a phrase (titre:"France"): it reaches no further than
    # a word, but it is a phrase of the title's marks, not one of its words.
    for query, span in [('titre:"France"', (3, 9)), ('titre:"l’État"', (15, 19))]:
        assert _both(query, "La France et l’État", title=True) == ((span,), (span,))


def test_restart_is_after_a_space():
    text = "Le gouvernement, l’État"
    assert restart(text, 20) == 17 and restart(text, 2) == 0
    text = "Près de 12 000 000 manifestants"
    assert restart(text, 15) == 8 and restart(text, 20) == 19  # (not inside a number)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["la", "La", "France", "FRANCE", "français", "l’État", "état", "d’urgence",
                                 "urgence", "gouvernement", "Gouvernements", "cœur", "coeur", "élection",
                                 "ÉLECTION", "election", "O.N.U.", "aujourd’hui", "sûr", "SUR", "investir",
                                 "e\u0301tat", "gouver\u00adnement", "«", "»", ",", ".", "-", "'", "’",
                                 "2", "000", "2019", "2,5", "1", "France2"]),
                max_size=30),
       st.lists(st.sampled_from([" ", "", "\u00a0", "\n", "-", "\u202f", "."]), min_size=30, max_size=30))
def test_any_text_gets_the_highlighters_spans(words, gaps):
    text = "".join(w + g for w, g in zip(words, gaps))
    for query in ["France", '"état d\'urgence" urgence', "élection", '"la la"', "cœur", "sûr", "gouvernement",
                  "invest*", "2000", "000", "2019 France", "france NEAR/2 urgence", 'titre:"France"']:
        for title in (False, True):
            spans, truth = _both(query, text, title)
            assert spans == truth, (query, text, title)


@pytest.mark.corpus
def test_sample_paragraphs_get_the_highlighters_spans():
    texts = []
    with corpus_file("news-fr-sample.jsonl").open(encoding="utf-8") as f:
        for line in f:
            texts += json.loads(line)["paragraphs"]
    assert len(texts) > 1000
    for query in QUERIES:
        locator, marks = Locator(_marks(query)), _marks(query)
        wrong = [t for t in texts if locator.spans(t) != marks.spans(t)]
        assert wrong == [], query


def test_characters_a_word_may_hold_beside_letters_send_the_paragraph_to_the_highlighter():
    import re

    from archive.analysis import COMBINING_MARKS, INVISIBLE
    from archive.search.locate import exotic_characters

    inside = re.compile(f"[{COMBINING_MARKS}{INVISIBLE}]")
    exotic = exotic_characters()
    odd = [hex(c) for c in range(0x80, 0x10000) if inside.match(chr(c)) and not exotic.match(chr(c))]
    assert odd == []
    assert exotic.search("Une e\u0301lection") and not exotic.search("Une élection, l’État, le cœur «»…")


def test_stem_prefixes_begin_every_word_with_that_stem():
    for word in ["évidemment", "prudence", "journaux", "logique", "électricité", "gouvernements", "heureusement",
                 "heureuse", "responsabilité", "nationaux", "Sydney", "biologie"]:
        term = FRENCH.word(word).exact
        assert term.startswith(stem_prefixes(stem_of(term))), (word, stem_of(term), stem_prefixes(stem_of(term)))
    assert stem_prefixes("evident") == ("evident", "evidemment", "evidence")
    assert stem_prefixes("journal") == ("journal", "journaux")
    assert stem_prefixes("gouvern") == ("gouvern",)


def test_sample_stems_start_their_words(sample_home):
    engine = engine_for(sample_home)
    with engine.live.pinned() as (snap, _):
        words = [t for t, _ in snap.terms("exact")]
        forms = [t.partition("|")[2] for t, _ in snap.terms("accent")]
    assert len(words) > 5000
    # (A term beginning with an unelided "c'" or "m'" stems oddly; the text field's check catches it.)
    odd = [w for w in words if not w.startswith(stem_prefixes(stem_of(w))) and "'" not in w]
    assert odd == []
    odd = [f for f in forms for stem in FRENCH.word(f).search
           if not FRENCH.word(f).exact.startswith(stem_prefixes(stem)) and "’" not in f]
    assert odd == []


@pytest.mark.parametrize("query", ["vitae", "vitæ", "caecum", "Strass"])
def test_a_ligature_beginning_at_the_anchors_last_letter_is_found(query):
    spans, truth = _both(query, "Un curriculum vitæ, des vitae ; le cæcum ; la Straße.")
    assert spans == truth and spans  # (the anchor "vita" ends on the first letter of "æ")
