#!/usr/bin/env bash
# `make demo`: installs what is missing, builds everything and starts `huntglass serve` on
# 127.0.0.1 (port 8765, or PORT=...) with the built-in scenario. Stop it with Ctrl-C.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PORT="${PORT:-8765}"

bash scripts/setup.sh
bash scripts/build.sh

printf 'demo: starting huntglass serve on http://127.0.0.1:%s/ (the server prints the exact URL below)\n' "$PORT"
exec "$CARGO_TARGET_DIR/release/huntglass" serve --port "$PORT"
