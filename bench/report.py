#!/usr/bin/env python3
"""Merge the JSON files written by bench/compare_piper.sh into a markdown table + results.json.

    python3 bench/report.py DIR OUT.json

DIR holds piper_<text>_<threads>.json (from bench/piper_time.py) and, unless the run was
PIPER_ONLY, tvtts_<text>_<threads>.json (from `tvtts bench --json`). Prints the table on stdout,
warnings on stderr. Standard library only.
"""

import json
import platform
import sys
from pathlib import Path


def load(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


def main() -> None:
    d, out = Path(sys.argv[1]), Path(sys.argv[2])
    meta = json.loads((d / "meta.json").read_text())
    rows = []
    for text in meta["texts"]:
        for threads in meta["threads"]:
            p = load(d / f"piper_{text}_{threads}.json")
            t = load(d / f"tvtts_{text}_{threads}.json")
            row = {
                "text": text,
                "threads": threads,
                "audio_s": p["total"]["audio_s"],
                "sentences": len(p["sentences"]),
                "piper_synth_ms": p["total"]["synth_s"] * 1e3,
                "piper_rtf": p["total"]["rtf"],
                "piper_synth_ms_sum_of_medians": p["total"]["synth_s_sum_of_medians"] * 1e3,
                "piper_peak_rss_mb": p.get("peak_rss_mb"),
                "tvtts_synth_ms": None,
                "tvtts_rtf": None,
                "ratio_tvtts_over_piper": None,
            }
            if t is not None:
                row.update(
                    tvtts_audio_s=t["total"]["audio_s"],
                    tvtts_sentences=len(t["sentences"]),
                    tvtts_synth_ms=t["total"]["synth_s"] * 1e3,
                    tvtts_rtf=t["total"]["rtf"],
                    tvtts_peak_rss_mb=t.get("peak_rss_mb"),
                    tvtts_cpu_level=t.get("cpu_level"),
                    ratio_tvtts_over_piper=t["total"]["synth_s"] / p["total"]["synth_s"],
                )
                # Honesty checks: same sentence split, same audio (noise 0 gives the same frames).
                if len(t["sentences"]) != len(p["sentences"]):
                    print(
                        f"WARNING {text}/{threads}: tvtts made {len(t['sentences'])} sentences, "
                        f"piper {len(p['sentences'])}",
                        file=sys.stderr,
                    )
                if abs(t["total"]["audio_s"] - p["total"]["audio_s"]) > 0.01 * p["total"]["audio_s"]:
                    print(
                        f"WARNING {text}/{threads}: audio length differs: tvtts "
                        f"{t['total']['audio_s']:.3f} s, piper {p['total']['audio_s']:.3f} s",
                        file=sys.stderr,
                    )
                if int(t.get("threads", threads)) != int(threads) or int(t.get("runs", meta["runs"])) != int(meta["runs"]):
                    print(f"WARNING {text}/{threads}: tvtts reports threads={t.get('threads')} runs={t.get('runs')}", file=sys.stderr)
            rows.append(row)

    def f(x, fmt):
        return "–" if x is None else format(x, fmt)

    levels = sorted({r.get("tvtts_cpu_level") or "?" for r in rows if r["tvtts_synth_ms"] is not None})
    print(f"CPU: {meta.get('cpu')} ({meta.get('cpus')} cpus); tvtts kernels: {', '.join(levels) or '-'}")
    print()
    print("| text | threads | audio s | piper synth ms | piper RTF | tvtts synth ms | tvtts RTF | ratio tvtts/piper |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['text']} | {r['threads']} | {r['audio_s']:.2f} | {r['piper_synth_ms']:.1f} | "
            f"{r['piper_rtf']:.4f} | {f(r['tvtts_synth_ms'], '.1f')} | {f(r['tvtts_rtf'], '.4f')} | "
            f"{f(r['ratio_tvtts_over_piper'], '.2f')} |"
        )
    doc = {
        "runs": meta["runs"],
        "voice": meta["voice"],
        "piper_runtime": load(d / f"piper_{meta['texts'][0]}_{meta['threads'][0]}.json")["runtime"],
        "machine": {"cpus": meta.get("cpus"), "cpu": meta.get("cpu"), "platform": platform.platform()},
        "notes": "Times are session.run only (piper) / synthesis only (tvtts bench), noise 0, "
        "1 warm-up run. piper total = median over runs of the whole text's time; "
        "tvtts total = its own total.synth_s (sum over sentences of per-sentence medians).",
        "rows": rows,
    }
    out.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
