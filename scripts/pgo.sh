#!/usr/bin/env bash
# Runs a release cargo command with the IoC engine (crate hg_ioc) built by profile-guided
# optimisation: `bash scripts/pgo.sh cargo build --release -p hg_cli`. Used by scripts/build.sh for
# the native `huntglass` and by the IoC benchmarks for their native binaries, so what is measured
# is what ships.
#
# 1. builds the training example (crates/hg_ioc/examples/pgo_train.rs) with hg_ioc instrumented,
#    in a target dir of its own ($CARGO_TARGET_DIR/pgo/target: an instrumented hg_ioc never
#    reaches the release dir);
# 2. runs it on a generated corpus (bench/ioc/gen_corpus.py, seed 3: not the benchmark's seed 11)
#    and on the inputs of the shared cases (tests/cases/ioc), and merges the profile;
# 3. runs the command with a rustc wrapper (scripts/pgo_rustc.sh) that gives hg_ioc alone
#    `-Cprofile-use`, so nothing else rebuilds. Cargo does not see the wrapper's flag, so when the
#    profile changed, or hg_ioc was built since without it, hg_ioc is cleaned first.
# The profile is about 7% of the engine's time (bench/ioc/results/speed.md). Without llvm-profdata
# (rustup component llvm-tools, added here when missing), or with HG_PGO=0, or when RUSTC_WRAPPER
# is already set, the command runs as given, with a line saying so.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
say() { printf 'pgo: %s\n' "$*" >&2; }

if [[ "${1:-}" != cargo || " $* " != *" --release "* ]]; then
  say "usage: bash scripts/pgo.sh cargo <build|run|...> --release [cargo arguments]"
  exit 2
fi
shift

plain() {
  say "$1: building without profile-guided optimisation"
  exec cargo "$@"
}
[[ "${HG_PGO:-1}" == 0 ]] && plain "HG_PGO=0" "$@"
[[ -n "${RUSTC_WRAPPER:-}" ]] && plain "RUSTC_WRAPPER is set ($RUSTC_WRAPPER)" "$@"

host="$(rustc -vV | sed -n 's/^host: //p')"
profdata_tool="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [[ ! -x "$profdata_tool" ]]; then
  say "rustup component add llvm-tools"
  rustup component add llvm-tools >&2 || true
fi
[[ -x "$profdata_tool" ]] || plain "no llvm-profdata (rustup component llvm-tools)" "$@"

PGO_DIR="$CARGO_TARGET_DIR/pgo"
TRAIN_TARGET="$PGO_DIR/target"
PROFILE="$PGO_DIR/hg_ioc.profdata"
mkdir -p "$PGO_DIR"

# Cargo does not see the wrapper's flags either: a changed wrapper or driver rebuilds hg_ioc.
wrapper_id="$(cat scripts/pgo.sh scripts/pgo_rustc.sh | sha256sum | cut -c1-16)"
if [[ "$(cat "$PGO_DIR/training-wrapper" 2>/dev/null)" != "$wrapper_id" ]]; then
  CARGO_TARGET_DIR="$TRAIN_TARGET" cargo clean --release -q -p hg_ioc
fi
say "training build: hg_ioc instrumented, example pgo_train"
export HG_PGO_FIXED_CRATE=hg_ioc HG_PGO_FIXED_METADATA=huntglass-pgo
RUSTC_WRAPPER="$ROOT/scripts/pgo_rustc.sh" HG_PGO_CRATES="hg_ioc pgo_train" \
  HG_PGO_FLAGS="-Cprofile-generate=$PGO_DIR/raw" CARGO_TARGET_DIR="$TRAIN_TARGET" \
  cargo build --release -q -p hg_ioc --example pgo_train
printf '%s\n' "$wrapper_id" >"$PGO_DIR/training-wrapper"

corpus="$PGO_DIR/train-seed3.txt"
if [[ ! -s "$corpus" ]]; then
  python3 bench/ioc/gen_corpus.py --seed 3 --bytes 1000000 \
    --out "$PGO_DIR/train-seed3.jsonl" --text-out "$corpus" >/dev/null
fi
rm -rf "$PGO_DIR/raw"
mkdir -p "$PGO_DIR/raw"
say "training run: $(basename "$corpus") and tests/cases/ioc"
LLVM_PROFILE_FILE="$PGO_DIR/raw/train-%p.profraw" \
  "$TRAIN_TARGET/release/examples/pgo_train" "$corpus" tests/cases/ioc >&2
"$profdata_tool" merge -o "$PROFILE.new" "$PGO_DIR/raw"

# What the release dir's hg_ioc was last built from: the profile and the rlib it produced.
release_rlibs() { ls -l --time-style=+%s.%N "$CARGO_TARGET_DIR"/release/deps/libhg_ioc-*.rlib 2>/dev/null || true; }
stamp() { printf '%s\n%s\n%s\n' "$wrapper_id" "$(sha256sum <"$PROFILE" | cut -c1-64)" "$(release_rlibs)"; }
if cmp -s "$PROFILE.new" "$PROFILE" && [[ -f "$PGO_DIR/applied" ]] && [[ "$(stamp)" == "$(cat "$PGO_DIR/applied")" ]]; then
  rm "$PROFILE.new"
else
  mv "$PROFILE.new" "$PROFILE"
  say "new profile: cargo clean --release -p hg_ioc (it and what depends on it rebuild)"
  cargo clean --release -q -p hg_ioc
fi

RUSTC_WRAPPER="$ROOT/scripts/pgo_rustc.sh" HG_PGO_CRATES="hg_ioc" \
  HG_PGO_FLAGS="-Cprofile-use=$PROFILE" cargo "$@"
stamp >"$PGO_DIR/applied"

# LLVM matches the profile to functions by symbol name (see scripts/pgo_rustc.sh): check that the
# release hg_ioc's symbols are the training build's, instead of shipping an unoptimised engine quietly.
hg_ioc_symbols() { nm --defined-only "$1" 2>/dev/null | grep -o '_ZN6hg_ioc[0-9A-Za-z_$.]*' | sort -u || true; }
if command -v nm >/dev/null; then
  release_rlib=""
  for rlib in "$CARGO_TARGET_DIR"/release/deps/libhg_ioc-*.rlib; do
    [[ -e "$rlib" ]] || continue
    if [[ -z "$release_rlib" || "$rlib" -nt "$release_rlib" ]]; then release_rlib="$rlib"; fi
  done
  if [[ -z "$(comm -12 <(hg_ioc_symbols "$TRAIN_TARGET/release/examples/pgo_train") <(hg_ioc_symbols "$release_rlib"))" ]]; then
    say "WARNING: the profile did not apply: $release_rlib shares no hg_ioc symbol with the training build"
  fi
fi
