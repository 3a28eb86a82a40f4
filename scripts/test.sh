#!/usr/bin/env bash
# `make test`: installs what is missing, builds everything, then runs every check in order and
# stops at the first failure, naming it: linters, Rust tests, JS unit tests, Python tests (pandas 3
# and, when present, pandas 2), size budgets, browser tests (demo page, exported HTML) and the
# JupyterLab test.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export HUNTGLASS_BIN="$CARGO_TARGET_DIR/release/huntglass"
# Half the debug info of test builds: faster and smaller on a 2-core machine.
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-0}"

started_all=$SECONDS
current_step=""
durations=()

on_exit() {
  local status=$?
  if ((status != 0)) && [[ -n "$current_step" ]]; then
    printf '\nmake test: FAILED at step "%s" (exit %d) after %ds\n' "$current_step" "$status" $((SECONDS - started_all)) >&2
  fi
}
trap on_exit EXIT

# Runs one named step, printing a banner before and its duration after.
step() {
  current_step="$1"
  shift
  printf '\n==> %s\n' "$current_step"
  local started=$SECONDS
  "$@"
  durations+=("$(printf '%5ds  %s' $((SECONDS - started)) "$current_step")")
  current_step=""
}

require_dir() {
  if [[ ! -d "$1" ]]; then
    printf 'missing: %s (%s)\n' "$1" "$2" >&2
    return 1
  fi
}

run_pytest() {
  local venv="$1"
  require_dir tests/python "the Python package's tests"
  "$venv/bin/python" -m pytest -q tests/python
}

step "setup" bash scripts/setup.sh
step "build" bash scripts/build.sh
step "shellcheck" shellcheck scripts/*.sh scripts/check_sizes .ci/run
step "cargo fmt --check" cargo fmt --all --check
step "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
step "tsc --noEmit" npx --no-install tsc --noEmit
step "ruff check" .venv/bin/ruff check widgets tests bench
step "ruff format --check" .venv/bin/ruff format --check widgets tests bench
# Release profile: the dependencies (DataFusion above all) are already built by scripts/build.sh,
# so the tests add only our own crates instead of a second full build in the dev profile.
step "cargo test" cargo test --workspace --release
step "JS unit tests" npm run --silent test:js
step "pytest (.venv, pandas 3)" run_pytest .venv
if [[ -x .venv-pd2/bin/python ]]; then
  step "pytest (.venv-pd2, pandas 2)" run_pytest .venv-pd2
fi
step "size budgets" bash scripts/check_sizes
step "browser and JupyterLab tests" node --test --test-concurrency=1 tests/e2e/

printf '\nmake test: all steps passed in %ds\n' $((SECONDS - started_all))
printf '%s\n' "${durations[@]}"
