#!/usr/bin/env python3
"""Judge a vector learned by `tvtts vector learn` on unseen sentences against the oracle.

    python3 scripts/measure_learned.py --vector F.safetensors [--semitones S] [--range R]
        [--stretch X] [--gain-db G | --world] [--style FILE=ALPHA] [--length-scale L]
        [--sentences bench/texts/heldout.txt] [--alphas 0.5,1] [--name NAME] [--on FILE=ALPHA]
        [--two-pass] [--speaker]

Speaks every held-out sentence plainly (voice defaults, fixed seed per sentence), with the
vector at each α, and makes the oracle: the same transform the training set was built with
(scripts/make_style_data.py), applied to the plain renderings (WORLD), or spoken in-model.
Measures every rendering (scripts/world_prosody.py: Praat F0 and range, duration, level, tilt)
and the words Whisper tiny.en hears, and prints the oracle's change and WER, then one markdown
row per α: the change of oracle and learned against the plain voice, and WER. Runs in
scripts/.venv-measure.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refvenv import ensure_venv  # noqa: E402

ensure_venv(__file__, "measure")

import argparse  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402

import whisper_tiny  # noqa: E402
from make_style_data import read_wav, speak, write_wav  # noqa: E402
from world_prosody import add_transform_args, change, measure, transform, uses_world  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def wer(asr, texts, wavs):
    errors = words = 0
    for text, wav in zip(texts, wavs):
        ref = whisper_tiny.words(text)
        errors += whisper_tiny.word_errors(ref, whisper_tiny.heard(asr, wav))
        words += len(ref)
    return 100.0 * errors / max(1, words)


_encoder = None


def similarity(tmp, n, alpha):
    """Mean Resemblyzer (GE2E) cosine similarity of each styled sentence to its plain rendering."""
    global _encoder
    from resemblyzer import VoiceEncoder, preprocess_wav

    if _encoder is None:
        _encoder = VoiceEncoder("cpu", verbose=False)
    sims = []
    for i in range(n):
        a = _encoder.embed_utterance(preprocess_wav(tmp / f"plain{i}.wav"))
        b = _encoder.embed_utterance(preprocess_wav(tmp / f"v{alpha}_{i}.wav"))
        sims.append(float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))))
    return float(np.mean(sims))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vector", type=Path, required=True)
    ap.add_argument("--name", default=None)
    ap.add_argument("--sentences", type=Path, default=ROOT / "bench/texts/heldout.txt")
    ap.add_argument("--voice", type=Path, default=ROOT / "assets/voices/en_US-joe-medium.onnx")
    ap.add_argument("--tvtts", type=Path, default=ROOT / "target/release/tvtts")
    add_transform_args(ap)
    ap.add_argument("--alphas", default="0.5,1")
    ap.add_argument("--seed", type=int, default=7000)
    ap.add_argument("--two-pass", action="store_true", help="also report median F0 and range from two-pass Praat (floor and ceiling from the utterance's own quartiles; see world_prosody), robust where a lowered voice falls under the 60 Hz floor")
    ap.add_argument("--speaker", action="store_true", help="also report Resemblyzer speaker similarity to the plain voice")
    ap.add_argument("--on", action="append", default=[], help="FILE=ALPHA under every rendering, the plain voice's too (e.g. a dialect under an emotion): the changes are measured on top of it")
    a = ap.parse_args()
    texts = [l.strip() for l in a.sentences.read_text().splitlines() if l.strip()]
    world = uses_world(a)
    asr = whisper_tiny.load()
    two = " [two-pass {c[f0_2p]:+.2f} st, ×{c[range_2p]:.2f}]" if a.two_pass else ""
    fmt = lambda c: f"{c['f0']:+.2f} st, ×{c['range']:.2f} (10–90: ×{c['range_inner']:.2f}), ×{c['dur']:.3f}, {c['level']:+.2f} dB, tilt {c['tilt']:+.2f}" + two.format(c=c)
    prosody = lambda x, sr: measure(x, sr, a.two_pass)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        plain, oracle = [], []
        for i, text in enumerate(texts):
            p = tmp / f"plain{i}.wav"
            speak(a.tvtts, a.voice, text, a.seed + i, p, list(a.on))
            x, sr = read_wav(p)
            plain.append(prosody(x, sr))
            if a.style or a.length_scale:
                o = tmp / f"oracle{i}.wav"
                speak(a.tvtts, a.voice, text, a.seed + i, o, a.style, a.length_scale)
                oracle.append(prosody(*read_wav(o)))
            elif world:
                y = transform(x, sr, a)
                write_wav(tmp / f"oracle{i}.wav", y, sr)
                oracle.append(prosody(y, sr))
        base_wer = wer(asr, texts, [tmp / f"plain{i}.wav" for i in range(len(texts))])
        print(f"plain voice: WER {base_wer:.1f}%  ({len(texts)} sentences)")
        told = fmt(change(oracle, plain)) if oracle else "—"
        oracle_wer = f", WER {wer(asr, texts, [tmp / f'oracle{i}.wav' for i in range(len(texts))]):.1f}%" if oracle else ""
        print(f"oracle: {told}{oracle_wer}")
        name = a.name or a.vector.stem
        for alpha in [float(x) for x in a.alphas.split(",")]:
            got = []
            for i, text in enumerate(texts):
                v = tmp / f"v{alpha}_{i}.wav"
                speak(a.tvtts, a.voice, text, a.seed + i, v, [f"{a.vector}={alpha}", *a.on])
                got.append(prosody(*read_wav(v)))
            w = wer(asr, texts, [tmp / f"v{alpha}_{i}.wav" for i in range(len(texts))])
            sim = ""
            if a.speaker:
                sim = f" {similarity(tmp, len(texts), alpha):.3f} |"
            print(f"| {name} | {alpha} | {told} | {fmt(change(got, plain))} | {w:.1f} (plain {base_wer:.1f}) |{sim}")


if __name__ == "__main__":
    main()
