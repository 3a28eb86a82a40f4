#!/usr/bin/env bash
# `make lab`: installs what is missing, builds everything, writes the built-in scenario to
# build/demo-data (HUNTGLASS_DEMO_DATA for the notebook) and starts JupyterLab on
# examples/overview.ipynb at 127.0.0.1 (port 8888, or LAB_PORT=...), printing the token URL.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
LAB_PORT="${LAB_PORT:-8888}"
DEMO_DATA="$ROOT/build/demo-data"

bash scripts/setup.sh
bash scripts/build.sh

printf 'lab: huntglass demo-data --out %s\n' "$DEMO_DATA"
mkdir -p "$DEMO_DATA"
"$CARGO_TARGET_DIR/release/huntglass" demo-data --out "$DEMO_DATA"
export HUNTGLASS_DEMO_DATA="$DEMO_DATA"

token="$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(24))')"
extra_args=()
if [[ "$(id -u)" -eq 0 ]]; then
  extra_args+=(--allow-root)
fi
printf '\nlab: open http://127.0.0.1:%s/lab/tree/examples/overview.ipynb?token=%s\n\n' "$LAB_PORT" "$token"
exec .venv/bin/jupyter lab --no-browser --ip=127.0.0.1 --port="$LAB_PORT" --ServerApp.port_retries=0 \
  --IdentityProvider.token="$token" --ServerApp.root_dir="$ROOT" "${extra_args[@]}" \
  examples/overview.ipynb
