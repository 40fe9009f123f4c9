#!/usr/bin/env bash
# Builds the dialect vectors (assets/vectors/dialects/*.safetensors) for the bundled voice with
# `tvtts vector accent`: `rewrite` vectors, the table of how espeak-ng's accent rewrites the
# voice's own (en-us) phonemes, phoneme by phoneme in context, counted over the text lines
# below. At α the voice reads its own phonemes with their embeddings moved that far toward the
# accent's (α 0: the voice; α 1: the accent's phonemes as the table knows them); emotion
# vectors on the late groups compose with it. No espeak-ng is needed where they are used.
#
# What they capture: espeak-ng's accent rules as this US voice's learned symbols express them,
# limited to one phoneme of context on either side (rules that depend on the whole word are
# taken in their most frequent form) — not a recorded native speaker (none can be had here).
# Judge with `python3 scripts/measure_dialect.py --vector F --accent NAME --deterministic`.
#
# Usage: bash scripts/make_dialects.sh   (needs target/release/tvtts built with espeak-ng; seconds)
set -euo pipefail
cd "$(dirname "$0")/.."
voice=assets/voices/en_US-joe-medium.onnx
out=assets/vectors/dialects
mkdir -p "$out"
texts=(bench/texts/phonemizer_train.txt bench/texts/phonemizer_heldout.txt assets/vectors/sources/statements.txt
  assets/vectors/sources/questions.txt assets/vectors/sources/exclamations.txt)
# bench/texts/heldout.txt, on which the README measures them, is not among the texts.
for name in ${DIALECTS:-scottish rp}; do
  target/release/tvtts vector accent --voice "$voice" --accent "$name" \
    $(printf -- '--texts %s ' "${texts[@]}") \
    --description "$name: espeak-ng's $name accent as a phoneme rewrite of the voice's en-us phonemes (α 0 plain, 1 the accent)" \
    --held-out bench/texts/heldout.txt --out "$out/$name.safetensors"
done
