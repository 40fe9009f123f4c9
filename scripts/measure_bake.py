#!/usr/bin/env python3
"""Check a bake with an independent loudness meter (a measurement, not a test).

    python3 scripts/measure_bake.py DIR

Reads DIR/manifest.json (`tvtts bake`), measures every line's WAV with pyloudnorm (ITU-R BS.1770
integrated loudness) and prints, per line, pyloudnorm's LUFS, the manifest's, and the distance
to the target; then the largest distance. Runs in scripts/.venv-measure.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refvenv import ensure_venv  # noqa: E402

ensure_venv(__file__, "measure")

import json  # noqa: E402
import wave  # noqa: E402

import numpy as np  # noqa: E402
import pyloudnorm  # noqa: E402


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = Path(sys.argv[1])
    manifest = json.loads((root / "manifest.json").read_text())
    worst = 0.0
    for line in manifest["lines"]:
        with wave.open(str(root / line["audio"])) as f:
            rate = f.getframerate()
            x = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16).astype(np.float64) / 32768.0
        lufs = pyloudnorm.Meter(rate).integrated_loudness(x)
        target = manifest["lufs_target"]
        worst = max(worst, abs(lufs - target))
        print(f"{line['speaker']:>10} {lufs:7.2f} LUFS (manifest {line['lufs']:7.2f}, target {target}) {line['text'][:50]}")
    print(json.dumps({"lines": len(manifest["lines"]), "max_abs_lu_from_target": round(worst, 3)}))


if __name__ == "__main__":
    main()
