"""Compares float WAVs written by `tvtts say --float --noise-scale 0 --noise-w 0` with the
reference runtime's raw output in tests/fixtures/ (onnxruntime running Piper's .onnx, the same
fixtures tests/parity.rs checks on the CPU). Standard library only.

    python3 bench/gpu_parity.py --tolerance 1e-3 NAME=WAV [NAME=WAV ...]

NAME is a fixture text (S, M, L, XL); its sentences' reference tensors are concatenated, as `say`
concatenates a text's sentences. Prints one line per WAV (length, max abs difference) and exits 1
if any differs in length or by more than the tolerance.
"""

import argparse
import json
import struct
import sys
from array import array
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def read_float_wav(path):
    data = Path(path).read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SystemExit(f"{path}: not a WAV file")
    pos, fmt, samples = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = struct.unpack_from("<HHIIHH", body)
        elif cid == b"data":
            samples = body
        pos += 8 + size + (size & 1)
    if fmt is None or samples is None:
        raise SystemExit(f"{path}: no fmt or data chunk")
    tag, channels, _rate, _, _, bits = fmt
    if channels != 1 or bits != 32 or tag not in (3, 0xFFFE):
        raise SystemExit(f"{path}: expected mono 32-bit float (write it with --float)")
    out = array("f")
    out.frombytes(samples[: len(samples) // 4 * 4])
    if sys.byteorder != "little":
        out.byteswap()
    return out


def read_safetensors(path):
    data = Path(path).read_bytes()
    n = struct.unpack_from("<Q", data, 0)[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        start, end = info["data_offsets"]
        t = array("f")
        t.frombytes(data[base + start:base + end])
        if sys.byteorder != "little":
            t.byteswap()
        tensors[name] = t
    return tensors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tolerance", type=float, default=1e-3)
    p.add_argument("pairs", nargs="+", metavar="NAME=WAV")
    a = p.parse_args()

    reference = json.loads((FIXTURES / "reference.json").read_text())
    tensors = read_safetensors(FIXTURES / "reference.safetensors")
    counts = {t["name"]: len(t["sentences"]) for t in reference["texts"]}
    ok = True
    for pair in a.pairs:
        name, wav = pair.split("=", 1)
        if name not in counts:
            raise SystemExit(f"{name}: no such fixture text (have {', '.join(counts)})")
        expected = array("f")
        for i in range(counts[name]):
            expected.extend(tensors[f"{name}.{i}"])
        ours = read_float_wav(wav)
        if len(ours) != len(expected):
            print(f"{wav}: {name}: FAIL length {len(ours)} != reference {len(expected)}")
            ok = False
            continue
        diff = max(abs(x - y) for x, y in zip(ours, expected))
        verdict = "ok" if diff <= a.tolerance else "FAIL"
        print(f"{wav}: {name}: {verdict} {len(ours)} samples, max abs diff {diff:.2e} (tolerance {a.tolerance:.0e})")
        ok = ok and diff <= a.tolerance
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
