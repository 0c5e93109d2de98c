"""The catalogs: every message translated in French and English, placeholders intact."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from webui.i18n import TRANSLATIONS


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", text))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_message_is_translated_with_its_placeholders(lang):
    with (Path(TRANSLATIONS) / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    assert not catalog.obsolete
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), message.id
        expected = _placeholders(ids[-1])
        for s in strings:
            # A plural form may leave out the number ("l’article" for one), never add a name.
            assert _placeholders(s) <= expected | {"num"}, (message.id, s)
