"""Check the project's structure: no import cycle, no module over 450 lines, Whoosh fenced, tests public.

Run ``python tools/check_structure.py [ROOT]`` (the project's root by default): it prints one line per
finding and exits 1 when there is any (0 and ``structure: ok`` otherwise). Three rules
(issue 21, and the engineering rules of the README):

- **No import cycle** in ``archive/`` and ``webui/``. Imports are read from the source
  (no module is run), and reported in two graphs: the imports a module runs when it is
  loaded (``module-level``; imports under ``if TYPE_CHECKING:`` are never run and left
  out), and those plus the imports inside functions (``function-level``), since a cycle
  hidden in a function is still two modules that need each other.
- **No module over 450 lines** in ``archive/`` and ``webui/``.
- **Whoosh's internals only in archive/whoosh_internals/**: outside it, in ``archive/``,
  ``webui/``, ``tests/``, ``bench/`` and ``tools/``, no import of a Whoosh module other
  than the public ones below, no imported name starting with ``_``, and no attribute or
  keyword argument named after a private name Whoosh defines (``_added``, ``_lk``…,
  read from the installed Whoosh) unless the project defines that name itself.
- **Tests through public names**: no file of ``tests/`` imports a ``_name`` (or a ``_module``)
  of ``archive/`` or ``webui/``, reads an attribute named after a private name they define,
  or names one in a string (``monkeypatch.setattr(module, "_name", …)``).
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("archive", "webui")
SCANNED = ("archive", "webui", "tests", "bench", "tools")
FENCE = Path("archive") / "whoosh_internals"
MAX_LINES = 450
# Whoosh's documented API: what an application built on Whoosh is meant to import.
PUBLIC_WHOOSH = {"whoosh", "whoosh.index", "whoosh.fields", "whoosh.analysis", "whoosh.lang", "whoosh.qparser",
                 "whoosh.query", "whoosh.searching", "whoosh.scoring", "whoosh.writing", "whoosh.sorting",
                 "whoosh.highlight", "whoosh.collectors"}


def python_files(folder: Path) -> Iterator[Path]:
    """Yield the Python files under a folder, in a stable order."""
    yield from sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def parse(path: Path) -> ast.Module:
    """Parse a file, quiet about old escapes (Whoosh 2.7 has ``"\\g<1>"`` strings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(path.read_text(encoding="utf-8"), str(path))


def module_name(path: Path, root: Path) -> str:
    """Return the dotted name of a project file (``archive/search/__init__.py`` is ``archive.search``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_type_checking(node: ast.If) -> bool:
    """Say whether an ``if`` is ``if TYPE_CHECKING:`` (its imports are never run)."""
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Yield each run import with whether it runs when the module loads (not inside a function)."""
    def walk(node: ast.AST, top: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, top
            elif isinstance(child, ast.If) and is_type_checking(child):
                yield from walk(ast.Module(body=child.orelse, type_ignores=[]), top)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                yield from walk(child, False)
            else:
                yield from walk(child, top)
    yield from walk(tree, True)


def targets(node: ast.Import | ast.ImportFrom, name: str, is_package: bool, known: set[str]) -> set[str]:
    """Return the project modules an import statement of module ``name`` loads."""
    if isinstance(node, ast.Import):
        found = {alias.name for alias in node.names}
    else:
        base = node.module or ""
        if node.level:
            anchor = name.split(".") if is_package else name.split(".")[:-1]
            anchor = anchor[:len(anchor) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        found = {f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names}
    return {m for m in found if m in known}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components of more than one module (or one importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def import_cycles(root: Path) -> list[str]:
    """Return one line per import cycle among the modules of archive/ and webui/."""
    files = {module_name(p, root): p for package in PACKAGES for p in python_files(root / package)}
    known = set(files)
    loaded: dict[str, set[str]] = {m: set() for m in known}
    everywhere: dict[str, set[str]] = {m: set() for m in known}
    for name, path in files.items():
        tree = parse(path)
        for node, top in imports(tree):
            found = targets(node, name, path.name == "__init__.py", known) - {name}
            everywhere[name] |= found
            if top:
                loaded[name] |= found
    lines = [f"import cycle (module-level): {' <-> '.join(c)}" for c in cycles(loaded)]
    lines += [f"import cycle (function-level): {' <-> '.join(c)}" for c in cycles(everywhere)
              if c not in cycles(loaded)]
    return lines


def long_modules(root: Path) -> list[str]:
    """Return one line per module of archive/ and webui/ over MAX_LINES lines."""
    lines = []
    for package in PACKAGES:
        for path in python_files(root / package):
            count = len(path.read_text(encoding="utf-8").splitlines())
            if count > MAX_LINES:
                lines.append(f"module over {MAX_LINES} lines: {path.relative_to(root)} ({count})")
    return lines


def defined_private_names(files: list[Path]) -> set[str]:
    """Return the ``_names`` the given files define: functions, classes, attributes, variables."""
    names: set[str] = set()
    for path in files:
        for node in ast.walk(parse(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def outside_fence(root: Path) -> list[Path]:
    """Return the scanned files outside the Whoosh fence, this checker's own file left out."""
    fence = root / FENCE
    return [p for folder in SCANNED if (root / folder).is_dir() for p in python_files(root / folder)
            if fence not in p.parents and p != Path(__file__).resolve()]


def imported(node: ast.AST) -> list[str]:
    """Return the module names an import statement names (none for other nodes)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return [node.module or "", *(alias.name for alias in node.names)]
    return []


def whoosh_leaks(root: Path) -> list[str]:
    """Return one line per use of a private Whoosh name outside archive/whoosh_internals/."""
    spec = importlib.util.find_spec("whoosh")
    if spec is None or not spec.submodule_search_locations:
        return ["whoosh is not installed: the fence cannot be checked"]
    files = outside_fence(root)
    whoosh_private = defined_private_names(list(python_files(Path(spec.submodule_search_locations[0]))))
    private = whoosh_private - defined_private_names(files)
    lines: list[tuple[str, int, str]] = []
    for path in files:
        where = path.relative_to(root)
        tree = parse(path)
        # Attributes are looked at only where Whoosh's objects can be (OpenSearch has its `_source`).
        near_whoosh = any("whoosh" in name for node in ast.walk(tree) for name in imported(node))
        for node in ast.walk(tree):
            said = ""
            if isinstance(node, ast.Import):
                said = ", ".join(a.name for a in node.names
                                 if a.name.split(".")[0] == "whoosh" and a.name not in PUBLIC_WHOOSH)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "whoosh":
                if node.module not in PUBLIC_WHOOSH:
                    said = str(node.module)
                else:
                    said = ", ".join(f"{node.module}.{a.name}" for a in node.names
                                     if a.name.startswith("_") or (f"{node.module}.{a.name}" not in PUBLIC_WHOOSH
                                     and node.module == "whoosh"))
            elif isinstance(node, ast.Attribute) and near_whoosh and node.attr in private:
                said = node.attr
            elif isinstance(node, ast.keyword) and near_whoosh and node.arg in private:
                said = f"{node.arg}="
            if said:
                lines.append((str(where), getattr(node, "lineno", 0), said))
    return [f"private Whoosh name outside {FENCE}: {where}:{line}: {said}" for where, line, said in sorted(set(lines))]


def private_in_tests(root: Path) -> list[str]:
    """Return one line per private name of archive/ or webui/ that a file of tests/ reads."""
    ours = defined_private_names([p for package in PACKAGES for p in python_files(root / package)])
    files = list(python_files(root / "tests")) if (root / "tests").is_dir() else []
    private = ours - defined_private_names(files)
    lines: list[tuple[str, int, str]] = []
    for path in files:
        where = path.relative_to(root)
        for node in ast.walk(parse(path)):
            said = ""
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    names = [f"{node.module}.{alias.name}" for alias in node.names] if node.module else []
                said = ", ".join(n for n in names if n.split(".")[0] in PACKAGES and any(
                    part.startswith("_") and not part.startswith("__") for part in n.split(".")))
            elif isinstance(node, ast.Attribute) and node.attr in private:
                said = node.attr
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    node.value in private or (node.value.split(".")[0] in PACKAGES and any(
                        part.startswith("_") and not part.startswith("__") for part in node.value.split(".")))):
                said = node.value  # monkeypatch.setattr(module, "_name", ...) or ("archive.x._y.z", ...)
            if said:
                lines.append((str(where), getattr(node, "lineno", 0), said))
    return [f"private name read by a test: {where}:{line}: {said}" for where, line, said in sorted(set(lines))]


def findings(root: Path = ROOT) -> list[str]:
    """Return one line per breach of the four rules in the project at ``root``."""
    return import_cycles(root) + long_modules(root) + whoosh_leaks(root) + private_in_tests(root)


def main() -> int:
    """Print every finding and return 1 when there is any."""
    found = findings(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT)
    for line in found:
        print(line)
    if not found:
        print("structure: ok (no import cycle, no module over 450 lines, no private Whoosh name outside the fence, "
              "no private name read by a test)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
