#!/usr/bin/env python3
"""Which vowels do recordings of an accent say instead of the voice's? A study of learning a
dialect from recordings by analysis-by-synthesis (the step after the `rewrite` vectors, which
take the accent's phonemes from espeak-ng).

    python3 scripts/dialect_from_recordings.py --data DIR [--accent scottish] [--out RULES.json]
        [--render-texts FILE --render-dir OUT]

DIR is a `vector learn` data set (`metadata.csv`, `wavs/`), e.g. `make_style_data.py --accent
scottish`. Only the recordings and their transcripts are used to learn; `--accent` only scores
the result against espeak-ng's accent. Every one-sentence line is spoken by the voice (noise 0,
with its timing track) in its own en-us phonemes, and each recording is aligned to that rendering
(DTW on log-mel, 256-sample frames as the voice's). A vowel nucleus's recording segment is the
frames its rendering maps to. Then, for each vowel nucleus type v of the voice (≥ 5 times):
1. screening: one rendering per candidate c (the voice's vowel symbols, alone and with ː) with
   every nucleus replaced by c; each v's occurrences score each c by the distance of their
   recording segment to the candidate rendering's segment (DTW, mean frame distance, ±2 frames);
2. confirmation: the best three (other than v) are spoken again with only v's nuclei replaced (the rest of each line as the voice says it), and v becomes the best of them if
   it beats v by 10 % over all of v's occurrences.
It prints per v the screened and confirmed scores, the rules, and (with `--accent`) how often
espeak-ng's accent has the rule's symbol there. `--render-texts` speaks a sentence file with the
rules applied into `--render-dir`/accentized{i}.wav (noise 0), for `measure_dialect.py
--rendered`. Runs in scripts/.venv-measure.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refvenv import ensure_venv  # noqa: E402

ensure_venv(__file__, "measure")

import argparse  # noqa: E402
import collections  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import librosa  # noqa: E402
import numpy as np  # noqa: E402

from dialect_rewrite_table import align, phonemes  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VOWELS = set("aeiouæɑɐɒɔəɚɛɜɝɪʊʌᵻɨʉøœɘɵɤy")
HOP = 256


def nuclei(s):
    """Codepoint ranges of the vowel nuclei of a phoneme string: runs of vowels and ː."""
    out, i = [], 0
    while i < len(s):
        if s[i] in VOWELS:
            j = i + 1
            while j < len(s) and (s[j] in VOWELS or s[j] == "ː"):
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def replace(ph, fn):
    """ph with each nucleus n replaced by fn(n)."""
    out, last = [], 0
    for a, b in nuclei(ph):
        out += [ph[last:a], fn(ph[a:b])]
        last = b
    return "".join(out + [ph[last:]])


def logmel(y, sr):
    m = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=1024, hop_length=HOP, win_length=1024, n_mels=80, fmax=8000)
    return np.log(np.maximum(m, 1e-5)).T


def distance(a, b):
    """Mean frame distance along the DTW path of two log-mel segments."""
    if len(a) == 0 or len(b) == 0:
        return np.inf
    d, path = librosa.sequence.dtw(X=a.T, Y=b.T, metric="euclidean")
    return d[-1, -1] / len(path)


def speak(a, lines, out, timings=False):
    """`lines` (phoneme strings, one sentence each) spoken at noise 0 into `out`."""
    extra = ["--timings", f"{out}.json"] if timings else []
    subprocess.run([str(a.tvtts), "say", "--voice", str(a.voice), "--phonemes", "\n".join(lines), "--noise-scale", "0",
                    "--noise-w", "0", *extra, "--out", str(out)], check=True, capture_output=True)


def render(a, lines, out):
    """Log-mel of `lines` spoken into one file, and each line's nucleus spans in its frames."""
    speak(a, lines, out, timings=True)
    y, sr = librosa.load(str(out), sr=None)
    track = json.load(open(f"{out}.json"))["phonemes"]
    assert len(track) == sum(map(len, lines)), "one timing entry per phoneme symbol"
    spans, k = [], 0
    for line in lines:
        t = track[k:k + len(line)]
        spans.append([(int(t[x]["start"] * sr / HOP), max(int(t[x]["start"] * sr / HOP) + 1, int(t[y - 1]["end"] * sr / HOP)))
                      for x, y in nuclei(line)])
        k += len(line)
    return logmel(y, sr), spans, sr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--accent", help="score the rules against espeak-ng's accent (evaluation only)")
    ap.add_argument("--out", type=Path, help="write the rules (JSON: {v: c})")
    ap.add_argument("--render-texts", type=Path)
    ap.add_argument("--render-dir", type=Path)
    ap.add_argument("--voice", type=Path, default=ROOT / "assets/voices/en_US-joe-medium.onnx")
    ap.add_argument("--tvtts", type=Path, default=ROOT / "target/release/tvtts")
    a = ap.parse_args()
    rows = [l.rstrip("\n").split("|") for l in open(a.data / "metadata.csv", encoding="utf-8") if l.strip()]
    lines = [(r[0], r[-1], phonemes(a, r[-1])) for r in rows]
    lines = [(i, t, p[0]) for i, t, p in lines if len(p) == 1 and p[0]]
    us = [p for _, _, p in lines]
    own = [[p[x:y] for x, y in nuclei(p)] for p in us]
    counts = collections.Counter(n for o in own for n in o)
    types = [n for n, c in counts.most_common() if c >= 5]
    singles = sorted({ch for n in counts for ch in n if ch != "ː"})
    cands = list(dict.fromkeys(singles + [s + "ː" for s in singles] + [n for n in counts if len(n.replace("ː", "")) > 1 and counts[n] >= 5]))
    print(f"{len(lines)} one-sentence lines; {len(types)} vowel types (≥ 5 times); {len(cands)} candidates", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="dialect-"))

    plain, pspans, sr = render(a, us, tmp / "plain.wav")
    segs = []  # per line, per nucleus: the recording's segment (frames mapped from the plain rendering)
    for (rid, _, _), sp in zip(lines, pspans):
        y, _ = librosa.load(str(a.data / "wavs" / f"{rid}.wav"), sr=sr)
        rec = logmel(y, sr)
        lo, hi = max(0, sp[0][0] - 30), sp[-1][1] + 30
        _, path = librosa.sequence.dtw(X=plain[lo:hi].T, Y=rec.T, metric="euclidean")
        to_rec = collections.defaultdict(list)
        for p, q in path:
            to_rec[p + lo].append(q)
        line = []
        for s, e in sp:
            idx = sorted({q for f in range(s, e) for q in to_rec[f]})
            line.append(rec[max(0, idx[0] - 2):idx[-1] + 3] if idx else rec[:0])
        segs.append(line)

    def scores(mel, spans, which=None):
        """Per nucleus type, the distances of its occurrences (only `which` if given)."""
        out = collections.defaultdict(list)
        for i, sp in enumerate(spans):
            for k, (s, e) in enumerate(sp):
                if which is None or own[i][k] == which:
                    out[own[i][k]].append(distance(segs[i][k], mel[max(0, s - 2):e + 2]))
        return out

    base = scores(plain, pspans)
    screened = collections.defaultdict(dict)

    def screen(j):
        c = cands[j]
        mel, sp, _ = render(a, [replace(p, lambda n: c) for p in us], tmp / f"all{j}.wav")
        return c, scores(mel, sp)

    with ThreadPoolExecutor(2) as ex:
        for n_done, (c, sc) in enumerate(ex.map(screen, range(len(cands))), 1):
            for t in types:
                screened[t][c] = float(np.mean(sc[t]))
            print(f"\rscreening {n_done}/{len(cands)}", end="", flush=True)
    print()

    def confirm(t):
        own_d = float(np.mean(base[t]))
        top = [c for c in sorted(screened[t], key=screened[t].get) if c != t][:3]
        got = {}
        for c in top:
            mel, sp, _ = render(a, [replace(p, lambda n: c if n == t else n) for p in us], tmp / f"{t}_{c}.wav")
            got[c] = float(np.mean(scores(mel, sp, t)[t]))
        return t, own_d, got

    rules = {}
    with ThreadPoolExecutor(2) as ex:
        for t, own_d, got in ex.map(confirm, types):
            best = min(got, key=got.get) if got else None
            if best and got[best] < 0.9 * own_d:
                rules[t] = best
            screen_top = " ".join(f"{c} {screened[t][c]:.2f}" for c in sorted(screened[t], key=screened[t].get)[:3])
            conf = " ".join(f"{c} {d:.2f}" for c, d in sorted(got.items(), key=lambda x: x[1]))
            print(f"{t:4} ×{counts[t]:3}  itself {own_d:.2f} | screened: {screen_top} | alone: {conf or '—'} → {rules.get(t, t)}", flush=True)

    if a.accent:  # how often the accent has the rule's symbol at v's occurrences
        agree = collections.Counter()
        for (_, text, p), o in zip(lines, own):
            acc = phonemes(a, text, a.accent)[0]
            for u, c in align(o, [acc[x:y] for x, y in nuclei(acc)]):
                if u and c:
                    agree[(u, c)] += 1
        for t in types:
            said = {c: n for (u, c), n in agree.items() if u == t}
            total = sum(said.values()) or 1
            top = ", ".join(f"{c} {100 * n / total:.0f} %" for c, n in sorted(said.items(), key=lambda x: -x[1])[:3])
            print(f"{t:4} learned {rules.get(t, t):4} | {a.accent}: {top}")
    if a.out:
        a.out.write_text(json.dumps(rules, ensure_ascii=False, indent=1))
    if a.render_texts and a.render_dir:
        a.render_dir.mkdir(parents=True, exist_ok=True)
        for i, text in enumerate(l.strip() for l in open(a.render_texts, encoding="utf-8") if l.strip()):
            speak(a, [replace(p, lambda n: rules.get(n, n)) for p in phonemes(a, text)], a.render_dir / f"accentized{i}.wav")
    print(f"rules: {rules}")
    for f in tmp.iterdir():
        os.remove(f)
    tmp.rmdir()


if __name__ == "__main__":
    main()
