#!/usr/bin/env python3
"""Tables from the JSON files bench/stream.sh writes (standard library only).

    python3 bench/stream_report.py DIR OUT.json "S M L" "1 2" CONC_TEXT
"""

import json
import platform
import sys
from pathlib import Path


def main() -> None:
    d, out = Path(sys.argv[1]), Path(sys.argv[2])
    texts, threads, conc_text = sys.argv[3].split(), sys.argv[4].split(), sys.argv[5]
    rows = []
    for text in texts:
        for t in threads:
            p = json.loads((d / f"piper_{text}_{t}.json").read_text())
            s = json.loads((d / f"stream_{text}_{t}.json").read_text())
            piper_ms = p["total"]["synth_s"] * 1e3
            rows.append({
                "text": text, "threads": int(t), "audio_s": s["audio_s"],
                "piper_whole_ms": piper_ms,
                "ttfa_ms": s["ttfa_ms"],
                "ttfa_over_piper_whole": s["ttfa_ms"] / piper_ms,
                "whole_ms": s["whole_synth_ms"], "stream_ms": s["stream_synth_ms"],
                "overhead": s["overhead"],
                "stream_over_piper_whole": s["stream_synth_ms"] / piper_ms,
                "underruns": s["underruns_max"],
            })
    print("| text | threads | audio s | piper whole ms | tvtts TTFA ms | TTFA / piper whole | tvtts whole ms | tvtts streamed ms | streaming overhead | streamed / piper whole |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['text']} | {r['threads']} | {r['audio_s']:.2f} | {r['piper_whole_ms']:.0f} | {r['ttfa_ms']:.0f} | "
              f"{r['ttfa_over_piper_whole']:.2f} | {r['whole_ms']:.0f} | {r['stream_ms']:.0f} | {100 * r['overhead']:+.0f}% | "
              f"{r['stream_over_piper_whole']:.2f} |")
    c = json.loads((d / "concurrency.json").read_text())
    print()
    print(f"K speakers of {conc_text} at once, each played in real time ({c['workers']} workers):")
    print()
    print("| K | underruns | speakers with underruns | TTFA median ms | TTFA max ms | wall s |")
    print("|---|---|---|---|---|---|")
    for r in c["rows"]:
        print(f"| {r['speakers']} | {r['underruns']} | {r['speakers_with_underruns']} | {r['ttfa_ms_median']:.0f} | "
              f"{r['ttfa_ms_max']:.0f} | {r['wall_s']:.1f} |")
    print()
    print(f"largest K without underruns: {c['largest_k_without_underruns']}")
    doc = {"machine": platform.platform(), "latency": rows, "concurrency": c}
    out.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
