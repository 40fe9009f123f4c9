#!/usr/bin/env bash
# Compare tvtts' synthesis speed with the reference runtime (piper-tts 1.8.0 + onnxruntime).
#
#   bash bench/compare_piper.sh
#
# Environment: RUNS (default 5), THREADS (default "1 2"), TEXTS (default "S M L": bench/texts/*.txt),
# VOICE (default assets/voices/en_US-joe-medium.onnx), SKIP_BUILD=1 (use the existing
# target/release/tvtts), TVTTS (path of the tvtts binary), PIPER_ONLY=1 (time the reference
# runtime only), TVTTS_CPU_LEVEL=avx2|portable (pins tvtts' kernels below what the CPU has, to
# measure another machine's path; onnxruntime has no such switch and keeps its own).
#
# 1. Creates bench/.venv with the pinned bench/requirements.txt (idempotent: reinstalls only when
#    that file changes).
# 2. cargo build --release, and checks that target/release/tvtts has the `bench` subcommand.
# 3. For each text and thread count: bench/piper_time.py phonemizes the text once with piper and
#    times only session.run per sentence (onnxruntime intra-op threads = T, inter-op 1,
#    sequential, noise 0), 1 warm-up run, median of RUNS runs of the whole text; then
#    `tvtts bench --voice V --text-file F --runs RUNS --threads T --json` does the same in tvtts.
# 4. Prints a markdown table and writes bench/results.json (bench/report.py).
# Run it on a quiet machine: anything else running (a cargo build) skews both columns.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-5}"
THREADS="${THREADS:-1 2}"
TEXTS="${TEXTS:-S M L}"
VOICE="${VOICE:-assets/voices/en_US-joe-medium.onnx}"
source bench/common.sh

[ -s "$VOICE" ] || die "$VOICE not found (run: bash scripts/setup.sh)"
[ -s "$VOICE.json" ] || die "$VOICE.json not found (run: bash scripts/setup.sh)"
for x in $TEXTS; do [ -s "bench/texts/$x.txt" ] || die "bench/texts/$x.txt not found"; done

# --- 1. reference runtime venv ---------------------------------------------------------------
ensure_venv

# --- 2. tvtts ----------------------------------------------------------------------------------
[ "${PIPER_ONLY:-0}" = 1 ] || ensure_tvtts bench

# --- 3. timings ----------------------------------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
"$VENV/bin/python" - "$tmp/meta.json" "$RUNS" "$VOICE" "$(nproc)" "$cpu" $THREADS -- $TEXTS <<'PY'
import json, sys
out, runs, voice, cpus, cpu, *rest = sys.argv[1:]
i = rest.index("--")
json.dump({"runs": int(runs), "voice": voice, "cpus": int(cpus), "cpu": cpu,
           "threads": [int(t) for t in rest[:i]], "texts": rest[i + 1:]}, open(out, "w"))
PY

for x in $TEXTS; do
    for t in $THREADS; do
        echo "compare_piper: $x, $t thread(s): piper" >&2
        "$VENV/bin/python" bench/piper_time.py --voice "$VOICE" --text-file "bench/texts/$x.txt" \
            --threads "$t" --runs "$RUNS" --json > "$tmp/piper_${x}_${t}.json"
        if [ "${PIPER_ONLY:-0}" != 1 ]; then
            echo "compare_piper: $x, $t thread(s): tvtts" >&2
            "$TVTTS" bench --voice "$VOICE" --text-file "bench/texts/$x.txt" \
                --runs "$RUNS" --threads "$t" --json > "$tmp/tvtts_${x}_${t}.json" \
                || die "tvtts bench failed on $x with $t thread(s)"
            "$VENV/bin/python" -c 'import json,sys; d=json.load(open(sys.argv[1])); d["total"]["synth_s"]' \
                "$tmp/tvtts_${x}_${t}.json" 2>/dev/null \
                || die "tvtts bench --json did not print the expected JSON on stdout (see $TVTTS bench --help)"
        fi
    done
done

# --- 4. report ----------------------------------------------------------------------------------
"$VENV/bin/python" bench/report.py "$tmp" bench/results.json
echo "compare_piper: wrote bench/results.json" >&2
