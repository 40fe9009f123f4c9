#!/usr/bin/env python3
"""The table of bench/gpu.sh: whole-text synthesis time of tvtts on cuda and on the CPU, and of
the reference runtime (onnxruntime) on the same machine, from the JSON files gpu.sh wrote.

    python3 bench/gpu_report.py OUT_DIR

Reads OUT_DIR/bench_{S,M,L}_{cuda,cpu}.json (`tvtts bench --json`) and, where present,
OUT_DIR/ort_{S,M,L}_{CPUExecutionProvider,CUDAExecutionProvider}.json (bench/ort_time.py).
Prints a markdown table: milliseconds per whole text (median of the runs) and tvtts-on-cuda's
time as a ratio of each reference column. Standard library only.
"""

import json
import sys
from pathlib import Path


def load(path):
    return json.loads(path.read_text()) if path.exists() else None


def ms(run):
    return f"{run['total']['synth_s'] * 1e3:.1f}" if run else "—"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    out = Path(sys.argv[1])
    rows = []
    for x in ("S", "M", "L"):
        cuda = load(out / f"bench_{x}_cuda.json")
        cpu = load(out / f"bench_{x}_cpu.json")
        ort_cpu = load(out / f"ort_{x}_CPUExecutionProvider.json")
        ort_cuda = load(out / f"ort_{x}_CUDAExecutionProvider.json")
        if not cuda:
            continue
        audio = cuda["total"]["audio_s"]
        ratios = []
        for name, ref in (("onnxruntime CPU", ort_cpu), ("onnxruntime CUDA", ort_cuda)):
            if ref:
                ratios.append(f"{cuda['total']['synth_s'] / ref['total']['synth_s']:.2f} of {name}")
        cpu_threads = f" ({cpu['threads']} threads)" if cpu else ""
        rows.append(
            f"| {x} | {audio:.2f} s | {ms(cuda)} (RTF {cuda['total']['rtf']:.4f}) | {ms(cpu)}{cpu_threads} "
            f"| {ms(ort_cpu)} | {ms(ort_cuda)} | {'; '.join(ratios) or '—'} |"
        )
    print("| text | audio | tvtts cuda, ms | tvtts cpu, ms | onnxruntime CPU, ms | onnxruntime CUDA, ms | tvtts cuda as a ratio |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
