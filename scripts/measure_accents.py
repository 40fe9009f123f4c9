#!/usr/bin/env python3
"""Intelligibility of each accent (`tvtts say --accent NAME`) on unseen sentences.

    python3 scripts/measure_accents.py [--accents rp,scottish,…] [--sentences bench/texts/heldout.txt]

Speaks every sentence plainly and in each accent (voice defaults, fixed seed per sentence),
transcribes with Whisper tiny.en (faster-whisper, offline) and prints the word error rate of
each, with the share of sentences whose phonemes the accent changed. Runs in
scripts/.venv-measure.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refvenv import ensure_venv  # noqa: E402

ensure_venv(__file__, "measure")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

import whisper_tiny  # noqa: E402
from measure_learned import wer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accents", default="rp,scottish,nyc,lancastrian,west-midlands,caribbean")
    ap.add_argument("--sentences", type=Path, default=ROOT / "bench/texts/heldout.txt")
    ap.add_argument("--voice", type=Path, default=ROOT / "assets/voices/en_US-joe-medium.onnx")
    ap.add_argument("--tvtts", type=Path, default=ROOT / "target/release/tvtts")
    a = ap.parse_args()
    texts = [l.strip() for l in a.sentences.read_text().splitlines() if l.strip()]
    asr = whisper_tiny.load()

    def run(accent, tmp):
        wavs, phonemes = [], []
        for i, text in enumerate(texts):
            extra = ["--accent", accent] if accent else []
            w = tmp / f"{accent or 'plain'}{i}.wav"
            subprocess.run([str(a.tvtts), "say", "--voice", str(a.voice), "--text", text, "--seed", str(7000 + i), "--out", str(w)] + extra, check=True, capture_output=True)
            p = subprocess.run([str(a.tvtts), "phonemize", "--voice", str(a.voice), "--text", text] + extra, check=True, capture_output=True, text=True).stdout
            wavs.append(w)
            phonemes.append(p)
        return wer(asr, texts, wavs), phonemes

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base, plain_ph = run(None, tmp)
        print(f"| plain (en-us) | {base:.1f} | — |")
        for accent in a.accents.split(","):
            w, ph = run(accent, tmp)
            changed = sum(p != q for p, q in zip(ph, plain_ph)) / len(texts)
            print(f"| {accent} | {w:.1f} | {100 * changed:.0f}% |")


if __name__ == "__main__":
    main()
