#!/usr/bin/env bash
# Streaming engine benchmarks, against the reference runtime (piper-tts 1.8.0 + onnxruntime)
# timed in the same run.
#
#   bash bench/stream.sh
#
# Environment: RUNS (default 5), THREADS (default "1 2"), TEXTS (default "S M L"), SPEAKERS
# (default "1,4,8,12,16"), CONC_TEXT (default L), VOICE, SKIP_BUILD=1, TVTTS (see bench/common.sh).
#
# 1. Latency and overhead, for each text and thread count: bench/piper_time.py times the
#    reference's whole-sentence synthesis; `tvtts bench-stream` times, in one process, time to
#    first audio (request → first sample in the ring buffer), streamed synthesis to the last
#    sample, and whole-sentence synthesis. Ratios: TTFA / reference whole time, streamed /
#    whole (the streaming overhead).
# 2. Concurrency: `tvtts bench-stream --speakers $SPEAKERS` starts K requests of CONC_TEXT at
#    once (default engine: one worker per core) and plays each in real time through a simulated
#    device, counting underruns.
# Prints markdown tables and writes bench/stream_results.json (bench/stream_report.py).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-5}"
THREADS="${THREADS:-1 2}"
TEXTS="${TEXTS:-S M L}"
SPEAKERS="${SPEAKERS:-1,4,8,12,16}"
CONC_TEXT="${CONC_TEXT:-L}"
VOICE="${VOICE:-assets/voices/en_US-joe-medium.onnx}"
source bench/common.sh

[ -s "$VOICE" ] || die "$VOICE not found (run: bash scripts/setup.sh)"
ensure_venv
ensure_tvtts bench-stream

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for x in $TEXTS; do
    for t in $THREADS; do
        echo "stream.sh: $x, $t thread(s)" >&2
        "$VENV/bin/python" bench/piper_time.py --voice "$VOICE" --text-file "bench/texts/$x.txt" \
            --threads "$t" --runs "$RUNS" --json > "$tmp/piper_${x}_${t}.json"
        "$TVTTS" bench-stream --voice "$VOICE" --text-file "bench/texts/$x.txt" --threads "$t" \
            --runs "$RUNS" --json > "$tmp/stream_${x}_${t}.json"
    done
done
echo "stream.sh: $SPEAKERS speakers at once ($CONC_TEXT)" >&2
"$TVTTS" bench-stream --voice "$VOICE" --text-file "bench/texts/$CONC_TEXT.txt" --speakers "$SPEAKERS" \
    --json > "$tmp/concurrency.json"
python3 bench/stream_report.py "$tmp" bench/stream_results.json "$TEXTS" "$THREADS" "$CONC_TEXT"
echo "stream.sh: wrote bench/stream_results.json" >&2
