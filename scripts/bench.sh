#!/usr/bin/env bash
# `make bench`: installs what is missing, builds everything, then runs every benchmark under bench/
# (each `bench/*_bench.py` with the project venv; the reference runs in .venv-ref). Each writes its
# results table under bench/results/ (commit those after a run).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

bash scripts/setup.sh
bash scripts/build.sh

shopt -s nullglob
benches=(bench/*_bench.py)
if ((${#benches[@]} == 0)); then
  echo "bench: no bench/*_bench.py found" >&2
  exit 1
fi
for bench in "${benches[@]}"; do
  printf '\n==> %s\n' "$bench"
  .venv/bin/python "$bench"
done
printf '\nbench: results in bench/results/\n'
