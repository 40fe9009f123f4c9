#!/usr/bin/env bash
# Builds the shipped emotion vectors (assets/vectors/emotions/*.safetensors) for the bundled
# voice with `tvtts vector learn`, from training sets of the voice's own renderings reshaped
# with the WORLD vocoder to each emotion's acoustic profile (scripts/make_style_data.py).
#
# Directions follow the vocal-expression literature (Juslin & Laukka 2003; Banse & Scherer
# 1996): anger — faster, higher, wider pitch range, louder, brighter (more energy above 1 kHz);
# happiness — faster, higher, wider range, a little louder; sadness — slower, lower, narrower
# range, quieter, darker; fear — faster and much higher, range a little narrower. Magnitudes
# are ours, chosen to be clearly but not cartoonishly emotional, and tempered where Whisper
# tiny.en's word error rate rose more than 5 points (a first angry set at range ×1.35 and 12%
# faster: +6 points; at ×1.25 and 10% faster: +3). Some are set so that every cue grows from
# α 0.5 to α 1 (the knobs are linear in α, their effects are not): anger at range ×1.25 measured
# a wider range at α 0.5 than at 1, so its range is ×1.4 with a smaller pitch rise, less tilt
# and 8% faster (range ×1.42 at 9% faster cost +7 points); happiness 1 dB quieter peaked in
# level at α 0.5. Anger's range was raised from ×1.4 to ×1.55 on 2026-12-05: Praat reads
# a few of the plain voice's creaky phrase ends an octave up, which widens the plain range a
# raised voice is compared with, and the ×1.4 vector read ×1.14 at the 5th–95th percentile on
# the 24 held-out sentences (×1.21 from ×1.55; from ×1.75 the voice's range saturates: ×1.16,
# and wider at α 0.5 than at 1). Happiness likewise, from ×1.32 to ×1.5 with the pitch rise cut from
# +3.5 to +2.5 st (a higher voice narrows the range the prior's contrast makes): the old file
# read ×1.22 on the 24 held-out sentences and ×1.15 on 60 others, this one ×1.23 and ×1.22. Gains and tilts are what the targets get: world_prosody undoes WORLD's own
# colouring (+1.4 dB, −1 dB tilt on this voice) first. (Until 2026-12-03 it did not, and these
# sets were written 1.4 dB quieter and with shelves 1.2–1.5 dB higher to allow for it.)
# Sadness and fear were tempered on 2026-12-03: at −2 st, range ×0.72, 14% slower, −3.6 dB
# (sad) and +4 st, 12% faster (afraid) they cost 4.2 and 3.6 points of WER on the 24 unseen
# sentences, 4.3 and 3.8 on 60 others — near the issue's 5; at the values below 1.2 and −1.2,
# 2.3 and 1.3, with every bound still met with a margin.
#
# Usage: bash scripts/make_emotions.sh [WORKDIR]   (needs target/release/tvtts and
# scripts/.venv-measure; about 3 min per emotion on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d)}
voice=assets/voices/en_US-joe-medium.onnx
py=scripts/.venv-measure/bin/python
[ -x "$py" ] || py=python3
out=assets/vectors/emotions
mkdir -p "$out"
declare -A profile=(
  [angry]="--semitones 2 --range 1.55 --stretch 0.92 --gain-db 3.9 --tilt-db 1.7"
  [happy]="--semitones 2.5 --range 1.5 --stretch 0.94 --gain-db 3.4 --tilt-db 0.3"
  [sad]="--semitones -1.8 --range 0.76 --stretch 1.12 --gain-db -3 --tilt-db -4"
  [afraid]="--semitones 3.2 --range 0.9 --stretch 0.9 --gain-db 1.4 --tilt-db 0.3"
)
for name in angry happy sad afraid; do
  echo "== $name: ${profile[$name]}"
  # shellcheck disable=SC2086
  "$py" scripts/make_style_data.py --out "$work/$name" ${profile[$name]}
  target/release/tvtts vector learn --voice "$voice" --data "$work/$name" --threads 2 \
    --description "$name (learned from WORLD-reshaped renderings of the voice: ${profile[$name]})" \
    --out "$out/$name.safetensors"
done
