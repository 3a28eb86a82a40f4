#!/usr/bin/env bash
# Builds everything without starting anything (docs/CONTRACT.md "Build outputs"): the native
# `huntglass` binary, the browser wasm and its JS bindings (js/pkg), the JS bundle (widget.js) and
# the Python package's assets (the wasm and its VERSION hash in widgets/src/huntglass/static) and the
# engines' module hg_kernel.wasm (run by the Python package through wasmtime, and in the browser by
# the widgets that run operations).
# Honours CARGO_TARGET_DIR (default: target/ in the checkout) and HG_CARGO_PROFILE (default release).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# The native profile: release for the demo and benchmarks; scripts/test.sh picks `ci` (release
# with LLVM at opt-level 1, see Cargo.toml) because a cold build is most of a CI run.
PROFILE="${HG_CARGO_PROFILE:-release}"

STATIC_DIR="widgets/src/huntglass/static"
say() { printf 'build: %s\n' "$*"; }

say "native: cargo build --profile $PROFILE -p hg_cli (target dir $CARGO_TARGET_DIR)"
cargo build --profile "$PROFILE" -p hg_cli

# The engines' module, run by wasmtime in the kernel and downloaded by browser widgets that run
# operations: `-C strip=symbols` drops the 0.9 MB name section (no wasm-bindgen here, so nothing
# needs it; the profile cannot strip for all crates because wasm-bindgen needs target_features).
# Built for speed (profile kernel-release: opt-level 3, and wasm SIMD, which wasmtime and current
# browsers run): about 2x the throughput of "z" for +20% raw / +12% gzip (bench/ioc/results/kernel.md).
# The flag goes through the target-specific variable and the profile has its own directory, so it
# never touches the browser build's artifacts.
say "kernel wasm: cargo rustc --profile kernel-release --target wasm32-unknown-unknown -p hg_kernel (+simd128) -- -C strip=symbols -> $STATIC_DIR/hg_kernel.wasm"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" \
  cargo rustc --profile kernel-release --target wasm32-unknown-unknown -p hg_kernel -- -C strip=symbols
mkdir -p "$STATIC_DIR"
cp "$CARGO_TARGET_DIR/wasm32-unknown-unknown/kernel-release/hg_kernel.wasm" "$STATIC_DIR/hg_kernel.wasm"

say "browser wasm: cargo build --profile wasm-release --target wasm32-unknown-unknown -p hg_wasm"
cargo build --profile wasm-release --target wasm32-unknown-unknown -p hg_wasm
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

say "done: $CARGO_TARGET_DIR/$PROFILE/huntglass, $STATIC_DIR/widget.js, $STATIC_DIR/hg_wasm_bg.wasm (wasm hash $wasm_hash)"
