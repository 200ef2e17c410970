# Shared by the side-by-side benchmarks: a Python ≥ 3.12 virtual
# environment of their own (bench/.venv, or $BENCH_VENV) with pyworkforce
# 0.5.4 and SimPy 4.1.2, and a release build of switchboard.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BENCH_VENV:-$ROOT/bench/.venv}"
OUT="$ROOT/bench/out"
mkdir -p "$OUT"

find_python() {
    local c
    for c in "$HOME"/.pyenv/versions/3.12*/bin/python3.12 "$HOME"/.pyenv/versions/3.13*/bin/python3.13 \
        "$(command -v python3.12 || true)" "$(command -v python3.13 || true)" "$(command -v python3 || true)"; do
        [ -n "$c" ] && [ -x "$c" ] || continue
        if "$c" -c 'import sys; sys.exit(0 if (3, 12) <= sys.version_info[:2] < (3, 15) else 1)' 2>/dev/null; then
            echo "$c"
            return 0
        fi
    done
    echo "error: pyworkforce 0.5.4 needs Python 3.12–3.14; none found (pyenv install 3.12 or apt-get install python3.12)" >&2
    return 1
}

setup_venv() {
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pyworkforce, simpy' 2>/dev/null; then
        local py
        py="$(find_python)"
        echo "bench: creating $VENV with $("$py" --version)" >&2
        "$py" -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check pyworkforce==0.5.4 simpy==4.1.2
    fi
    PY="$VENV/bin/python"
}

# $SWITCHBOARD_BIN: use that binary instead of building one.
build_switchboard() {
    if [ -n "${SWITCHBOARD_BIN:-}" ]; then
        SWITCHBOARD="$SWITCHBOARD_BIN"
        return
    fi
    echo "bench: cargo build --release -p switchboard" >&2
    (cd "$ROOT" && cargo build --release --quiet -p switchboard)
    SWITCHBOARD="${CARGO_TARGET_DIR:-$ROOT/target}/release/switchboard"
}
