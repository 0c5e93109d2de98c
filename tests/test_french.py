"""French as a reader means it: typed accents, capitals, proximity with word forms, fuzzy words, numbers.

Each rule on minimal pairs written for it; every query is also checked for marking
exactly the words it matched, in result pages and in the concordance.
"""

from __future__ import annotations

import json
import re

import pytest

from archive import Archive, Article, search
from archive.analysis import FRENCH, accents_agree, join_numbers, tokens
from archive.query import Near, parse_query
from archive.research import concordance as kwic
from archive.search import SearchRequest, engine_for

ARTICLES = {
    # ê, é and è are letters of their own.
    "pecheurs": ("Au port", ["Les pêcheurs rentrent au port."]),
    "pecheur-sin": ("Morale", ["Le pécheur se repent."]),
    "peche-fished": ("En mer", ["Il a pêché trois thons."]),
    "peche-sin": ("Confession", ["Un péché véniel."]),
    "peche-fishing": ("Loisirs", ["La pêche à la ligne."]),
    "peche-sins": ("Orgueil", ["Il pèche par orgueil."]),
    "pecher": ("Interdit", ["Il ne faut pas pécher."]),
    "eleve": ("Classe", ["Une élève brillante."]),
    "elevation": ("Altitude", ["L’élévation du niveau de la mer."]),
    # The 1990 reform's alternatives.
    "evenement-grave": ("Agenda", ["Un évènement majeur."]),
    "evenement-acute": ("Calendrier", ["Un grand événement."]),
    "reglementaire-grave": ("Texte", ["Une mesure règlementaire."]),
    "reglementaire-acute": ("Décret", ["Une mesure réglementaire."]),
    "secheresse-grave": ("Été", ["La sècheresse menace."]),
    "secheresse-acute": ("Climat", ["La sécheresse menace."]),
    "maitresse-hat": ("École", ["La maîtresse corrige."]),
    "maitresse-plain": ("Maison", ["La maitresse de maison."]),
    "cout-hat": ("Vie chère", ["Le coût de la vie."]),
    "cout-plain": ("Énergie", ["Le cout de l’énergie."]),
    "connaitre-hat": ("Savoir", ["Il faut connaître ses droits."]),
    "connaitre-plain": ("Droit", ["Il faut connaitre ses devoirs."]),
    "mur-ripe": ("Verger", ["Un fruit mûr."]),
    "mur-wall": ("Chantier", ["Un mur de pierre."]),
    "cote": ("Bretagne", ["Les côtes attirent les touristes."]),
    "cote-side": ("Gare", ["Le café est à côté de la gare."]),
    # Capitals never decide.
    "citant": ("Discours", ["Le ministre a parlé, citant un rapport."]),
    "citant-caps": ("Rapport", ["Citant un rapport, le ministre a parlé."]),
    "cite": ("Avignon", ["La cité des papes."]),
    "marchant": ("Promenade", ["Il est venu en marchant."]),
    "march": ("Visite", ["Lord March est venu."]),
    "marche": ("Commerce", ["Le marché est ouvert."]),
    "condamnations": ("Justice", ["Les condamnations se multiplient."]),
    "condamnation-caps": ("Réaction", ["Condamnation unanime du conseil."]),
    "ecole-caps": ("RENTRÉE", ["L’ECOLE ROUVRE LUNDI."]),
    # Proximity with word forms, in titles too.
    "heurts": ("Heurts", ["Des affrontements entre manifestants et la police."]),
    "greves": ("Grèves SNCF", ["Le trafic est perturbé."]),
    # Numbers.
    "space": ("Rassemblement", ["Près de 2 000 manifestants."]),
    "narrow": ("Cortège", ["Environ 2\u202f000 personnes."]),
    "dotted": ("Budget", ["Soit 2.000 euros."]),
    "scattered": ("Compteur", ["En 2 heures, le compteur est passé de 000 à 999."]),
    "decimal": ("Inflation", ["Une hausse de 2,5 % sur un an."]),
    "twenty-five": ("Anniversaire", ["Il a 25 ans."]),
    "year": ("Bilan", ["En 2019, 1 000 emplois."]),
    # Invisible characters.
    "soft-hyphen": ("Agenda du jour", ["C’est aujourd'\u00adhui le grand jour."]),
    "zero-width": ("Annonce", ["Le gouver\u200bnement a tranché."]),
    # Rare words, for fuzzy words.
    "rare": ("Antarctique", ["La glaciologue Stammerjohn a publié ses mesures."]),
    "retractes": ("Témoins", ["Les témoins se sont rétractés."]),
}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("french")
    Archive(path).add_articles([Article.from_record({"id": i, "title": t, "paragraphs": p, "date": "2020-01-01"})
                                for i, (t, p) in ARTICLES.items()])
    return path


def ids(home, query: str) -> set[str]:
    return {h.id for h in search(home, query, per_page=100).hits}


def marks(home, query: str) -> set[str]:
    """Return the marked words of every result paragraph and title."""
    found: set[str] = set()
    for hit in search(home, query, per_page=100).hits:
        for html in [p.html for p in hit.paragraphs] + [str(hit.title_html)]:
            found |= set(re.findall(r"<mark[^>]*>(.*?)</mark>", html))
    return found


def concordance(home, query: str) -> set[str]:
    """Return the keywords of a query's concordance lines."""
    engine = engine_for(home)
    return {line.match for line in kwic(engine, SearchRequest.build(query), per_page=200).lines}


@pytest.mark.parametrize("query, expected", [
    ("pécheur", {"pecheur-sin"}),
    ("pêcheurs", {"pecheurs"}),
    ("péché", {"peche-sin"}),
    ("pêché", {"peche-fished"}),
    ("pêche", {"peche-fishing"}),
    ("pèche", {"peche-sins"}),
    ("pécher", {"pecher"}),
    ("élève", {"eleve"}),
    ("élévation", {"elevation"}),
    ("côte", {"cote"}),
    ("côté", {"cote-side"}),
    ("mûr", {"mur-ripe"}),
])
def test_each_accent_is_a_letter_of_its_own(home, query, expected):
    assert ids(home, query) == expected


@pytest.mark.parametrize("query, expected", [
    ("évènement", {"evenement-grave", "evenement-acute"}),
    ("événement", {"evenement-grave", "evenement-acute"}),
    ("règlementaire", {"reglementaire-grave", "reglementaire-acute"}),
    ("réglementaire", {"reglementaire-grave", "reglementaire-acute"}),
    ("sècheresse", {"secheresse-grave", "secheresse-acute"}),
    ("sécheresse", {"secheresse-grave", "secheresse-acute"}),
    ("maîtresse", {"maitresse-hat", "maitresse-plain"}),
    ("coût", {"cout-hat", "cout-plain"}),
    ("connaître", {"connaitre-hat", "connaitre-plain"}),
    ("connaitre", {"connaitre-hat", "connaitre-plain"}),
])
def test_the_1990_reform_spellings_meet(home, query, expected):
    assert ids(home, query) == expected


def test_the_reform_alternation_is_only_where_the_reform_allows_it():
    assert accents_agree("évènement", "événement") and accents_agree("réglementation", "règlementation")
    assert not accents_agree("élève", "élévation") and not accents_agree("élévation", "élève")
    assert not accents_agree("pécher", "pèche") and not accents_agree("céder", "cède")
    assert accents_agree("cèdera", "cédera") and not accents_agree("événement", "èvénement")  # (é is no mute e)
    assert not accents_agree("pêche", "pèche") and not accents_agree("pêcheur", "pécheur")
    # No circumflex on i and u, but where it tells words apart.
    assert accents_agree("maîtresse", "maitresse") and accents_agree("maitrisé", "maîtrisé")
    assert not accents_agree("mûr", "mur") and not accents_agree("jeûne", "jeune") and not accents_agree("sûre", "sure")
    assert not accents_agree("fûtes", "futes") and accents_agree("goûtes", "goutes")
    assert not accents_agree("côte", "cote") and not accents_agree("âme", "ame")  # â and ô keep theirs
    # The tréma on the u it makes heard, and nowhere else.
    assert accents_agree("aiguë", "aigüe") and accents_agree("ambigüité", "ambiguïté")
    assert not accents_agree("aiguë", "aigue") and not accents_agree("maïs", "mais")


def test_an_accent_typed_in_the_stem_is_not_found_in_another_letter(tmp_path):
    # The stemmer reads maïs, Maya and Mayer all as ``mai``: only the letters decide.
    assert not accents_agree("maïs", "Maya") and not accents_agree("maïs", "Mayer")
    assert not accents_agree("maïs", "mai") and accents_agree("maïs", "MAI")  # an unaccented capital
    assert accents_agree("cité", "citant") and accents_agree("pêché", "pêchait")  # past the stem: inflection
    archive = Archive(tmp_path / "home")
    source = tmp_path / "mais.jsonl"
    source.write_text("\n".join(json.dumps({"id": i, "title": t, "paragraphs": [p]}, ensure_ascii=False)
                                for i, t, p in [("mais", "Récolte", "Les champs de maïs souffrent."),
                                                ("maya", "Mexique", "Les cités maya du Yucatán."),
                                                ("mayer", "Football", "Mayer a marqué deux buts.")]))
    archive.add([str(source)])
    found = search(archive, "maïs")
    assert {hit.id for hit in found.hits} == {"mais"}


@pytest.mark.parametrize("query, expected, marked", [
    ("cité", {"citant", "citant-caps", "cite"}, {"citant", "Citant", "cité"}),
    ("marché", {"marchant", "march", "marche"}, {"marchant", "March", "marché"}),
    ("condamné", {"condamnations", "condamnation-caps"}, {"condamnations", "Condamnation"}),
    ("école", {"ecole-caps", "maitresse-hat"}, {"ECOLE", "École"}),
])
def test_capitals_never_decide_a_match(home, query, expected, marked):
    assert ids(home, query) == expected
    assert marks(home, query) == marked
    assert concordance(home, query) == marked - {"École"}  # (the concordance reads paragraphs, not titles)


def test_the_same_word_matches_the_same_queries_in_lower_case_and_capitalised():
    for word in ["citant", "marchant", "condamnations", "élévation", "pêcheurs", "côté"]:
        for typed in ["cité", "marché", "condamné", "élève", "pêcheur", "côte", "côté", "pécheur"]:
            assert accents_agree(typed, word) == accents_agree(typed, word.capitalize()), (typed, word)


@pytest.mark.parametrize("query", ["manifestant NEAR/3 police", "police PRES/3 manifestant",
                                   '"manifestant police"~3', "manifestants near/3 polices"])
def test_proximity_reads_word_forms(home, query):
    assert ids(home, query) == {"heurts"}
    assert marks(home, query) == concordance(home, query) == {"manifestants", "police"}


def test_proximity_finds_titles_and_keeps_typed_accents(home):
    assert ids(home, "grève NEAR/5 SNCF") == {"greves"}
    assert marks(home, "grève NEAR/5 SNCF") == {"Grèves", "SNCF"}
    assert ids(home, "pêche NEAR/3 ligne") == {"peche-fishing"}
    assert ids(home, "pèche NEAR/3 ligne") == set()
    assert ids(home, "manifestant NEAR/1 police") == set()  # « manifestants et la police »: 3 apart
    node = parse_query("manifestant NEAR/3 police").root
    assert isinstance(node, Near) and node.slop == 3 and [w.text for w in node.words] == ["manifestant", "police"]


@pytest.mark.parametrize("query", ["2 000", "2000", "2.000", '"2 000"', "2\u00a0000", "2\u202f000"])
def test_a_numbers_digit_groups_are_one_number(home, query):
    assert ids(home, query) == {"space", "narrow", "dotted"}
    assert marks(home, query) == {"2 000", "2\u202f000", "2.000"}
    assert concordance(home, query) == {"2 000", "2\u202f000", "2.000"}


def test_decimals_and_years_stay_as_printed(home):
    assert ids(home, "2,5") == {"decimal"}
    assert ids(home, "25") == {"twenty-five"}
    assert ids(home, "2019") == ids(home, "1000") == {"year"}
    assert ids(home, "000") == {"scattered"}
    assert [FRENCH.word(t).exact for t in tokens("en 2019, 1 000 et 12 345 678 ou 2,5 ; 1,2,3 le 192.168.1.1")] == [
        "en", "2019", "1000", "et", "12345678", "ou", "2,5", "1", "2", "3", "le", "192", "168", "1", "1"]
    assert join_numbers("2 000 date:2019..2020 « 1\u202f000,5 »") == "2000 date:2019..2020 « 1000,5 »"


@pytest.mark.parametrize("text", ["aujourd'\u00adhui", "aujourd\u00ad'hui", "aujour\u200bd’hui",
                                  "\u2060aujourd’\u200dhui", "aujourd’\ufeffhui"])
def test_invisible_characters_are_ignored_wherever_they_sit(home, text):
    assert [FRENCH.word(t).exact for t in tokens(text)] == ["aujourd'hui"]
    assert ids(home, text) == ids(home, "aujourd'hui") == {"soft-hyphen"}
    assert ids(home, "gouvernement") == {"zero-width"}


def test_fuzzy_words_reach_every_word_of_the_archive(home):
    assert ids(home, "Stammerjohn~") == ids(home, "Stammerjohn") == {"rare"}
    assert ids(home, "Stamerjohn~") == {"rare"}
    assert "retractes" in [t for r in search(home, "retraittes~2").explain for t in r.terms]
    assert ids(home, "retraittes~2") == {"retractes"}
    assert ids(home, "glaciologue~") == {"rare"}  # a word typed exactly finds itself
    assert ids(home, "zzqxw~2") == set()


def test_fuzzy_words_in_the_seed_alone(seeded):
    # « Kingsoft » and « mondialisation » are printed once in the seed's one article.
    for word in ["Kingsoft", "mondialisation", "Xiaomi"]:
        assert search(seeded.home, word + "~").total_articles == search(seeded.home, word).total_articles == 1
    for typo in ["Kingsfot~", "mondialisatoin~2"]:
        assert search(seeded.home, typo).total_articles == 1
