#!/usr/bin/env bash
# tvtts on an NVIDIA GPU: build with `--features cuda`, check parity on the GPU, then benchmark.
# Needs a machine with an NVIDIA GPU and its driver (CUDA 13.0 or newer: driver >= 580); fails at
# once without one. Run `bash scripts/setup.sh --cuda` first (the build toolkit, in .cuda/).
#
#   bash bench/gpu.sh
#
# Environment: SKIP_BUILD=1, TVTTS (default target/release/tvtts), VOICE, RUNS (default 5),
# SPEAKERS (default 1,16,64), CONC_TEXT (default L), STREAM_RUNS (default 1), OUT_DIR (default
# out/gpu), TOLERANCE (1e-3).
#
# 1. Build: cargo build --release --features cuda (the toolkit comes in through .cargo/config.toml;
#    scripts/cuda_env.sh puts its libraries on LD_LIBRARY_PATH for the runs below).
# 2. Parity: `tvtts say --phonemes … --noise-scale 0 --noise-w 0 --float` of the fixture texts S, M,
#    L, XL (piper-tts' own phonemes from tests/fixtures/reference.json, so the check is of the
#    model alone and works in a `--no-default-features` build) on cuda (whole sentences, and
#    --stream) and on cpu from the same binary, each compared with the reference runtime's output
#    in tests/fixtures/ (bench/gpu_parity.py; tests/parity.rs checks the CPU against the same
#    fixtures at 3e-4). Same length and max abs difference <= TOLERANCE, or the script reports
#    FAILED, goes on with the benchmarks (a GPU is rarely lent) and exits 1 at the end.
# 3. `tvtts bench --device cuda` on S, M, L (whole-sentence synthesis, JSON), and `--device cpu`
#    on all cores of the same machine.
# 4. The reference runtime in the same run, where python3 has onnxruntime: bench/ort_time.py on
#    the fixture texts' ids, on the CPU with all cores (and on CUDAExecutionProvider if this
#    onnxruntime has it), then a table of ratios (bench/gpu_report.py).
# 5. `tvtts bench-stream --device cuda --speakers $SPEAKERS` on CONC_TEXT (concurrent speakers in
#    real time: underruns, time to first audio), STREAM_RUNS runs (each lasts the text's audio).
# Results (WAVs, JSON) go to $OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

VOICE="${VOICE:-assets/voices/en_US-joe-medium.onnx}"
RUNS="${RUNS:-5}"
SPEAKERS="${SPEAKERS:-1,16,64}"
CONC_TEXT="${CONC_TEXT:-L}"
STREAM_RUNS="${STREAM_RUNS:-1}"
OUT_DIR="${OUT_DIR:-out/gpu}"
TOLERANCE="${TOLERANCE:-1e-3}"
TVTTS="${TVTTS:-${CARGO_TARGET_DIR:-target}/release/tvtts}"
die() { echo "gpu.sh: $*" >&2; exit 1; }

# No GPU, no run: a `--features cuda` binary cannot even start without the driver's libcuda.so.1.
command -v nvidia-smi >/dev/null 2>&1 || die "no NVIDIA GPU here (nvidia-smi not found); this script needs one"
gpus=$(nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader 2>&1) \
    || die "no usable NVIDIA GPU here (nvidia-smi failed: $gpus)"
[ -n "$gpus" ] || die "no NVIDIA GPU here (nvidia-smi lists none)"
echo "gpu.sh: GPU: $gpus" >&2
[ -s "$VOICE" ] || die "$VOICE not found (run: bash scripts/setup.sh --cuda)"

if [ -f .cuda/cargo-env.toml ]; then
    source scripts/cuda_env.sh
else
    # No .cuda/: the CUDA libraries from the system, or from a Python environment's NVIDIA wheels.
    py_libs=$(python3 -c 'import glob, nvidia, os; print(":".join(sorted({os.path.dirname(p) for d in nvidia.__path__ for p in glob.glob(os.path.join(d, "*", "lib", "lib*.so*"))})))' 2>/dev/null || true)
    [ -n "$py_libs" ] && export LD_LIBRARY_PATH="$py_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    if [ "${SKIP_BUILD:-0}" != 1 ] && ! command -v nvcc >/dev/null 2>&1 && [ -z "${NVCC:-}" ]; then
        die "no CUDA toolkit to build with: run bash scripts/setup.sh --cuda (or put a CUDA toolkit's nvcc on PATH)"
    fi
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    echo "gpu.sh: cargo build --release --features cuda" >&2
    cargo build --release --features cuda >&2
fi
[ -x "$TVTTS" ] || die "$TVTTS not found (cargo build --release --features cuda failed?)"
missing=$(ldd "$TVTTS" | grep 'not found' || true)
[ -z "$missing" ] || die "$TVTTS cannot find its libraries (source scripts/cuda_env.sh?):
$missing"

mkdir -p "$OUT_DIR"
texts=$(python3 -c 'import json,sys; print(" ".join(t["name"] for t in json.load(open(sys.argv[1]))["texts"]))' \
    tests/fixtures/reference.json)
pairs=()
for x in $texts; do
    # piper-tts' phonemes of the fixture, one sentence per line (`say --phonemes` splits there).
    python3 -c 'import json,sys; t = next(t for t in json.load(open(sys.argv[1]))["texts"] if t["name"] == sys.argv[2]); print("\n".join(s["phonemes"] for s in t["sentences"]), end="")' \
        tests/fixtures/reference.json "$x" >"$OUT_DIR/$x.phonemes"
    for run in cpu:whole cuda:whole cuda:stream; do
        dev=${run%%:*} mode=${run##*:}
        wav="$OUT_DIR/${x}_${dev}_${mode}.wav"
        extra=(); [ "$mode" = stream ] && extra=(--stream)
        echo "gpu.sh: say $x on $dev ($mode)" >&2
        "$TVTTS" say --voice "$VOICE" --device "$dev" --phonemes "$(cat "$OUT_DIR/$x.phonemes")" \
            --noise-scale 0 --noise-w 0 --float "${extra[@]}" --out "$wav" \
            || die "tvtts say --device $dev failed"
        pairs+=("$x=$wav")
    done
done
echo "gpu.sh: parity with tests/fixtures (onnxruntime), tolerance $TOLERANCE" >&2
parity=ok
python3 bench/gpu_parity.py --tolerance "$TOLERANCE" "${pairs[@]}" | tee "$OUT_DIR/parity.txt" || parity=FAILED
echo "gpu.sh: parity $parity" >&2

cores=$(nproc)
for x in S M L; do
    for dev in cuda cpu; do
        echo "gpu.sh: bench --device $dev, $x" >&2
        threads=(); [ "$dev" = cpu ] && threads=(--threads "$cores")
        "$TVTTS" bench --voice "$VOICE" --device "$dev" "${threads[@]}" --text-file "bench/texts/$x.txt" \
            --runs "$RUNS" --json | tee "$OUT_DIR/bench_${x}_$dev.json"
    done
    if python3 -c 'import onnxruntime' 2>/dev/null; then
        for provider in CPUExecutionProvider CUDAExecutionProvider; do
            python3 -c 'import onnxruntime, sys; sys.exit(sys.argv[1] not in onnxruntime.get_available_providers())' "$provider" || continue
            echo "gpu.sh: reference (onnxruntime, $provider, $cores threads), $x" >&2
            python3 bench/ort_time.py --voice "$VOICE" --text "$x" --provider "$provider" --threads "$cores" \
                --runs "$RUNS" --json | tee "$OUT_DIR/ort_${x}_$provider.json"
        done
    else
        echo "gpu.sh: no onnxruntime in python3: no reference timings" >&2
    fi
done
python3 bench/gpu_report.py "$OUT_DIR" | tee "$OUT_DIR/report.md"

echo "gpu.sh: bench-stream --device cuda --speakers $SPEAKERS, $CONC_TEXT" >&2
"$TVTTS" bench-stream --voice "$VOICE" --device cuda --text-file "bench/texts/$CONC_TEXT.txt" \
    --speakers "$SPEAKERS" --runs "$STREAM_RUNS" --json | tee "$OUT_DIR/bench_stream.json"
[ "$parity" = ok ] || die "parity FAILED (see $OUT_DIR/parity.txt)"
echo "gpu.sh: ok (results in $OUT_DIR)" >&2
