#!/usr/bin/env bash
# `make bench`: installs what is missing, builds everything, then runs every benchmark under bench/:
# each `bench/*_bench.py`, `bench/<area>/bench.py` and `bench/<area>/*_bench.py`, with the project
# venv, or with the reference venv (.venv-ref) when the script's usage line says
# `.venv-ref/bin/python`, and the IoC browser comparison (`bench/ioc/browser_bench.mjs`; the other
# browser benches are run by their area's bench.py). Each writes its results table under
# bench/results/ or bench/<area>/results/ (commit those after a run).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

bash scripts/setup.sh
bash scripts/build.sh

shopt -s nullglob
benches=(bench/*_bench.py bench/*/bench.py bench/*/*_bench.py)
if ((${#benches[@]} == 0)); then
  echo "bench: no bench/*_bench.py or bench/*/bench.py found" >&2
  exit 1
fi
failed=()
for bench in "${benches[@]}"; do
  python=.venv/bin/python
  if grep -q "\.venv-ref/bin/python $bench" "$bench"; then
    python=.venv-ref/bin/python
  fi
  printf '\n==> %s (%s)\n' "$bench" "$python"
  if ! "$python" "$bench"; then
    failed+=("$bench")
  fi
done
printf '\n==> bench/ioc/browser_bench.mjs (node)\n'
if ! { bash scripts/pgo.sh cargo build --release -q -p hg_ops --example ioc_throughput && node bench/ioc/browser_bench.mjs; }; then
  failed+=(bench/ioc/browser_bench.mjs)
fi
if ((${#failed[@]} > 0)); then
  printf '\nbench: FAILED: %s\n' "${failed[*]}" >&2
  exit 1
fi
printf '\nbench: all benchmarks ran; results under bench/results/ and bench/*/results/\n'
