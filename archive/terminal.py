"""Terminal: what the command line prints, safe for a terminal and readable.

Stored text is printed as text, never obeyed: an article whose title holds an
escape sequence (``\\x1b]0;…``) or a bidi override shows it escaped
(:func:`terminal_safe`); the spans a search matched are shown in bold
(:func:`styled`), the terminal's counterpart of the web UI's ``<mark>``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import click

from .search.highlight import Spans

__all__ = ["terminal_safe", "styled", "to_json", "plural"]

#: What a terminal would act on rather than show: C0 controls but tab and newline,
#: DEL, C1 controls, bidi overrides and isolates, and lone surrogates.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def plural(count: int, one: str, many: str | None = None) -> str:
    """Return ``1 article``, ``2 articles``: the count with its noun agreed."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def styled(text: str, spans: Spans, color: bool) -> str:
    """Return ``text`` safe for a terminal, its matched spans in bold when ``color``."""
    if not color:
        return terminal_safe(text)
    out, pos = [], 0
    for start, end in spans:
        out += [terminal_safe(text[pos:start]), click.style(terminal_safe(text[start:end]), bold=True)]
        pos = end
    return "".join(out) + terminal_safe(text[pos:])


def terminal_safe(text: str) -> str:
    """Return ``text`` with the characters a terminal would obey (ESC, BEL, C1, bidi) shown escaped."""
    return _CONTROL_RE.sub(lambda m: _escape(m.group()), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def to_json(data: Any, indent: int | None = None) -> str:
    """Return JSON for a terminal: readable accents, but no raw C1 or bidi controls."""
    # json.dumps escapes C0 itself; the others, escaped the same way, stay valid JSON.
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return _CONTROL_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
