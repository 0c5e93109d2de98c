"""« Essayez : » — query examples built from the archive's own headlines.

The examples teach the syntax with words the archive is about: its most
frequent meaningful headline words (five letters or more, no function word)
and its most frequent two-word headline phrase (``"gilets jaunes"``), not the
words of whichever article came last. They are counted once per store
generation, over every title (a fraction of a second for 18,000 articles).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise

from flask import current_app

from archive import Archive
from archive.analysis import STOP_WORDS, fold, words

__all__ = ["headline_terms", "examples"]

_FORMS = ('"{phrase}"', "{word} OR {other}", "{word} -{third}", "titre:{word}", "date:{year}")
MIN_LETTERS = 5
#: Frequent in headlines, yet no subject: adverbs and prepositions outside the stop words.
_HEADLINE_FILLERS = frozenset(fold(w) for w in (
    "après", "avant", "contre", "selon", "depuis", "entre", "pendant", "encore", "toujours", "comme", "aussi",
    "alors", "quand", "moins", "toute", "toutes", "faire", "veut", "peuvent", "doit", "deux", "trois",
    "premier", "première", "nouveau", "nouvelle", "nouveaux", "nouvelles", "grand", "grande", "petit", "petite",
    "plusieurs", "quelques", "dernier", "dernière", "ainsi", "enfin", "mieux", "hier", "aujourd", "demain"))
_KEY = "archive-examples"


def _meaningful(word: str) -> bool:
    key = fold(word.lower())
    return len(word) >= MIN_LETTERS and word.isalpha() and key not in STOP_WORDS and key not in _HEADLINE_FILLERS


def headline_terms(titles: Iterable[str]) -> tuple[list[str], list[str]]:
    """Return the headlines' meaningful words and two-word phrases, most frequent first, as most often printed.

    Each counts once per headline; ties go to the word met first.
    """
    counts: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    printed: dict[str, Counter[str]] = {}
    for title in titles:
        # An elided article is no part of the word: « l'Assemblée » counts as « Assemblée ».
        tokens = [w.replace("’", "'").rsplit("'", 1)[-1] for w in words(title)]
        # A word in capitals is a label (« VIDÉO », « DIRECT »), not a subject.
        kept = [w if _meaningful(w) and not w.isupper() else "" for w in tokens]
        for w in dict.fromkeys(w for w in kept if w):
            counts[w.lower()] += 1
            printed.setdefault(w.lower(), Counter())[w] += 1
        for a, b in dict.fromkeys(pairwise(kept)):
            if a and b and a.lower() != b.lower():
                pairs[(a, b)] += 1
    top = [printed[w].most_common(1)[0][0] for w, _ in counts.most_common(50)]
    phrases = [f"{a} {b}" for (a, b), _ in pairs.most_common(10)]
    return top, phrases


def examples(archive: Archive, years: list[tuple[str, int]]) -> list[str]:
    """Return the clickable examples of the archive's home page (none without three headline words)."""
    generation = archive.store.generation()
    cache: dict[str, tuple[int, tuple[list[str], list[str]]]] = current_app.extensions.setdefault(_KEY, {})
    found = cache.get(str(archive.home))
    if found is None or found[0] != generation:
        with _LOCK:
            found = (generation, headline_terms(row.title for row in archive.store.rows()))
            cache[str(archive.home)] = found
    top, phrases = found[1]
    if len(top) < 3:
        return []
    phrase = phrases[0] if phrases else f"{top[0]} {top[1]}"
    year = max(years, key=lambda yc: yc[1])[0] if years else "2020"
    return [form.format(word=top[0], other=top[1], third=top[2], phrase=phrase, year=year) for form in _FORMS]


_LOCK = threading.Lock()
