# Shared by the bench/*.sh scripts (sourced, not run): the reference runtime's venv and the
# tvtts release binary.
#   VENV (default bench/.venv), TVTTS (default target/release/tvtts), SKIP_BUILD=1

VENV="${VENV:-bench/.venv}"
TVTTS="${TVTTS:-target/release/tvtts}"

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# Creates $VENV with the pinned bench/requirements.txt (reinstalls only when that file changes).
ensure_venv() {
    local want
    want=$(sha256sum bench/requirements.txt | cut -d' ' -f1)
    if [ ! -x "$VENV/bin/python" ]; then
        echo "$(basename "$0"): creating $VENV" >&2
        python3 -m venv "$VENV"
    fi
    if [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
        echo "$(basename "$0"): installing bench/requirements.txt into $VENV" >&2
        "$VENV/bin/python" -m pip install -q -r bench/requirements.txt
        echo "$want" > "$VENV/.requirements.sha256"
    fi
}

# Builds the release binary (unless SKIP_BUILD=1) and checks it has subcommand $1.
ensure_tvtts() {
    if [ "${SKIP_BUILD:-0}" != 1 ]; then
        echo "$(basename "$0"): cargo build --release" >&2
        cargo build --release >&2
    fi
    [ -x "$TVTTS" ] || die "$TVTTS not found (cargo build --release failed?)"
    "$TVTTS" "$1" --help >/dev/null 2>&1 || die "$TVTTS has no '$1' subcommand"
}
