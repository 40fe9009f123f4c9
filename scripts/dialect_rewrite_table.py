#!/usr/bin/env python3
"""How much of an espeak-ng accent is a phoneme rewrite a table learned from 40 lines captures.

    python3 scripts/dialect_rewrite_table.py --accent scottish

Part of the dialect ceiling study (README, "The early encoder"). The accent's phonemes of the
40 training lines (`bench/texts/phonemizer_train.txt`, as `tvtts phonemize --accent` writes
them) are aligned to the en-us ones symbol by symbol (edit distance); two tables count which
accent symbol (or none) each en-us symbol becomes: one by symbol alone, one by symbol with its
left and right neighbours. Each held-out sentence's en-us phonemes are rewritten with each
table (the context table falls back to the symbol table for contexts it never saw), spoken at
noise 0 (`say --phonemes`), and compared with the accent rendering: mel-cepstral distance after
DTW, as `measure_dialect.py` measures it. Runs in scripts/.venv-measure.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refvenv import ensure_venv  # noqa: E402

ensure_venv(__file__, "measure")

import argparse  # noqa: E402
import collections  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402

from make_style_data import read_wav  # noqa: E402
from measure_dialect import mcd, mcep  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def phonemes(a, text, accent=None):
    """One phoneme string per sentence of `text`."""
    cmd = [str(a.tvtts), "phonemize", "--voice", str(a.voice), "--text", text] + (["--accent", accent] if accent else [])
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().split("\n")


def align(a, b):
    """Edit-distance alignment of strings a and b: (symbol of a or "", symbol of b or "") pairs."""
    n, m = len(a), len(b)
    d = np.zeros((n + 1, m + 1), dtype=int)
    d[:, 0], d[0, :] = range(n + 1), range(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (a[i - 1] != b[j - 1]))
    i, j, pairs = n, m, []
    while i > 0 or j > 0:
        if i > 0 and j > 0 and d[i, j] == d[i - 1, j - 1] + (a[i - 1] != b[j - 1]):
            pairs.append((a[i - 1], b[j - 1]))
            i, j = i - 1, j - 1
        elif i > 0 and d[i, j] == d[i - 1, j] + 1:
            pairs.append((a[i - 1], ""))
            i -= 1
        else:
            pairs.append(("", b[j - 1]))
            j -= 1
    return pairs[::-1]


def context(s, k):
    return (s[k - 1] if k else "#", s[k], s[k + 1] if k + 1 < len(s) else "#")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accent", required=True)
    ap.add_argument("--lines", type=Path, default=ROOT / "bench/texts/phonemizer_train.txt")
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--sentences", type=Path, default=ROOT / "bench/texts/heldout.txt")
    ap.add_argument("--voice", type=Path, default=ROOT / "assets/voices/en_US-joe-medium.onnx")
    ap.add_argument("--tvtts", type=Path, default=ROOT / "target/release/tvtts")
    a = ap.parse_args()
    read = lambda p: [l.strip() for l in p.read_text().splitlines() if l.strip()]  # noqa: E731
    by_symbol = collections.defaultdict(collections.Counter)
    by_context = collections.defaultdict(collections.Counter)
    for text in read(a.lines)[:a.count]:
        for us, acc in zip(phonemes(a, text), phonemes(a, text, a.accent)):
            us_only = [x for x, _ in align(us, acc) if x]
            for k, (x, y) in enumerate(p for p in align(us, acc) if p[0]):
                by_symbol[x][y] += 1
                by_context[context(us_only, k)][y] += 1
    symbol = {x: c.most_common(1)[0][0] for x, c in by_symbol.items()}

    def rewrite(s, with_context):
        out = []
        for k, x in enumerate(s):
            seen = by_context.get(context(s, k)) if with_context else None
            out.append(seen.most_common(1)[0][0] if seen else symbol.get(x, x))
        return "".join(out)

    texts = read(a.sentences)
    dist = {"plain": [], "symbol table": [], "context table": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(texts):
            us = phonemes(a, text)
            spoken = {"accent": phonemes(a, text, a.accent), "plain": us,
                      "symbol table": [rewrite(s, False) for s in us], "context table": [rewrite(s, True) for s in us]}
            wavs = {}
            for name, ph in spoken.items():
                wavs[name] = Path(tmp) / f"{name.replace(' ', '_')}{i}.wav"
                subprocess.run([str(a.tvtts), "say", "--voice", str(a.voice), "--phonemes", "\n".join(ph),
                                "--noise-scale", "0", "--noise-w", "0", "--out", str(wavs[name])], check=True, capture_output=True)
            x, sr = read_wav(wavs["accent"])
            target = mcep(x, sr)
            for name, got in dist.items():
                got.append(mcd(mcep(read_wav(wavs[name])[0], sr), target))
            print(f"\r{i + 1}/{len(texts)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    plain = float(np.mean(dist["plain"]))
    print(f"| {a.accent}: en-us phonemes rewritten by | MCD to the accent (dB) | change from plain |")
    print("|---|---|---|")
    for name, got in dist.items():
        m = float(np.mean(got))
        print(f"| {name} | {m:.3f} | {100 * (m - plain) / plain:+.1f} % |")


if __name__ == "__main__":
    main()
