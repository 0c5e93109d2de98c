from hypothesis import given, settings, strategies as st

from archive.analysis import exact_analyzer, french_analyzer, fold, stem_variants, token_spans


def terms(text, analyzer=None):
    return [t.text for t in (analyzer or french_analyzer())(text)]


def test_elisions_in_both_apostrophes_keep_offsets():
    text = "l’Assemblée et d'investir, qu’il jusqu'à lorsqu’on"
    spans = token_spans(french_analyzer(), text)
    marked = {text[s:e] for _, s, e, _ in spans}
    assert marked == {"Assemblée", "investir"}


def test_words_with_apostrophe_or_ampersand_stay_whole():
    assert terms("aujourd’hui R&D", exact_analyzer()) == ["aujourd'hui", "r&d"]


def test_guillemets_nbsp_and_hyphens_separate():
    assert terms("«\u00a0président-directeur\u202fgénéral\u00a0»", exact_analyzer()) == [
        "president", "directeur", "general"]


def test_stop_words_are_dropped_in_both_spellings():
    assert terms("le la à a été ete") == []


def test_fold_handles_ligatures_and_accents():
    assert fold("Œuvre cœur ex æquo été") == "OEuvre coeur ex aequo ete"


def test_both_stem_orders_are_indexed_so_unaccented_queries_meet():
    assert stem_variants("assemblée") == ("assembl", "assemble")
    assert set(terms("assemblee")) <= set(stem_variants("assemblée"))
    assert terms("investissements") == terms("investir") == ["invest"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300))
def test_chains_never_raise_on_arbitrary_text(text):
    for analyzer in (french_analyzer(), exact_analyzer()):
        for _, start, end, _ in token_spans(analyzer, text):
            assert 0 <= start <= end <= len(text)


def test_chains_take_lone_surrogates_and_huge_words():
    text = "a\ud800b \u202e" + "x" * 100_000
    assert terms(text, exact_analyzer())[-1] == "x" * 100_000
