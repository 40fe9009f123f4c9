#!/usr/bin/env python3
"""Dump intermediate tensors of Piper's ONNX graph (debug tool for tvtts, run by hand).

    python3 scripts/onnx_intermediates.py OUT.safetensors --text "Hello there, traveler."
    python3 scripts/onnx_intermediates.py OUT.safetensors --ids 1,0,20,0,59,0,2 \\
        --names /enc_p/proj/Conv_output_0,/dp/Split_output_0
    python3 scripts/onnx_intermediates.py --list flow/flows.0/     # find tensor names

Adds the requested tensors (node outputs of the graph, e.g. `/enc_p/proj/Conv_output_0`,
`/dp/Split_output_0`, `/flow/flows.0/Split_output_0`, `/Mul_7_output_0` = the input of
`/dec/conv_pre/Conv`) as extra graph outputs with the `onnx` package, runs onnxruntime once on
the CPU (1 intra-op thread, sequential) at noise_scale 0, length_scale 1, noise_w 0 (override
with --scales), and writes every tensor to OUT.safetensors under its ONNX name, with its ONNX
dtype (f32 mostly), plus `input` (the ids, i64) and `output` (the audio, f32 [1,1,1,samples]).
It prints each name with its shape. `--names` repeats or takes comma lists; without it a
default set is dumped (see DEFAULTS below: x, m_p, logs_p, logw, w, w_ceil, attn, expanded
m_p/logs_p, z_p, z, decoder output). Aliases of the defaults are accepted in --names too
(e.g. `--names m_p,z`), and the file's metadata key "aliases" maps alias -> ONNX name.

--text phonemizes with piper-tts 1.8.0's own phonemizer and id map; a text of several
sentences needs --sentence N (default 0). A node output name is `<node name>_output_<k>` for
most nodes; `--list SUBSTRING` prints all tensor names (with op type and inferred rank) that
contain SUBSTRING.

Extra graph outputs can stop onnxruntime from fusing the nodes that produce them, which may move
the results by a few ulps; the script reruns the unmodified graph and prints the max abs
difference of `output` between the two runs (skip with --no-check).

Runs in scripts/.venv, created on first use from scripts/requirements-reference.txt like
scripts/make_reference.py does (set TVTTS_REF_NO_VENV=1 to use the current interpreter).
"""

import sys
from pathlib import Path

from refvenv import ensure_venv

SCRIPTS_DIR = Path(__file__).resolve().parent
REPO_DIR = SCRIPTS_DIR.parent

ensure_venv(__file__)

import argparse  # noqa: E402
import json  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

# alias -> ONNX tensor name, in graph order. Found by reading the joe voice's graph (Piper's
# VITS export, reverse/inference path). Shapes: T = number of ids, F = frames (sum of w_ceil),
# S = samples = 256 * F.
DEFAULTS = [
    # text encoder (enc_p): x after the transformer encoder (masked), the input of enc_p.proj and dp.pre
    ("x", "/enc_p/encoder/Mul_2_output_0"),  # [1,192,T]
    ("m_p", "/enc_p/Split_output_0"),  # [1,192,T]  (proj(x) * x_mask, first half)
    ("logs_p", "/enc_p/Split_output_1"),  # [1,192,T]
    # duration predictor (stochastic, reverse): logw = first half of the last flow's output
    ("logw", "/dp/Split_output_0"),  # [1,1,T]
    ("w", "/Mul_1_output_0"),  # [1,1,T]  exp(logw) * x_mask * length_scale
    ("w_ceil", "/Ceil_output_0"),  # [1,1,T]
    ("attn", "/Squeeze_output_0"),  # [1,F,T]  monotonic path (generate_path), 0/1
    # expansion to frames
    ("m_p_expanded", "/Transpose_3_output_0"),  # [1,192,F]
    ("logs_p_expanded", "/Transpose_5_output_0"),  # [1,192,F]
    ("z_p", "/Add_output_0"),  # [1,192,F]  m_p + noise*exp(logs_p)*noise_scale (= m_p at 0)
    # flow (reverse) output times y_mask: the decoder input (input of /dec/conv_pre/Conv)
    ("z", "/Mul_7_output_0"),  # [1,192,F]
    # decoder (HiFi-GAN generator) output, before the final Unsqueeze to `output`
    ("dec_out", "/dec/Tanh_output_0"),  # [1,1,S]
]
ALIASES = dict(DEFAULTS)

NP_OF_ONNX = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.INT32: np.int32,
    onnx.TensorProto.BOOL: np.bool_,
    onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.FLOAT16: np.float16,
}


def make_session(model, threads: int) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    src = model if isinstance(model, str) else model.SerializeToString()
    return ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])


def ids_from_text(voice_path: Path, text: str, sentence: int) -> list[int]:
    from piper.config import PiperConfig
    from piper.voice import PiperVoice

    config = PiperConfig.from_dict(
        json.loads(Path(str(voice_path) + ".json").read_text(encoding="utf-8"))
    )
    voice = PiperVoice(session=None, config=config)  # the session is not needed to phonemize
    sentences = [s for s in voice.phonemize(text) if s]
    if not sentences:
        raise SystemExit("the text gave no phonemes")
    if sentence >= len(sentences):
        raise SystemExit(f"--sentence {sentence}: the text has {len(sentences)} sentence(s)")
    for i, s in enumerate(sentences):
        mark = "*" if i == sentence else " "
        print(f"{mark} sentence {i}: {''.join(s)}", file=sys.stderr)
    return voice.phonemes_to_ids(sentences[sentence])


def tensor_types(model: onnx.ModelProto) -> dict[str, tuple[int, int]]:
    """name -> (onnx elem type, rank or -1) for every tensor that shape inference can type."""
    inferred = onnx.shape_inference.infer_shapes(model)
    out = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        tt = vi.type.tensor_type
        out[vi.name] = (tt.elem_type, len(tt.shape.dim) if tt.HasField("shape") else -1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Default names:\n"
        + "\n".join(f"  {a:16} {n}" for a, n in DEFAULTS),
    )
    ap.add_argument("out", nargs="?", type=Path, help="output .safetensors path")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--ids", help="comma-separated phoneme ids, e.g. 1,0,20,0,2")
    src.add_argument("--text", help="text to phonemize with piper-tts")
    ap.add_argument("--sentence", type=int, default=0, help="sentence index for --text")
    ap.add_argument(
        "--names",
        action="append",
        help="tensor names or default aliases, comma-separated; may repeat (default: DEFAULTS)",
    )
    ap.add_argument(
        "--voice", type=Path, default=REPO_DIR / "assets/voices/en_US-joe-medium.onnx"
    )
    ap.add_argument(
        "--scales",
        default="0,1,0",
        help="noise_scale,length_scale,noise_w (default 0,1,0: deterministic)",
    )
    ap.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    ap.add_argument("--no-check", action="store_true", help="skip the unmodified-graph rerun")
    ap.add_argument("--list", metavar="SUBSTRING", help="list tensor names containing SUBSTRING")
    args = ap.parse_args()

    model = onnx.load(str(args.voice))
    types = tensor_types(model)
    if args.list is not None:
        producers = {o: n.op_type for n in model.graph.node for o in n.output}
        for name, (_, rank) in types.items():
            if args.list in name:
                print(f"{name}\t{producers.get(name, '?')}\trank {rank}")
        return
    if args.out is None or (args.ids is None and args.text is None):
        ap.error("OUT and one of --ids/--text are required (or use --list)")

    if args.ids is not None:
        ids = [int(x) for x in args.ids.replace(" ", "").split(",") if x]
    else:
        ids = ids_from_text(args.voice, args.text, args.sentence)
    scales = np.array([float(x) for x in args.scales.split(",")], dtype=np.float32)
    if scales.shape != (3,):
        ap.error("--scales needs 3 numbers")

    if args.names:
        requested = [n.strip() for arg in args.names for n in arg.split(",") if n.strip()]
    else:
        requested = [a for a, _ in DEFAULTS]
    names, alias_of = [], {}
    for r in requested:
        name = ALIASES.get(r, r)
        if name != r:
            alias_of[name] = r
        if name not in types and name not in ("input", "output"):
            close = [t for t in types if r.split("/")[-1] in t][:10]
            raise SystemExit(f"unknown tensor {r!r}; similar: {close} (try --list)")
        if name not in names:
            names.append(name)

    existing = {o.name for o in model.graph.output}
    for name in names:
        if name in existing or name == "input":
            continue
        elem = types[name][0] or onnx.TensorProto.FLOAT
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, elem, None))

    feeds = {
        "input": np.array([ids], dtype=np.int64),
        "input_lengths": np.array([len(ids)], dtype=np.int64),
        "scales": scales,
    }
    sess = make_session(model, args.threads)
    out_names = [o.name for o in sess.get_outputs()]
    values = dict(zip(out_names, sess.run(out_names, feeds)))

    tensors = {"input": feeds["input"]}
    for name in ["output", *names]:
        if name == "input":
            continue
        arr = np.asarray(values[name])
        want = NP_OF_ONNX.get(types.get(name, (onnx.TensorProto.FLOAT, 0))[0])
        if want is not None and arr.dtype != want:
            arr = arr.astype(want)
        tensors[name] = np.ascontiguousarray(arr)

    print(f"ids: {len(ids)}  scales: {scales.tolist()}")
    for name, arr in tensors.items():
        alias = alias_of.get(name, "")
        print(f"{alias:16} {name:40} {str(list(arr.shape)):18} {arr.dtype}")

    if not args.no_check:
        plain = make_session(str(args.voice), args.threads).run(["output"], feeds)[0]
        if plain.shape != tensors["output"].shape:
            print(f"check: output shape differs {plain.shape} vs {tensors['output'].shape}")
        else:
            d = float(np.max(np.abs(plain - tensors["output"])))
            print(f"check: max |output(patched) - output(unmodified graph)| = {d:.3g}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(
        tensors,
        str(args.out),
        metadata={"aliases": json.dumps({alias_of[n]: n for n in names if n in alias_of})},
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
