#!/usr/bin/env bash
# Time to first audio against sentence length: for each line of a text file (one sentence per
# line), the reference runtime's whole-sentence time and `tvtts bench-stream`'s TTFA, alternated
# in the same run, and their ratio (issue: TTFA ≤ 0.10 of the reference's whole sentence, for
# sentences of 1 to 30 s of audio).
#
#   bash bench/ttfa_lengths.sh
#
# Environment: TEXT (default bench/texts/lengths.txt), THREADS (default 2), RUNS (timed runs per
# measurement, default 5), REPS (alternated measurements per line, default 3), VOICE, SKIP_BUILD=1,
# TVTTS (see bench/common.sh). Prints a markdown table: per line the audio length, the median of
# REPS for each time, and the ratio's median and range over the REPS.
set -euo pipefail
cd "$(dirname "$0")/.."

TEXT="${TEXT:-bench/texts/lengths.txt}"
THREADS="${THREADS:-2}"
RUNS="${RUNS:-5}"
REPS="${REPS:-3}"
VOICE="${VOICE:-assets/voices/en_US-joe-medium.onnx}"
source bench/common.sh

[ -s "$VOICE" ] || die "$VOICE not found (run: bash scripts/setup.sh)"
[ -s "$TEXT" ] || die "$TEXT not found"
ensure_venv
ensure_tvtts bench-stream

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
while IFS= read -r line || [ -n "$line" ]; do
    [ -n "$line" ] || continue
    n=$((n + 1))
    printf '%s\n' "$line" > "$tmp/line_$n.txt"
    for r in $(seq "$REPS"); do
        echo "ttfa_lengths.sh: line $n, measurement $r of $REPS" >&2
        "$VENV/bin/python" bench/piper_time.py --voice "$VOICE" --text-file "$tmp/line_$n.txt" \
            --threads "$THREADS" --runs "$RUNS" --json > "$tmp/piper_${n}_$r.json"
        "$TVTTS" bench-stream --voice "$VOICE" --text-file "$tmp/line_$n.txt" --threads "$THREADS" \
            --runs "$RUNS" --json > "$tmp/stream_${n}_$r.json"
    done
done < "$TEXT"
python3 - "$tmp" "$n" "$REPS" "$THREADS" <<'PY'
import json, statistics, sys
tmp, n, reps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
print(f"| audio s | reference whole ms | tvtts TTFA ms | TTFA / reference whole: median (range over {reps}) |")
print("|---|---|---|---|")
for i in range(1, n + 1):
    ref, ttfa, ratio = [], [], []
    for r in range(1, reps + 1):
        p = json.load(open(f"{tmp}/piper_{i}_{r}.json"))
        s = json.load(open(f"{tmp}/stream_{i}_{r}.json"))
        ref.append(p["total"]["synth_s"] * 1e3)
        ttfa.append(s["ttfa_ms"])
        ratio.append(s["ttfa_ms"] / ref[-1])
        audio = s["audio_s"]
    print(f"| {audio:.2f} | {statistics.median(ref):.0f} | {statistics.median(ttfa):.1f} | "
          f"{statistics.median(ratio):.3f} ({min(ratio):.3f}–{max(ratio):.3f}) |")
print(f"\n{threads} thread(s); each time the median of its runs, the reference's timed alternately in the same run.")
PY
