#!/usr/bin/env bash
# `make test`: installs what is missing, builds everything, then runs every check and stops at the
# first failure, naming it: linters, Rust tests, JS unit tests, size budgets, then the browser
# tests (demo page, exported HTML, JupyterLab and Notebook 7) with the Python tests (pandas 3 and,
# when present, pandas 2) running beside them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# Native profile of the build and the Rust tests: `ci` (release semantics, our crates at LLVM
# opt-level 1, most dependencies at 0; Cargo.toml) unless HG_CARGO_PROFILE says otherwise. Tests
# time nothing; benchmarks use release.
export HG_CARGO_PROFILE="${HG_CARGO_PROFILE:-ci}"
export HUNTGLASS_BIN="$CARGO_TARGET_DIR/$HG_CARGO_PROFILE/huntglass"
# Half the debug info of test builds: faster and smaller on a 2-core machine.
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-0}"

started_all=$SECONDS
current_step=""
durations=()

on_exit() {
  local status=$?
  # A failed step leaves no background set-up or test suite running behind it.
  local pid
  for pid in "${python_setup_pid:-}" "${python_suites_pid:-}"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      pkill -TERM -P "$pid" 2>/dev/null || true
      kill "$pid" 2>/dev/null || true
    fi
  done
  if ((status != 0)) && [[ -n "$current_step" ]]; then
    printf '\nmake test: FAILED at step "%s" (exit %d) after %ds\n' "$current_step" "$status" $((SECONDS - started_all)) >&2
    # The steps that passed, with their durations: where a failed CI run spent its time.
    if ((${#durations[@]} > 0)); then
      printf '%s\n' "${durations[@]}" >&2
    fi
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

# Chromium, the venvs and the test data (downloads and unpacking, mostly) install in the
# background while the Rust build and the linters use the CPUs; the steps that need them wait.
python_setup_log="$(mktemp)"
step "setup (tools)" bash scripts/setup.sh tools
bash scripts/setup.sh tests >"$python_setup_log" 2>&1 &
python_setup_pid=$!
wait_for_python_setup() {
  local status=0
  wait "$python_setup_pid" || status=$?
  cat "$python_setup_log"
  rm -f "$python_setup_log"
  return "$status"
}
step "build" bash scripts/build.sh
step "shellcheck" shellcheck scripts/*.sh scripts/check_sizes .ci/run
step "cargo fmt --check" cargo fmt --all --check
# The build's profile: its build scripts and proc macros (C code of zstd and ring among them) are
# reused instead of built again for the dev profile.
step "cargo clippy" cargo clippy --workspace --all-targets --profile "$HG_CARGO_PROFILE" -- -D warnings
step "tsc --noEmit" npx --no-install tsc --noEmit
step "setup (chromium, venvs and test data, started before the build)" wait_for_python_setup
step "ruff check" .venv/bin/ruff check widgets tests bench
step "ruff format --check" .venv/bin/ruff format --check widgets tests bench
# The build's profile: the dependencies (DataFusion above all) are already built by
# scripts/build.sh, so the tests add only our own crates instead of a second full build.
step "cargo test" cargo test --workspace --profile "$HG_CARGO_PROFILE"
step "JS unit tests" npm run --silent test:js
step "size budgets" bash scripts/check_sizes
# The Python suites and the browser tests each keep about one of the two cores busy (they wait on
# servers, kernels and the browser much of the time), so they run side by side: the Python suites
# in the background, their output printed when the browser tests are done.
python_suites_log="$(mktemp)"
run_python_suites() {
  local started=$SECONDS
  run_pytest .venv
  printf '%5ds  pytest (.venv, pandas 3)\n' $((SECONDS - started))
  if [[ -x .venv-pd2/bin/python ]]; then
    started=$SECONDS
    run_pytest .venv-pd2
    printf '%5ds  pytest (.venv-pd2, pandas 2)\n' $((SECONDS - started))
  fi
}
run_python_suites >"$python_suites_log" 2>&1 &
python_suites_pid=$!
wait_for_python_suites() {
  local status=0
  wait "$python_suites_pid" || status=$?
  python_suites_pid=""
  cat "$python_suites_log"
  rm -f "$python_suites_log"
  return "$status"
}
step "browser and JupyterLab tests (the Python suites run beside them)" node --test --test-concurrency=1 tests/e2e/
step "pytest (.venv with pandas 3, then .venv-pd2 with pandas 2)" wait_for_python_suites

printf '\nmake test: all steps passed in %ds\n' $((SECONDS - started_all))
printf '%s\n' "${durations[@]}"
