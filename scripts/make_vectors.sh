#!/usr/bin/env bash
# Rebuilds the style vectors shipped in assets/vectors/ from the bundled voice itself
# (training-free activation steering; sources in assets/vectors/sources/). Deterministic.
#   bash scripts/make_vectors.sh        (after scripts/setup.sh; builds tvtts in release)
# Then measure them: python3 scripts/measure_vectors.py
set -euo pipefail
cd "$(dirname "$0")/.."
VOICE="${VOICE:-assets/voices/en_US-joe-medium.onnx}"
SRC=assets/vectors/sources
cargo build --release --bin tvtts >&2
T=target/release/tvtts
# α range: [-1, 3] is what scripts/measure_vectors.py measured (README, "Shipped vectors":
# α = -1, -0.5, 0, 0.5, 1, 2, 3).
$T vector steer --voice "$VOICE" --a $SRC/exclamations.txt --b $SRC/statements.txt --points m_p --alpha-range -1,3 \
    --description "excited: prior mean of 30 lines ending '!' minus the same lines ending '.'; raises pitch" \
    --out assets/vectors/excited.safetensors
$T vector steer --voice "$VOICE" --a $SRC/questions.txt --b $SRC/statements.txt --points m_p --alpha-range -1,3 \
    --description "questioning: prior mean of 30 lines ending '?' minus the same lines ending '.'" \
    --out assets/vectors/questioning.safetensors
