#!/usr/bin/env bash
# Builds dialect vectors (assets/vectors/dialects/*.safetensors) for the bundled voice with `tvtts vector learn --groups enc_p.early,dp`: HE-Vector's dialect vector on the
# early groups (phoneme embedding, first encoder layers, durations), learned from the voice
# reading 40 lines in one of espeak-ng's accents (`say --accent`, scripts/make_style_data.py).
# With the vector at α the voice reads ordinary en-us phonemes and sounds that much like the
# accent: α blends 0 → 1, and an emotion vector on the late groups composes with it.
#
# What the target is: espeak-ng's accent rules spoken by this US voice — the accent's vowels
# and consonants as the voice's learned symbols express them — not a recorded native speaker
# (none can be had here).
#
# Not shipped yet: measured with scripts/measure_dialect.py, the vectors this learner makes do
# not bring the voice closer to the accent (README, "The early encoder"); the script is here so
# that the next learner is judged the same way.
#
# Usage: bash scripts/make_dialects.sh [WORKDIR]   (needs target/release/tvtts, espeak-ng and
# scripts/.venv-measure; about 10–15 min per accent on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d)}
voice=assets/voices/en_US-joe-medium.onnx
py=scripts/.venv-measure/bin/python
[ -x "$py" ] || py=python3
out=assets/vectors/dialects
mkdir -p "$out"
for name in ${DIALECTS:-scottish rp}; do
  echo "== $name"
  "$py" scripts/make_style_data.py --out "$work/$name" --accent "$name"
  target/release/tvtts vector learn --voice "$voice" --data "$work/$name" --threads 2 \
    --groups enc_p.early,dp ${LEARN_ARGS:-} \
    --description "$name (learned from the voice reading 40 lines with espeak-ng's $name accent)" \
    --out "$out/$name.safetensors"
done
