#!/bin/sh
# Interleaved before/after latency of the harness's queries (bench/sparse_latency.py), one JSON line per run.
#   git worktree add --detach /tmp/sp-base <commit before>; sh bench/sparse_interleave.sh HOME OUT.jsonl [REPS] [ROUNDS]
# BASE (default /tmp/sp-base) is the tree before, this checkout the tree after; both use this .venv.
home=$1; out=$2; reps=${3:-5}; rounds=${4:-2}; base=${BASE:-/tmp/sp-base}
here=$(cd "$(dirname "$0")/.." && pwd)
for r in $(seq "$rounds"); do
  for v in base new; do
    if [ $v = base ]; then root=$base; else root=$here; fi
    line=$(cd / && PYTHONPATH=$root nice -n 10 "$here/.venv/bin/python" "$here/bench/sparse_latency.py" "$root" "$home" "$reps" | tail -1)
    echo "{\"v\": \"$v\", \"round\": $r, \"home\": \"$home\", \"r\": $line}" >> "$out"
  done
done
