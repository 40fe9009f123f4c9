#!/usr/bin/env python3
"""Time the reference runtime (onnxruntime running Piper's .onnx) on a fixture text's own ids.

    python3 bench/ort_time.py --voice V.onnx --text M --threads 16 --runs 5 \
        [--provider CPUExecutionProvider] [--json]

For machines where piper-tts cannot be installed (bench/gpu.sh on a GPU machine with no package
index): the phoneme ids come from tests/fixtures/reference.json (piper-tts' own ids for the texts
S, M, L, XL), so only onnxruntime and numpy are needed. Like bench/piper_time.py: one
`session.run` per sentence at noise_scale 0, length_scale 1, noise_w 0, intra-op threads =
--threads, inter-op 1, sequential; one warm-up run of the whole text, then --runs runs.

JSON (same keys as `tvtts bench --json` where they mean the same): {"provider", "providers"
(what this onnxruntime has), "threads", "runs", "sentences": [{"audio_s", "synth_s", "rtf"}],
"total": {"audio_s", "synth_s", "rtf"}}; synth_s per sentence is its median over the runs, the
total's is the median over runs of the whole text's time.
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

import onnxruntime as ort

import ort_timing

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "reference.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voice", type=Path, required=True)
    ap.add_argument("--text", required=True, help="fixture text name (S, M, L, XL)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--provider", default="CPUExecutionProvider")
    ap.add_argument("--json", action="store_true", help="print JSON (default: a summary line)")
    args = ap.parse_args()
    if args.runs < 1:
        sys.exit("--runs must be at least 1")

    reference = json.loads(FIXTURES.read_text(encoding="utf-8"))
    text = next((t for t in reference["texts"] if t["name"] == args.text), None)
    if text is None:
        sys.exit(f"{args.text}: no such fixture text (have {', '.join(t['name'] for t in reference['texts'])})")
    rate = reference["sample_rate"]
    available = ort.get_available_providers()
    if args.provider not in available:
        sys.exit(f"this onnxruntime has no {args.provider} (it has {', '.join(available)})")

    session = ort_timing.session(args.voice, args.threads, args.provider)
    feeds = [ort_timing.feed(s["ids"]) for s in text["sentences"]]
    samples, per_run = ort_timing.time_runs(session, feeds, args.runs)
    sentences = []
    for i, n in enumerate(samples):
        synth = statistics.median(r[i] for r in per_run)
        sentences.append({"audio_s": n / rate, "synth_s": synth, "rtf": synth / (n / rate)})
    audio_s = sum(samples) / rate
    total = statistics.median(sum(r) for r in per_run)
    out = {
        "provider": args.provider,
        "providers": available,
        "threads": args.threads,
        "runs": args.runs,
        "sentences": sentences,
        "total": {"audio_s": audio_s, "synth_s": total, "rtf": total / audio_s},
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{args.text}: {args.provider}, {args.threads} threads: {total * 1e3:.1f} ms for {audio_s:.2f} s of audio (RTF {total / audio_s:.4f})")


if __name__ == "__main__":
    main()
