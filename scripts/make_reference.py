#!/usr/bin/env python3
"""Regenerate tvtts' reference fixtures from the reference runtime (Piper + onnxruntime).

Run by hand, never by CI:

    python3 scripts/make_reference.py            # writes tests/fixtures/reference.{json,safetensors}
    python3 scripts/make_reference.py --check    # regenerate in memory, compare with the files on disk

Options: --voice PATH (default assets/voices/en_US-joe-medium.onnx, config = PATH + ".json"),
--out-dir DIR (default tests/fixtures). Run `bash scripts/setup.sh` first if the voice is missing.

On first use the script creates its own virtualenv at scripts/.venv (python3 -m venv, then
`pip install -r scripts/requirements-reference.txt`, all versions pinned) and re-executes itself
inside it; it reinstalls when the requirements file changes. Set TVTTS_REF_NO_VENV=1 to run in
the current interpreter instead (it must have the same packages).

What it does, for each test text (S, M, L from shared/README.md, plus XL: one sentence of > 10 s):
  * phonemizes with piper-tts 1.8.0's own phonemizer (`PiperVoice.phonemize`: espeak-ng through
    piper's bundled espeakbridge and espeak-ng-data), one phoneme list per sentence, and maps each
    sentence to ids with piper's own `PiperVoice.phonemes_to_ids`;
  * runs the ONNX model once per sentence, as Piper does, with onnxruntime on the CPU, 1 intra-op
    thread, 1 inter-op thread, sequential execution, default graph optimisations, at
    scales = (noise_scale 0, length_scale 1, noise_w 0), which makes the output deterministic;
  * keeps the RAW model output (f32, peak ~0.5) -- not Piper's volume-normalised WAV, not int16.

Outputs:
  tests/fixtures/reference.json         per text: name, text, sentences [{phonemes, ids,
                                        num_samples, ...}], the scales, versions, voice sha256
  tests/fixtures/reference.safetensors  one f32 1-D tensor per sentence, named "<name>.<index>"
                                        (e.g. "L.3"), holding the raw model output

Both files are byte-identical from run to run on the same machine (checked with --check). On
another CPU, onnxruntime may pick other kernels and differ in the last bits; tests should compare
with a tolerance (≤ 1e-3 max abs, aim ≤ 1e-4), never bit-exactly.
"""

import hashlib
import os
import sys
from pathlib import Path

from refvenv import ensure_venv

SCRIPTS_DIR = Path(__file__).resolve().parent
REPO_DIR = SCRIPTS_DIR.parent

ensure_venv(__file__)

# ---- from here on we run inside scripts/.venv -------------------------------------------------

import argparse  # noqa: E402
import json  # noqa: E402
from importlib.metadata import version  # noqa: E402

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from piper.config import PiperConfig  # noqa: E402
from piper.voice import PiperVoice  # noqa: E402
from safetensors.numpy import save  # noqa: E402

# Order and names are part of the fixture format: tensors are "<name>.<sentence_index>".
TEXTS = [
    ("S", "Hello there, traveler."),
    (
        "M",
        "The old bridge collapsed last winter, so you'll have to take the mountain pass if you "
        "want to reach the village before nightfall.",
    ),
    (
        "L",
        "Welcome to the Rusty Anchor, stranger. You look like you've been on the road for days. "
        "Sit down by the fire and warm yourself up. If you're looking for work, the blacksmith "
        "needs someone to fetch iron ore from the old mine, but be careful, nobody who went down "
        "there last week has come back yet, so bring a good torch.",
    ),
    # One single sentence (commas and a colon, no sentence terminator inside) giving > 10 s of
    # audio: exercises long attention spans, many frames and clause punctuation.
    (
        "XL",
        "Listen carefully, traveler, because I will only say this once: follow the river north "
        "to the broken watchtower, cross the old stone bridge, and whatever you do, never open "
        "the sealed door beneath the ruined chapel.",
    ),
]
# Expected sentence counts, checked so that a phonemizer change cannot silently re-split texts.
EXPECTED_SENTENCES = {"S": 1, "M": 1, "L": 4, "XL": 1}

NOISE_SCALE = 0.0
LENGTH_SCALE = 1.0
NOISE_W = 0.0


def make_session(model_path: Path) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])


def run_model(session: ort.InferenceSession, ids: list[int]) -> np.ndarray:
    out = session.run(
        None,
        {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([NOISE_SCALE, LENGTH_SCALE, NOISE_W], dtype=np.float32),
        },
    )[0]
    return np.ascontiguousarray(out.reshape(-1), dtype=np.float32)


def build(model_path: Path) -> tuple[bytes, bytes]:
    """Return (reference.json bytes, reference.safetensors bytes)."""
    config_path = Path(str(model_path) + ".json")
    config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
    session = make_session(model_path)
    # Piper's own phonemizer and id mapping, with our session (1 thread, sequential).
    voice = PiperVoice(session=session, config=config)

    texts_json = []
    tensors: dict[str, np.ndarray] = {}
    for name, text in TEXTS:
        sentences = voice.phonemize(text)
        sentences = [s for s in sentences if s]  # Piper skips empty sentences too
        if len(sentences) != EXPECTED_SENTENCES[name]:
            raise SystemExit(
                f"{name}: piper split the text into {len(sentences)} sentences, "
                f"expected {EXPECTED_SENTENCES[name]}"
            )
        sent_json = []
        for i, phonemes in enumerate(sentences):
            ids = voice.phonemes_to_ids(phonemes)
            audio = run_model(session, ids)
            tensors[f"{name}.{i}"] = audio
            sent_json.append(
                {
                    "index": i,
                    "phonemes": "".join(phonemes),
                    "num_phonemes": len(phonemes),
                    "ids": [int(x) for x in ids],
                    "num_samples": int(audio.shape[0]),
                    "audio_s": round(audio.shape[0] / config.sample_rate, 6),
                    "peak": round(float(np.max(np.abs(audio))), 6),
                }
            )
            print(
                f"[ref] {name}.{i}: {len(phonemes)} phonemes, {len(ids)} ids, "
                f"{audio.shape[0]} samples ({audio.shape[0] / config.sample_rate:.2f} s)",
                file=sys.stderr,
            )
        texts_json.append({"name": name, "text": text, "sentences": sent_json})

    doc = {
        "about": "Raw output of the reference runtime (piper-tts phonemizer + onnxruntime, "
        "1 intra-op thread, sequential) per sentence; audio in reference.safetensors as "
        "'<name>.<index>' f32 tensors. Regenerate with scripts/make_reference.py.",
        "voice": model_path.name,
        "voice_sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "voice_config_sha256": hashlib.sha256(config_path.read_bytes()).hexdigest(),
        "sample_rate": config.sample_rate,
        "scales": {
            "noise_scale": NOISE_SCALE,
            "length_scale": LENGTH_SCALE,
            "noise_w": NOISE_W,
        },
        "runtime": {
            "piper-tts": version("piper-tts"),
            "onnxruntime": ort.__version__,
            "numpy": np.__version__,
            "intra_op_num_threads": 1,
            "inter_op_num_threads": 1,
            "execution_mode": "sequential",
            "provider": "CPUExecutionProvider",
        },
        "texts": texts_json,
    }
    json_bytes = (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")

    # A single metadata key: safetensors serialises the metadata map in hash order, so with
    # several keys the header (and the file's bytes) would change from run to run.
    st_bytes = save(tensors, metadata={"voice_sha256": doc["voice_sha256"]})
    return json_bytes, st_bytes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--voice", type=Path, default=REPO_DIR / "assets/voices/en_US-joe-medium.onnx"
    )
    ap.add_argument("--out-dir", type=Path, default=REPO_DIR / "tests/fixtures")
    ap.add_argument(
        "--check",
        action="store_true",
        help="regenerate in memory and compare with the files on disk (exit 1 if different)",
    )
    args = ap.parse_args()
    if not args.voice.exists():
        raise SystemExit(f"{args.voice} not found: run `bash scripts/setup.sh` first")

    json_bytes, st_bytes = build(args.voice)
    json_path = args.out_dir / "reference.json"
    st_path = args.out_dir / "reference.safetensors"
    if args.check:
        ok = True
        for path, data in ((json_path, json_bytes), (st_path, st_bytes)):
            same = path.exists() and path.read_bytes() == data
            print(f"[ref] {path}: {'identical' if same else 'DIFFERENT'}", file=sys.stderr)
            ok &= same
        sys.exit(0 if ok else 1)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for path, data in ((json_path, json_bytes), (st_path, st_bytes)):
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        print(f"[ref] wrote {path} ({len(data)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
