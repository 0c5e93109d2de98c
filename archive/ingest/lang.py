"""Language: which language an item is written in, so that a non-French one is stored marked.

The archive's analysis is French; an English dispatch in a feed is accepted and
stored with ``lang`` set (``en``), never refused. The guess counts the most
frequent function words of seven languages in the first few thousand
characters: cheap (a few microseconds an article, no model to load) and sure
enough on news text, where those words are a tenth of all words. When the text
is too short to tell, the language the source declares (``<html lang>``, a
feed's ``<language>``) stands, else French.
"""

from __future__ import annotations

import re

from ..identity import Incoming

__all__ = ["language", "marked"]

_WORDS = {
    "fr": "le la les des du un une et est dans pour que qui sur pas par avec ce cette il elle ils sont au aux "
          "ont été plus mais ses leur nous vous",
    "en": "the and of to in is that for on with was are as by this it from be have has not which were their",
    "de": "der die das und ist nicht mit sich auf für von dem den zu ein eine auch wird sind nach bei",
    "es": "el los las del que en por con para una es se no lo como más pero sus fue este está",
    "it": "il della che di per non con una sono del gli anche più alla nel dei delle è stato",
    "pt": "o os da do que em para com não uma se por mais como ao das dos foi pelo está",
    "nl": "de het een van en is dat op te zijn niet met voor die ook als bij worden werd",
}
_INDEX: dict[str, list[str]] = {}
for _lang, _words in _WORDS.items():
    for _word in _words.split():
        _INDEX.setdefault(_word, []).append(_lang)
_WORD_RE = re.compile(r"[^\W\d_]+")
#: Function words needed to trust the guess over what the source declares.
MIN_HITS = 8


def language(text: str, declared: str | None = None) -> str:
    """Return the two-letter language of ``text`` (``fr`` when nothing tells otherwise)."""
    counts: dict[str, int] = {}
    for word in _WORD_RE.findall(text[:5000].lower()):
        for lang in _INDEX.get(word, ()):
            counts[lang] = counts.get(lang, 0) + 1
    if counts:
        best = max(counts, key=lambda lang: counts[lang])
        if counts[best] >= MIN_HITS:
            return best
    code = (declared or "").strip().lower().replace("_", "-").split("-")[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else "fr"


def marked(item: Incoming, where: str) -> Incoming:
    """Return the item, with a note saying so when it is not in French (it is stored all the same)."""
    lang = item.article.lang
    if lang != "fr":
        item.notes.append(f"{where}: written in {lang!r}, not French: stored, marked lang={lang}")
    return item
