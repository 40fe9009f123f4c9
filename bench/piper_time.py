#!/usr/bin/env python3
"""Time the reference runtime (piper-tts 1.8.0 + onnxruntime) on one text, like `tvtts bench`.

    bench/.venv/bin/python bench/piper_time.py --voice V --text-file bench/texts/M.txt \
        --threads 1 --runs 5 [--json]

Called by bench/compare_piper.sh (which creates bench/.venv). The text is phonemized once with
piper's own phonemizer and id map (one id sequence per sentence, as Piper synthesizes), then
only `session.run` is timed, per sentence, with onnxruntime on the CPU: intra_op_num_threads =
--threads, inter_op_num_threads = 1, sequential execution, default graph optimisations, at
noise_scale 0, length_scale 1, noise_w 0. One warm-up run of the whole text, then --runs runs.

JSON on stdout (same schema as `tvtts bench --json`, plus a few extra keys):
  {"threads", "runs", "sentences": [{"text" (phonemes), "audio_s", "synth_s", "rtf"}],
   "total": {"audio_s", "synth_s", "rtf", "synth_s_sum_of_medians"}, "peak_rss_mb", ...}
sentences[i].synth_s is the median over runs of that sentence's session.run time;
total.synth_s is the median over runs of the whole text's time (sum over its sentences in that
run); total.synth_s_sum_of_medians is the sum of the per-sentence medians (tvtts' definition of
its total; identical for one-sentence texts).
"""

import argparse
import json
import resource
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

import onnxruntime as ort
from piper.config import PiperConfig
from piper.voice import PiperVoice

import ort_timing


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voice", type=Path, required=True)
    ap.add_argument("--text-file", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print JSON (default: a summary line)")
    args = ap.parse_args()

    text = args.text_file.read_text(encoding="utf-8").strip()
    config = PiperConfig.from_dict(
        json.loads(Path(str(args.voice) + ".json").read_text(encoding="utf-8"))
    )
    t0 = time.perf_counter()
    session = ort_timing.session(args.voice, args.threads)
    load_s = time.perf_counter() - t0
    voice = PiperVoice(session=session, config=config)

    # Phonemize once (not timed): one id sequence per sentence, as PiperVoice.synthesize does.
    sentences = [p for p in voice.phonemize(text) if p]
    feeds = [ort_timing.feed(voice.phonemes_to_ids(phonemes)) for phonemes in sentences]
    samples, per_run = ort_timing.time_runs(session, feeds, args.runs)

    sr = config.sample_rate
    sent_json = []
    for i, phonemes in enumerate(sentences):
        med = statistics.median(r[i] for r in per_run)
        audio_s = samples[i] / sr
        sent_json.append(
            {"text": "".join(phonemes), "audio_s": audio_s, "synth_s": med, "rtf": med / audio_s}
        )
    total_audio = sum(samples) / sr
    total_synth = statistics.median(sum(r) for r in per_run)
    doc = {
        "runtime": "piper-tts " + version("piper-tts") + " / onnxruntime " + ort.__version__,
        "threads": args.threads,
        "runs": args.runs,
        "sentences": sent_json,
        "total": {
            "audio_s": total_audio,
            "synth_s": total_synth,
            "rtf": total_synth / total_audio,
            "synth_s_sum_of_medians": sum(s["synth_s"] for s in sent_json),
            "synth_s_runs": [sum(r) for r in per_run],
        },
        "session_load_s": load_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    if args.json:
        json.dump(doc, sys.stdout)
        print()
    else:
        print(
            f"{args.text_file.name}: {len(sentences)} sentence(s), {total_audio:.2f} s audio, "
            f"{args.threads} thread(s): {total_synth * 1e3:.1f} ms, RTF {total_synth / total_audio:.4f}"
        )


if __name__ == "__main__":
    main()
