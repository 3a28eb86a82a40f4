#!/usr/bin/env bash
# Builds everything without starting anything (docs/CONTRACT.md "Build outputs"): the native
# `huntglass` binary, the browser wasm and its JS bindings (js/pkg), the JS bundle (widget.js) and
# the Python package's assets (the wasm and its VERSION hash in widgets/src/huntglass/static) and the
# engines' module hg_kernel.wasm (run by the Python package through wasmtime, and in the browser by
# the widgets that run operations).
# Honours CARGO_TARGET_DIR (default: target/ in the checkout) and HG_CARGO_PROFILE (default release).
#
# The three cargo builds (native, kernel wasm, browser wasm) and the install of wasm-bindgen-cli
# when it is missing run at the same time: each profile has its own directory in the target dir, so
# cargo makes none of them wait for another, and the stretches where one build runs a single job (a
# big crate, a link with one codegen unit) leave the second core to the others. Each one's output
# goes to a log printed when it ends.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# The native profile: release for the demo and benchmarks; scripts/test.sh picks `ci` (release
# semantics, our crates at opt-level 1 and most dependencies at 0, see Cargo.toml) because a cold
# build is most of a CI run.
PROFILE="${HG_CARGO_PROFILE:-release}"

STATIC_DIR="widgets/src/huntglass/static"
say() { printf 'build: %s\n' "$*"; }

LOG_DIR="$(mktemp -d)"
declare -A job_pids=() job_started=()
on_exit() {
  local status=$?
  for name in "${!job_pids[@]}"; do
    kill "${job_pids[$name]}" 2>/dev/null || true
  done
  rm -rf "$LOG_DIR"
  exit "$status"
}
trap on_exit EXIT

# Starts a named job in the background, its output going to its log.
start() {
  local name="$1"
  shift
  say "$name: $*"
  "$@" >"$LOG_DIR/$name.log" 2>&1 &
  job_pids[$name]=$!
  job_started[$name]=$SECONDS
}

# Waits for a named job; prints its log's last lines when it succeeded, the whole log when it failed.
finish() {
  local name="$1" status=0
  wait "${job_pids[$name]}" || status=$?
  unset 'job_pids[$name]'
  if ((status != 0)); then
    cat "$LOG_DIR/$name.log" >&2
    say "$name FAILED (exit $status)" >&2
    return "$status"
  fi
  tail -n 2 "$LOG_DIR/$name.log"
  say "$name done in $((SECONDS - job_started[$name]))s"
}

# The engines' module, run by wasmtime in the kernel and downloaded by browser widgets that run
# operations: `-C strip=symbols` drops the 0.9 MB name section (no wasm-bindgen here, so nothing
# needs it; the profile cannot strip for all crates because wasm-bindgen needs target_features).
# Built for speed (profile kernel-release: opt-level 3, and wasm SIMD, which wasmtime and current
# browsers run): about 2x the throughput of "z" for +20% raw / +12% gzip (bench/ioc/results/kernel.md).
# The flag goes through the target-specific variable and the profile has its own directory, so it
# never touches the browser build's artifacts.
build_kernel_wasm() {
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" \
    cargo rustc --profile kernel-release --target wasm32-unknown-unknown -p hg_kernel -- -C strip=symbols
}

# In release, the IoC engine inside is optimised from a training run's profile (scripts/pgo.sh).
if [[ "$PROFILE" == release ]]; then
  start native bash scripts/pgo.sh cargo build --release -p hg_cli
else
  start native cargo build --profile "$PROFILE" -p hg_cli
fi
start kernel-wasm build_kernel_wasm
start browser-wasm cargo build --profile wasm-release --target wasm32-unknown-unknown -p hg_wasm
start wasm-bindgen-cli bash scripts/setup.sh wasm-bindgen

finish wasm-bindgen-cli
finish browser-wasm
say "wasm-bindgen --target web -> js/pkg"
wasm-bindgen --target web --remove-name-section --remove-producers-section \
  --out-dir js/pkg "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/hg_wasm.wasm"

say "JS bundle: node js/build.mjs"
node js/build.mjs

say "Python assets -> $STATIC_DIR"
mkdir -p "$STATIC_DIR"
cp js/pkg/hg_wasm_bg.wasm "$STATIC_DIR/hg_wasm_bg.wasm"
wasm_hash="$(sha256sum "$STATIC_DIR/hg_wasm_bg.wasm" | cut -c1-16)"
printf '%s\n' "$wasm_hash" >"$STATIC_DIR/VERSION"

finish kernel-wasm
cp "$CARGO_TARGET_DIR/wasm32-unknown-unknown/kernel-release/hg_kernel.wasm" "$STATIC_DIR/hg_kernel.wasm"
say "kernel wasm -> $STATIC_DIR/hg_kernel.wasm"

finish native
say "done: $CARGO_TARGET_DIR/$PROFILE/huntglass, $STATIC_DIR/widget.js, $STATIC_DIR/hg_wasm_bg.wasm (wasm hash $wasm_hash), $STATIC_DIR/hg_kernel.wasm"
