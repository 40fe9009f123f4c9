#!/usr/bin/env python3
"""Build a training set for `tvtts vector learn` whose style change is known.

    python3 scripts/make_style_data.py --out DIR [--lines bench/texts/phonemizer_train.txt]
        [--count 40] [--semitones S] [--range R] [--stretch X] [--gain-db G] [--tilt-db T]
        [--style FILE=ALPHA] [--length-scale L] [--accent NAME] [--rate HZ] [--stereo]

Speaks `--count` lines with `target/release/tvtts say` (voice defaults, one seed per line; with
`--style` / `--length-scale` / `--accent` applied: in-model targets; `--accent` reads the lines
with one of espeak-ng's accents, the target of a dialect vector), then, when any WORLD option is given,
re-synthesizes each with the WORLD vocoder: log-F0 shifted by S semitones and its range scaled
by R around the utterance mean, frames stretched by X (> 1 slower), gain G dB. Writes
DIR/metadata.csv (`id|transcript`) and DIR/wavs/<id>.wav (16-bit PCM, at --rate, default the
voice's). `--world` alone (all options at identity) makes the WORLD-identity control.
Runs in scripts/.venv-measure.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refvenv import ensure_venv  # noqa: E402

ensure_venv(__file__, "measure")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import wave  # noqa: E402

import numpy as np  # noqa: E402

from world_prosody import add_transform_args, transform, uses_world  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def read_wav(path):
    with wave.open(str(path)) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
        return x, w.getframerate()


def write_wav(path, x, sr, channels=1):
    y = np.clip(x, -1, 1)
    if channels == 2:
        y = np.stack([y, y], axis=1).reshape(-1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((y * 32767).astype(np.int16).tobytes())


def resample(x, sr, rate):
    if rate == sr:
        return x
    from scipy.signal import resample_poly
    from math import gcd

    g = gcd(sr, rate)
    return resample_poly(x, rate // g, sr // g).astype(np.float32)


def speak(tvtts, voice, text, seed, out, style=None, length_scale=None, accent=None, extra=()):
    """`tvtts say` of `text` with `seed` into `out`; `style` is one FILE=ALPHA or a list of them,
    `extra` more arguments (e.g. the noise scales)."""
    cmd = [str(tvtts), "say", "--voice", str(voice), "--text", text, "--seed", str(seed), "--out", str(out), *extra]
    if accent:
        cmd += ["--accent", accent]
    for st in [style] if isinstance(style, str) else (style or []):
        cmd += ["--style", st]
    if length_scale:
        cmd += ["--length-scale", str(length_scale)]
    subprocess.run(cmd, check=True, capture_output=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--lines", type=Path, default=ROOT / "bench/texts/phonemizer_train.txt")
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--skip", type=int, default=0, help="start at this line of --lines")
    ap.add_argument("--voice", type=Path, default=ROOT / "assets/voices/en_US-joe-medium.onnx")
    ap.add_argument("--tvtts", type=Path, default=ROOT / "target/release/tvtts")
    add_transform_args(ap)
    ap.add_argument("--accent", help="espeak-ng accent to read the lines with (tvtts say --accent)")
    ap.add_argument("--rate", type=int, help="sample rate of the written WAVs")
    ap.add_argument("--stereo", action="store_true")
    ap.add_argument("--seed", type=int, default=1000)
    a = ap.parse_args()
    lines = [l.strip() for l in a.lines.read_text().splitlines() if l.strip()][a.skip:a.skip + a.count]
    world = uses_world(a)
    (a.out / "wavs").mkdir(parents=True, exist_ok=True)
    meta = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(lines):
            wid = f"line{i:03d}"
            raw = Path(tmp) / f"{wid}.wav"
            speak(a.tvtts, a.voice, text, a.seed + i, raw, a.style, a.length_scale, a.accent)
            x, sr = read_wav(raw)
            if world:
                x = transform(x, sr, a)
            write_wav(a.out / "wavs" / f"{wid}.wav", resample(x, sr, a.rate or sr), a.rate or sr, 2 if a.stereo else 1)
            meta.append(f"{wid}|{text}")
            print(f"\r{i + 1}/{len(lines)}", end="", file=sys.stderr, flush=True)
    (a.out / "metadata.csv").write_text("\n".join(meta) + "\n")
    print(f"\nwrote {len(meta)} lines to {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
