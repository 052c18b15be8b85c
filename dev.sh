#!/usr/bin/env bash
# One entry point for a fresh machine: finds Python >= 3.12, builds .venv, installs whatif, then
#   ./dev.sh demo   - demo data -> fitted demo model (once) -> planner app
#   ./dev.sh test   - the whole test suite, browser tests included
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"

say() { printf '\033[1m[whatif]\033[0m %s\n' "$*" >&2; }
die() { printf '[whatif] error: %s\n' "$*" >&2; exit 1; }

is_py312() { "$@" -c 'import sys; raise SystemExit(sys.version_info < (3, 12))' >/dev/null 2>&1; }

find_python() {
    if [ -n "${WHATIF_PYTHON:-}" ]; then
        is_py312 "$WHATIF_PYTHON" && { echo "$WHATIF_PYTHON"; return; }
        die "WHATIF_PYTHON=$WHATIF_PYTHON is not Python >= 3.12"
    fi
    local c
    for c in python3.12 python3.13 python3.14 python3; do
        if command -v "$c" >/dev/null 2>&1 && is_py312 "$c"; then command -v "$c"; return; fi
    done
    # pyenv keeps interpreters it does not select for this folder under its root.
    local root="${PYENV_ROOT:-$HOME/.pyenv}"
    for c in "$root"/versions/3.1[2-9]*/bin/python3; do
        if [ -x "$c" ] && is_py312 "$c"; then echo "$c"; return; fi
    done
    if command -v uv >/dev/null 2>&1; then
        c=$(uv python find '>=3.12' 2>/dev/null || true)
        [ -n "$c" ] && { echo "$c"; return; }
    fi
    die "no Python >= 3.12 found. Install one (e.g. 'pyenv install 3.12' or your package manager) or set WHATIF_PYTHON=/path/to/python3.12"
}

setup_venv() {
    if [ ! -x "$VENV/bin/python" ] || ! is_py312 "$VENV/bin/python"; then
        local py; py=$(find_python)
        say "creating .venv with $py ($("$py" --version 2>&1))"
        rm -rf "$VENV"
        "$py" -m venv "$VENV"
    fi
    local stamp="$VENV/.whatif-installed" want
    want=$(cat pyproject.toml | sha256sum | cut -c1-16)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "installing whatif and its dependencies into .venv (first run takes a few minutes)"
        local log="$VENV/install.log"
        { "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip \
            && "$VENV/bin/python" -m pip install --disable-pip-version-check -e ".[dev]"; } >"$log" 2>&1 \
            || { tail -n 30 "$log" >&2; die "installing dependencies failed (full log: $log)"; }
        echo "$want" > "$stamp"
    fi
    export PATH="$VENV/bin:$PATH"
}

apt_install() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    command -v apt-get >/dev/null 2>&1 || die "$* missing and apt-get is not available: install them with your package manager"
    say "installing $* with apt-get"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null \
        || die "could not install $* with apt-get"
}

ensure_pdf_libs() {
    # weasyprint (PDF briefs) needs Pango and at least one font family
    if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0'; then
        apt_install libpango-1.0-0 libpangoft2-1.0-0 fonts-liberation
    fi
}

ensure_chromium() {
    command -v chromium >/dev/null 2>&1 || apt_install chromium
}

cmd=${1:-demo}
shift || true
case "$cmd" in
    demo)
        setup_venv
        ensure_pdf_libs
        exec "$VENV/bin/whatif" demo "$@"
        ;;
    test)
        setup_venv
        ensure_pdf_libs
        ensure_chromium
        export WHATIF_CHROMIUM="$(command -v chromium)"
        "$VENV/bin/ruff" check --quiet whatif apps tests benchmarks
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    *)
        die "unknown command '$cmd': use './dev.sh demo' or './dev.sh test'"
        ;;
esac
