#!/usr/bin/env python3
"""Phoneme character error rate of the built-in phonemizer against espeak-ng (en-us, as Piper).

Runs the ignored test `phonemize::builtin::tests::measure_cer` of tvtts-core (needs the
`espeak` feature, on by default, and the data of scripts/phonemizer_data.sh) on a sentence file
(one sentence per line; default bench/texts/phonemizer_heldout.txt), then prints the CER
(Levenshtein distance over the characters of each line's phonemes / length of espeak's), the
worst lines and the most frequent word differences.

    python3 scripts/measure_phonemizer.py [SENTENCES.txt] [--lines N] [--words N]
"""
import argparse
import collections
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("sentences", nargs="?", default=os.path.join(root, "bench/texts/phonemizer_heldout.txt"))
ap.add_argument("--lines", type=int, default=10, help="worst lines to show")
ap.add_argument("--words", type=int, default=30, help="most frequent word differences to show")
args = ap.parse_args()

env = dict(os.environ, TVTTS_PHONEMIZER_SENTENCES=os.path.abspath(args.sentences))
cmd = ["cargo", "test", "-q", "-p", "tvtts-core", "--release", "--lib",
       "phonemize::builtin::tests::measure_cer", "--", "--ignored", "--nocapture", "--test-threads=1"]
run = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
if run.returncode != 0:
    sys.stderr.write(run.stdout + run.stderr)
    sys.exit(run.returncode)

lines, cer = [], None
rows = run.stdout.splitlines()
for i, row in enumerate(rows):
    if row.startswith("LINE\t"):
        _, d, n, text = row.split("\t", 3)
        ours = rows[i + 1].split("\t", 1)[1]
        theirs = rows[i + 2].split("\t", 1)[1]
        lines.append((int(d), int(n), text, ours, theirs))
    elif row.startswith("CER\t"):
        cer = row.split("\t")

words = collections.Counter()
for d, n, text, ours, theirs in lines:
    a, b = ours.split(), theirs.split()
    if len(a) == len(b):
        for x, y in zip(a, b):
            if x != y:
                words[(x, y)] += 1

print(f"{args.sentences}: {len(lines)} lines")
for d, n, text, ours, theirs in sorted(lines, key=lambda l: -l[0] / max(l[1], 1))[: args.lines]:
    print(f"\n{d}/{n}  {text}\n  builtin {ours}\n  espeak  {theirs}")
print("\nword differences (builtin → espeak), lines with equal word counts:")
for (x, y), c in words.most_common(args.words):
    print(f"  {c:3d}  {x}  →  {y}")
print(f"\nCER {cer[1]}/{cer[2]} = {float(cer[3]) * 100:.2f}%")
