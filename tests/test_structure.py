"""tools/check_structure.py: no import cycle, no module over 450 lines, Whoosh fenced, tests through public names."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

TOOL = Path(__file__).resolve().parent.parent / "tools" / "check_structure.py"


def load_tool() -> ModuleType:
    """Load tools/check_structure.py, a script outside any package."""
    spec = importlib.util.spec_from_file_location("check_structure", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_project_keeps_its_structure():
    done = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stdout, done.stderr) == (
        0, "structure: ok (no import cycle, no module over 450 lines, no private Whoosh name outside the fence, "
           "no private name read by a test)\n", "")


def test_each_breach_is_found_and_said_in_one_line(tmp_path):
    files = {
        "archive/__init__.py": "",
        "archive/a.py": "from archive import b\n_hidden = 1\n",
        "archive/b.py": "def f():\n    from . import a\n    return a\n",
        "archive/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from archive import long\n",
        "archive/long.py": "from archive import typed\n" + "x = 1\n" * 450,
        "archive/whoosh_internals/__init__.py": "from whoosh.codec import base\nix = None\nix._read_toc()\n",
        "webui/__init__.py": "",
        "webui/c.py": "import webui.d\n",
        "webui/d.py": "from webui.c import thing\n",
        "tests/test_x.py": "from whoosh import index, codec\nfrom whoosh.filedb.structfile import StructFile\n"
                           "index.open_dir('x')._read_toc()\n",
        "bench/b.py": "from elsewhere import search\nsearch(_source=1)\n",
        "tests/test_y.py": "import archive.a\nfrom archive.whoosh_internals import _writing\nprint(archive.a._hidden)\n"
                           "monkeypatch.setattr(archive.a, '_hidden', 2)\nmonkeypatch.setattr('archive._x.y', 2)\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    fence = "private Whoosh name outside archive/whoosh_internals"
    assert load_tool().findings(tmp_path) == [
        "import cycle (module-level): webui.c <-> webui.d",
        "import cycle (function-level): archive.a <-> archive.b",
        "module over 450 lines: archive/long.py (451)",
        f"{fence}: tests/test_x.py:1: whoosh.codec",
        f"{fence}: tests/test_x.py:2: whoosh.filedb.structfile",
        f"{fence}: tests/test_x.py:3: _read_toc",
        "private name read by a test: tests/test_y.py:2: archive.whoosh_internals._writing",
        "private name read by a test: tests/test_y.py:3: _hidden",
        "private name read by a test: tests/test_y.py:4: _hidden",
        "private name read by a test: tests/test_y.py:5: archive._x.y",
    ]
