#!/usr/bin/env python3
"""Intelligibility of speech from each phonemizer: Whisper tiny.en's word error rate on the
bundled voice reading a sentence file with `--phonemizer espeak` and with `--phonemizer builtin`
(a measurement, not a test).

    python3 scripts/measure_phonemizer_wer.py [--sentences bench/texts/phonemizer_heldout.txt] [--json OUT]

Each sentence is spoken with `target/release/tvtts say` (noise off) by both phonemizers and
transcribed (faster-whisper, beam 1). WER is word-level Levenshtein distance / reference words
over the whole file, after lower-casing and removing punctuation from the text and the
transcript alike (Whisper writes numbers as digits, as the texts do). Runs in
scripts/.venv-measure.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refvenv import ensure_venv  # noqa: E402

ensure_venv(__file__, "measure")

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

import whisper_tiny  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def words(s: str) -> list[str]:
    s = s.lower().replace("’", "'")
    s = re.sub(r"[^a-z0-9' ]+", " ", s.replace("-", " "))
    return [w.strip("'") for w in s.split() if w.strip("'")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voice", type=Path, default=ROOT / "assets/voices/en_US-joe-medium.onnx")
    ap.add_argument("--sentences", type=Path, default=ROOT / "bench/texts/phonemizer_heldout.txt")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    tvtts = ROOT / "target/release/tvtts"
    if not tvtts.exists():
        sys.exit(f"{tvtts} not found: cargo build --release")
    model = whisper_tiny.load()
    sentences = [s.strip() for s in args.sentences.read_text().splitlines() if s.strip()]
    errors = {"espeak": 0, "builtin": 0}
    total = 0
    worst = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(sentences):
            ref = words(text)
            total += len(ref)
            heard = {}
            for p in errors:
                wav = Path(tmp) / f"{i}-{p}.wav"
                subprocess.run([str(tvtts), "say", "--voice", str(args.voice), "--phonemizer", p, "--text", text,
                                "--noise-scale", "0", "--noise-w", "0", "--threads", "2", "--out", str(wav)],
                               check=True, capture_output=True)
                segments, _ = model.transcribe(str(wav), language="en", beam_size=1)
                heard[p] = " ".join(s.text for s in segments)
                errors[p] += whisper_tiny.word_errors(ref, words(heard[p]))
            worst.append((whisper_tiny.word_errors(ref, words(heard["builtin"])) - whisper_tiny.word_errors(ref, words(heard["espeak"])), text, heard))
            print(f"[{i + 1}/{len(sentences)}]", file=sys.stderr, end="\r")
    worst.sort(key=lambda w: -w[0])
    report = {
        "sentences": len(sentences),
        "reference_words": total,
        "wer_espeak": round(100 * errors["espeak"] / total, 2),
        "wer_builtin": round(100 * errors["builtin"] / total, 2),
        "builtin_worse_on": [{"text": t, "espeak": h["espeak"], "builtin": h["builtin"]} for d, t, h in worst[:8] if d > 0],
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
