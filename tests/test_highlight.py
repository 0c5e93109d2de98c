"""The highlighter: spans found from the text split at its words equal a word-by-word reading."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from archive.analysis import FRENCH, WORD_RE
from archive.query import parse_query
from archive.search.highlight import Marks, merge_spans


def _marks(query: str) -> Marks:
    return Marks.of(parse_query(query).root, FRENCH)


def _word_by_word(marks: Marks, text: str) -> tuple[tuple[int, int], ...]:
    """Return the spans as read one word at a time (the highlighter before it split texts)."""
    spans, tokens = [], []
    for m in WORD_RE.finditer(text):
        start, cut, exact = marks.judge(m.group())
        if start >= 0:
            spans.append((m.start() + start, m.end()))
        tokens.append((m.start() + cut, m.end(), exact))
    for phrase in marks.phrases:
        k = len(phrase)
        for i in range(len(tokens) - k + 1):
            if all(tokens[i + j][2] == phrase[j] for j in range(k)):
                spans.append((tokens[i][0], tokens[i + k - 1][1]))
    return merge_spans(spans)


def test_words_phrases_and_elisions_are_marked_as_printed():
    text = "L’État d’urgence freine les investissements de l'État."
    assert _marks('investir "état d\'urgence"').spans(text) == ((2, 16), (28, 43))
    assert _marks("état").spans(text) == ((2, 6), (49, 53))
    assert _marks("kangourou").spans(text) == ()


def test_acronyms_split_as_the_chain_reads_them():
    assert _marks("ONU").spans("L'O.N.U. et l’ONU.") == ((2, 8), (14, 17))


@given(st.lists(st.sampled_from(["la", "La", "France", "FRANCE", "l’État", "état", "d’urgence", "urgence",
                                 "cœur", "coeur", "élection", "ÉLECTION", "O.N.U.", "ONU", "sûr", "SUR",
                                 "investissements", "e\u0301tat", "gouver\u00adnement", "«", ",", ".", "'"]),
                max_size=30),
       st.lists(st.sampled_from([" ", "", "\u00a0", "\n", "-"]), min_size=30, max_size=30))
def test_any_text_gets_the_spans_of_a_word_by_word_reading(words, gaps):
    text = "".join(w + g for w, g in zip(words, gaps))
    for query in ["France", '"état d\'urgence" urgence', "élection", '"la la"', "cœur", "sûr", "ONU",
                  "invest*", "gouvernement"]:
        assert _marks(query).spans(text) == _word_by_word(_marks(query), text), (query, text)


def test_a_window_starts_at_a_word_never_inside_one():
    from archive.search.highlight import FRAGMENT_CHARS, clip

    text = "Le Parisien révèle jeudi " + "x " * 160 + "les retraites."
    first = text.index("retraites")
    start, _ = clip(text, ((first, first + 9),))
    assert start == 0 or text[start - 1] == " "
    # The window would start on the paragraph's second letter, with no space before it: at its beginning.
    short = "Le " + "a" * 117 + " retraites" + " mot" * 60
    assert len(short) > FRAGMENT_CHARS and short.index("retraites") == FRAGMENT_CHARS // 3 + 1
    assert clip(short, ((121, 130),))[0] == 0
