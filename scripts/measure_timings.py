#!/usr/bin/env python3
"""Measure the timing track against the audio and an independent aligner (a benchmark, not a test).

    python3 scripts/measure_timings.py [--sentences bench/texts/heldout.txt] [--json OUT]

For each held-out sentence, speaks it with `target/release/tvtts say --timings` (voice-default
noise, fixed seed) and compares the track's words with:
- Whisper tiny.en's word timestamps (faster-whisper, word_timestamps=True): |start difference| of
  the words both agree on, in order (Whisper's own error is ~100-200 ms, worst after pauses);
- the audio's own energy onset after every pause of the word track (>= 100 ms between words):
  the first 5 ms frame after the pause's middle whose RMS exceeds 10 % of the line's loudest
  frame, against the next word's start.
Also checks that phonemes and visemes tile the audio (the last viseme ends at the WAV's end), and
how loud each pause is (RMS of its middle half against the line's loudest 5 ms frame).
With --markup, each sentence gets a `<break time="300ms"/>` after its first comma (else its third
word) and `<emphasis>` on its last word, to check the track over markup's pauses.
Runs in scripts/.venv-measure (scripts/requirements-measure.txt), created on first use.
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
import wave  # noqa: E402

import numpy as np  # noqa: E402

import whisper_tiny  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def norm(w: str) -> str:
    return re.sub(r"[^a-z0-9']", "", w.lower())


def read_wav(path: Path):
    with wave.open(str(path)) as f:
        rate = f.getframerate()
        x = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
    return x, rate


def onset_after(x: np.ndarray, rate: int, t: float, threshold: float) -> float:
    hop = int(0.005 * rate)
    i = int(t * rate)
    while i + hop <= len(x):
        if np.sqrt(np.mean(x[i : i + hop] ** 2)) > threshold:
            return i / rate
        i += hop
    return float("nan")


def with_markup(text: str) -> str:
    """`text` (escaped for XML) with a 300 ms break after its first comma, else its third word,
    and its last word emphasised."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    words = text.split(" ")
    at = next((i for i, w in enumerate(words[:-1]) if w.endswith(",")), min(2, len(words) - 2))
    if at >= 0:
        words[at] += ' <break time="300ms"/>'
    m = re.match(r"^(.*?)([A-Za-z0-9']+)([^A-Za-z0-9']*)$", words[-1])
    if m:
        words[-1] = f"{m.group(1)}<emphasis>{m.group(2)}</emphasis>{m.group(3)}"
    return " ".join(words)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voice", type=Path, default=ROOT / "assets/voices/en_US-joe-medium.onnx")
    ap.add_argument("--sentences", type=Path, default=ROOT / "bench/texts/heldout.txt")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--markup", action="store_true", help="add a break and an emphasis to each sentence")
    args = ap.parse_args()
    tvtts = ROOT / "target/release/tvtts"
    if not tvtts.exists():
        sys.exit(f"{tvtts} not found: cargo build --release")
    model = whisper_tiny.load()
    sentences = [s.strip() for s in args.sentences.read_text().splitlines() if s.strip()]
    if args.markup:
        sentences = [with_markup(s) for s in sentences]
    start_err, onset_err, tail_err, pause_rms, matched, total = [], [], [], [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(sentences):
            wav, js = Path(tmp) / f"{i}.wav", Path(tmp) / f"{i}.json"
            subprocess.run([str(tvtts), "say", "--voice", str(args.voice), "--text", text, "--seed", "1",
                            "--threads", "2", "--timings", str(js), "--out", str(wav)], check=True, capture_output=True)
            track = json.loads(js.read_text())
            x, rate = read_wav(wav)
            tail_err.append(abs(track["visemes"][-1]["end"] - len(x) / rate))
            ours = track["words"]
            segments, _ = model.transcribe(str(wav), word_timestamps=True, language="en", beam_size=1)
            theirs = [w for s in segments for w in s.words]
            # Pair words in order by their normalised text.
            j = 0
            for w in ours:
                total += 1
                k = j
                while k < len(theirs) and norm(theirs[k].word) != norm(w["text"]):
                    k += 1
                if k < len(theirs):
                    start_err.append(abs(theirs[k].start - w["start"]))
                    matched += 1
                    j = k + 1
            loudest = max(np.sqrt(np.mean(x[a : a + rate // 200] ** 2)) for a in range(0, len(x) - rate // 200, rate // 200))
            for a, b in zip(ours, ours[1:]):
                if b["start"] - a["end"] >= 0.1:
                    onset = onset_after(x, rate, (a["end"] + b["start"]) / 2, 0.1 * loudest)
                    onset_err.append(onset - b["start"])
                    q = (b["start"] - a["end"]) / 4
                    middle = x[int((a["end"] + q) * rate) : int((b["start"] - q) * rate)]
                    if len(middle):
                        pause_rms.append(float(np.sqrt(np.mean(middle**2)) / loudest))
    report = {
        "sentences": len(sentences),
        "words": total,
        "words_matched_by_whisper": matched,
        "word_start_vs_whisper_median_ms": 1e3 * float(np.median(start_err)),
        "word_start_vs_whisper_p90_ms": 1e3 * float(np.percentile(start_err, 90)),
        "pauses": len(onset_err),
        "onset_after_pause_median_abs_ms": 1e3 * float(np.nanmedian(np.abs(onset_err))) if onset_err else None,
        "onset_minus_word_start_ms": [round(1e3 * e, 1) for e in onset_err],
        "pause_rms_vs_loudest_max": float(max(pause_rms)) if pause_rms else None,
        "visemes_end_vs_audio_end_max_ms": 1e3 * max(tail_err),
        "markup": args.markup,
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
