#!/usr/bin/env python3
"""Which of an accent's changes cost intelligibility: put one class of them back to en-us at a
time and measure Whisper tiny.en's WER.

    python3 scripts/accent_ablation.py [--accent rp] [--sentences bench/texts/phonemizer_heldout.txt]
                                       [--classes rhotic,r_after_aw,…]

Each sentence is phonemized in en-us and in the accent (`tvtts phonemize`). Where both have
the same number of words, every word the accent changed and a class selects is spoken in its
en-us form instead; sentences whose word counts differ stay accented. Speech: `tvtts say
--phonemes`, voice defaults, a fixed seed per sentence (as `measure_accents.py`). A class that
moves WER by only a point or so is within what the changed noise alone does (changed durations
shift the prior noise of every later frame). Runs in scripts/.venv-measure.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refvenv import ensure_venv  # noqa: E402

ensure_venv(__file__, "measure")

import argparse  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

import whisper_tiny  # noqa: E402
from measure_learned import wer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def bare(word):
    """A phonemized word without stress marks and punctuation."""
    return re.sub(r"[ˈˌ,.!?;:]", "", word)


def has_r(word):
    return word.count("ɹ") + word.count("ɚ")


# Classes of change, by the en-us word `u` and the accent's `a` (non-rhotic ones first: they
# are what RP is heard by).
CLASSES = {
    "rhotic": ("an r of en-us the accent drops", lambda u, a: has_r(u) > has_r(a)),
    "r_after_aw": ("ɔːɹ → ɔː (for, your, before, report)", lambda u, a: "ɔːɹ" in u and "ɔːɹ" not in a and "ɔː" in a),
    "r_after_ah": ("ɑːɹ → ɑː (harbour, sergeant)", lambda u, a: "ɑːɹ" in u and "ɑːɹ" not in a and "ɑː" in a),
    "centring": ("ɪɹ ɛɹ ʊɹ → iə eə ʊə (near, square, cure)", lambda u, a: any(x in u and y in a for x, y in (("ɪɹ", "iə"), ("ɛɹ", "eə"), ("ʊɹ", "ʊə")))),
    "final_er": ("final ɚ → ə (miller, letter)", lambda u, a: bare(u).endswith("ɚ") and bare(a).endswith("ə")),
    "bath": ("æ → ɑː (past, last)", lambda u, a: "æ" in u and "ɑː" in a),
    "goat": ("oʊ → əʊ", lambda u, a: "oʊ" in u and "əʊ" in a),
    "lot": ("ɑ → ɔ", lambda u, a: "ɑ" in u and "ɔ" in a.replace("ɔː", "").replace("ɔɪ", "")),
    "happy": ("final i → ɪ", lambda u, a: bare(u).rstrip("ʲ").endswith("i") and bare(a).endswith("ɪ")),
    "all": ("every changed word", lambda u, a: True),
}


def revert(us, accented, classes):
    """`accented` with the words `classes` select spoken as in `us` (one sentence)."""
    uw, aw = us.split(" "), accented.split(" ")
    if len(uw) != len(aw):
        return accented
    return " ".join(u if u != a and any(CLASSES[c][1](u, a) for c in classes) else a for u, a in zip(uw, aw))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accent", default="rp")
    ap.add_argument("--sentences", type=Path, default=ROOT / "bench/texts/phonemizer_heldout.txt")
    ap.add_argument("--classes", default=",".join(CLASSES), help="comma-separated; `a+b` reverts both at once")
    ap.add_argument("--voice", type=Path, default=ROOT / "assets/voices/en_US-joe-medium.onnx")
    ap.add_argument("--tvtts", type=Path, default=ROOT / "target/release/tvtts")
    a = ap.parse_args()
    texts = [l.strip() for l in a.sentences.read_text().splitlines() if l.strip()]
    tvtts, voice = str(a.tvtts), str(a.voice)

    def phonemize(text, accent):
        extra = ["--accent", accent] if accent else []
        return subprocess.run([tvtts, "phonemize", "--voice", voice, "--text", text] + extra, check=True, capture_output=True, text=True).stdout.strip()

    us = [phonemize(t, None) for t in texts]
    accented = [phonemize(t, a.accent) for t in texts]
    asr = whisper_tiny.load()
    # Rows: (what is put back, the sentence spoken from its en-us and accented phonemes).
    rows = [("everything (the plain voice, en-us)", lambda u, acc: u), ("nothing (the accent)", lambda u, acc: acc)]
    for v in a.classes.split(","):
        classes = v.split("+")
        unknown = [c for c in classes if c not in CLASSES]
        if unknown:
            sys.exit(f"accent_ablation: unknown class {unknown[0]} (known: {', '.join(CLASSES)})")
        rows.append((" + ".join(CLASSES[c][0] for c in classes), lambda u, acc, classes=classes: revert(u, acc, classes)))
    print(f"| {a.accent}: put back to en-us | sentences changed | WER |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for what, choose in rows:
            wavs, changed = [], 0
            for i, (u, acc) in enumerate(zip(us, accented)):
                said = choose(u, acc)
                changed += said != acc
                w = Path(tmp) / f"{i}.wav"
                subprocess.run([tvtts, "say", "--voice", voice, "--phonemes", said, "--seed", str(7000 + i), "--out", str(w)], check=True, capture_output=True)
                wavs.append(w)
            print(f"| {what} | {changed} | {wer(asr, texts, wavs):.1f} % |", flush=True)


if __name__ == "__main__":
    main()
