"""Checking: the live index's files and segments verified, and what it holds compared with the store.

``archive check`` (and its repair) rests on :func:`compare`: it reports the
articles the index lacks (``missing``), holds but the store does not
(``extra``) or holds in an older version (``stale``), and damage to the index's
files, ``serious`` when only a rebuild repairs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ArchiveError
from .indexing import IndexDir
from .integrity import READ_ERRORS, verify_files, verify_segments
from .store import Store

__all__ = ["CheckReport", "compare"]


@dataclass
class CheckReport:
    """Differences between store and index, by article id, and damage to the index itself."""

    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    damage: list[str] = field(default_factory=list)
    repaired: bool = False
    #: Whether the damage needs a rebuild (files differ from what was committed).
    serious: bool = field(default=False, repr=False)

    @property
    def ok(self) -> bool:
        """Tell whether store and index agree and the index is sound."""
        return not (self.missing or self.extra or self.stale or self.damage)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {"ok": self.ok, "missing": self.missing, "extra": self.extra, "stale": self.stale,
                "damage": self.damage, "repaired": self.repaired}


def compare(index_dir: IndexDir, store: Store) -> CheckReport:
    """Verify the live index's files and segments and compare what it holds with the store."""
    rows = {r.id: r for r in store.rows()}
    try:
        return _compare_index(index_dir, rows)
    except ArchiveError:
        raise
    except Exception as exc:
        # Whatever a damaged file makes the reading raise (a bad pickle, "Block tag error"):
        # one line of damage, and a repair rebuilds.
        report = CheckReport(serious=True)
        report.damage = [f"index: unreadable ({type(exc).__name__}: {str(exc)[:200]})"]
        return report


def _compare_index(index_dir: IndexDir, rows: dict[str, Any]) -> CheckReport:
    report = CheckReport()
    if not index_dir.exists():
        report.missing = sorted(rows)
        current = index_dir.current_file
        what = ("index/CURRENT: unreadable, or names no generation" if current.exists()
                and index_dir.current_name() is None else
                "index: missing (never built, or of an older format)")
        report.damage = [f"{what}; run `archive check --repair`"]
        report.serious = True
        return report
    folder = index_dir.path / str(index_dir.current_name())
    files = verify_files(folder)
    report.damage = [str(p) for p in files]
    report.serious = any(p.serious for p in files)
    if any(p.kind == "missing" for p in files):
        return report  # its segment cannot open; the damage is known, a rebuild repairs it
    try:
        ix = index_dir.open()
    except READ_ERRORS as exc:
        report.damage.append(f"index: cannot be opened ({type(exc).__name__}: {exc})")
        report.serious = True
        return report
    try:
        problems, blocks, hashes, aids = verify_segments(ix)
    finally:
        ix.close()
    report.damage += [str(p) for p in problems]
    if problems:
        report.serious = True
        return report  # what an unreadable segment holds is unknown: no per-article list
    keys = {r.id: r.aid for r in rows.values()}
    wrong_keys = sorted(i for i, seen in aids.items() if i in keys and seen != {keys[i]})
    if wrong_keys:
        report.serious = True
        report.damage.append(f"index: aid column disagrees with the store for {len(wrong_keys)} "
                             f"articles ({', '.join(wrong_keys[:5])})")
    report.missing = sorted(set(rows) - set(blocks))
    report.extra = sorted(set(blocks) - set(rows))
    report.stale = sorted(
        i for i in set(rows) & set(blocks)
        if hashes.get(i) != rows[i].hash or blocks[i] != rows[i].nblocks)
    return report
