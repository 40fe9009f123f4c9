"""onnxruntime timing shared by bench/piper_time.py and bench/ort_time.py: one session as both
time it (intra-op threads = `threads`, inter-op 1, sequential, default graph optimisations),
one feed per sentence at noise_scale 0, length_scale 1, noise_w 0, and the runs: one warm-up of
the whole text, then `runs` runs, only `session.run` timed, per sentence."""

import time

import numpy as np
import onnxruntime as ort


def session(voice, threads: int, provider: str = "CPUExecutionProvider") -> ort.InferenceSession:
    """An onnxruntime session of the voice's .onnx with the benchmarks' options."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(voice), so, providers=[provider])


def feed(ids) -> dict:
    """The inputs of one sentence's phoneme ids, without noise."""
    return {
        "input": np.array([ids], dtype=np.int64),
        "input_lengths": np.array([len(ids)], dtype=np.int64),
        "scales": np.array([0.0, 1.0, 0.0], dtype=np.float32),
    }


def time_runs(sess: ort.InferenceSession, feeds: list, runs: int) -> tuple[list[int], list[list[float]]]:
    """Samples per sentence, and each run's seconds per sentence (after one warm-up run)."""

    def one_run() -> tuple[list[float], list[int]]:
        times, samples = [], []
        for f in feeds:
            t = time.perf_counter()
            audio = sess.run(None, f)[0]
            times.append(time.perf_counter() - t)
            samples.append(int(audio.size))
        return times, samples

    _, samples = one_run()  # warm-up
    return samples, [one_run()[0] for _ in range(runs)]
