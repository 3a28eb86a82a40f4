#!/usr/bin/env bash
# rustc wrapper for scripts/pgo.sh: adds the profile flags in HG_PGO_FLAGS to the crates named in
# HG_PGO_CRATES (space-separated) and runs every other crate's compile unchanged, so profile-guided
# optimisation reaches the IoC engine without touching how DataFusion, arrow and the rest build.
#
# LLVM finds a function's profile by its symbol name, whose hash comes from the crate's
# `-C metadata`. Cargo derives that value from the build's dependency graph, and the small
# training build and the `huntglass` build resolve it differently (regex-automata gets other
# features; hg_ioc's file hash differs), so nothing guarantees they agree. The lib crate named in
# HG_PGO_FIXED_CRATE therefore gets the fixed `-C metadata=$HG_PGO_FIXED_METADATA` instead of
# cargo's, in the training build and in the optimised one alike (one hg_ioc per binary: no two
# can collide).
set -euo pipefail
rustc="$1"
shift
crate=""
previous=""
for arg in "$@"; do
  if [[ "$previous" == "--crate-name" ]]; then
    crate="$arg"
    break
  fi
  previous="$arg"
done
if [[ -z "$crate" || " ${HG_PGO_CRATES:-} " != *" $crate "* ]]; then
  exec "$rustc" "$@"
fi
if [[ "$crate" != "${HG_PGO_FIXED_CRATE:-}" ]]; then
  # shellcheck disable=SC2086 # the flags are a list
  exec "$rustc" "$@" ${HG_PGO_FLAGS:-}
fi
args=()
while (($# > 0)); do
  if [[ "$1" == -C && "${2:-}" == metadata=* ]]; then
    shift 2
  elif [[ "$1" == -Cmetadata=* ]]; then
    shift
  else
    args+=("$1")
    shift
  fi
done
# shellcheck disable=SC2086 # the flags are a list
exec "$rustc" "${args[@]}" -C "metadata=$HG_PGO_FIXED_METADATA" ${HG_PGO_FLAGS:-}
