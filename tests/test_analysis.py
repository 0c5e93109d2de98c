from hypothesis import given, settings
from hypothesis import strategies as st

from archive.analysis import FRENCH, Chain, ChainAnalyzer, fold, split_words, stem_variants, tokens


def terms(text, kind="search"):
    return [t.text for t in ChainAnalyzer(FRENCH, kind)(text)]


def test_elisions_in_both_apostrophes_keep_offsets():
    text = "l’Assemblée et d'investir, qu’il jusqu'à lorsqu’on"
    marked = {text[s.start:s.end] for s in FRENCH.spans(text) if s.search}
    assert marked == {"Assemblée", "investir"}


def test_words_with_apostrophe_or_ampersand_stay_whole():
    assert terms("aujourd’hui R&D", "exact") == ["aujourd'hui", "r&d"]


def test_guillemets_nbsp_and_hyphens_separate():
    assert terms("«\u00a0président-directeur\u202fgénéral\u00a0»", "exact") == [
        "president", "directeur", "general"]


def test_stop_words_are_dropped_in_both_spellings():
    assert terms("le la à a été ete") == []


def test_question_words_are_stop_words_but_not_the_words_sharing_their_stems():
    assert terms("Quand et comment ? Pourquoi, combien, où, dont, laquelle, QUELS") == []
    assert terms("commenter commentaires") == ["comment", "commentair"]
    assert terms("ou OU") == []
    assert terms("mais") == [] != terms("maïs")  # the stop check reads the word as printed, not folded


def test_fold_handles_ligatures_and_accents():
    assert fold("Œuvre cœur ex æquo été") == "OEuvre coeur ex aequo ete"


def test_both_stem_orders_are_indexed_so_unaccented_queries_meet():
    assert stem_variants("assemblée") == ("assembl", "assemble")
    assert set(terms("assemblee")) <= set(stem_variants("assemblée"))
    assert terms("investissements") == terms("investir") == ["invest"]


def test_the_whoosh_analyzer_is_the_chain_with_positions_and_offsets():
    text = "L’État d'urgence a été levé, investissements repris."
    tokens = [(t.text, t.pos, t.startchar, t.endchar)
              for t in ChainAnalyzer(FRENCH, "search")(text, positions=True, chars=True)]
    expected = [(term, pos, s.start, s.end) for pos, s in enumerate(FRENCH.spans(text)) for term in s.search]
    assert tokens == expected
    assert tokens[0] == ("etat", 0, 2, 6)
    exact = [t.text for t in ChainAnalyzer(FRENCH, "exact")(text)]
    assert exact == FRENCH.block(text)[0] == ["etat", "urgence", "a", "ete", "leve", "investissements",
                                              "repris"]


def test_switched_off_stages_change_only_their_stage():
    assert Chain(stem=False).word("investissements").search == ("investissements",)
    assert Chain(fold=False).word("Économie").search == ("économ",)
    assert Chain(stop=False).word("le").search == ("le",)
    assert FRENCH.word("lorsqu’il").search == () != Chain(elision=False).word("lorsqu’il").search
    assert Chain(elision=False).word("l’État").exact == "etat"  # phrases always drop elisions


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300))
def test_chain_never_raises_on_arbitrary_text(text):
    for span in FRENCH.spans(text):
        assert 0 <= span.start <= span.end <= len(text)


def test_chain_takes_lone_surrogates_and_huge_words():
    text = "a\ud800b \u202e" + "x" * 100_000
    assert terms(text, "exact")[-1] == "x" * 100_000


def test_split_words_keeps_the_tokens_between_the_gaps():
    for text in ["L’État d’urgence, l'O.N.U. et R&D.", "  gilets   jaunes ", "", "— … —"]:
        parts = split_words(text)
        assert "".join(parts) == text
        assert parts[1::2] == tokens(text)


def test_a_word_analysed_once_is_analysed_as_the_cached_chain_does():
    for raw in ("L’Assemblée", "d'investir", "aujourd’hui", "R&D", "O.N.U.", "2 000", "Œuvres", "les", "Côtes"):
        assert FRENCH.word_once(raw) == FRENCH.word(raw)
        assert Chain(stem=False, fold=False).word_once(raw) == Chain(stem=False, fold=False).word(raw)
