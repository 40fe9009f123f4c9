#!/usr/bin/env python3
"""Intelligibility of each accent (`tvtts say --accent NAME`) on unseen sentences.

    python3 scripts/measure_accents.py [--accents rp,scottish,…] [--sentences FILE …]
        [--seeds N] [--espeak] [--by-word]

Speaks every sentence plainly and in each accent (voice defaults, fixed seeds per sentence),
transcribes with Whisper tiny.en (faster-whisper, offline) and prints the word error rate of
each, with the share of sentences whose phonemes the accent changed. `--espeak` adds espeak-ng's
own speech of the same accent (its formant synthesiser: every sound the accent's own) as a
reference for what the accent itself costs the recogniser. `--by-word` splits the errors by the
kind of word: those the accent reads as en-us, those where it drops an r en-us has, and the
other words it changes (sentences whose phonemised words pair one to one with the text's).
Runs in scripts/.venv-measure.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refvenv import ensure_venv  # noqa: E402

ensure_venv(__file__, "measure")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

import difflib  # noqa: E402
import re  # noqa: E402

import whisper_tiny  # noqa: E402
from espeak_synth import Espeak, accent_voices  # noqa: E402
from whisper_tiny import heard, words  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def judged(ref, hyp):
    """Word errors of `hyp` (substitutions, insertions, deletions), and for each reference word
    whether it lies outside every word-level match with `hyp` (misheard)."""
    right = [False] * len(ref)
    for i, _, n in difflib.SequenceMatcher(None, ref, hyp, autojunk=False).get_matching_blocks():
        right[i : i + n] = [True] * n
    return whisper_tiny.word_errors(ref, hyp), [not r for r in right]


def r_count(word):
    return sum(word.count(c) for c in "ɹrɚɝ")


def kind(plain, accented):
    """What the accent did to one word's phonemes."""
    if plain == accented:
        return "read as en-us"
    if r_count(accented) < r_count(plain):
        return "drops an r of en-us"
    return "other changes"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accents", default="rp,scottish,nyc,lancastrian,west-midlands,caribbean")
    ap.add_argument("--sentences", type=Path, nargs="+", default=[ROOT / "bench/texts/heldout.txt"])
    ap.add_argument("--seeds", type=int, default=1, help="renderings per sentence (seeds 7000 + i, 9000 + i, …)")
    ap.add_argument("--espeak", action="store_true", help="also espeak-ng's own speech of each accent")
    ap.add_argument("--by-word", action="store_true", help="errors split by what the accent did to the word")
    ap.add_argument("--voice", type=Path, default=ROOT / "assets/voices/en_US-joe-medium.onnx")
    ap.add_argument("--tvtts", type=Path, default=ROOT / "target/release/tvtts")
    a = ap.parse_args()
    texts = [l.strip() for f in a.sentences for l in f.read_text().splitlines() if l.strip()]
    refs = [words(t) for t in texts]
    total = sum(len(r) for r in refs)
    asr = whisper_tiny.load()
    espeak, voices = (Espeak(), accent_voices()) if a.espeak else (None, {})

    def phonemize(accent):
        extra = ["--accent", accent] if accent else []
        return [subprocess.run([str(a.tvtts), "phonemize", "--voice", str(a.voice), "--text", t] + extra, check=True, capture_output=True, text=True).stdout for t in texts]

    def wrong_ours(accent, tmp):
        """Per rendering (seed), per sentence: [`judged`]."""
        extra = ["--accent", accent] if accent else []
        out = []
        for k in range(a.seeds):
            per = []
            for i, text in enumerate(texts):
                w = tmp / f"{accent or 'plain'}{i}.wav"
                subprocess.run([str(a.tvtts), "say", "--voice", str(a.voice), "--text", text, "--seed", str(7000 + 2000 * k + i), "--out", str(w)] + extra, check=True, capture_output=True)
                per.append(judged(refs[i], heard(asr, w)))
            out.append(per)
        return out

    def wrong_espeak(accent, tmp):
        per = []
        for i, text in enumerate(texts):
            w = tmp / f"espeak{i}.wav"
            espeak.speak(voices[accent or "us"], text, w)
            per.append(judged(refs[i], heard(asr, w)))
        return [per]

    def wer(runs):
        return 100.0 * sum(e for per in runs for e, _ in per) / (total * len(runs))

    def split(runs, kinds):
        """Misheard share of each kind of word, over the sentences whose words pair up."""
        rows = {}
        for per in runs:
            for i, (_, wrong) in enumerate(per):
                if kinds[i] is None:
                    continue
                for w, k in zip(wrong, kinds[i]):
                    n, e = rows.get(k, (0, 0))
                    rows[k] = (n + 1, e + w)
        return rows

    def kinds_of(plain_ph, ph):
        out = []
        for i, (p, q) in enumerate(zip(plain_ph, ph)):
            p, q = (re.sub(r"[.,;:!?]", "", x).split() for x in (p, q))
            out.append([kind(x, y) for x, y in zip(p, q)] if len(p) == len(q) == len(refs[i]) else None)
        return out

    print("Word error rate, Whisper tiny.en\n")
    header = "| accent | tvtts WER | sentences whose phonemes differ from en-us |" + (" espeak-ng's own speech, WER |" if a.espeak else "")
    print(header)
    print("|" + "---|" * header.count(" |"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        plain_ph = phonemize(None)
        plain = wrong_ours(None, tmp)
        plain_espeak = wrong_espeak(None, tmp) if a.espeak else None
        print(f"| plain (en-us) | {wer(plain):.1f} % | — |" + (f" {wer(plain_espeak):.1f} % |" if a.espeak else ""))
        splits = []
        for accent in a.accents.split(","):
            ph = phonemize(accent)
            ours = wrong_ours(accent, tmp)
            changed = sum(p != q for p, q in zip(ph, plain_ph)) / len(texts)
            row = f"| {accent} | {wer(ours):.1f} % | {100 * changed:.0f} % |"
            theirs = wrong_espeak(accent, tmp) if a.espeak else None
            if a.espeak:
                row += f" {wer(theirs):.1f} % |"
            print(row, flush=True)
            if a.by_word:
                kinds = kinds_of(plain_ph, ph)
                splits.append((accent, kinds, ours, theirs))
        if a.by_word:
            print("\nBy word (sentences whose phonemised words pair one to one with the text's): share of the words misheard (outside every match with what Whisper heard), plain → accent\n")
            print("| accent | kind of word | words | tvtts | espeak-ng's own speech |" if a.espeak else "| accent | kind of word | words | tvtts |")
            print("|---|---|---|---|---|" if a.espeak else "|---|---|---|---|")
            for accent, kinds, ours, theirs in splits:
                before, after = split(plain, kinds), split(ours, kinds)
                eb, ea = (split(plain_espeak, kinds), split(theirs, kinds)) if a.espeak else ({}, {})
                for k in sorted(after):
                    n = after[k][0] // a.seeds
                    pct = lambda r: 100.0 * r[k][1] / r[k][0]  # noqa: E731
                    row = f"| {accent} | {k} | {n} | {pct(before):.1f} → {pct(after):.1f} % |"
                    if a.espeak:
                        row += f" {pct(eb):.1f} → {pct(ea):.1f} % |"
                    print(row)


if __name__ == "__main__":
    main()
