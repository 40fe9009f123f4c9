#!/usr/bin/env bash
# Whole-process speed against the reference: `piper` (piper-tts 1.8.0's CLI, onnxruntime) and
# `tvtts say`, each run as a fresh process on a long passage and on a one-word text, alternated;
# the one-word run's time (start-up, model load, phonemizer set-up) is subtracted from the long
# one's, so what is compared is the synthesis of the passage as a user runs it.
#
#   bash bench/whole_process.sh
#
# Environment: RUNS (default 5, median of them), TEXT (default bench/texts/L.txt and XL.txt
# joined, ~30 s of audio), VOICE (default assets/voices/en_US-joe-medium.onnx), SKIP_BUILD=1,
# TVTTS_CPU_LEVEL (pins tvtts' kernels, see README). Both use their default threads (onnxruntime:
# all cores; tvtts: the physical cores) and noise 0. Prints one line per run and the ratio
# tvtts/piper of the medians.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-5}"
VOICE="${VOICE:-assets/voices/en_US-joe-medium.onnx}"
source bench/common.sh

[ -s "$VOICE" ] || die "$VOICE not found (run: bash scripts/setup.sh)"
ensure_venv
ensure_tvtts say

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${TEXT:-}" ]; then cp "$TEXT" "$tmp/long.txt"; else cat bench/texts/L.txt bench/texts/XL.txt > "$tmp/long.txt"; fi
echo "Hello." > "$tmp/word.txt"

# Seconds of wall time of one command.
wall() {
    local t0=$EPOCHREALTIME
    "$@" > /dev/null 2>&1 || die "failed: $*"
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.4f", b - a }'
}
piper_run() { "$VENV/bin/piper" -m "$VOICE" -i "$1" -f "$tmp/p.wav" --noise-scale 0 --noise-w-scale 0; }
tvtts_run() { "$TVTTS" say --voice "$VOICE" --text-file "$1" --noise-scale 0 --noise-w 0 --out "$tmp/t.wav"; }

# One warm-up of each on the passage (page cache; its WAV gives the audio length), then RUNS
# alternated rounds.
piper_run "$tmp/long.txt" > /dev/null 2>&1; tvtts_run "$tmp/long.txt" > /dev/null 2>&1
cp "$tmp/t.wav" "$tmp/long.wav"
: > "$tmp/times"
for i in $(seq "$RUNS"); do
    pl=$(wall piper_run "$tmp/long.txt"); pw=$(wall piper_run "$tmp/word.txt")
    tl=$(wall tvtts_run "$tmp/long.txt"); tw=$(wall tvtts_run "$tmp/word.txt")
    echo "$pl $pw $tl $tw" >> "$tmp/times"
    printf 'run %d: piper long %.2f s, word %.2f s; tvtts long %.2f s, word %.2f s\n' "$i" "$pl" "$pw" "$tl" "$tw"
done
python3 - "$tmp/times" "$tmp/long.wav" <<'PY'
import statistics, sys, wave
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
p = statistics.median(r[0] - r[1] for r in rows)
t = statistics.median(r[2] - r[3] for r in rows)
with wave.open(sys.argv[2]) as w:
    audio = w.getnframes() / w.getframerate()
print(f"passage minus one word (medians): piper {p:.2f} s, tvtts {t:.2f} s, for {audio:.1f} s of audio; ratio tvtts/piper {t / p:.2f}")
PY
