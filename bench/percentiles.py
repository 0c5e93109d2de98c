"""The percentiles the benchmarks report, computed as the peer harness computes them (nearest rank).

The median is ``statistics.median_low``: the nearest-rank p50 is the lower of the two middle
values. ``statistics.quantiles`` has no nearest-rank method (it interpolates), so p95 stays
written out here, once, to keep every figure comparable with the harness's.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def p50(values: Sequence[float]) -> float:
    """Return the nearest-rank median (the lower middle value), NaN when there are none."""
    return statistics.median_low(values) if values else math.nan


def p95(values: Sequence[float]) -> float:
    """Return the nearest-rank 95th percentile: the smallest value with 95 % of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else math.nan
